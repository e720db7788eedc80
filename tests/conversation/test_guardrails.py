"""When the AI must not answer, answers differently, or must answer exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ghl_ai import config
from ghl_ai.adapters.dynamo import LeadStore, MessageStore, OutboxStore
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.conversation.engine import OPT_IN_REPLY, ConversationEngine
from ghl_ai.conversation.model import Answer, Decision, Extraction, Persona, Turn
from ghl_ai.conversation.outbound import Outbound
from ghl_ai.conversation.rules import RuleBrain
from ghl_ai.errors import GhlApiError
from ghl_ai.leads.models import LeadKey
from ghl_ai.tenants import TenantDirectory
from local import devkeys
from local.anthropic_standin import AnthropicStandIn, delay, status, tool
from local.apigw import http_event
from local.ghl_standin import GhlStandIn, Scripted
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import Conversation, configure, dnd_updates, new_lead

TIMELINE_QUESTION = "When are you hoping to make a move?"


@pytest.fixture
def ghl() -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


@pytest.fixture
def rules(ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch) -> GhlStandIn:
    configure(monkeypatch, ghl)
    return ghl


def test_stop_mid_conversation_opts_out_and_start_opts_back_in(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    assert c.lead_says("STOP") == []
    assert dnd_updates(rules, c.contact_id) == [{"SMS": {"status": "active"}}]
    assert "opted-out" in c.tags()
    assert c.lead()
    assert c.lead()["optedOut"] is True
    # Whatever the lead writes now, the AI stays silent.
    assert c.lead_says("what about Westlake?") == []
    assert c.lead_says("START") == [OPT_IN_REPLY]
    assert dnd_updates(rules, c.contact_id)[-1] == {"SMS": {"status": "inactive"}}
    assert "opted-out" not in c.tags()
    assert c.lead_says("in about 3 months") == [
        "Thanks, about 3 months works. Which areas or neighborhoods are you looking in?"
    ]


def test_a_contact_with_sms_dnd_gets_no_reply(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules, dndSettings={"SMS": {"status": "active"}})
    assert c.lead_says("Hi, I want to buy a house") == []
    assert c.lead()["dndChannels"]["SMS"] == "active"


def test_a_global_dnd_contact_gets_no_reply(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules, dnd=True)
    assert c.lead_says("Hi, I want to buy a house") == []


def test_the_bot_off_tag_silences_the_ai(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules, tags=["AI-Off"])
    assert c.lead_says("Hi, I want to buy a house") == []
    # Tracked all the same: the agent sees the message in the lead's history.
    assert c.lead()["messagesIn"] == 1


def test_a_human_writing_to_the_lead_pauses_the_ai(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    c.agent_writes("Hi Maria, Jorge here. Happy to help personally!")
    assert c.lead_says("great, thanks Jorge") == []


def test_the_pause_can_be_switched_off(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl, HUMAN_PAUSE_MINUTES="0")
    c = new_lead(stack, ghl)
    c.agent_writes("Hi Maria, Jorge here.")
    assert len(c.lead_says("Hi, I want to buy a house")) == 1


def outside_the_window_now() -> dict[str, str]:
    hour = datetime.now(UTC).hour
    start, end = (hour + 2, hour + 3) if hour <= 20 else (1, 2)
    return {"QUIET_HOURS_START": str(start), "QUIET_HOURS_END": str(end)}


def test_quiet_hours_hold_the_first_message_but_not_a_reply(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl, **outside_the_window_now())
    c = new_lead(stack, ghl, timezone="UTC")
    assert c.contact_created() == []
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.resources.queue_urls["JobsQueue"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # the held outreach
    # The lead writes in the middle of the night: a reply is not proactive, it goes at once.
    (reply,) = c.lead_says("Hi, I want to buy a house")
    assert reply.endswith(TIMELINE_QUESTION + " Reply STOP to opt out.")


def engine_at(stack: Stack, ghl: GhlStandIn, moment: datetime) -> ConversationEngine:
    """The worker's conversation engine, with the clock at ``moment``."""
    settings = config.worker_settings()
    tables = stack.resources.tables
    return ConversationEngine(
        leads=LeadStore(stack.dynamodb, tables["LeadsTable"]),
        messages=MessageStore(stack.dynamodb, tables["MessagesTable"]),
        outbox=OutboxStore(stack.dynamodb, tables["OutboxTable"]),
        ghl=GhlClient(ghl.base_url, "pit-test-token"),
        tenants=TenantDirectory(settings, stack.dynamodb),
        jobs=JobQueue(stack.sqs, stack.resources.queue_urls["JobsQueue"]),
        rules=RuleBrain(),
        clock=lambda: moment,
    )


def test_a_held_first_message_goes_out_when_the_leads_morning_comes(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl, QUIET_HOURS_START="8", QUIET_HOURS_END="21")
    c = new_lead(stack, ghl, timezone="America/Chicago")
    key = LeadKey(LOCATION_ID, c.contact_id)
    night = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 22:30 in Chicago
    held = engine_at(stack, ghl, night).start(key, "contact_created")
    assert held.action == "held"
    assert held.reason == "quiet hours until 2026-11-24T14:00:00Z"  # 08:00 in Chicago
    assert held.extra["delay"] == 900  # re-queued in 15-minute hops until then
    assert c.new_sms() == []
    morning = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    sent = engine_at(stack, ghl, morning).start(key, "contact_created")
    assert sent.action == "replied"
    (first,) = c.new_sms()
    assert first.startswith("Hi Maria, this is Jorge with Sunbelt Realty.")
    # Never twice: a second release finds the lead already contacted.
    assert engine_at(stack, ghl, morning).start(key, "contact_created").action == "skipped"


def test_a_repeated_delivery_is_answered_once(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules)
    payload = c.inbound_payload("Hi, I want to buy a house", "in-repeat-1")
    for _ in range(3):
        assert c.deliver(payload).status == 200
    assert len(c.run()) == 1


def test_a_job_redelivered_after_its_idempotency_record_is_gone_still_replies_once(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    # The outbox, keyed by the inbound message, still stops a second SMS.
    first, again = said_then_redelivered(c, "Hi, I want to buy a house")
    assert len(first) == 1 and again == []
    assert stack.queue_depth("JobsDLQ") == 0  # the redelivered job was processed, not parked


def test_claude_failing_with_500s_gets_exactly_one_rule_based_reply(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude)
        claude.script(status(500), status(500), status(500))
        c = new_lead(stack, ghl)
        (reply,) = c.lead_says("Hi, I want to buy a house")
        assert TIMELINE_QUESTION in reply  # the rule-based qualifier's question
        assert 1 <= len(claude.calls) <= 3


def test_claude_timing_out_gets_exactly_one_rule_based_reply(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(
            monkeypatch,
            ghl,
            claude,
            ANTHROPIC_TIMEOUT_SECONDS="0.5",
        )
        claude.script(delay(5), delay(5), delay(5))
        c = new_lead(stack, ghl)
        (reply,) = c.lead_says("Hi, I want to buy a house")
        assert TIMELINE_QUESTION in reply
        c.run()  # nothing left to do: no second reply later
        assert c.new_sms() == []


def test_ghl_429_then_success_sends_one_sms(stack: Stack, rules: GhlStandIn) -> None:
    rules.script("POST", "/conversations/messages", [Scripted(429, headers={"Retry-After": "0"})])
    c = new_lead(stack, rules)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    assert len(rules.calls_to("POST", "/conversations/messages")) == 2  # the 429, then the SMS


def test_ghl_unavailable_for_a_while_retries_the_job_and_sends_one_sms(
    stack: Stack, rules: GhlStandIn
) -> None:
    # More 503s than the client retries: the job fails, SQS redelivers it, the stored reply
    # is sent on the next receive — once.
    rules.script("POST", "/conversations/messages", [503] * 4)
    c = new_lead(stack, rules)
    (reply,) = c.lead_says("Hi, I want to buy a house")
    assert TIMELINE_QUESTION in reply
    assert stack.queue_depth("JobsDLQ") == 0


def test_an_email_is_recorded_but_not_answered_even_if_it_says_stop(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    for text in ("Hi, I want to buy a house", "STOP"):
        payload = {**c.inbound_payload(text), "messageType": "Email"}
        assert c.deliver(payload).status == 200
        assert c.run() == []
    assert c.lead()["messagesIn"] == 2
    assert "optedOut" not in c.lead()


def test_the_first_turn_reads_earlier_history_from_ghl(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude)
        c = new_lead(stack, ghl)
        ghl.seed_inbound(c.contact_id, "Saw the open house sign on Elm St, is it still for sale?")
        assert len(c.lead_says("Also, what's the HOA?")) == 1
        (call,) = claude.calls
        conversation = json.dumps(call.messages)
        assert "open house sign on Elm St" in conversation
        assert "what's the HOA?" in json.dumps(call.messages[-1])


def texts_to(ghl: GhlStandIn, contact_id: str) -> list[str]:
    """The SMS GHL holds as sent to the lead (what the lead's phone received)."""
    return [
        m["body"]
        for m in ghl.messages
        if m["direction"] == "outbound" and m["contactId"] == contact_id
    ]


def test_a_500_on_sending_is_sent_again_only_when_ghl_does_not_have_it(
    stack: Stack, rules: GhlStandIn
) -> None:
    """GHL answered 500 without sending: the retry finds nothing in GHL's history and sends."""
    rules.script("POST", "/conversations/messages", [500])
    c = new_lead(stack, rules)
    c.lead_says("Hi, I want to buy a house")
    c.run()
    assert len(rules.calls_to("POST", "/conversations/messages")) == 2
    assert len(texts_to(rules, c.contact_id)) == 1
    assert stack.queue_depth("JobsQueue") == 0 and stack.queue_depth("JobsDLQ") == 0
    (claim,) = [o for o in stack.scan("OutboxTable") if o["id"].startswith("reply:")]
    assert claim["status"] == "done"


def test_a_reply_sent_but_whose_answer_was_lost_is_not_sent_again(
    stack: Stack, rules: GhlStandIn
) -> None:
    """GHL sent the text and the connection dropped before its answer: the retry finds the
    text in GHL's history and does not send it again."""
    lost = []

    def drop_first_send(call: Any, status: int, payload: Any, client: Any) -> bool:
        if call.method == "POST" and call.path == "/conversations/messages" and not lost:
            lost.append(call)
            return True
        return False

    rules.before_answer = drop_first_send
    c = new_lead(stack, rules)
    c.lead_says("Hi, I want to buy a house")
    c.run()
    assert lost, "the send's answer was withheld"
    assert len(rules.calls_to("POST", "/conversations/messages")) == 1
    assert len(texts_to(rules, c.contact_id)) == 1
    (claim,) = [o for o in stack.scan("OutboxTable") if o["id"].startswith("reply:")]
    assert claim["status"] == "done"
    assert len([m for m in stack.scan("MessagesTable") if m.get("direction") == "outbound"]) == 1


def test_two_replies_with_the_same_text_each_reach_the_lead(
    stack: Stack, rules: GhlStandIn
) -> None:
    """The lead texted twice; both replies read the same. GHL answered the first send 500
    without sending it, and sent the second. The first's retry must not take the second's text
    (same words, in GHL's history since the claim) for its own: the lead gets two texts."""
    contact = rules.seed_contact(LOCATION_ID, firstName="Ann", phone="+19095550190")["id"]
    key = LeadKey(LOCATION_ID, contact)
    outbox = OutboxStore(stack.dynamodb, stack.resources.tables["OutboxTable"])
    outbound = Outbound(
        leads=LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]),
        outbox=outbox,
        ghl=GhlClient(rules.base_url, "pit-test"),
    )
    text = "Thanks! Jorge will reach out shortly."
    now = datetime.now(UTC)
    first, second = (
        outbox.claim(
            f"reply:{LOCATION_ID}:{m}", {"locationId": LOCATION_ID, "contactId": contact}, now
        )
        for m in ("m1", "m2")
    )
    rules.script("POST", "/conversations/messages", [500])
    with pytest.raises(GhlApiError):
        outbound.send(key, first["id"], first, text)  # not sent; the claim is uncertain
    assert outbound.send(key, second["id"], second, text)
    assert texts_to(rules, contact) == [text]

    retry = outbox.get(first["id"])
    assert retry is not None and retry["status"] == "uncertain"
    assert outbound.send(key, first["id"], retry, text)

    assert texts_to(rules, contact) == [text, text]
    held = {outbox.get(c["id"])["messageId"] for c in (first, second)}  # type: ignore[index]
    assert len(held) == 2


# -- the first message says who is writing -----------------------------------------------------

INTRO = "Hi, this is Jorge with Sunbelt Realty."
STOP_NOTICE = "Reply STOP to opt out."


def assert_introduces(first: str) -> None:
    """The first text to a lead names the agent and the brokerage and how to opt out."""
    assert "Jorge" in first and "Sunbelt Realty" in first, first
    assert first.endswith(STOP_NOTICE), first


@pytest.mark.parametrize(
    "text",
    [
        "Hi Jorge, can you have Jorge call me about selling?",
        "Hey, can I talk to Jorge?",
        "Jorge! Selling 12 Oak St, relocating in 2 months, move-in ready, want 500k for it",
    ],
)
def test_a_first_reply_introduces_the_agent_even_when_the_lead_names_him(
    stack: Stack, rules: GhlStandIn, text: str
) -> None:
    c = new_lead(stack, rules)
    (first,) = c.lead_says(text)
    assert first.startswith(INTRO), first
    assert_introduces(first)


def test_the_engine_introduces_the_agent_when_it_replaces_the_brains_reply(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One vague answer is enough to hand the lead over: the engine's own hand-off reply is the
    # first text this lead gets, and still says who is writing.
    configure(monkeypatch, ghl, MAX_VAGUE_ANSWERS="1")
    c = new_lead(stack, ghl)
    (first,) = c.lead_says("idk")
    assert first == f"{INTRO} Of course. I'll have Jorge give you a call shortly. {STOP_NOTICE}"


def test_a_claude_first_reply_that_only_names_the_agent_gets_the_introduction(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude)
        claude.script(
            tool(
                {
                    "reply": "Of course, Jorge will call you shortly!",
                    "intent": None,
                    "intent_confidence": 0.0,
                    "answers": {},
                    "handoff_requested": True,
                    "asked_if_bot": False,
                    "vague": False,
                    "asked_field": None,
                }
            )
        )
        c = new_lead(stack, ghl)
        (first,) = c.lead_says("can Jorge call me?")
    assert first == f"{INTRO} Of course, Jorge will call you shortly! {STOP_NOTICE}"


class SilentBrain:
    """A brain that never introduces anyone: the engine must."""

    def decide(self, turn: Turn) -> Decision:
        return Decision(TIMELINE_QUESTION, Extraction(), asked=None, source="rules")


def test_the_engine_guarantees_the_introduction_whichever_brain_answers(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    key = LeadKey(LOCATION_ID, c.contact_id)
    settings = config.worker_settings()
    tables = stack.resources.tables
    engine = ConversationEngine(
        leads=LeadStore(stack.dynamodb, tables["LeadsTable"]),
        messages=MessageStore(stack.dynamodb, tables["MessagesTable"]),
        outbox=OutboxStore(stack.dynamodb, tables["OutboxTable"]),
        ghl=GhlClient(rules.base_url, "pit-test-token"),
        tenants=TenantDirectory(settings, stack.dynamodb),
        jobs=JobQueue(stack.sqs, stack.resources.queue_urls["JobsQueue"]),
        rules=SilentBrain(),
    )
    assert engine.start(key, "contact_created").action == "replied"
    (first,) = c.new_sms()
    assert first == f"{INTRO} {TIMELINE_QUESTION} {STOP_NOTICE}"


def test_an_opt_in_that_is_our_first_text_introduces_the_agent(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    assert c.lead_says("STOP") == []
    (first,) = c.lead_says("START")
    assert first == f"{INTRO} You're opted back in. {STOP_NOTICE}"
    # Introduced once: the next reply does not repeat it.
    (reply,) = c.lead_says("I want to buy a house")
    assert reply.endswith(TIMELINE_QUESTION)
    assert "Sunbelt Realty" not in reply and STOP_NOTICE not in reply


# -- every message we send is in the lead's history, once --------------------------------------


def history(stack: Stack, contact_id: str, direction: str) -> list[str]:
    """The bodies of the lead's stored messages in one direction, oldest first."""
    rows = sorted(
        (
            m
            for m in stack.scan("MessagesTable")
            if m["contactId"] == contact_id and m["direction"] == direction
        ),
        key=lambda m: str(m["sk"]),
    )
    return [str(m["body"]) for m in rows]


def lead_api_messages(stack: Stack, contact_id: str) -> list[dict[str, object]]:
    headers = {"authorization": f"Bearer {devkeys.API_KEY}"}
    response = stack.invoke_intake(http_event("GET", f"/leads/{contact_id}", b"", headers))
    assert response.status == 200, response.json
    messages: list[dict[str, object]] = response.json["lastMessages"]
    return messages


def said_then_redelivered(c: Conversation, text: str) -> tuple[list[str], list[str]]:
    """The lead texts us; once that is answered SQS delivers the very same job again, after its
    idempotency records expired. Returns the SMS sent each time."""
    payload = c.inbound_payload(text)
    assert c.deliver(payload).status == 200
    url = c.stack.resources.queue_urls["JobsQueue"]
    # The queue's visibility timeout is 0 in tests: looking at the job leaves it queued.
    (job,) = c.stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    first = c.run()
    table = c.stack.resources.tables["IdempotencyTable"]
    for item in c.stack.dynamodb.scan(TableName=table)["Items"]:
        c.stack.dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
    c.stack.sqs.send_message(QueueUrl=url, MessageBody=job["Body"])
    return first, c.run()


def test_the_opt_in_confirmation_is_in_the_leads_history_once(
    stack: Stack, rules: GhlStandIn
) -> None:
    c = new_lead(stack, rules)
    (hello,) = c.lead_says("Hi, I want to buy a house")
    assert c.lead_says("STOP") == []
    assert said_then_redelivered(c, "START") == ([OPT_IN_REPLY], [])  # not texted twice
    assert history(stack, c.contact_id, "outbound") == [hello, OPT_IN_REPLY]
    assert history(stack, c.contact_id, "inbound") == ["Hi, I want to buy a house", "STOP", "START"]
    last = lead_api_messages(stack, c.contact_id)[-1]
    assert (last["direction"], last["channel"], last["body"]) == ("outbound", "SMS", OPT_IN_REPLY)
    assert c.lead()["lastOutboundAt"]


def test_a_redelivered_reply_is_in_the_leads_history_once(stack: Stack, rules: GhlStandIn) -> None:
    c = new_lead(stack, rules)
    ([reply], again) = said_then_redelivered(c, "Hi, I want to buy a house")
    assert again == []
    assert history(stack, c.contact_id, "outbound") == [reply]


def test_asked_if_it_is_a_bot_after_qualifying_the_lead_still_gets_the_truth() -> None:
    persona = Persona(agent_name="Jorge", brokerage="Sunbelt Realty")
    answers = {
        name: Answer(value=value, confidence=0.9)
        for name, value in {
            "timeline": 60,
            "area": "Westlake",
            "budget": {"min": None, "max": 450000},
            "pre_approval": "yes",
            "bedrooms": 3,
            "property_type": "single_family",
        }.items()
    }
    turn = Turn(
        persona=persona,
        now=datetime(2026, 11, 23, 15, tzinfo=UTC),
        intent="buy",
        answers=dict(answers),
        last_asked=None,
        missing=[],
        inbound="wait, are you a bot?",
    )
    reply = RuleBrain().decide(turn).reply
    assert reply.startswith("I'm an AI assistant helping Jorge with Sunbelt Realty.")
