"""Persona templates through the whole system: each template changes what the rule-based path
says (wording, acknowledgements, questions per message, question order) and what Claude's
system prompt asks for (tone, style, flow order, questions per message), as personas.py
documents. The default, consultative, is today's behaviour (test_flows.py pins it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.anthropic_standin import AnthropicStandIn, tool
from local.ghl_standin import GhlStandIn
from tests.conftest import Stack
from tests.conversation.driver import Conversation, configure, new_lead, record_turn

INTRO, NOTICE = "Hi, this is Jorge with Sunbelt Realty.", "Reply STOP to opt out."


@pytest.fixture
def ghl() -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


def talk(c: Conversation, messages: list[str]) -> list[str]:
    replies = []
    for text in messages:
        sent = c.lead_says(text)
        assert len(sent) == 1, (text, sent)
        replies.append(sent[0])
    return replies


#: template → what the lead says → what it must get back.
CONVERSATIONS: dict[str, list[tuple[str, str]]] = {
    "consultative": [
        (
            "Hi! We're looking to buy a home",
            f"{INTRO} When are you hoping to make a move? {NOTICE}",
        ),
        (
            "probably within 2 months",
            "Thanks, about 2 months works. Which areas or neighborhoods are you looking in?",
        ),
    ],
    # Two questions a message where they pair, no acknowledgements, terse wording.
    "speed_qualifier": [
        (
            "Hi! We're looking to buy a home",
            f"{INTRO} When do you want to move, and which areas? {NOTICE}",
        ),
        (
            "probably within 2 months, Westlake or Round Rock",
            "What's your price range, and are you pre-approved or paying cash?",
        ),
        (
            "around 450k, pre-approved with Chase",
            "How many beds and baths, and house, condo or townhouse?",
        ),
        (
            "3 bedrooms, single family",
            "That's all I need. Jorge will call you shortly to set a time.",
        ),
    ],
    # Formal "residence" wording; must-haves asked right after the area.
    "luxury_specialist": [
        (
            "Hi! We're looking to buy a home",
            f"{INTRO} When would you ideally like to be settled in your new residence? {NOTICE}",
        ),
        (
            "probably within 2 months",
            "Thank you, about 2 months is very workable. Which communities or neighborhoods "
            "appeal to you most?",
        ),
        (
            "Westlake",
            "Westlake, a wonderful choice. Which features matter most in your next residence: a "
            "pool, a view, single-level living, a guest casita?",
        ),
        ("a pool and a view", "Wonderful, noted. What price range would you like me to focus on?"),
    ],
    # Pre-approval before the budget, explained; a lead without one reassured.
    "first_time_buyer_helper": [
        (
            "Hi! We're looking to buy our first home",
            f"{INTRO} When are you hoping to make a move? {NOTICE}",
        ),
        (
            "probably within 2 months",
            "Thanks, about 2 months works. Which areas or neighborhoods are you looking in?",
        ),
        (
            "Westlake",
            "Westlake, great choice. Have you been pre-approved yet? That's a lender's letter "
            "saying how much you can borrow, and it makes your offer stronger. No worries if not.",
        ),
        (
            "not yet",
            "No problem, most first-time buyers start there. Jorge can connect you with a trusted "
            "lender. What price range feels comfortable for you? A rough idea is fine.",
        ),
    ],
}


@pytest.mark.parametrize("template", list(CONVERSATIONS))
def test_each_persona_template_changes_the_rule_based_replies(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    configure(monkeypatch, ghl, PERSONA_TEMPLATE=template)
    c = new_lead(stack, ghl)
    script = CONVERSATIONS[template]
    assert talk(c, [said for said, _ in script]) == [expected for _, expected in script]
    if template == "speed_qualifier":
        # Four messages qualified the buyer (the consultative flow needs seven).
        fields = c.custom_fields()
        assert fields["Budget"] == 450000 and fields["Pre-Approval"] == "Pre-approved"
        assert fields["Bedrooms"] == 3 and fields["Property Type"] == "Single family"
    if template == "luxury_specialist":
        assert c.custom_fields()["Must-Haves"] == "pool, view"


#: template → what its static system prompt must say (and the default must not).
PROMPTS: dict[str, list[str]] = {
    "consultative": [
        "Your voice: warm, concise, professional.",
        "Ask at most one question per message.",
        "- buy, rent, invest: timeline, area, budget, pre_approval, bedrooms, property_type",
    ],
    "speed_qualifier": [
        "Your voice: brisk, friendly and efficient",
        "Ask at most two questions per message.",
        "Style (speed_qualifier): Get to the point",
        "- timeline + area: When do you want to move, and which areas?",
    ],
    "luxury_specialist": [
        "Your voice: polished, discreet and gracious",
        'say "residence"',
        "- buy, rent, invest: timeline, area, must_haves, budget, pre_approval, bedrooms",
        "- must_haves: Which features matter most in your next residence",
    ],
    "first_time_buyer_helper": [
        "Your voice: patient, encouraging and plain-spoken",
        "explain it in one short sentence",
        "Jorge can connect them with a lender",
        "- buy, rent, invest: timeline, area, pre_approval, budget, bedrooms",
    ],
}


@pytest.mark.parametrize("template", list(PROMPTS))
def test_each_persona_template_changes_claudes_system_prompt(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude, PERSONA_TEMPLATE=template)
        claude.script(
            tool(
                record_turn(
                    f"{INTRO} When are you hoping to move? {NOTICE}",
                    intent="buy",
                    intent_confidence=0.9,
                    asked_field="timeline",
                )
            )
        )
        c = new_lead(stack, ghl)
        c.lead_says("Hi! We're looking to buy a home")
        (call,) = claude.calls
    static = call.system[0]["text"]
    for wanted in PROMPTS[template]:
        assert wanted in static, (template, wanted)
    others = [t for t in PROMPTS if t != template]
    assert not any(f"Style ({t})" in static for t in others)
    if template == "consultative":
        assert "Style (" not in static
