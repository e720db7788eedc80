"""Scripted buyer and seller conversations of 10+ turns through the whole system, on the
rule-based path and on the Claude path (Anthropic Messages API stand-in on loopback). Asserted:
the SMS sent, the custom fields, tags, note, opportunity and tasks GHL received, and the
temperature the lead API reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local import devkeys
from local.anthropic_standin import AnthropicStandIn, tool
from local.apigw import http_event
from local.ghl_standin import GhlStandIn
from tests.conftest import Stack
from tests.conversation.driver import Conversation, configure, new_lead, one_reply


@pytest.fixture
def ghl() -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


def lead_api(stack: Stack, contact_id: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {devkeys.API_KEY}"}
    response = stack.invoke_intake(http_event("GET", f"/leads/{contact_id}", b"", headers))
    assert response.status == 200, response.json
    return response.json


# -- the buyer ------------------------------------------------------------------------------

BUYER = [
    "Hi! We're looking to buy a home",
    "idk maybe",
    "probably within 2 months",
    "Westlake or Round Rock",
    "around 450k",
    "are you a bot?",
    "yes pre-approved with Chase",
    "3 bedrooms, need a garage",
    "single family",
    "thanks!",
    "can I talk to a person?",
]


def assert_buyer_in_ghl(c: Conversation, ghl: GhlStandIn, stack: Stack) -> None:
    assert "hot-lead" in c.tags()
    assert not {"warm-lead", "cold-lead"} & set(c.tags())
    assert "ai-handoff" in c.tags()
    fields = c.custom_fields()
    assert fields["Buy/Sell Intent"] == "Buy"
    assert fields["Timeline"] == "1-3 months"
    assert fields["Budget"] == 450000
    assert fields["Pre-Approval"] == "Pre-approved"
    assert fields["Bedrooms"] == 3
    assert fields["Property Type"] == "Single family"
    assert fields["Lead Temperature"] == "Hot"
    assert "Westlake" in fields["Preferred Area"]
    # One summary note, when the lead qualified; tasks for the hot lead and the hand-off.
    assert len(ghl.notes) == 1
    assert "Budget: up to $450,000" in ghl.notes[0]["body"]
    titles = [t["title"] for t in ghl.tasks]
    assert titles == ["Call Maria Lopez: hot lead", "Call Maria Lopez: asked to talk to a person"]
    (opportunity,) = ghl.opportunities.values()
    assert opportunity["pipelineStageId"] == "stage-qualified"
    state = lead_api(stack, c.contact_id)
    assert state["temperature"] == "hot"
    assert state["intent"] == "buy"
    assert state["flags"]["handedOff"] is True
    assert state["answers"]["budget"]["value"] == {"min": None, "max": 450000}


def test_a_buyer_is_qualified_by_the_rule_based_path(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl)
    c = new_lead(stack, ghl)
    (first,) = c.contact_created()
    assert first.startswith("Hi Maria, this is Jorge with Sunbelt Realty.")
    assert first.endswith("Are you looking to buy, sell, or both? Reply STOP to opt out.")

    replies = [one_reply(c, text) for text in BUYER]
    assert replies[0] == "When are you hoping to make a move?"
    assert replies[1] == "No problem. When are you hoping to make a move?"
    assert replies[2].endswith("Which areas or neighborhoods are you looking in?")
    assert replies[3].endswith("What price range are you comfortable with?")
    assert replies[4] == (
        "Got it, up to $450,000. Are you pre-approved for a mortgage yet, or paying cash?"
    )
    assert replies[5].startswith("I'm an AI assistant helping Jorge with Sunbelt Realty.")
    assert replies[5].endswith("Are you pre-approved for a mortgage yet, or paying cash?")
    assert replies[6].endswith("How many bedrooms and bathrooms do you need, and any must-haves?")
    assert replies[7].endswith("Are you after a single-family home, a condo or a townhouse?")
    # One acknowledgement, then the wrap-up (not "Good to know. Thank you, that's ...").
    assert replies[8] == (
        "Good to know. That's everything I need for now. Jorge will reach out shortly to set up "
        "a time to talk."
    )
    assert replies[9].startswith("Anytime! Jorge will be in touch")
    assert replies[10] == "Of course. I'll have Jorge give you a call shortly."
    assert all(len(r) <= 320 for r in [first, *replies])
    assert_buyer_in_ghl(c, ghl, stack)
    # Qualified: its top listing matches go out two minutes after the last reply, once.
    matches = stack.sqs.get_queue_attributes(
        QueueUrl=stack.resources.queue_urls["MatchesQueue"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
    )["Attributes"]
    assert matches == {
        "ApproximateNumberOfMessagesDelayed": "1",
        "ApproximateNumberOfMessages": "0",
    }
    # Handed off: the AI stays quiet from now on.
    assert c.lead_says("hello?") == []


def test_the_buyers_note_and_tasks_are_made_once_when_ghl_loses_its_answers(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GHL creates the summary note and both tasks, but each first answer is lost (the
    connection drops): the worker's retries find them in GHL and do not create them again."""
    configure(monkeypatch, ghl)
    lost: list[str] = []

    def drop_first(call: Any, status: int, payload: Any, client: Any) -> bool:
        made = call.json.get("title") or call.json.get("body") if call.method == "POST" else None
        if call.path.endswith(("/tasks", "/notes")) and made and made not in lost:
            lost.append(made)
            return True
        return False

    ghl.before_answer = drop_first
    c = new_lead(stack, ghl)
    c.contact_created()
    replies = [one_reply(c, text) for text in BUYER]

    assert len(lost) == 3  # the note, the hot-lead task, the hand-off task
    assert replies[10] == "Of course. I'll have Jorge give you a call shortly."
    assert_buyer_in_ghl(c, ghl, stack)
    assert len(ghl.calls_to("POST", f"/contacts/{c.contact_id}/tasks")) == 2
    assert len(ghl.calls_to("POST", f"/contacts/{c.contact_id}/notes")) == 1


def claude_turn(
    reply: str,
    answers: dict[str, Any] | None = None,
    *,
    intent: str | None = "buy",
    asked: str | None = None,
    **flags: bool,
) -> dict[str, Any]:
    return {
        "reply": reply,
        "intent": intent,
        "intent_confidence": 0.95 if intent else 0.0,
        "answers": {k: {"value": v, "confidence": 0.92} for k, v in (answers or {}).items()},
        "handoff_requested": flags.get("handoff", False),
        "asked_if_bot": flags.get("bot", False),
        "vague": flags.get("vague", False),
        "asked_field": asked,
    }


CLAUDE_BUYER = [
    claude_turn(
        "Hi Maria, this is Jorge with Sunbelt Realty. Are you hoping to buy, sell, or both? "
        "Reply STOP to opt out.",
        intent=None,
    ),
    claude_turn("Exciting! When are you hoping to move?", asked="timeline"),
    claude_turn("No worries. Roughly when would you like to be in a new place?", vague=True),
    claude_turn("Two months, great. Which areas do you like?", {"timeline": 60}, asked="area"),
    claude_turn(
        "Both lovely. What price range feels right?",
        {"area": "Westlake, Round Rock"},
        asked="budget",
    ),
    claude_turn(
        "Got it. Are you pre-approved yet, or paying cash?",
        {"budget": {"min": None, "max": 450000}},
        asked="pre_approval",
    ),
    claude_turn(
        "I'm an AI assistant working for Jorge, who is a real person. Are you pre-approved?",
        asked="pre_approval",
        bot=True,
    ),
    claude_turn(
        "Perfect. How many bedrooms do you need?", {"pre_approval": "yes"}, asked="bedrooms"
    ),
    claude_turn(
        "Noted. House, condo or townhouse?",
        {"bedrooms": 3, "must_haves": ["garage"]},
        asked="property_type",
    ),
    claude_turn("Thanks Maria! Jorge will reach out shortly.", {"property_type": "single_family"}),
    claude_turn("Anytime!"),
    claude_turn("Of course, I'll have Jorge call you shortly.", handoff=True),
]


def test_a_buyer_is_qualified_by_claude(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(
            monkeypatch,
            ghl,
            claude,
            ANTHROPIC_MODEL="claude-test-model",
        )
        claude.script(*[tool(t) for t in CLAUDE_BUYER])
        c = new_lead(stack, ghl)
        (first,) = c.contact_created()
        replies = [one_reply(c, text) for text in BUYER]
        assert claude.pending == 0
        assert len(claude.calls) == 12  # one model call per turn
        # What Claude wrote is what the lead got.
        assert first == CLAUDE_BUYER[0]["reply"]
        assert replies == [t["reply"] for t in CLAUDE_BUYER[1:]]
        call = claude.calls[-1]
        assert call.json["model"] == "claude-test-model"
        assert call.json["tool_choice"] == {"type": "tool", "name": "record_turn"}
        assert call.system[0]["cache_control"] == {"type": "ephemeral"}
        assert call.messages[-1]["role"] == "user"
        assert "can I talk to a person?" in str(call.messages[-1]["content"])
    assert_buyer_in_ghl(c, ghl, stack)
    assert lead_api(stack, c.contact_id)["answers"]["budget"]["source"] == "claude"


# -- the seller -----------------------------------------------------------------------------

SELLER = [
    "Hi, thinking about selling my house",
    "1234 Oak Street, Round Rock",
    "hmm",
    "we're relocating for work",
    "in about 3 months",
    "is this automated?",
    "it needs some work, the kitchen is dated",
    "hoping to get 550k",
    "what happens next?",
    "ok sounds good",
    "actually can Jorge call me tomorrow?",
]


def assert_seller_in_ghl(c: Conversation, ghl: GhlStandIn, stack: Stack) -> None:
    fields = c.custom_fields()
    assert fields["Buy/Sell Intent"] == "Sell"
    assert fields["Property Address"].startswith("1234 Oak Street")
    assert fields["Seller Motivation"] == "relocating"
    assert fields["Timeline"] == "1-3 months"
    assert fields["Property Condition"] == "Needs work"
    assert fields["Price Expectation"] == 550000
    assert fields["Lead Temperature"] == "Hot"
    assert "hot-lead" in c.tags() and "ai-handoff" in c.tags()
    assert len(ghl.notes) == 1 and "Price: $550,000" in ghl.notes[0]["body"]
    assert [t["title"] for t in ghl.tasks] == [
        "Call Dan Whit: hot lead",
        "Call Dan Whit: asked to talk to a person",
    ]
    (opportunity,) = ghl.opportunities.values()
    assert opportunity["pipelineStageId"] == "stage-qualified"
    assert lead_api(stack, c.contact_id)["temperature"] == "hot"


def seller(stack: Stack, ghl: GhlStandIn) -> Conversation:
    return new_lead(stack, ghl, firstName="Dan", lastName="Whit", phone="+15125550111")


def test_a_seller_is_qualified_by_the_rule_based_path(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl)
    c = seller(stack, ghl)
    replies = [one_reply(c, text) for text in SELLER]
    # The lead wrote first: our first message still introduces the agent and the opt-out.
    assert replies[0] == (
        "Hi, this is Jorge with Sunbelt Realty. What's the address of the home you're "
        "thinking of selling? Reply STOP to opt out."
    )
    assert replies[1].endswith("What's prompting the move?")
    assert replies[2] == "No problem. What's prompting the move?"
    assert replies[3].endswith("When are you hoping to make a move?")
    assert replies[4].endswith("move-in ready, or needing some work?")
    assert replies[5].startswith("I'm an AI assistant")
    assert replies[6].endswith("Do you have a price in mind for it?")
    # The seller's price acknowledged as its price, then the wrap-up without a second thanks.
    assert replies[7] == (
        "Got it, $550,000 for your home. That's everything I need for now. Jorge will reach out "
        "shortly to set up a time to talk."
    )
    assert replies[8].startswith("Anytime!") and replies[9].startswith("Anytime!")
    assert replies[10] == "Of course. I'll have Jorge give you a call shortly."
    assert_seller_in_ghl(c, ghl, stack)


CLAUDE_SELLER = [
    claude_turn(
        "Hi, this is Jorge with Sunbelt Realty. Happy to help you sell! What's the address? "
        "Reply STOP to opt out.",
        intent="sell",
        asked="address",
    ),
    claude_turn(
        "Thanks! What's prompting the move?",
        {"address": "1234 Oak Street, Round Rock"},
        intent="sell",
        asked="motivation",
    ),
    claude_turn("No rush. What's behind the move?", intent="sell", vague=True),
    claude_turn(
        "Got it. When would you like to move?",
        {"motivation": "relocating"},
        intent="sell",
        asked="timeline",
    ),
    claude_turn("How's the home's condition?", {"timeline": 90}, intent="sell", asked="condition"),
    claude_turn("I'm an AI assistant for Jorge. How's the condition?", intent="sell", bot=True),
    claude_turn(
        "Understood. Any price in mind?",
        {"condition": "needs_work"},
        intent="sell",
        asked="price",
    ),
    claude_turn("Thanks! Jorge will reach out shortly.", {"price": 550000}, intent="sell"),
    claude_turn("Jorge will call to walk you through next steps.", intent="sell"),
    claude_turn("Great!", intent="sell"),
    claude_turn("Of course, Jorge will call you.", intent="sell", handoff=True),
]


def test_a_seller_is_qualified_by_claude(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude)
        claude.script(*[tool(t) for t in CLAUDE_SELLER])
        c = seller(stack, ghl)
        replies = [one_reply(c, text) for text in SELLER]
        assert replies == [t["reply"] for t in CLAUDE_SELLER]
        # Later calls read the cached system prompt.
        assert claude.calls[0].json["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert_seller_in_ghl(c, ghl, stack)


# -- a seller's price is not a budget ----------------------------------------------------------


def test_a_sellers_hoped_for_price_is_its_price_expectation_not_a_budget(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl)
    c = seller(stack, ghl)
    one_reply(c, "Hi, thinking about selling my house")
    one_reply(c, "1234 Oak Street, Round Rock")
    one_reply(c, "we're relocating for work")
    # Asked about the timeline, the seller also says what it hopes to sell for.
    reply = one_reply(c, "in about 3 months, hoping for 600k")
    assert reply == (
        "Got it, $600,000 for your home. How would you describe the home's condition: "
        "move-in ready, or needing some work?"
    )
    done = one_reply(c, "it's in good shape")
    assert done.startswith("Understood. That's everything I need for now.")
    fields = c.custom_fields()
    assert fields["Price Expectation"] == 600000
    assert "Budget" not in fields
    answers = lead_api(stack, c.contact_id)["answers"]
    assert answers["price"]["value"] == 600000
    assert "budget" not in answers
    assert "Price: $600,000" in ghl.notes[0]["body"] and "Budget" not in ghl.notes[0]["body"]


def test_a_lead_who_sells_and_buys_gets_a_price_and_a_budget(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, ghl)
    c = seller(stack, ghl)
    one_reply(c, "We need to sell our place and buy something bigger")
    one_reply(c, "4100 Cherrywood Lane, Round Rock")
    one_reply(c, "our family is growing")
    assert one_reply(c, "hoping for 650k").startswith("Got it, $650,000 for your home.")
    one_reply(c, "we can spend up to 800k on the next one")
    fields = c.custom_fields()
    assert fields["Buy/Sell Intent"] == "Buy and sell"
    assert fields["Price Expectation"] == 650000
    assert fields["Budget"] == 800000
