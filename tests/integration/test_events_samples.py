"""Every sample in events/ (what `sam local invoke -e` feeds the functions) works as-is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.intake import app as intake_app
from functions.worker import app as worker_app
from ghl_ai import config
from local import events as sample_events
from local.apigw import LambdaContext, response_json
from tests.conftest import EVENTS, Stack
from tests.support import EXPECTED, inbox_item

INTAKE_SAMPLES = sorted((EVENTS / "intake").glob("*.json"))
WORKER_SAMPLES = sorted((EVENTS / "worker").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_events_are_in_sync_with_the_fixtures() -> None:
    assert sample_events.main(["--check"]) == 0


def test_there_are_samples_for_both_functions() -> None:
    assert [p.name for p in INTAKE_SAMPLES] == sorted(EXPECTED)
    assert WORKER_SAMPLES


@pytest.mark.parametrize("path", INTAKE_SAMPLES, ids=lambda p: p.name)
def test_each_intake_sample_is_accepted_and_recorded(stack: Stack, path: Path) -> None:
    expected = EXPECTED[path.name]

    result = intake_app.handler(load(path), LambdaContext("IntakeFunction"))

    body = response_json(result)
    assert result["statusCode"] == 200, body
    assert body["status"] == expected.status
    item = inbox_item(stack, expected.location_id, body["id"])
    assert item is not None and item["type"] == expected.type
    assert stack.queue_depth() == (1 if expected.status == "queued" else 0)


@pytest.mark.parametrize("path", WORKER_SAMPLES, ids=lambda p: p.name)
def test_each_worker_sample_updates_its_lead(stack: Stack, path: Path) -> None:
    expected = EXPECTED[path.name]
    assert stack.lead(expected.location_id, expected.contact_id) is None

    result = worker_app.handler(load(path), LambdaContext("WorkerFunction"))

    assert result == {"batchItemFailures": []}
    assert stack.lead(expected.location_id, expected.contact_id) is not None


def test_env_json_makes_the_intake_samples_verify(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """events/env.json is what `sam local invoke --env-vars` gets: with only those values
    (plus the resources), a signed sample and the workflow sample are both accepted."""
    for variable in ("GHL_WEBHOOK_PUBLIC_KEY", "GHL_WORKFLOW_SECRET", "GHL_LOCATION_ID"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in load(EVENTS / "env.json")["IntakeFunction"].items():
        monkeypatch.setenv(variable, value)
    config.intake_settings.cache_clear()
    intake_app.deps.cache_clear()

    for name in ("inbound_sms.json", "workflow_webhook_tag_trigger.json"):
        result = intake_app.handler(load(EVENTS / "intake" / name), LambdaContext("IntakeFunction"))
        assert result["statusCode"] == 200, response_json(result)
