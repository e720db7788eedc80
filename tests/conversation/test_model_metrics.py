"""The model fallback rate the ModelFallbackRateAlarm watches (template.yaml): each turn Claude is
asked to decide counts ``ModelDecisions``; a turn the rule-based qualifier answered because Claude
failed also counts ``ModelFallback``. Read from the EMF lines the worker prints at the end of each
invocation, which is what CloudWatch turns into the metrics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from ghl_ai.observability import NAMESPACE, metrics
from local.anthropic_standin import AnthropicStandIn, status
from local.ghl_standin import GhlStandIn
from tests.conftest import Stack
from tests.conversation.driver import configure, new_lead

MODEL_METRICS = ("ModelDecisions", "ModelFallback")


@pytest.fixture
def ghl() -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


@pytest.fixture
def claude() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn() as standin:
        yield standin


@pytest.fixture(autouse=True)
def metrics_published(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Metrics on, as deployed (the suite turns them off). Off, Powertools keeps what earlier
    tests added without printing it, so start from an empty set."""
    metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    yield
    metrics.clear_metrics()


def read(out: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in out.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names = [m["Name"] for m in directive["Metrics"]]
            if not set(names) & set(MODEL_METRICS):
                continue
            # Where the alarm looks for them: the namespace, under the one service dimension.
            assert directive["Namespace"] == NAMESPACE
            assert directive["Dimensions"] == [["service"]]
            for name in set(names) & set(MODEL_METRICS):
                value = blob[name]
                counts[name] += int(sum(value) if isinstance(value, list) else value)
    return counts


def test_a_turn_claude_answers_counts_one_decision_and_no_fallback(
    stack: Stack,
    ghl: GhlStandIn,
    claude: AnthropicStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, ghl, claude)
    c = new_lead(stack, ghl)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    assert len(claude.calls) == 1
    assert read(capsys.readouterr().out) == {"ModelDecisions": 1}


def test_a_turn_claude_fails_counts_a_decision_and_a_fallback(
    stack: Stack,
    ghl: GhlStandIn,
    claude: AnthropicStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, ghl, claude)
    claude.script(status(500), status(500), status(500))
    c = new_lead(stack, ghl)
    (reply,) = c.lead_says("Hi, I want to buy a house")
    assert "When are you hoping to make a move?" in reply  # the rule-based qualifier's question
    assert read(capsys.readouterr().out) == {"ModelDecisions": 1, "ModelFallback": 1}


def test_a_redelivered_turn_is_not_counted_again(
    stack: Stack,
    ghl: GhlStandIn,
    claude: AnthropicStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GHL refuses the SMS more times than the client retries: the job fails, SQS redelivers
    # it, and the stored decision is sent without asking the model again.
    configure(monkeypatch, ghl, claude)
    ghl.script("POST", "/conversations/messages", [503] * 4)
    c = new_lead(stack, ghl)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    assert len(ghl.calls_to("POST", "/conversations/messages")) > 4  # it was redelivered
    assert read(capsys.readouterr().out) == {"ModelDecisions": 1}


def test_the_rule_based_path_alone_counts_no_model_metric(
    stack: Stack,
    ghl: GhlStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, ghl)  # no Anthropic key: the rules answer by design, not as a fallback
    c = new_lead(stack, ghl)
    assert len(c.lead_says("Hi, I want to buy a house")) == 1
    assert read(capsys.readouterr().out) == {}
