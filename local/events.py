"""Write the sample events in events/ from the GHL payloads in tests/fixtures/ghl/ (and the
API samples defined here: Lyrio forms, a lead read).

    python -m local.events          # regenerate events/
    python -m local.events --check  # exit 1 if events/ is out of date (tests run this)

events/intake/*.json   API Gateway HTTP API (v2) events for IntakeFunction, signed with the
                       local development key (local/devkeys.py); the workflow sample carries
                       the local workflow secret. ``API_SAMPLES`` are the website's form
                       posts (JSON and form-encoded, with the local site key) and a lead read
                       (with the local API key).
events/worker/*.json   SQS events for WorkerFunction, each carrying one job.
events/scoring/*.json  SQS events for ScoringFunction (a scoring job after website events).
events/recommendations/*.json  RecommendationsFunction: its route (a lead's top 5 matches, with
                       the local API key) and an SQS event of one "send top matches" job.
events/env.json        `sam local invoke --env-vars` values that make the samples verify.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ghl_ai.jobs import ChurnChunkJob, Identity, Job, MatchesJob, ScoringJob
from ghl_ai.webhooks.events import parse_marketplace_webhook
from local import devkeys
from local.apigw import http_event

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ghl"
EVENTS = ROOT / "events"
WORKFLOW_FIXTURE = "workflow_webhook_tag_trigger.json"
#: Fixed so regenerated files are byte-identical.
RECEIVED_AT = datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)
WORKER_SAMPLES = ("contact_create.json", "inbound_sms.json", "contact_dnd_update.json")
#: The lead the read sample asks for: the workflow fixture's contact, in the configured location.
LEAD_READ_CONTACT_ID = "gxGfB9wxEy3anxbHB4nT"
#: A buyer's form as the agent's website posts it (fictional name, 555-01xx number).
LYRIO_FORM = {
    "first_name": "Maria",
    "last_name": "Gonzalez",
    "email": "maria.gonzalez@example.com",
    "phone": "(512) 555-0147",
    "intent": "buy",
    "budget": "$450k to $550k",
    "timeline": "within 3 months",
    "message": "We'd love to see the house on Oak Street this weekend.",
    "listing_id": "ATX-1001",
    "consent": True,
    "source_page": "https://lyrio.example.com/listings/ATX-1001",
    "utm_source": "google",
    "website": "",
}
#: A seller's form the way an HTML form posts it: camelCase names, the site key as a field,
#: the consent checkbox as "on".
LYRIO_FORM_ENCODED = {
    "siteKey": devkeys.SITE_KEY,
    "firstName": "Derek",
    "lastName": "Olsen",
    "phone": "512-555-0199",
    "intent": "selling",
    "timeline": "next spring",
    "message": "Thinking about selling our 3-bed in Mueller.",
    "consent": "on",
    "sourcePage": "https://lyrio.example.com/sell",
    "website": "",
}


#: A burst of website behaviour from one visitor (the tracking script's shape): a listing view
#: with dwell time, a save and a tour request, the contact known from a tracked link.
BEHAVIOUR_CONTACT_ID = "gxGfB9wxEy3anxbHB4nT"
BEHAVIOUR_EVENTS = {
    "events": [
        {
            "type": "property_view",
            "timestamp": "2026-11-20T15:01:10Z",
            "eventId": "5b8e8f5e-1d7e-4c1b-9d3e-0c9a1f7e2a01",
            "visitorId": "v-7f3c2a9e",
            "contactId": BEHAVIOUR_CONTACT_ID,
            "propertyId": "IE-1042",
            "dwellSeconds": 94,
            "data": {
                "price": 615000,
                "beds": 4,
                "baths": 3,
                "city": "Rancho Cucamonga",
                "zip": "91737",
                "path": "/listings/IE-1042",
            },
        },
        {
            "type": "property_save",
            "timestamp": "2026-11-20T15:02:40Z",
            "eventId": "5b8e8f5e-1d7e-4c1b-9d3e-0c9a1f7e2a02",
            "visitorId": "v-7f3c2a9e",
            "contactId": BEHAVIOUR_CONTACT_ID,
            "propertyId": "IE-1042",
            "data": {"price": 615000, "beds": 4, "city": "Rancho Cucamonga"},
        },
        {
            "type": "tour_request",
            "timestamp": "2026-11-20T15:03:05Z",
            "eventId": "5b8e8f5e-1d7e-4c1b-9d3e-0c9a1f7e2a03",
            "visitorId": "v-7f3c2a9e",
            "contactId": BEHAVIOUR_CONTACT_ID,
            "propertyId": "IE-1042",
        },
    ]
}


def _stable(event: dict[str, Any]) -> dict[str, Any]:
    event["requestContext"]["requestId"] = "sample-request"
    event["requestContext"]["time"] = "20/Nov/2026:15:04:05 +0000"
    event["requestContext"]["timeEpoch"] = int(RECEIVED_AT.timestamp() * 1000)
    return event


def intake_event(fixture: str) -> dict[str, Any]:
    raw = (FIXTURES / fixture).read_bytes()
    if b'"timestamp"' in raw:
        # A sample is replayed long after it was written: without a delivery time (GHL does not
        # send one on every type) it stays inside the intake's replay window.
        payload = json.loads(raw)
        payload.pop("timestamp", None)
        raw = json.dumps(payload, indent=2).encode()
    headers = {"content-type": "application/json", "user-agent": "GoHighLevel-Webhooks"}
    if fixture == WORKFLOW_FIXTURE:
        headers["x-webhook-secret"] = devkeys.WORKFLOW_SECRET
        return _stable(http_event("POST", "/webhooks/ghl/workflow", raw, headers))
    headers["x-ghl-signature"] = devkeys.sign(raw)
    return _stable(http_event("POST", "/webhooks/ghl", raw, headers))


def form_json_event() -> dict[str, Any]:
    headers = {
        "content-type": "application/json",
        "x-site-key": devkeys.SITE_KEY,
        "origin": "https://lyrio.example.com",
        "user-agent": "Mozilla/5.0",
    }
    raw = json.dumps(LYRIO_FORM).encode()
    return _stable(http_event("POST", "/forms/lyrio", raw, headers))


def form_urlencoded_event() -> dict[str, Any]:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "origin": "https://lyrio.example.com",
        "user-agent": "Mozilla/5.0",
    }
    raw = urlencode(LYRIO_FORM_ENCODED).encode()
    return _stable(http_event("POST", "/forms/lyrio", raw, headers))


def lead_read_event() -> dict[str, Any]:
    headers = {"authorization": f"Bearer {devkeys.API_KEY}", "user-agent": "curl/8.5.0"}
    event = http_event(
        "GET",
        f"/leads/{LEAD_READ_CONTACT_ID}",
        None,
        headers,
        route_key="GET /leads/{contactId}",
    )
    event["pathParameters"] = {"contactId": LEAD_READ_CONTACT_ID}
    return _stable(event)


def behaviour_events_event() -> dict[str, Any]:
    headers = {
        "content-type": "text/plain;charset=UTF-8",
        "x-site-key": devkeys.SITE_KEY,
        "origin": "https://lyrio.example.com",
        "user-agent": "Mozilla/5.0",
    }
    raw = json.dumps(BEHAVIOUR_EVENTS).encode()
    return _stable(http_event("POST", "/events", raw, headers))


def tracking_script_event() -> dict[str, Any]:
    headers = {"origin": "https://lyrio.example.com", "user-agent": "Mozilla/5.0"}
    return _stable(http_event("GET", "/track.js", None, headers))


#: events/intake samples that are not GHL fixtures: what each route's other callers send.
API_SAMPLES = {
    "lyrio_form_json.json": form_json_event,
    "lyrio_form_urlencoded.json": form_urlencoded_event,
    "lead_read.json": lead_read_event,
    "behaviour_events.json": behaviour_events_event,
    "track_js.json": tracking_script_event,
}


def worker_event(fixture: str) -> dict[str, Any]:
    raw = (FIXTURES / fixture).read_bytes()
    event = parse_marketplace_webhook(json.loads(raw), raw)
    job = Job(id=event.dedupe_key, received_at=RECEIVED_AT, event=event)
    return sqs_event(f"sample-{fixture.removesuffix('.json')}", job.model_dump_json(), "JobsQueue")


def scoring_event() -> dict[str, Any]:
    """The scoring job the intake sends after the behaviour sample."""
    job = ScoringJob(
        id="events:sample",
        received_at=RECEIVED_AT,
        location_id=json.loads((FIXTURES / WORKFLOW_FIXTURE).read_text())["location"]["id"],
        contacts=[BEHAVIOUR_CONTACT_ID],
        identities=[
            Identity(visitor_id="v-7f3c2a9e", contact_id=BEHAVIOUR_CONTACT_ID, source="event")
        ],
    )
    return sqs_event("sample-score-job", job.model_dump_json(), "ScoringQueue")


def recommendations_read_event() -> dict[str, Any]:
    headers = {"authorization": f"Bearer {devkeys.API_KEY}", "user-agent": "curl/8.5.0"}
    event = http_event(
        "GET",
        f"/leads/{LEAD_READ_CONTACT_ID}/recommendations",
        None,
        headers,
        {"k": "5"},
        route_key="GET /leads/{contactId}/recommendations",
    )
    event["pathParameters"] = {"contactId": LEAD_READ_CONTACT_ID}
    return _stable(event)


def matches_event() -> dict[str, Any]:
    """A "send top matches" job, as the worker queues it for the matches tag."""
    job = MatchesJob(
        id="tag:sample",
        received_at=RECEIVED_AT,
        location_id=json.loads((FIXTURES / WORKFLOW_FIXTURE).read_text())["location"]["id"],
        contact_id=LEAD_READ_CONTACT_ID,
        reason="matches_tag",
    )
    return sqs_event("sample-matches-job", job.model_dump_json(), "MatchesQueue")


def churn_schedule_event() -> dict[str, Any]:
    """What EventBridge sends the ChurnSweepFunction on its schedule."""
    return {
        "version": "0",
        "id": "sample-churn-sweep",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": RECEIVED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/ChurnSweepSchedule"],
        "detail": {},
    }


def churn_chunk_event() -> dict[str, Any]:
    """A chunk the sweep queues for the ChurnScoreFunction: the behaviour sample's lead."""
    job = ChurnChunkJob(
        id=f"churn:sample:{RECEIVED_AT.date().isoformat()}:{BEHAVIOUR_CONTACT_ID}",
        location_id=json.loads((FIXTURES / WORKFLOW_FIXTURE).read_text())["location"]["id"],
        day=RECEIVED_AT.date().isoformat(),
        contacts=[BEHAVIOUR_CONTACT_ID],
    )
    return sqs_event("sample-churn-chunk", job.model_dump_json(), "ChurnQueue")


def sqs_event(message_id: str, body: str, queue: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": "sample-receipt-handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(RECEIVED_AT.timestamp() * 1000)),
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": str(int(RECEIVED_AT.timestamp() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        ]
    }


def render() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for fixture in sorted(p.name for p in FIXTURES.glob("*.json")):
        files[EVENTS / "intake" / fixture] = json.dumps(intake_event(fixture), indent=2) + "\n"
    for name, build in API_SAMPLES.items():
        files[EVENTS / "intake" / name] = json.dumps(build(), indent=2) + "\n"
    for fixture in WORKER_SAMPLES:
        files[EVENTS / "worker" / fixture] = json.dumps(worker_event(fixture), indent=2) + "\n"
    files[EVENTS / "scoring" / "score_job.json"] = json.dumps(scoring_event(), indent=2) + "\n"
    recommendations = EVENTS / "recommendations"
    files[recommendations / "recommendations_read.json"] = (
        json.dumps(recommendations_read_event(), indent=2) + "\n"
    )
    files[recommendations / "matches_job.json"] = json.dumps(matches_event(), indent=2) + "\n"
    files[EVENTS / "churn" / "sweep_schedule.json"] = (
        json.dumps(churn_schedule_event(), indent=2) + "\n"
    )
    files[EVENTS / "churn" / "score_chunk.json"] = json.dumps(churn_chunk_event(), indent=2) + "\n"
    workflow = json.loads((FIXTURES / WORKFLOW_FIXTURE).read_text())
    env = {
        "IntakeFunction": {
            "GHL_WEBHOOK_PUBLIC_KEY": devkeys.PUBLIC_KEY_PEM,
            "GHL_WORKFLOW_SECRET": devkeys.WORKFLOW_SECRET,
            "GHL_LOCATION_ID": workflow["location"]["id"],
            "API_KEY": devkeys.API_KEY,
            "LYRIO_SITE_KEY": devkeys.SITE_KEY,
        },
        "RecommendationsFunction": {
            "GHL_LOCATION_ID": workflow["location"]["id"],
            "API_KEY": devkeys.API_KEY,
        },
    }
    files[EVENTS / "env.json"] = json.dumps(env, indent=2) + "\n"
    return files


def main(argv: list[str]) -> int:
    stale = []
    for path, text in render().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        print("events/ is out of date (run `python -m local.events`):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
