"""Erasing a lead (GHL's ContactDelete, ``ghl-ai lead delete``): a lead populated through the
real flows — signed webhooks → worker → replies, website events and visitor stitching, a score
and an alert, workflow runs (one waiting), matches texted — leaves no item in any table of
template.yaml that names its contact id, phone or email or holds what it wrote; its waiting
run never texts; the same contact id in another location is untouched; a second erasure
removes nothing; thousands of events erase page by page."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3 import _get_default_session as boto3_session
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from functions.worker import app as worker_app
from functions.workflows import app as workflows_app
from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    ListingStore,
    MessageStore,
    OutboxStore,
    VisitorStore,
    WebhookInbox,
    WorkflowRunStore,
    iso,
    to_item,
)
from ghl_ai.jobs import WorkflowStepJob
from ghl_ai.leads.erase import TABLES, LeadEraser
from ghl_ai.leads.models import BehaviourEvent, LeadKey
from ghl_ai.listings.models import Listing
from ghl_ai_cli.main import app as cli
from local.ghl_standin import GhlStandIn
from local.sqs_runner import QueueConsumer
from tests.conftest import LOCATION_ID, TEMPLATE, Stack
from tests.conversation.driver import configure

#: Another location this install serves (one of GHL's example payloads'), holding a lead with
#: the very same contact id.
OTHER = "ve9EPM428h8vShlRW1KT"
PHONE, EMAIL = "+19095550166", "erin.erase@example.com"
FIRST_WORDS = "Hi, we're looking to buy a 4 bed in Fontana, budget around 700k"
#: A sequence that texts at once, then waits two days to text again (its run is left waiting).
PROBE = """
- name: erase_probe
  trigger: {event: tag_added, tag: probe}
  steps:
    - {id: hello, type: send_sms, text: "Hi {first_name}, any homes in Fontana you liked?"}
    - {id: pause, type: wait, for: 2d}
    - {id: again, type: send_sms, text: "Hi {first_name}, still looking?"}
"""
runner = CliRunner()


@pytest.fixture
def ghl(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(
            monkeypatch,
            standin,
            LOCATION_TIMEZONE="UTC",
            LISTING_URL_TEMPLATE="https://homes.example.com/l/{listingKey}",
            WORKFLOW_DAILY_CAP="10",
            WORKFLOWS=PROBE,
        )
        yield standin


def now() -> datetime:
    return datetime.now(UTC)


def eraser(stack: Stack) -> LeadEraser:
    t, db = stack.resources.tables, stack.dynamodb
    return LeadEraser(
        leads=LeadStore(db, t["LeadsTable"]),
        messages=MessageStore(db, t["MessagesTable"]),
        events=BehaviourEventStore(db, t["EventsTable"]),
        outbox=OutboxStore(db, t["OutboxTable"]),
        runs=WorkflowRunStore(db, t["WorkflowRunsTable"]),
        webhooks=WebhookInbox(db, t["WebhooksTable"]),
        visitors=VisitorStore(db, t["VisitorsTable"]),
    )


def workflows(stack: Stack) -> QueueConsumer:
    return QueueConsumer(
        stack.sqs,
        stack.resources.queue_urls["WorkflowQueue"],
        stack.resources.queue_arns["WorkflowQueue"],
        workflows_app.handler,
        function_name="WorkflowFunction",
    )


def settle(stack: Stack) -> None:
    """Run every consumer until no queue has a visible message (as Lambda would)."""
    for _ in range(20):
        done = [stack.run_worker(), workflows(stack).drain(), stack.run_matches()]
        if not any(done):
            return
    raise AssertionError("the queues never settled")


def deliver(stack: Stack, payload: dict[str, Any]) -> None:
    payload = {"webhookId": str(uuid.uuid4()), "timestamp": now().isoformat(), **payload}
    response = stack.post_webhook(payload)
    assert response.status == 200 and response.json["status"] == "queued", response.json


def events(stack: Stack, location: str, *batch: dict[str, Any]) -> None:
    body = {"locationId": location, "events": list(batch)} if location != LOCATION_ID else None
    payload = body or {"events": list(batch)}
    assert stack.post_events(payload).status == 202


def event(kind: str, visitor: str, contact: str | None = None, **extra: Any) -> dict[str, Any]:
    found = {
        "type": kind,
        "timestamp": (now() - timedelta(minutes=5)).isoformat(),
        "eventId": str(uuid.uuid4()),
        "visitorId": visitor,
        **extra,
    }
    if contact:
        found["contactId"] = contact
    return found


def market(stack: Stack) -> None:
    listings = [
        Listing(
            f"FON-{i:03d}",
            "Active",
            650_000 + i * 5_000,
            city="Fontana",
            beds=4,
            baths=3.0,
            latitude=34.09,
            longitude=-117.43,
            address=f"{i} Cedar Ave, Fontana, CA",
        )
        for i in range(1, 7)
    ]
    ListingStore(stack.dynamodb, stack.resources.tables["ListingsTable"]).upsert_many(
        LOCATION_ID, listings, now()
    )


def populate(stack: Stack, ghl: GhlStandIn) -> str:
    """A lead worked through everything the system does; returns its contact id."""
    market(stack)
    contact = str(ghl.seed_contact(LOCATION_ID, firstName="Erin", phone=PHONE, email=EMAIL)["id"])
    # The website: an anonymous visitor, then the same visitor identified as the contact.
    events(stack, LOCATION_ID, event("property_view", "v-erin", propertyId="FON-001"))
    events(
        stack,
        LOCATION_ID,
        event("property_save", "v-erin", contact, propertyId="FON-002"),
        event("tour_request", "v-erin", contact, propertyId="FON-002"),
    )
    stack.run_scoring()
    # GHL: the contact is created (speed to lead: the first text, follow-ups start), writes.
    deliver(
        stack,
        {
            "type": "ContactCreate",
            "locationId": LOCATION_ID,
            "id": contact,
            "firstName": "Erin",
            "phone": PHONE,
            "email": EMAIL,
        },
    )
    settle(stack)
    deliver(
        stack,
        {
            "type": "InboundMessage",
            "locationId": LOCATION_ID,
            "contactId": contact,
            "messageId": f"in-{uuid.uuid4().hex[:12]}",
            "body": FIRST_WORDS,
            "direction": "inbound",
            "messageType": "SMS",
            "from": PHONE,
            "to": "+19095550100",
        },
    )
    settle(stack)
    # A GHL workflow asks for matches, and puts the lead on two sequences (both left waiting).
    for tag in ("send matches", "long-term nurture", "probe"):
        deliver(
            stack,
            {"type": "ContactTagUpdate", "locationId": LOCATION_ID, "id": contact, "tags": [tag]},
        )
        settle(stack)
    events(stack, LOCATION_ID, event("property_view", "v-erin", propertyId="FON-003"))
    return contact


def visitor_event(stack: Stack, location: str) -> None:
    BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"]).put(
        BehaviourEvent(
            lead=LeadKey(location, "visitor:v-erin"),
            type="property_view",
            timestamp=now(),
            event_id=f"e-{uuid.uuid4().hex[:8]}",
            source="website",
            property_id="FON-004",
        )
    )


def waiting_runs(stack: Stack, contact: str, everything: bool = False) -> list[dict[str, Any]]:
    """The lead's active runs (``everything``: all its runs)."""
    runs = WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"])
    found = runs.for_lead(LOCATION_ID, contact)
    return found if everything else [r for r in found if r["status"] == "active"]


def wake(stack: Stack, contact: str, runs: list[dict[str, Any]]) -> None:
    """The waits are over: each run's next step arrives (as the sweep would queue it), the
    sweep itself runs, and the WorkflowFunction takes them all."""
    for run in runs:
        step = WorkflowStepJob(
            location_id=LOCATION_ID,
            contact_id=contact,
            run_id=run["runId"],
            step_id=run["stepId"],
            seq=int(run["seq"]),
        )
        stack.sqs.send_message(
            QueueUrl=stack.resources.queue_urls["WorkflowQueue"], MessageBody=step.model_dump_json()
        )
    workflows_app.handler(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, None
    )
    workflows(stack).drain()


def populate_other(stack: Stack, contact: str) -> None:
    """The same contact id in another location: tracked (no GHL token there), browsing, a run."""
    deliver(
        stack,
        {
            "type": "ContactCreate",
            "locationId": OTHER,
            "id": contact,
            "firstName": "Otto",
            "phone": "+19095550177",
            "email": "otto.other@example.com",
        },
    )
    deliver(
        stack,
        {
            "type": "InboundMessage",
            "locationId": OTHER,
            "contactId": contact,
            "messageId": f"in-{uuid.uuid4().hex[:12]}",
            "body": "Other location, same contact id",
            "direction": "inbound",
            "messageType": "SMS",
            "from": "+19095550177",
            "to": "+19095550100",
        },
    )
    deliver(
        stack,
        {
            "type": "ContactTagUpdate",
            "locationId": OTHER,
            "id": contact,
            "tags": ["long-term nurture"],
        },
    )
    settle(stack)
    # The same website visitor id there, identified as the same contact id, with a stream.
    VisitorStore(stack.dynamodb, stack.resources.tables["VisitorsTable"]).identify(
        OTHER, "v-erin", contact, "event", now()
    )
    visitor_event(stack, OTHER)


def tables() -> list[str]:
    return sorted(
        name for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"
    )


def items_naming(stack: Stack, *needles: str) -> dict[str, list[str]]:
    """Every item of every table of template.yaml (as JSON) holding any of ``needles``."""
    found: dict[str, list[str]] = {}
    for logical in tables():
        rows = [json.dumps(item, sort_keys=True, default=str) for item in stack.scan(logical)]
        hits = sorted(r for r in rows if any(n in r for n in needles))
        if hits:
            found[logical] = hits
    return found


def read_lead(stack: Stack, contact: str) -> int:
    from local import devkeys
    from local.apigw import http_event

    event = http_event(
        "GET",
        f"/leads/{contact}",
        None,
        {"authorization": f"Bearer {devkeys.API_KEY}"},
        route_key="GET /leads/{contactId}",
    )
    return stack.invoke_intake(event).status


# -- the whole lead, erased by GHL's ContactDelete -------------------------------------------------


def test_contact_delete_erases_every_trace_of_the_lead_and_only_its_location(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = populate(stack, ghl)
    populate_other(stack, contact)
    # An event left in the identified visitor's own stream (it arrived while the visitor was
    # being identified: the next scoring job would have moved it into the lead's).
    visitor_event(stack, LOCATION_ID)
    texts_before = len(ghl.messages)
    lead = stack.lead(LOCATION_ID, contact) or {}
    # The flows really ran: what there is to erase, in every table that can hold it.
    assert lead["phone"] == PHONE and lead.get("score") and lead.get("sentListings")
    # Its traces: the contact id, name, phone, email, website visitor, what it wrote, what we
    # texted it (the first text, a reply, the matches, the workflow's text).
    texted = [str(m["body"]) for m in ghl.messages if m["contactId"] == contact]
    assert len(texted) >= 4
    traces = (contact, "Erin", PHONE, PHONE.lstrip("+"), EMAIL, "v-erin", FIRST_WORDS, *texted)
    held = items_naming(stack, *traces)
    assert {
        "LeadsTable",
        "MessagesTable",
        "EventsTable",
        "VisitorsTable",
        "WebhooksTable",
        "WorkflowRunsTable",
        "OutboxTable",
    } <= set(held)
    assert any('"status": "active"' in r for r in held["WorkflowRunsTable"])  # a pending wait
    assert any('"kind": "workflow_sms"' in r for r in held["OutboxTable"])  # a workflow's text
    other = {t: [r for r in rows if OTHER in r] for t, rows in held.items()}
    other = {t: rows for t, rows in other.items() if rows}
    assert {
        "LeadsTable",
        "MessagesTable",
        "EventsTable",
        "VisitorsTable",
        "WebhooksTable",
        "WorkflowRunsTable",
    } <= set(other)
    waiting = waiting_runs(stack, contact)
    assert len(waiting) == 2  # the nurture and the probe, each in a two-day wait

    deliver(
        stack,
        {
            "type": "ContactDelete",
            "locationId": LOCATION_ID,
            "id": contact,
            "email": EMAIL,
            "firstName": "Erin",
        },
    )
    [batch] = stack.consumer().drain()
    assert batch.failed == 0

    assert read_lead(stack, contact) == 404
    # No table holds any of its traces — but the other location's lead with the same contact
    # id (and visitor id) is exactly as it was.
    assert items_naming(stack, *traces) == other
    # The runs that were waiting never text: their steps find no run, the sweep queues nothing.
    wake(stack, contact, waiting)
    settle(stack)
    assert len(ghl.messages) == texts_before
    assert items_naming(stack, *traces) == other

    # GHL repeats the ContactDelete (a new delivery): nothing left, nothing removed.
    erasure = eraser(stack).erase(LeadKey(LOCATION_ID, contact))
    assert erasure.total == 0 and erasure.runs_stopped == 0


def test_an_erasure_cut_short_has_stopped_the_runs_and_its_retry_finishes(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = populate(stack, ghl)
    waiting = waiting_runs(stack, contact)
    texts_before = len(ghl.messages)
    outbox = stack.resources.tables["OutboxTable"]

    def fail_outbox_deletes(params: dict[str, Any], **_: Any) -> None:
        if outbox in params.get("RequestItems", {}):
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "injected"}}, "BatchWriteItem"
            )

    events = boto3_session().events
    events.register("before-parameter-build.dynamodb.BatchWriteItem", fail_outbox_deletes)
    worker_app.deps.cache_clear()  # the worker's next client carries the fault
    try:
        deliver(stack, {"type": "ContactDelete", "locationId": LOCATION_ID, "id": contact})
        batch = stack.consumer().poll_once(wait_seconds=0)
        assert (batch.received, batch.failed) == (1, 1)  # SQS will deliver it again
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchWriteItem", fail_outbox_deletes)
        worker_app.deps.cache_clear()
    # Half-erased, the lead's runs were stopped first: their next steps text nobody.
    assert {r["status"] for r in waiting_runs(stack, contact, everything=True)} >= {"cancelled"}
    assert waiting_runs(stack, contact) == []
    wake(stack, contact, waiting)
    assert len(ghl.messages) == texts_before
    # SQS delivers the ContactDelete again: the erasure finishes.
    settle(stack)
    assert read_lead(stack, contact) == 404
    assert items_naming(stack, contact, PHONE, EMAIL, FIRST_WORDS) == {}


def test_a_claim_made_with_the_leads_ids_is_erased_whatever_its_id(stack: Stack) -> None:
    # The byLead index finds a side effect claimed with locationId and contactId, even one
    # whose id the erasure could not work out.
    outbox = OutboxStore(stack.dynamodb, stack.resources.tables["OutboxTable"])
    for location in (LOCATION_ID, OTHER):
        attributes = {"kind": "sms", "locationId": location, "contactId": "c-1", "body": "Hi"}
        outbox.claim(f"future-effect:{location}:{uuid.uuid4()}", attributes, now())
    erasure = eraser(stack).erase(LeadKey(LOCATION_ID, "c-1"))
    assert erasure.removed["OutboxTable"] == 1
    assert [i["locationId"] for i in stack.scan("OutboxTable")] == [OTHER]


def test_a_lead_with_thousands_of_events_is_erased_page_by_page(stack: Stack) -> None:
    key = LeadKey(LOCATION_ID, "c-busy")
    table = stack.resources.tables["EventsTable"]
    store = BehaviourEventStore(stack.dynamodb, table)
    start = now() - timedelta(days=30)
    padding = "x" * 400  # 3,000 items of ~0.5 KB: more than one 1 MB page per Query
    puts = [
        {
            "PutRequest": {
                "Item": to_item(
                    {
                        "lead": key.partition,
                        "sk": f"{iso(start + timedelta(seconds=i))}#e{i:05d}",
                        "locationId": key.location_id,
                        "contactId": key.contact_id,
                        "type": "property_view",
                        "data": {"note": padding},
                    }
                )
            }
        }
        for i in range(3000)
    ]
    for i in range(0, len(puts), 25):
        stack.dynamodb.batch_write_item(RequestItems={table: puts[i : i + 25]})
    pages = stack.dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="#l = :l",
        ExpressionAttributeNames={"#l": "lead"},
        ExpressionAttributeValues={":l": {"S": key.partition}},
    )
    assert len(list(pages)) > 1  # the erasure must follow LastEvaluatedKey to get them all
    erasure = eraser(stack).erase(key)
    assert erasure.removed["EventsTable"] == 3000
    assert store.for_lead(key) == []
    assert [i for i in stack.scan("EventsTable") if i["lead"] == key.partition] == []


# -- ghl-ai lead delete -------------------------------------------------------------------------


@pytest.fixture
def tables_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {
        "LEADS_TABLE": "LeadsTable",
        "MESSAGES_TABLE": "MessagesTable",
        "EVENTS_TABLE": "EventsTable",
        "VISITORS_TABLE": "VisitorsTable",
        "WEBHOOKS_TABLE": "WebhooksTable",
        "RUNS_TABLE": "WorkflowRunsTable",
        "OUTBOX_TABLE": "OutboxTable",
    }
    for variable, logical in names.items():
        monkeypatch.setenv(variable, stack.resources.tables[logical])


def test_the_cli_asks_then_erases_and_says_what_it_removed_per_table(
    stack: Stack, ghl: GhlStandIn, tables_env: None
) -> None:
    contact = populate(stack, ghl)
    expected = eraser(stack).erase(LeadKey(LOCATION_ID, contact), dry_run=True).removed

    refused = runner.invoke(
        cli, ["lead", "delete", contact, "--location", LOCATION_ID], input="n\n"
    )
    assert refused.exit_code == 1
    assert "erase all of it?" in refused.output
    assert stack.lead(LOCATION_ID, contact) is not None  # nothing was removed

    done = runner.invoke(
        cli, ["lead", "delete", contact, "--location", LOCATION_ID, "--yes", "--json"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["removed"] == expected and report["total"] == sum(expected.values())
    assert list(report["removed"]) == list(TABLES) and report["runsStopped"] >= 1
    assert items_naming(stack, contact, PHONE, EMAIL) == {}

    again = runner.invoke(cli, ["lead", "delete", contact, "--location", LOCATION_ID, "--yes"])
    assert again.exit_code == 0
    assert f"nothing held for contact {contact} in location {LOCATION_ID}" in again.output


def test_the_cli_needs_the_location_every_table_and_yes_with_json(
    stack: Stack, tables_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GHL_LOCATION_ID", raising=False)
    no_location = runner.invoke(cli, ["lead", "delete", "c-1"])
    assert no_location.exit_code == 2 and "--location" in no_location.output
    unattended = runner.invoke(cli, ["lead", "delete", "c-1", "--location", "L", "--json"])
    assert unattended.exit_code == 2 and "--yes" in unattended.output
    monkeypatch.delenv("WEBHOOKS_TABLE")
    monkeypatch.delenv("RUNS_TABLE")
    missing = runner.invoke(cli, ["lead", "delete", "c-1", "--location", "L", "--yes"])
    assert missing.exit_code == 2
    assert "WEBHOOKS_TABLE, RUNS_TABLE" in missing.output
