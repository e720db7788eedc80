"""A lead who is only browsing, in no rush or curious about its home's value, through the whole
system: no questionnaire, a warm offer instead, the *Readiness* field, the
``long-term-nurture`` tag, the temperature capped, the ``browsing_nurture`` workflow started
(and run by the workflow engine on an injected clock: a monthly touch in the lead's language);
and the lead who turns out to be ready after all, taken out of nurture.

On the rule-based path the readiness comes from the extractor ("only browsing", "no rush",
"what would my place sell for"): those tests wait on the extractor's readiness work. The
Claude path reports readiness itself and runs now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ghl_ai.adapters.dynamo import WorkflowRunStore
from ghl_ai.conversation.qualification import QUESTIONS
from local.anthropic_standin import AnthropicStandIn, tool
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import configure, new_lead
from tests.integration.test_workflows import World

IE_AREAS = "Fontana,Rialto,Ontario,Redlands,Yucaipa,Riverside,Eastvale,Corona"


@pytest.fixture
def ghl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin, MARKET_AREAS=IE_AREAS, WORKFLOW_DAILY_CAP="10")
        yield standin


def runs(stack: Stack, contact_id: str) -> dict[str, dict[str, Any]]:
    store = WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"])
    return {str(r["workflow"]): r for r in store.for_lead(LOCATION_ID, contact_id)}


def asks_the_questionnaire(reply: str) -> bool:
    return any(q in reply for q in QUESTIONS.values())


# -- the rule-based path (waits on the extractor's readiness) -----------------------------------


def test_a_browsing_lead_gets_an_offer_not_the_questionnaire_and_is_nurtured(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = new_lead(stack, ghl, timezone="America/Los_Angeles")
    (first,) = c.lead_says("hi, we're only browsing for now, nothing serious yet")
    assert first == (
        "Hi, this is Jorge with Sunbelt Realty. No pressure at all, just looking is a great way "
        "to start. If you'd like, I can send you a few homes now and then. Which area should I "
        "keep an eye on? Reply STOP to opt out."
    )
    (second,) = c.lead_says("Redlands or Yucaipa")
    assert second == "Redlands, Yucaipa, great choice. I'll keep that in mind for what I send you."
    (third,) = c.lead_says("thanks!")
    assert third == "I'm here whenever you're ready, no rush at all."
    assert not any(asks_the_questionnaire(r) for r in (first, second, third))
    # Vague answers are no loop to break for a lead we ask nothing: no hand-off after three.
    for _ in range(3):
        assert c.lead_says("idk") == ["I'm here whenever you're ready, no rush at all."]
    assert "ai-handoff" not in c.tags() and not c.lead().get("handedOff")

    assert "long-term-nurture" in c.tags()
    assert c.custom_fields()["Readiness"] == "Just browsing"
    assert c.lead()["temperature"] == "cold"
    assert {"hot-lead", "warm-lead"}.isdisjoint(c.tags())

    # The nurture runs on the workflow engine: a first touch two weeks on, monthly after.
    world = World(stack, ghl)
    world.build()
    world.pump()
    run = runs(stack, c.contact_id)["browsing_nurture"]
    assert run["status"] == "active"
    assert run["stepId"] == "still_browsing"
    matches = stack.queue_depth("MatchesQueue")
    world.later(days=15)
    assert stack.queue_depth("MatchesQueue") == matches + 1  # an English lead: its top homes
    assert runs(stack, c.contact_id)["browsing_nurture"]["stepId"] == "still_browsing_later"


def test_a_homeowner_curious_about_value_is_offered_an_estimate(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl)
    (first,) = c.lead_says("curious what my house would sell for, not selling yet")
    assert first == (
        "Hi, this is Jorge with Sunbelt Realty. Happy to help, no strings attached. Jorge can "
        "put together a free estimate of what your home would sell for. What's the address? "
        "Reply STOP to opt out."
    )
    (second,) = c.lead_says("it's 2231 Sierra Ave, Fontana")
    assert second == (
        "Thanks for the address. Jorge will put together your free estimate and send it over."
    )
    assert c.custom_fields()["Readiness"] == "Curious about value"
    assert c.custom_fields()["Property Address"].startswith("2231 Sierra Ave")
    assert "long-term-nurture" in c.tags()
    assert c.lead()["temperature"] in ("cold", "warm")


def test_a_spanish_lead_in_no_rush_is_nurtured_in_spanish(stack: Stack, ghl: GhlStandIn) -> None:
    c = new_lead(stack, ghl)
    (first,) = c.lead_says("vamos a comprar pero no hay prisa, tal vez el próximo año")
    assert first.startswith("Hola, le escribe Jorge de Sunbelt Realty. Sin prisa")
    assert "¿Qué zona le interesa?" in first
    assert c.custom_fields()["Readiness"] == "No rush"
    assert c.custom_fields()["Preferred Language"] == "Spanish"
    assert "long-term-nurture" in c.tags()


# -- the Claude path ------------------------------------------------------------------------------


def claude_turn(reply: str, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "reply": reply,
        "intent": extra.get("intent", "buy"),
        "intent_confidence": 0.8,
        "answers": {k: {"value": v, "confidence": 0.9} for k, v in answers.items()},
        "handoff_requested": False,
        "asked_if_bot": False,
        "vague": False,
        "language": extra.get("language", "en"),
        "asked_field": extra.get("asked"),
    }


def test_claude_nurtures_a_browsing_spanish_lead_and_the_nurture_speaks_spanish(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    opener = (
        "Hola, le escribe Jorge de Sunbelt Realty. Sin ninguna presión: si gusta, le envío "
        "algunas casas de vez en cuando. ¿Qué zona le interesa? Responda ALTO para no recibir "
        "más mensajes."
    )
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude, MARKET_AREAS=IE_AREAS, WORKFLOW_DAILY_CAP="10")
        claude.script(
            tool(claude_turn(opener, {"readiness": "browsing"}, language="es", asked="area")),
            tool(
                claude_turn("¡Con gusto! Lo tengo en cuenta.", {"area": "Eastvale"}, language="es")
            ),
        )
        c = new_lead(stack, ghl, timezone="America/Los_Angeles")
        assert c.lead_says("nomás estamos viendo casas por ahora") == [opener]
        assert c.lead_says("Eastvale") == ["¡Con gusto! Lo tengo en cuenta."]
        # Told the readiness: no "Next question" for a nurtured lead.
        state = claude.calls[1].system[1]["text"]
        assert "Readiness: browsing" in state and "Next question" not in state
    assert "long-term-nurture" in c.tags()
    assert c.custom_fields()["Readiness"] == "Just browsing"
    assert c.custom_fields()["Preferred Language"] == "Spanish"
    assert c.lead()["temperature"] == "cold"

    world = World(stack, ghl)
    world.build()
    world.pump()
    (run,) = [r for r in runs(stack, c.contact_id).values() if r["workflow"] == "browsing_nurture"]
    assert run["status"] == "active"
    # The lead's second message did not end the nurture (it is not stopped by a reply).
    world.later(days=15)
    texts = world.texts(c.contact_id)
    assert texts[-1].startswith("Hola, le saluda Jorge. Sigo pendiente de casas")
    world.later(days=31)
    assert world.texts(c.contact_id)[-1].startswith("Hola, le saluda Jorge. Solo para saludarle")
    assert len(world.texts(c.contact_id)) == len(texts) + 1


def test_a_nurtured_lead_who_is_ready_after_all_leaves_nurture(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude, MARKET_AREAS=IE_AREAS, WORKFLOW_DAILY_CAP="10")
        claude.script(
            tool(
                claude_turn(
                    "Hi, this is Jorge with Sunbelt Realty. No pressure at all! Which area should "
                    "I keep an eye on? Reply STOP to opt out.",
                    {"readiness": "unhurried", "timeline": 400},
                    asked="area",
                )
            ),
            tool(
                claude_turn(
                    "Great news! Which areas are you looking in?",
                    {"timeline": 45},
                    asked="area",
                )
            ),
        )
        c = new_lead(stack, ghl, timezone="America/Los_Angeles")
        c.lead_says("no rush, maybe next year or so")
        assert "long-term-nurture" in c.tags()
        assert c.custom_fields()["Readiness"] == "No rush"
        world = World(stack, ghl)
        world.build()
        world.pump()
        c.lead_says("actually we got the job offer, we need to move in 6 weeks")
    # Ready: out of nurture, the questionnaire resumes, Readiness emptied in GHL.
    assert "long-term-nurture" not in c.tags()
    assert c.custom_fields()["Readiness"] == ""
    assert "readiness" not in c.lead()["answers"]
    assert c.lead()["lastAskedField"] == "area"
    # The nurture ends at its next step, without a text.
    before = len(world.texts(c.contact_id))
    world.later(days=15)
    run = runs(stack, c.contact_id)["browsing_nurture"]
    assert run["status"] == "done"
    assert len(world.texts(c.contact_id)) == before
    assert stack.queue_depth("MatchesQueue") == 0
