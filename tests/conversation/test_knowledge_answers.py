"""A lead's question answered from the agent's own documents, through the whole system (signed
webhooks, the worker, the template's KnowledgeTable in moto, the GHL and Anthropic stand-ins):
quoted on the rule-based path, given to Claude as the only facts it may use, and — when the
documents do not answer it — never answered with a fact: the agent gets a task instead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ghl_ai.knowledge.ingest import ingest
from ghl_ai.knowledge.store import KnowledgeStore
from local.anthropic_standin import AnthropicStandIn, tool
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import Conversation, configure, new_lead, one_reply, record_turn

OTHER_LOCATION = "OtherLocation0000001"
HOA = """# Sunset Ridge HOA: what buyers should know

## Monthly dues

Dues are $180 a month and cover the pool, the park and the front-yard landscaping. The
association is managed by Ridgeline Management.

## Pets

Two dogs or cats per home; dogs on a leash outside.

## Parking

Boats and RVs may not be parked on the street or in driveways overnight. Each home has a
two-car garage that must be usable for cars.
"""
DUES = 'From Sunset Ridge HOA: "Dues are $180 a month and cover the pool, the park and the '
UNANSWERED = "Good question. I'll have Jorge get back to you on that."
ROOFS = "What year were the roofs at Sunset Ridge replaced?"


@pytest.fixture
def ghl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


def add_document(stack: Stack, location_id: str = LOCATION_ID, text: str = HOA) -> str:
    """The agent's document in the knowledge base, as ``ghl-ai kb add`` puts it; its id."""
    store = KnowledgeStore(stack.dynamodb, stack.resources.tables["KnowledgeTable"])
    return ingest(store, location_id, text, "markdown", datetime.now(UTC)).document.doc_id


def buyer(stack: Stack, ghl: GhlStandIn) -> Conversation:
    """A buyer who has told us its intent and timeline: the next question is the area."""
    c = new_lead(stack, ghl)
    one_reply(c, "Hi, we want to buy a home in the next 3 months")
    return c


def question_tasks(ghl: GhlStandIn, contact_id: str) -> list[dict[str, Any]]:
    return [
        t
        for t in ghl.tasks
        if t["contactId"] == contact_id and str(t.get("title", "")).startswith("Answer ")
    ]


# -- the rule-based path ----------------------------------------------------------------------


def test_the_rule_based_path_quotes_the_document_that_answers_the_question(
    stack: Stack, ghl: GhlStandIn
) -> None:
    add_document(stack)
    c = buyer(stack, ghl)
    reply = one_reply(c, "What are the HOA dues at Sunset Ridge?")
    # The document's own words, under its name, then the conversation goes on.
    assert reply.startswith(
        DUES + 'front-yard landscaping. The association is managed by Ridgeline Management."'
    ), reply
    assert reply.endswith("Which areas or neighborhoods are you looking in?")
    assert question_tasks(ghl, c.contact_id) == []
    # The next question about the same document is answered from its own section.
    reply = one_reply(c, "can we park our RV in the driveway?")
    assert reply.startswith(
        'From Sunset Ridge HOA: "Boats and RVs may not be parked on the street or in driveways '
        "overnight."
    ), reply


def test_a_spanish_question_is_answered_from_the_english_document_in_a_spanish_reply(
    stack: Stack, ghl: GhlStandIn
) -> None:
    add_document(stack)
    c = new_lead(stack, ghl)
    one_reply(c, "Hola, queremos comprar una casa en unos tres meses")
    reply = one_reply(c, "¿Cuánto es la cuota de la HOA en Sunset Ridge?")
    assert reply.startswith('Según Sunset Ridge HOA: "Dues are $180 a month'), reply
    assert reply.endswith("?") and "¿" in reply.split('"')[-1]  # and the next question


def test_a_question_the_documents_do_not_answer_goes_to_the_agent_with_no_fact(
    stack: Stack, ghl: GhlStandIn
) -> None:
    add_document(stack)
    # Another location's documents answer it: they are not this agent's.
    add_document(stack, OTHER_LOCATION, "# Roofs\n\nThe Sunset Ridge roofs were replaced in 2019.")
    c = buyer(stack, ghl)
    message = c.inbound_payload(ROOFS)
    assert c.deliver(message).status == 200
    (reply,) = c.run()
    assert reply == f"{UNANSWERED} Which areas or neighborhoods are you looking in?"
    (task,) = question_tasks(ghl, c.contact_id)
    assert (
        task["title"] == 'Answer Maria Lopez: "What year were the roofs at Sunset Ridge replaced?"'
    )
    assert "Your documents do not answer it" in task["body"]
    assert f"ghl-ai kb add FILE --location {LOCATION_ID}" in task["body"]
    # GHL delivers the same message again: no second reply and no second task.
    assert c.deliver(message).status == 200
    assert c.run() == []
    assert len(question_tasks(ghl, c.contact_id)) == 1


def test_answers_are_not_questions_and_the_process_is_not_the_agents_task(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = buyer(stack, ghl)
    for text in ("Fontana maybe?", "are you a bot?", "what happens next?", "ok thanks"):
        reply = one_reply(c, text)
        assert "Good question" not in reply, (text, reply)
    assert question_tasks(ghl, c.contact_id) == []


def test_a_lead_who_asks_for_a_call_gets_the_call_not_a_second_task(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = buyer(stack, ghl)
    reply = one_reply(c, "Can Jorge call me? What are the property taxes on Elm Street?")
    assert reply == "Of course. I'll have Jorge give you a call shortly."
    assert question_tasks(ghl, c.contact_id) == []


# -- the Claude path --------------------------------------------------------------------------


def claude_turn(reply: str, **extra: Any) -> dict[str, Any]:
    return record_turn(reply, intent="buy", intent_confidence=0.9, asked_field="area", **extra)


FIRST = claude_turn(
    "Hi Maria, this is Jorge with Sunbelt Realty. Great! Which areas are you looking in? "
    "Reply STOP to opt out.",
    answers={"timeline": {"value": 90, "confidence": 0.9}},
)


def ask_claude(
    stack: Stack,
    ghl: GhlStandIn,
    monkeypatch: pytest.MonkeyPatch,
    question: str,
    answer: dict[str, Any],
) -> tuple[Conversation, str, list[Any]]:
    """A buyer on the Claude path asks ``question``; Claude answers with ``answer``. The
    conversation, the SMS sent and the calls Claude got."""
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude)
        claude.script(tool(FIRST), tool(answer))
        c = buyer(stack, ghl)
        reply = one_reply(c, question)
        return c, reply, list(claude.calls)


def test_claude_answers_from_the_passages_it_is_given_and_cites_only_them(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = add_document(stack)
    answer = (
        "Per the Sunset Ridge HOA guide, dues are $180 a month and cover the pool and park. "
        "Which areas are you looking in?"
    )
    cites = claude_turn(answer, sources=[f"{doc_id}#0", "made-up#7"])
    c, reply, calls = ask_claude(
        stack, ghl, monkeypatch, "What are the HOA dues at Sunset Ridge?", cites
    )
    assert reply == answer
    static, state = (block["text"] for block in calls[1].system)
    assert "Passages of Jorge's documents for the lead's question" in state
    assert (
        f"[{doc_id}#0] Sunset Ridge HOA: what buyers should know > Monthly dues: Dues are $180 "
        "a month" in state
    )
    assert "answer only from the passages of Jorge's documents" in static
    assert question_tasks(ghl, c.contact_id) == []
    # The reply's claim keeps only the passage Claude was given.
    claims = stack.dynamodb.scan(TableName=stack.resources.tables["OutboxTable"])["Items"]
    cited = [
        i["decision"]["M"]["sources"]
        for i in claims
        if "sources" in i.get("decision", {}).get("M", {})
    ]
    assert cited == [{"L": [{"S": f"{doc_id}#0"}]}]


def test_claude_leaves_an_unanswered_question_to_the_agent(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_document(stack)
    leaves = claude_turn(
        "Good question! Jorge will find out and get back to you. Which areas are you looking in?",
        question_for_agent="the year the Sunset Ridge roofs were replaced",
    )
    c, _, calls = ask_claude(stack, ghl, monkeypatch, ROOFS, leaves)
    state = calls[1].system[1]["text"]
    assert "The lead asked a question Jorge's documents do not answer: give no fact" in state
    (task,) = question_tasks(ghl, c.contact_id)
    assert task["title"] == 'Answer Maria Lopez: "the year the Sunset Ridge roofs were replaced"'


def test_a_claude_answer_with_a_figure_it_was_not_given_is_not_sent(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_document(stack)
    invents = claude_turn("The roofs were all replaced in 2019. Which areas do you like?")
    c, reply, _ = ask_claude(stack, ghl, monkeypatch, ROOFS, invents)
    # The rule-based path answered instead: no year, and the question is the agent's.
    assert reply == f"{UNANSWERED} Which areas or neighborhoods are you looking in?"
    assert len(question_tasks(ghl, c.contact_id)) == 1
