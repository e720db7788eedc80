"""Write the sample events in events/ from the GHL payloads in tests/fixtures/ghl/.

    python -m local.events          # regenerate events/
    python -m local.events --check  # exit 1 if events/ is out of date (tests run this)

events/intake/*.json   API Gateway HTTP API (v2) events for IntakeFunction, signed with the
                       local development key (local/devkeys.py); the workflow sample carries
                       the local workflow secret.
events/worker/*.json   SQS events for WorkerFunction, each carrying one job.
events/env.json        `sam local invoke --env-vars` values that make the samples verify.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghl_ai.jobs import Job
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


def _stable(event: dict[str, Any]) -> dict[str, Any]:
    event["requestContext"]["requestId"] = "sample-request"
    event["requestContext"]["time"] = "20/Nov/2026:15:04:05 +0000"
    event["requestContext"]["timeEpoch"] = int(RECEIVED_AT.timestamp() * 1000)
    return event


def intake_event(fixture: str) -> dict[str, Any]:
    raw = (FIXTURES / fixture).read_bytes()
    headers = {"content-type": "application/json", "user-agent": "GoHighLevel-Webhooks"}
    if fixture == WORKFLOW_FIXTURE:
        headers["x-webhook-secret"] = devkeys.WORKFLOW_SECRET
        return _stable(http_event("POST", "/webhooks/ghl/workflow", raw, headers))
    headers["x-ghl-signature"] = devkeys.sign(raw)
    return _stable(http_event("POST", "/webhooks/ghl", raw, headers))


def worker_event(fixture: str) -> dict[str, Any]:
    raw = (FIXTURES / fixture).read_bytes()
    event = parse_marketplace_webhook(json.loads(raw), raw)
    job = Job(id=event.dedupe_key, received_at=RECEIVED_AT, event=event)
    return {
        "Records": [
            {
                "messageId": f"sample-{fixture.removesuffix('.json')}",
                "receiptHandle": "sample-receipt-handle",
                "body": job.model_dump_json(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(RECEIVED_AT.timestamp() * 1000)),
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": str(int(RECEIVED_AT.timestamp() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:JobsQueue",
                "awsRegion": "us-east-1",
            }
        ]
    }


def render() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for fixture in sorted(p.name for p in FIXTURES.glob("*.json")):
        files[EVENTS / "intake" / fixture] = json.dumps(intake_event(fixture), indent=2) + "\n"
    for fixture in WORKER_SAMPLES:
        files[EVENTS / "worker" / fixture] = json.dumps(worker_event(fixture), indent=2) + "\n"
    workflow = json.loads((FIXTURES / WORKFLOW_FIXTURE).read_text())
    env = {
        "IntakeFunction": {
            "GHL_WEBHOOK_PUBLIC_KEY": devkeys.PUBLIC_KEY_PEM,
            "GHL_WORKFLOW_SECRET": devkeys.WORKFLOW_SECRET,
            "GHL_LOCATION_ID": workflow["location"]["id"],
        }
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
