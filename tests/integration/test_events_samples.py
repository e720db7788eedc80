"""Every sample in events/ (what `sam local invoke -e` feeds the functions) works as-is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.intake import app as intake_app
from functions.worker import app as worker_app
from ghl_ai import config
from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
from ghl_ai.jobs import LyrioFormJob
from ghl_ai.leads.models import BehaviourEvent, LeadChanges, LeadKey
from local import events as sample_events
from local.apigw import LambdaContext, response_json
from tests.conftest import EVENTS, LOCATION_ID, Stack
from tests.support import EXPECTED, inbox_item

WEBHOOK_SAMPLES = sorted(
    p for p in (EVENTS / "intake").glob("*.json") if p.name not in sample_events.API_SAMPLES
)
WORKER_SAMPLES = sorted((EVENTS / "worker").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_events_are_in_sync_with_the_fixtures() -> None:
    assert sample_events.main(["--check"]) == 0


def test_there_are_samples_for_both_functions() -> None:
    names = sorted(p.name for p in (EVENTS / "intake").glob("*.json"))
    assert names == sorted([*EXPECTED, *sample_events.API_SAMPLES])
    assert WORKER_SAMPLES


@pytest.mark.parametrize("path", WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_each_intake_sample_is_accepted_and_recorded(stack: Stack, path: Path) -> None:
    expected = EXPECTED[path.name]

    result = intake_app.handler(load(path), LambdaContext("IntakeFunction"))

    body = response_json(result)
    assert result["statusCode"] == 200, body
    assert body["status"] == expected.status
    item = inbox_item(stack, expected.location_id, body["id"])
    assert item is not None and item["type"] == expected.type
    assert stack.queue_depth() == (1 if expected.status == "queued" else 0)


@pytest.mark.parametrize(
    ("name", "phone", "intent"),
    [
        ("lyrio_form_json.json", "+15125550147", "buy"),
        ("lyrio_form_urlencoded.json", "+15125550199", "sell"),
    ],
)
def test_each_form_sample_is_accepted_and_queued(
    stack: Stack, name: str, phone: str, intent: str
) -> None:
    result = intake_app.handler(load(EVENTS / "intake" / name), LambdaContext("IntakeFunction"))

    body = response_json(result)
    assert result["statusCode"] == 202, body
    assert body["status"] == "accepted"
    response = stack.sqs.receive_message(QueueUrl=stack.resources.queue_urls["JobsQueue"])
    [job] = [LyrioFormJob.model_validate_json(m["Body"]) for m in response["Messages"]]
    assert (job.id, job.location_id) == (body["id"], LOCATION_ID)
    assert (job.form.phone, job.form.intent, job.form.consent) == (phone, intent, True)


def test_the_lead_read_sample_returns_the_lead(stack: Stack) -> None:
    contact_id = sample_events.LEAD_READ_CONTACT_ID
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(LOCATION_ID, contact_id),
        LeadChanges(set={"firstName": "Jordan", "temperature": "warm"}),
    )

    result = intake_app.handler(load(EVENTS / "intake" / "lead_read.json"), LambdaContext("x"))

    body = response_json(result)
    assert result["statusCode"] == 200, body
    assert (body["contactId"], body["locationId"]) == (contact_id, LOCATION_ID)
    assert (body["firstName"], body["temperature"]) == ("Jordan", "warm")


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
    (plus the resources), a signed sample, the workflow sample and a form sample are accepted
    and the lead read sample is authorised."""
    for variable in (
        "GHL_WEBHOOK_PUBLIC_KEY",
        "GHL_WORKFLOW_SECRET",
        "GHL_LOCATION_ID",
        "API_KEY",
        "LYRIO_SITE_KEY",
    ):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in load(EVENTS / "env.json")["IntakeFunction"].items():
        monkeypatch.setenv(variable, value)
    config.intake_settings.cache_clear()
    intake_app.deps.cache_clear()

    for name in ("inbound_sms.json", "workflow_webhook_tag_trigger.json"):
        result = intake_app.handler(load(EVENTS / "intake" / name), LambdaContext("IntakeFunction"))
        assert result["statusCode"] == 200, response_json(result)
    form = load(EVENTS / "intake" / "lyrio_form_urlencoded.json")
    assert intake_app.handler(form, LambdaContext("IntakeFunction"))["statusCode"] == 202
    # No lead stored yet: authorised (404), not refused (401).
    read = intake_app.handler(load(EVENTS / "intake" / "lead_read.json"), LambdaContext("x"))
    assert read["statusCode"] == 404, response_json(read)


def test_the_tracking_script_sample_serves_the_script(stack: Stack) -> None:
    result = intake_app.handler(load(EVENTS / "intake" / "track_js.json"), LambdaContext("x"))

    assert result["statusCode"] == 200
    assert "sendBeacon" in result["body"]


def test_the_behaviour_sample_is_stored_for_its_contact(stack: Stack) -> None:
    from datetime import UTC, datetime

    intake_app.deps().events.clock = lambda: datetime(2026, 11, 20, 15, 10, tzinfo=UTC)

    result = intake_app.handler(load(EVENTS / "intake" / "behaviour_events.json"), LambdaContext())

    assert result["statusCode"] == 202, response_json(result)
    assert response_json(result) == {"accepted": 3, "duplicates": 0}
    stored = [
        e for e in stack.scan("EventsTable") if e["contactId"] == sample_events.BEHAVIOUR_CONTACT_ID
    ]
    assert sorted(e["type"] for e in stored) == ["property_save", "property_view", "tour_request"]


def test_the_recommendations_samples_serve_and_send_matches(stack: Stack) -> None:
    """The route sample returns the lead's matches; the matches-job sample is consumed (with no
    GHL token configured it is acknowledged, never retried)."""
    from datetime import UTC, datetime

    from functions.recommendations import app as recommendations_app
    from local import demo_catalogue

    demo_catalogue.load(
        stack.dynamodb, stack.resources.tables["ListingsTable"], LOCATION_ID, datetime.now(UTC)
    )
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(LOCATION_ID, sample_events.LEAD_READ_CONTACT_ID),
        LeadChanges(set={"intent": "buy"}),
    )
    context = LambdaContext("RecommendationsFunction")
    read = recommendations_app.handler(
        load(EVENTS / "recommendations" / "recommendations_read.json"), context
    )
    body = response_json(read)
    assert read["statusCode"] == 200, body
    assert len(body["recommendations"]) == 5 and body["modelVersion"]

    sent = recommendations_app.handler(
        load(EVENTS / "recommendations" / "matches_job.json"), context
    )
    assert sent == {"batchItemFailures": []}


def test_the_churn_samples_sweep_and_score_the_sample_lead(stack: Stack) -> None:
    """The schedule sample sweeps (the behaviour sample's lead, once scored, is queued); the
    chunk sample scores that lead (no GHL token: its risk is stored, nothing written)."""
    from functions.churn_score import app as churn_score_app
    from functions.churn_sweep import app as churn_sweep_app
    from ghl_ai.jobs import ScoringJob

    key = LeadKey(LOCATION_ID, sample_events.BEHAVIOUR_CONTACT_ID)
    now = datetime.now(UTC)
    BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"]).put(
        BehaviourEvent(key, "property_view", now - timedelta(days=20), "ev-1", "test")
    )
    job = ScoringJob(id="s", received_at=now, location_id=LOCATION_ID, contacts=[key.contact_id])
    stack.sqs.send_message(
        QueueUrl=stack.resources.queue_urls["ScoringQueue"], MessageBody=job.model_dump_json()
    )
    stack.run_scoring()
    swept = churn_sweep_app.handler(
        load(EVENTS / "churn" / "sweep_schedule.json"), LambdaContext("ChurnSweepFunction")
    )
    assert swept["leads"] == 1 and swept["chunks"] == 1
    scored = churn_score_app.handler(
        load(EVENTS / "churn" / "score_chunk.json"), LambdaContext("ChurnScoreFunction")
    )
    assert scored == {"batchItemFailures": []}
    churn = stack.lead(LOCATION_ID, key.contact_id)["churn"]
    assert churn["tier"] in ("low", "medium", "high", "critical") and churn["reasons"]
