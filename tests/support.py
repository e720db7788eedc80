"""What each GHL fixture is expected to become, and small helpers shared by the tests.

``EXPECTED`` is written by hand from the payloads in tests/fixtures/ghl/ (not computed by the
code under test); a test checks it names every fixture, so a new fixture needs an entry here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ghl_ai.adapters.dynamo import WebhookInbox
from ghl_ai.jobs import Job
from tests.conftest import FIXTURES, Stack, fixture_bytes

WORKFLOW_FIXTURE = "workflow_webhook_tag_trigger.json"


@dataclass(frozen=True)
class Expected:
    type: str
    location_id: str
    contact_id: str | None
    status: str  # what the intake answers: queued | recorded | unknown
    direction: str | None = None
    channel: str | None = None
    message_id: str | None = None
    dedupe_key: str | None = None  # only where GHL's payload fixes it (webhookId, message id)

    @property
    def route(self) -> str:
        return "workflow" if self.type == "WorkflowWebhook" else "marketplace"


EXPECTED: dict[str, Expected] = {
    "appointment_create.json": Expected(
        "AppointmentCreate", "0007BWpSzSwfiuSl0tR2", "9NkT25Vor1v4aQatFsv2", "queued"
    ),
    "contact_create.json": Expected(
        "ContactCreate", "ve9EPM428h8vShlRW1KT", "nmFmQEsNgz6AVpgLVUJ0", "queued"
    ),
    "contact_delete.json": Expected(
        "ContactDelete", "ve9EPM428h8vShlRW1KT", "nmFmQEsNgz6AVpgLVUJ0", "queued"
    ),
    "contact_dnd_update.json": Expected(
        "ContactDndUpdate", "ve9EPM428h8vShlRW1KT", "nmFmQEsNgz6AVpgLVUJ0", "queued"
    ),
    "contact_update.json": Expected(
        "ContactUpdate", "ve9EPM428h8vShlRW1KT", "nmFmQEsNgz6AVpgLVUJ0", "queued"
    ),
    "inbound_call.json": Expected(
        "InboundMessage",
        "0d48aEf7q67DAu134bpy",
        "gblakL5aYQC4glDtP1r2t3",
        "queued",
        direction="inbound",
        channel="CALL",
        message_id="tyW42xCD0HQpb3hhfLcx",
        dedupe_key="msg:0d48aEf7q67DAu134bpy:InboundMessage:tyW42xCD0HQpb3hhfLcx",
    ),
    "inbound_email.json": Expected(
        "InboundMessage",
        "kF4NJ5gzRyQF2gKFD34G",
        "3bN9f8LYJFG8F232XMUbfq",
        "queued",
        direction="inbound",
        channel="Email",
        message_id="sddfDSF3G56GHG",
        dedupe_key="msg:kF4NJ5gzRyQF2gKFD34G:InboundMessage:sddfDSF3G56GHG",
    ),
    "inbound_email_to_list.json": Expected(
        "InboundMessage",
        "kF4NJ5gzRyQF2gKFD34G",
        "3bN9f8LYJFG8F232XMUbfq",
        "queued",
        direction="inbound",
        channel="Email",
        message_id="em-list-0001",
        dedupe_key="msg:kF4NJ5gzRyQF2gKFD34G:InboundMessage:em-list-0001",
    ),
    "inbound_sms.json": Expected(
        "InboundMessage",
        "l1C08ntBrFjLS0elLIYU",
        "cI08i1Bls3iTB9bKgFJh",
        "queued",
        direction="inbound",
        channel="SMS",
    ),
    "inbound_sms_data_wrapped.json": Expected(
        "InboundMessage",
        "l1C08ntBrFjLS0elLIYU",
        "cI08i1Bls3iTB9bKgFJh",
        "queued",
        direction="inbound",
        channel="SMS",
        message_id="m-8Jx2Lq0",
        dedupe_key="wh:6f1c1a52-9a43-4c8e-9f27-3b2d2f0d7a11",
    ),
    "note_create.json": Expected(
        "NoteCreate", "ve9EPM428h8vShlRW1KT", "CWBf1PR9LvvBkcYqiXlc", "recorded"
    ),
    "opportunity_stage_update.json": Expected(
        "OpportunityStageUpdate", "ve9EPM428h8vShlRW1KT", "cJAWDskpkJHbRbhAT7bs", "queued"
    ),
    "outbound_sms.json": Expected(
        "OutboundMessage",
        "l1C08ntBrFjLS0elLIYU",
        "cI08i1Bls3iTB9bKgFJh",
        "queued",
        direction="outbound",
        channel="SMS",
    ),
    "unknown_event.json": Expected(
        "InvoicePaid",
        "ve9EPM428h8vShlRW1KT",
        None,
        "unknown",
        dedupe_key="wh:0f0e8d5b-unknown-0001",
    ),
    WORKFLOW_FIXTURE: Expected(
        "WorkflowWebhook", "t9Ww7bY1xJJ6ThFHZVPC", "gxGfB9wxEy3anxbHB4nT", "queued"
    ),
}


def all_fixtures() -> list[str]:
    return sorted(path.name for path in FIXTURES.glob("*.json"))


def post_fixture(stack: Stack, name: str) -> Any:
    """Deliver a fixture the way GHL would: signed to the Marketplace route, or with the
    workflow secret to the workflow route."""
    if EXPECTED[name].route == "workflow":
        return stack.post_workflow(fixture_bytes(name))
    return stack.post_webhook(fixture_bytes(name))


def inbox_item(stack: Stack, location_id: str, dedupe_key: str) -> dict[str, Any] | None:
    return WebhookInbox(stack.dynamodb, stack.resources.tables["WebhooksTable"]).get(
        location_id, dedupe_key
    )


def queued_jobs(stack: Stack) -> list[Job]:
    """The jobs waiting on JobsQueue (the tests' queue has visibility timeout 0, so peeking
    leaves them there)."""
    response = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_urls["JobsQueue"], MaxNumberOfMessages=10
    )
    return [Job.model_validate_json(m["Body"]) for m in response.get("Messages", [])]


def messages_of(stack: Stack, location_id: str, contact_id: str) -> list[dict[str, Any]]:
    partition = f"{location_id}#{contact_id}"
    return [m for m in stack.scan("MessagesTable") if m["lead"] == partition]


def events_of(stack: Stack, location_id: str, contact_id: str) -> list[dict[str, Any]]:
    partition = f"{location_id}#{contact_id}"
    return [e for e in stack.scan("EventsTable") if e["lead"] == partition]


def with_changes(name: str, **changes: Any) -> bytes:
    """A fixture with some top-level fields replaced (``None`` removes the field)."""
    payload = json.loads(fixture_bytes(name))
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return json.dumps(payload).encode()
