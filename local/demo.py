"""`make demo`: replay the samples in events/ into the running local stack and show each step.

python -m local.demo              # the story: contact → messages → DND → ... → deletion,
                                  # then a lead qualified over SMS and a website form
python -m local.demo sign FILE    # print a curl command that posts FILE signed with the dev key
"""

from __future__ import annotations

import base64
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ghl_ai.webhooks.events import parse_marketplace_webhook, parse_workflow_webhook
from local import devkeys

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "stack.json"
EVENTS = ROOT / "events" / "intake"

STORY = [
    ("contact_create.json", "a new lead arrives in GHL"),
    ("contact_update.json", "the agent edits the contact (timezone, tags)"),
    ("inbound_sms.json", "the lead texts in"),
    ("inbound_sms_data_wrapped.json", "another text, in the `data`-wrapped shape"),
    ("outbound_sms.json", "a reply goes out from GHL (outbound: never answered)"),
    ("inbound_email.json", "an inbound email (`to` as a string)"),
    ("inbound_email_to_list.json", "an inbound email (`to` as a list)"),
    ("inbound_call.json", "an inbound call"),
    ("contact_dnd_update.json", "the contact's DND settings change"),
    ("appointment_create.json", "an appointment is booked"),
    ("opportunity_stage_update.json", "the opportunity moves stage"),
    ("note_create.json", "a note is added (recorded only)"),
    ("unknown_event.json", "an event type we do not know (recorded, acknowledged)"),
    ("workflow_webhook_tag_trigger.json", "a GHL workflow Webhook action fires"),
    ("contact_delete.json", "the contact is deleted in GHL: we delete what we hold"),
]


def _sample(name: str) -> tuple[str, bytes, dict[str, str]]:
    event = json.loads((EVENTS / name).read_text())
    body = event["body"].encode()
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    headers = {k: v for k, v in event["headers"].items() if k != "content-length"}
    return event["rawPath"], body, headers


def _aws(state: dict[str, Any]) -> tuple[Any, Any]:
    import boto3

    kwargs = {
        "endpoint_url": state["aws_endpoint_url"],
        "region_name": state["region"],
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return boto3.client("dynamodb", **kwargs), boto3.client("sqs", **kwargs)


def _depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def _wait_for_worker(sqs: Any, url: str, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _depth(sqs, url) == 0:
            return True
        time.sleep(0.2)
    return False


def _lead_summary(dynamodb: Any, table: str, location_id: str, contact_id: str) -> str:
    from ghl_ai.adapters.dynamo import from_item

    item = dynamodb.get_item(
        TableName=table, Key={"locationId": {"S": location_id}, "contactId": {"S": contact_id}}
    ).get("Item")
    if not item:
        return "no lead record"
    lead = from_item(item)
    parts = [
        f"{k}={lead[k]}"
        for k in ("name", "tags", "dnd", "dndChannels", "messagesIn", "messagesOut")
        if k in lead
    ]
    for k in ("lastInboundChannel", "opportunity", "appointment"):
        if k in lead:
            parts.append(f"{k}={lead[k]}")
    return ", ".join(parts)


def replay() -> int:
    if not STATE.exists():
        print("The local stack is not running: start it with `make run` in another terminal.")
        return 1
    state = json.loads(STATE.read_text())
    api = state["api_url"]
    dynamodb, sqs = _aws(state)
    jobs = state["queues"]["JobsQueue"]
    with httpx.Client(base_url=api, timeout=10) as http:
        print(f"GET /health → {http.get('/health').json()}")
        for name, story in STORY:
            path, body, headers = _sample(name)
            if path == "/webhooks/ghl":
                headers["x-ghl-signature"] = devkeys.sign(body)
            response = http.post(path, content=body, headers=headers)
            result = response.json()
            print(f"\n▶ {story}\n  POST {path} ({name}) → {response.status_code} {result}")
            if result.get("status") == "queued":
                done = _wait_for_worker(sqs, jobs)
                parse = (
                    parse_workflow_webhook
                    if path.endswith("/workflow")
                    else parse_marketplace_webhook
                )
                event = parse(json.loads(body), body)
                location, contact = event.location_id, event.contact_id
                summary = _lead_summary(dynamodb, state["tables"]["LeadsTable"], location, contact)
                print(f"  worker {'done' if done else 'still busy'} → lead {contact}: {summary}")

        path, body, headers = _sample("inbound_sms.json")
        headers["x-ghl-signature"] = devkeys.sign(body)
        again = http.post(path, content=body, headers=headers)
        print(f"\n▶ GHL retries a delivery it already made\n  → {again.status_code} {again.json()}")
        tampered = body.replace(b"test message", b"TEST MESSAGE")
        bad = http.post(path, content=tampered, headers=headers)
        print(f"\n▶ a body altered after signing\n  → {bad.status_code} {bad.json()}")
        junk = http.post(
            path,
            content=b'{"type": "InboundMessage",',
            headers={"x-ghl-signature": devkeys.sign(b'{"type": "InboundMessage",')},
        )
        print(f"\n▶ malformed JSON (validly signed)\n  → {junk.status_code} {junk.json()}")

    _conversation(state, sqs)

    dlq = state["queues"]["JobsDLQ"]
    sqs.send_message(QueueUrl=jobs, MessageBody='{"not": "a job"}')
    print("\n▶ a poison job on the queue: retried, then parked in JobsDLQ")
    print("  (takes a few visibility timeouts)")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _depth(sqs, dlq) == 0:
        time.sleep(1)
    print(f"  JobsDLQ now holds {_depth(sqs, dlq)} message(s); JobsQueue holds {_depth(sqs, jobs)}")
    return 0


BUYER_TURNS = [
    "Hi! We saw your listing on Zillow, we're looking to buy a home",
    "probably within 2 months",
    "Westlake or Round Rock",
    "around 450k",
    "are you a bot?",
    "yes, pre-approved with Chase",
    "3 bedrooms, need a garage",
]


def _conversation(state: dict[str, Any], sqs: Any) -> None:
    """A lead texting in and being qualified, then a website form — against the GHL stand-in."""
    ghl_url = state["ghl_api_base_url"]
    if not ghl_url.startswith("http://127.0.0.1"):
        print("\n(conversation demo skipped: the stack talks to real GHL)")
        return
    location, jobs = state["location_id"], state["queues"]["JobsQueue"]
    auth = {"Authorization": f"Bearer {devkeys.API_KEY}"}
    with (
        httpx.Client(base_url=ghl_url, timeout=10) as ghl,
        httpx.Client(base_url=state["api_url"], timeout=10) as api,
    ):
        contact = ghl.post(
            "/contacts/upsert",
            json={
                "locationId": location,
                "firstName": "Maria",
                "lastName": "Lopez",
                "phone": f"+1512555{int(time.time()) % 10000:04d}",
            },
            headers={"Authorization": "Bearer local-standin-token", "Version": "2021-07-28"},
        ).json()["contact"]
        print(f"\n▶ a lead texts in and is qualified (contact {contact['id']} in the GHL stand-in)")
        for turn, text in enumerate(BUYER_TURNS):
            body = json.dumps(
                {
                    "type": "InboundMessage",
                    "locationId": location,
                    "contactId": contact["id"],
                    "messageId": f"demo-{contact['id']}-{turn}",
                    "body": text,
                    "direction": "inbound",
                    "messageType": "SMS",
                }
            ).encode()
            headers = {"content-type": "application/json", "x-ghl-signature": devkeys.sign(body)}
            api.post("/webhooks/ghl", content=body, headers=headers)
            _wait_for_worker(sqs, jobs)
            lead = api.get(f"/leads/{contact['id']}", headers=auth).json()
            replies = [m for m in lead.get("lastMessages", []) if m["direction"] == "outbound"]
            print(f"  lead: {text}")
            print(f"  AI:   {replies[-1]['body'] if replies else '(no reply)'}")
        lead = api.get(f"/leads/{contact['id']}", headers=auth).json()
        answers = ", ".join(f"{k}={v['text']}" for k, v in lead["answers"].items())
        print(
            f"  GET /leads/{contact['id']} → intent={lead['intent']}, "
            f"temperature={lead['temperature']}, {answers}"
        )

        form = json.loads((EVENTS / "lyrio_form_json.json").read_text())
        posted = api.post(
            "/forms/lyrio",
            content=form["body"].encode(),
            headers={k: v for k, v in form["headers"].items() if k != "content-length"},
        )
        print(
            f"\n▶ a website (Lyrio) form with consent\n  POST /forms/lyrio → "
            f"{posted.status_code} {posted.json()}"
        )
        _wait_for_worker(sqs, jobs)
        print("  (the GHL stand-in's log above shows the contact upsert and the first SMS)")


def sign(path: str) -> int:
    body = Path(path).read_bytes()
    state = (
        json.loads(STATE.read_text()) if STATE.exists() else {"api_url": "http://127.0.0.1:3000"}
    )
    print(
        "curl -sS -X POST "
        f"{state['api_url']}/webhooks/ghl -H 'content-type: application/json' "
        f"-H 'x-ghl-signature: {devkeys.sign(body)}' --data-binary @{shlex.quote(path)}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sign":
        sys.exit(sign(sys.argv[2]))
    sys.exit(replay())
