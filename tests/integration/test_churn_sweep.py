"""The daily churn sweep end to end: leads whose events the ScoringFunction summarised, the
ChurnSweepFunction's fan-out, the ChurnScoreFunction's risk, GHL write-back and plays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ghl_ai.adapters.dynamo import BehaviourEventStore
from ghl_ai.jobs import ScoringJob
from ghl_ai.leads.models import BehaviourEvent, LeadKey
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import configure
from tests.integration.test_scoring import fields, iso, read_lead


@pytest.fixture
def ghl(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


def visits(contact: str, days_ago: list[float]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "type": "property_view",
            "timestamp": iso(now - timedelta(days=d)),
            "eventId": str(uuid.uuid4()),
            "visitorId": f"v-{contact}",
            "contactId": contact,
            "propertyId": f"IE-{i}",
            "dwellSeconds": 60,
        }
        for i, d in enumerate(days_ago)
    ]


def history(stack: Stack, contact: str, days_ago: list[float]) -> None:
    """Website visits ``days_ago`` (older than POST /events takes: an imported history), then
    the scoring job that summarises them, as a replay would queue it."""
    now = datetime.now(UTC)
    events = BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"])
    events.put_new_batch(
        [
            BehaviourEvent(
                lead=LeadKey(LOCATION_ID, contact),
                type="property_view",
                timestamp=now - timedelta(days=d),
                event_id=str(uuid.uuid4()),
                source="test",
                property_id=f"IE-{i}",
            )
            for i, d in enumerate(days_ago)
        ]
    )
    job = ScoringJob(
        id=str(uuid.uuid4()), received_at=now, location_id=LOCATION_ID, contacts=[contact]
    )
    stack.sqs.send_message(
        QueueUrl=stack.resources.queue_urls["ScoringQueue"], MessageBody=job.model_dump_json()
    )


def test_a_lead_gone_quiet_is_flagged_in_ghl_and_the_lead_api(
    stack: Stack, ghl: GhlStandIn
) -> None:
    quiet = ghl.seed_contact(LOCATION_ID, firstName="Sam", phone="+19095550111")["id"]
    busy = ghl.seed_contact(LOCATION_ID, firstName="Ana", phone="+19095550112")["id"]
    history(stack, quiet, [80, 77, 74, 71, 68, 65, 62, 60])
    response = stack.post_events({"events": visits(busy, [6, 4, 2, 1, 0.1])})
    assert response.status in (200, 202), response.json
    stack.run_scoring()
    assert stack.lead(LOCATION_ID, quiet)["activity"]["count"] == 8

    report = stack.run_churn_sweep()
    assert report["leads"] == 2 and report["chunks"] == 1
    stack.run_churn_scoring()
    lead = read_lead(stack, quiet)
    assert lead["churn"]["tier"] in ("high", "critical"), lead["churn"]
    assert lead["churn"]["d7"] >= lead["churn"]["d14"] >= lead["churn"]["d30"]
    assert any("no activity for 60 days; usually every 3" in r for r in lead["churn"]["reasons"])
    assert fields(ghl, quiet)["Churn Risk"] in ("High", "Critical")
    assert read_lead(stack, busy)["churn"]["tier"] == "low"
    # Re-run the same day: nothing queued again.
    assert stack.run_churn_sweep()["leads"] == 0
