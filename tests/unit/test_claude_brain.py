"""ClaudeBrain against the loopback Anthropic stand-in (the real SDK, no network): the request it
sends, how it reads the tool call, and how every failure becomes BrainUnavailable."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ghl_ai.conversation.claude import (
    DEFAULT_MODEL,
    TOOL_NAME,
    BrainUnavailable,
    ClaudeBrain,
)
from ghl_ai.conversation.model import (
    FIELD_NAMES,
    Answer,
    HistoryLine,
    Persona,
    Turn,
)
from ghl_ai.conversation.sms import OPT_OUT_NOTICE, SMS_LIMIT
from local.anthropic_standin import (
    AnthropicStandIn,
    default_responder,
    delay,
    message,
    status,
    tool,
)

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-ant-test-0123456789"
MODEL = "claude-test-model"
PERSONA = Persona(agent_name="Jorge", brokerage="Sunbelt Realty", market_area="Austin")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
INBOUND = "We're hoping to buy in about 3 months, budget around $450k"


def tool_input(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "reply": "Great, 3 months gives us time. Which areas or neighborhoods are you looking in?",
        "intent": "buy",
        "intent_confidence": 0.95,
        "answers": {
            "timeline": {"value": 90, "confidence": 0.9},
            "budget": {"value": {"min": None, "max": 450000}, "confidence": 0.85},
        },
        "handoff_requested": False,
        "asked_if_bot": False,
        "vague": False,
        "asked_field": "area",
    }
    return base | changes


def make_turn(**changes: Any) -> Turn:
    turn = Turn(
        persona=PERSONA,
        now=NOW,
        intent="buy",
        answers={"pre_approval": Answer(value="cash", confidence=0.9)},
        last_asked="timeline",
        missing=["timeline", "area", "budget", "bedrooms", "property_type"],
        history=[
            HistoryLine("outbound", "Hi Sam, this is Jorge with Sunbelt Realty. When?"),
            HistoryLine("inbound", "Hey! Yes still looking"),
            HistoryLine("outbound", "Great! When are you hoping to make a move?"),
        ],
        inbound=INBOUND,
        context={"first_name": "Sam", "phone": "+15125550100", "email": "sam@example.com"},
    )
    return replace(turn, **changes)


@pytest.fixture
def api() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn() as standin:
        yield standin


def brain_for(api: AnthropicStandIn, **options: Any) -> ClaudeBrain:
    settings: dict[str, Any] = {"model": MODEL, "timeout": 5.0, "max_retries": 1} | options
    return ClaudeBrain(API_KEY, base_url=api.base_url, **settings)


@pytest.fixture
def brain(api: AnthropicStandIn) -> Iterator[ClaudeBrain]:
    claude = brain_for(api)
    yield claude
    claude.close()


def failure(brain: ClaudeBrain, turn: Turn | None = None) -> BrainUnavailable:
    with pytest.raises(BrainUnavailable) as raised:
        brain.decide(turn or make_turn())
    return raised.value


# -- a good turn ---------------------------------------------------------------------------


def test_decide_returns_the_scripted_reply_extraction_and_usage(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool_input())
    decision = brain.decide(make_turn())

    assert decision.source == "claude"
    assert decision.reply == tool_input()["reply"]
    assert decision.asked == "area"
    extraction = decision.extraction
    assert (extraction.intent, extraction.intent_confidence) == ("buy", 0.95)
    assert extraction.answers == {
        "timeline": Answer(value=90, confidence=0.9, source="claude"),
        "budget": Answer(value={"min": None, "max": 450000}, confidence=0.85, source="claude"),
    }
    assert not (extraction.handoff_requested or extraction.asked_if_bot or extraction.vague)
    usage = decision.usage
    assert set(usage) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["cache_creation_input_tokens"] > 1024  # the static prompt is worth caching
    assert usage["cache_read_input_tokens"] == 0
    assert len(api.calls) == 1


def test_the_static_prompt_is_read_from_the_cache_on_later_turns(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool_input(), tool_input())
    first = brain.decide(make_turn())
    second = brain.decide(make_turn(inbound="Westlake or Cedar Park", last_asked="area"))
    assert second.usage["cache_read_input_tokens"] == first.usage["cache_creation_input_tokens"]
    assert second.usage["cache_creation_input_tokens"] == 0


def test_request_is_cached_forced_and_uses_the_configured_model(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool_input())
    brain.decide(make_turn())
    call = api.calls[0]
    body = call.json

    assert (call.method, call.path) == ("POST", "/v1/messages")
    assert body["model"] == MODEL
    assert 0 < body["max_tokens"] <= 2048
    static, state = call.system
    assert static["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in state
    assert "Jorge" in static["text"] and "Sunbelt Realty" in static["text"]
    assert "320" in static["text"] and OPT_OUT_NOTICE in static["text"]
    assert "AI assistant" in static["text"]
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    [record] = body["tools"]
    assert record["name"] == TOOL_NAME
    schema = record["input_schema"]
    assert set(schema["properties"]) == {
        "reply",
        "intent",
        "intent_confidence",
        "answers",
        "handoff_requested",
        "asked_if_bot",
        "vague",
        "language",
        "asked_field",
        "sources",
        "question_for_agent",
    }
    # The grounding fields are optional: a turn without a question needs neither.
    assert "sources" not in schema["required"] and "question_for_agent" not in schema["required"]
    assert list(schema["properties"]["answers"]["properties"]) == list(FIELD_NAMES)
    budget = schema["properties"]["answers"]["properties"]["budget"]["properties"]
    assert set(budget) == {"value", "confidence"}
    assert set(budget["value"]["properties"]) == {"min", "max"}
    assert schema["properties"]["asked_field"]["enum"] == [*FIELD_NAMES, None]
    # the per-turn state: known answers, what is missing (next first), what we asked last
    assert "Missing fields, next first: timeline, area, budget" in state["text"]
    assert 'pre_approval: "cash"' in state["text"]
    assert "asked about: timeline" in state["text"]
    assert "First contact: no" in state["text"]
    assert "first name: Sam" in state["text"]
    # contact details are not sent
    assert "+1512" not in json.dumps(body) and "sam@example.com" not in json.dumps(body)
    # headers: the API version is sent, the key is never recorded
    assert call.headers["anthropic-version"]
    assert "x-api-key" not in call.headers and "authorization" not in call.headers
    assert API_KEY not in json.dumps(call.headers)


def test_history_in_order_with_the_inbound_as_the_last_user_turn(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool_input())
    brain.decide(make_turn())
    messages = api.calls[0].messages
    texts = [(m["role"], [b["text"] for b in m["content"]]) for m in messages]
    assert texts == [
        ("user", ["(Earlier messages in this conversation follow.)"]),
        ("assistant", ["Hi Sam, this is Jorge with Sunbelt Realty. When?"]),
        ("user", ["Hey! Yes still looking"]),
        ("assistant", ["Great! When are you hoping to make a move?"]),
        ("user", [INBOUND]),
    ]


def test_consecutive_lead_messages_stay_one_user_turn(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    history = [HistoryLine("inbound", "hi"), HistoryLine("inbound", "are you there?")]
    api.script(tool_input())
    brain.decide(make_turn(history=history, inbound="I want to buy"))
    [only] = api.calls[0].messages
    assert only["role"] == "user"
    assert [b["text"] for b in only["content"]] == ["hi", "are you there?", "I want to buy"]


def test_a_text_block_before_the_tool_call_is_fine(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool(tool_input(), text="Let me record that."))
    assert brain.decide(make_turn()).reply == tool_input()["reply"]


def test_default_responder_asks_about_the_first_missing_field(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    decision = brain.decide(make_turn())  # nothing scripted: the responder answers
    assert decision.asked == "timeline"
    assert "timeline" in decision.reply and decision.reply.endswith("?")
    assert default_responder(api.calls[0].json)["asked_field"] == "timeline"


def test_unknown_intent_asks_for_it(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    brain.decide(make_turn(intent=None, missing=[]))
    state = api.calls[0].system[1]["text"]
    assert "Intent: unknown" in state
    assert "intent comes first" in state


# -- reading the tool input ----------------------------------------------------------------


def test_answers_with_bad_shapes_are_dropped_not_the_turn(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    answers = {
        "budget": {"value": {"min": 500000, "max": 400000}, "confidence": 0.9},  # swapped
        "timeline": {"value": "soon", "confidence": 0.9},  # not days
        "bedrooms": {"value": True, "confidence": 0.9},  # a bool is no number
        "pre_approval": {"value": "maybe", "confidence": 0.9},  # not in the enum
        "area": {"value": "  Westlake ", "confidence": 1.7},  # confidence clamped
        "must_haves": {"value": ["Pool", "pool", " Big  Yard"], "confidence": 0.8},
        "price": {"value": 500000},  # no confidence
        "color": {"value": "blue", "confidence": 0.9},  # not a field
        "address": "12 Oak St",  # not {value, confidence}
        "property_type": {"value": "condo", "confidence": -0.2},
        "condition": {"value": "Move-in ready", "confidence": 0.7},  # read as move_in_ready
    }
    api.script(tool_input(answers=answers, intent="shop", asked_field="colour"))
    decision = brain.decide(make_turn())
    got = {name: (a.value, a.confidence) for name, a in decision.extraction.answers.items()}
    assert got == {
        "budget": ({"min": 400000, "max": 500000}, 0.9),
        "area": ("Westlake", 1.0),
        "must_haves": (["pool", "big yard"], 0.8),
        "property_type": ("condo", 0.0),
        "condition": ("move_in_ready", 0.7),
    }
    assert decision.extraction.intent is None
    assert decision.asked is None


def test_handoff_and_bot_question_flags(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    reply = "I'm an AI assistant working for Jorge. I'll have Jorge give you a call shortly."
    api.script(
        tool_input(
            reply=reply,
            answers={},
            handoff_requested=True,
            asked_if_bot=True,
            asked_field="area",
        )
    )
    decision = brain.decide(make_turn(inbound="is this a bot? can someone call me"))
    assert decision.extraction.handoff_requested and decision.extraction.asked_if_bot
    assert decision.asked is None  # a handoff asks nothing
    assert decision.reply == reply


def test_long_reply_is_trimmed(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    long = "Thanks so much for all of those details. " * 12 + "Which areas are you looking in?"
    api.script(tool_input(reply=long))
    reply = brain.decide(make_turn()).reply
    assert len(reply) <= SMS_LIMIT
    assert reply.endswith("Which areas are you looking in?")


def test_markdown_and_emojis_removed_unless_allowed(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    reply = "**Great news!** 🎉 Which areas are you looking in? 🏡"
    api.script(tool_input(reply=reply), tool_input(reply=reply))
    assert brain.decide(make_turn()).reply == "Great news! Which areas are you looking in?"
    emoji_persona = replace(PERSONA, allow_emojis=True)
    allowed = brain.decide(make_turn(persona=emoji_persona)).reply
    assert "🎉" in allowed and "**" not in allowed
    assert "No emojis" in api.calls[0].system[0]["text"]
    assert "No emojis" not in api.calls[1].system[0]["text"]


def test_first_contact_gets_intro_and_opt_out(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(tool_input(reply="Thanks for your interest! When are you hoping to make a move?"))
    turn = make_turn(inbound=None, history=[], first_contact=True, answers={}, last_asked=None)
    decision = brain.decide(turn)
    assert decision.reply == (
        "Hi, this is Jorge with Sunbelt Realty. Thanks for your interest! "
        "When are you hoping to make a move? Reply STOP to opt out."
    )
    body = api.calls[0].json
    [situation] = body["messages"]
    assert situation["role"] == "user"
    assert "No message from the lead yet" in situation["content"][0]["text"]
    assert "First contact: yes" in body["system"][1]["text"]


def test_first_contact_reply_that_introduces_itself_is_kept(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    reply = (
        "Hi Sam, this is Jorge's assistant at Sunbelt Realty. When are you hoping to move? "
        "Reply STOP to opt out."
    )
    api.script(tool_input(reply=reply))
    decision = brain.decide(make_turn(first_contact=True))
    assert decision.reply == reply
    assert decision.reply.count("STOP") == 1


def test_first_contact_reply_that_only_names_the_agent_gets_the_introduction(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    # "Jorge will call you" names the agent but says neither who writes nor for which brokerage.
    api.script(tool_input(reply="Of course! Jorge will call you shortly.", handoff_requested=True))
    decision = brain.decide(make_turn(first_contact=True, inbound="can Jorge call me?"))
    assert decision.reply == (
        "Hi, this is Jorge with Sunbelt Realty. Of course! Jorge will call you shortly. "
        "Reply STOP to opt out."
    )


def test_the_prompt_tells_a_sellers_price_from_a_buyers_budget(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool_input())
    brain.decide(make_turn(intent="sell"))
    prompt = api.calls[0].system[0]["text"]
    assert "what a buyer can spend" in prompt
    assert '"hoping for 600k"' in prompt and "never a budget" in prompt


def test_first_contact_long_reply_still_fits(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(tool_input(reply="Welcome aboard, happy to help. " * 15 + "When do you move?"))
    reply = brain.decide(make_turn(first_contact=True)).reply
    assert len(reply) <= SMS_LIMIT
    assert "Jorge with Sunbelt Realty" in reply and reply.endswith(OPT_OUT_NOTICE)


# -- failures ------------------------------------------------------------------------------


def test_a_500_then_success_is_one_decision(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(status(500), tool_input())
    decision = brain.decide(make_turn())
    assert decision.reply == tool_input()["reply"]
    assert len(api.calls) == 2
    assert [c.headers.get("x-stainless-retry-count") for c in api.calls] == ["0", "1"]


@pytest.mark.parametrize("code", [500, 529, 429])
def test_persistent_errors_raise_brain_unavailable(
    api: AnthropicStandIn, brain: ClaudeBrain, code: int
) -> None:
    api.script(status(code), status(code), status(code))
    error = failure(brain)
    assert (error.reason, error.status) == (f"http_{code}", code)
    assert error.request_id and error.request_id.startswith("req_standin_")
    assert len(api.calls) == 2  # the first try and one retry


def test_client_errors_are_not_retried(api: AnthropicStandIn) -> None:
    with AnthropicStandIn(api_key="sk-ant-other") as strict:
        claude = brain_for(strict)
        error = failure(claude)
    assert (error.reason, error.status) == ("http_401", 401)
    assert len(strict.calls) == 1


def test_a_slow_api_times_out_quickly(api: AnthropicStandIn) -> None:
    timeout, retries = 0.5, 1
    claude = brain_for(api, timeout=timeout, max_retries=retries)
    api.script(delay(5, tool_input()), delay(5, tool_input()))
    started = time.monotonic()
    error = failure(claude)
    elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert elapsed < timeout * (retries + 1) + 1.5  # backoff ≤ 0.5 s + slack
    assert len(api.calls) == retries + 1


def test_a_long_retry_after_is_not_waited_for(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(status(429, retry_after=30), tool_input())
    started = time.monotonic()
    error = failure(brain)
    assert time.monotonic() - started < 2
    assert (error.reason, error.status) == ("retry_after", 429)
    assert len(api.calls) == 1


def test_a_short_retry_after_is_honoured(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(status(529, retry_after=0.2), tool_input())
    assert brain.decide(make_turn()).source == "claude"
    assert len(api.calls) == 2


def test_connection_refused_is_brain_unavailable() -> None:
    with AnthropicStandIn() as gone:
        url = gone.base_url
    claude = ClaudeBrain(API_KEY, MODEL, base_url=url, timeout=1, max_retries=0)
    assert failure(claude).reason == "connection"


def test_no_tool_call_is_brain_unavailable(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(message([{"type": "text", "text": "Sure! When do you move?"}]))
    assert failure(brain).reason == "no_tool_use"


def test_another_tool_is_not_our_tool_call(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "other", "input": tool_input()}
    api.script(message([block], stop_reason="tool_use"))
    assert failure(brain).reason == "no_tool_use"


def test_max_tokens_with_an_unusable_tool_input(api: AnthropicStandIn, brain: ClaudeBrain) -> None:
    api.script(tool({"intent": "buy"}, stop_reason="max_tokens"))
    assert failure(brain).reason == "max_tokens"


def test_max_tokens_with_a_usable_tool_input_is_accepted(
    api: AnthropicStandIn, brain: ClaudeBrain
) -> None:
    api.script(tool(tool_input(), stop_reason="max_tokens"))
    assert brain.decide(make_turn()).reply == tool_input()["reply"]


@pytest.mark.parametrize("reply", ["", "   ", "🎉🏡", None, 42])
def test_empty_reply_is_brain_unavailable(
    api: AnthropicStandIn, brain: ClaudeBrain, reply: Any
) -> None:
    api.script(tool_input(reply=reply))
    assert failure(brain).reason == "empty_reply"


def test_failures_log_no_text_number_or_key(
    api: AnthropicStandIn, brain: ClaudeBrain, caplog: pytest.LogCaptureFixture
) -> None:
    api.script(status(500), status(500), message([{"type": "text", "text": "hi"}]))
    with caplog.at_level(logging.DEBUG):
        failure(brain)
        failure(brain)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "Claude did not decide the turn"
    ] * 2
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (API_KEY, INBOUND, "+15125550100", "sam@example.com", "Hey! Yes"):
        assert secret not in logged
    assert API_KEY not in repr(brain)


# -- construction ----------------------------------------------------------------------------


def test_construction_checks_and_defaults() -> None:
    with pytest.raises(ValueError):
        ClaudeBrain("")
    claude = ClaudeBrain(API_KEY)
    assert claude.model == DEFAULT_MODEL == "claude-sonnet-5-5"
    assert (claude.timeout, claude.max_retries, claude.base_url) == (8.0, 1, None)


def test_sdk_client_is_created_once_and_uses_the_options(api: AnthropicStandIn) -> None:
    claude = brain_for(api, timeout=3.0, max_retries=2)
    client = claude.client()
    assert claude.client() is client
    assert str(client.base_url).rstrip("/") == api.base_url
    assert client.max_retries == 2
    assert client.timeout == 3.0


def test_base_url_from_the_environment(
    api: AnthropicStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
    claude = ClaudeBrain(API_KEY, MODEL)
    api.script(tool_input())
    assert claude.decide(make_turn()).reply == tool_input()["reply"]


def test_importing_the_module_does_not_import_anthropic() -> None:
    code = (
        "import sys, time\n"
        "import ghl_ai.conversation.model, ghl_ai.conversation.sms, ghl_ai.observability\n"
        "started = time.perf_counter()\n"
        "import ghl_ai.conversation.claude\n"
        "print(time.perf_counter() - started)\n"
        "print('anthropic' in sys.modules, 'httpx2' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"},
    )
    seconds, modules = result.stdout.strip().splitlines()
    assert modules == "False False"
    assert float(seconds) < 0.25  # its own cost is a few ms (anthropic alone takes ~1 s)


# -- the stand-in speaks the API's error shapes --------------------------------------------


def _post(url: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310
        url + "/v1/messages", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_standin_checks_key_and_version(api: AnthropicStandIn) -> None:
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    code, error = _post(api.base_url, {"anthropic-version": "2023-06-01"}, body)
    assert code == 401
    assert error["type"] == "error" and error["error"]["type"] == "authentication_error"
    code, error = _post(api.base_url, {"x-api-key": "k"}, body)
    assert (code, error["error"]["type"]) == (400, "invalid_request_error")
    code, answer = _post(api.base_url, {"x-api-key": "k", "anthropic-version": "2023-06-01"}, body)
    assert code == 200
    assert answer["type"] == "message" and answer["stop_reason"] == "tool_use"
    assert answer["content"][0]["type"] == "tool_use"
    assert set(answer["usage"]) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert all("x-api-key" not in c.headers for c in api.calls)
