"""The daily churn sweep end to end: leads whose events the ScoringFunction summarised, the
ChurnSweepFunction's fan-out, the ChurnScoreFunction's risk, GHL write-back and plays."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

import ghl_ai.churn.sweep as sweep_module
from functions.churn_score import app as churn_score_app
from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.behaviour.features import StreamBuilder
from ghl_ai.churn.activity import Activity
from ghl_ai.churn.score import ChurnScorer
from ghl_ai.churn.sweep import ChurnSweep
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.jobs import ChurnChunkJob, ScoringJob
from ghl_ai.leads.models import BehaviourEvent, LeadChanges, LeadKey
from ghl_ai_cli.main import app
from local.ghl_standin import GhlStandIn
from local.sqs_runner import QueueConsumer
from tests.conftest import FIXTURE_LOCATIONS, LOCATION_ID, TEMPLATE, Stack
from tests.conversation.driver import configure
from tests.integration.test_scoring import fields, iso, read_lead

runner = CliRunner()


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


# -- helpers: leads as the ScoringFunction leaves them, the queue's chunks, GHL's writes ---------

LOCATION_TWO = "loc-second-office"


def summary(days_ago: list[float], now: datetime | None = None) -> Activity:
    """The activity summary the ScoringFunction stores after website visits ``days_ago``
    (made at the last of them)."""
    now = now or datetime.now(UTC)
    builder = StreamBuilder()
    for d in days_ago:
        builder.add((now - timedelta(days=d)).timestamp(), "property_view")
    made = Activity.of(builder.build(), (now - timedelta(days=min(days_ago))).timestamp())
    assert made is not None
    return made


#: Every 3 days for three weeks, then quiet for two months: high or critical risk.
QUIET = [81, 78, 75, 72, 69, 66, 63, 60]
#: Most days of the last two weeks: low risk.
BUSY = [13, 11, 9, 7, 6, 4, 3, 1, 0.2]


def put_lead(
    stack: Stack, contact: str, days_ago: list[float] | None = None, location: str = LOCATION_ID
) -> None:
    """A lead record, with the activity summary of visits ``days_ago`` (none: no summary)."""
    state: dict[str, Any] = {"firstName": "Lee"}
    if days_ago is not None:
        state["activity"] = summary(days_ago).as_state()
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(location, contact), LeadChanges(set=state)
    )


def take_chunks(stack: Stack) -> list[ChurnChunkJob]:
    """Every chunk on the churn queue (taken off it)."""
    url, chunks = stack.resources.queue_urls["ChurnQueue"], []
    while True:
        got = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not got.get("Messages"):
            return chunks
        for message in got["Messages"]:
            chunks.append(ChurnChunkJob.model_validate_json(message["Body"]))
            stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def field_puts(ghl: GhlStandIn, contact: str) -> int:
    return len(ghl.calls_to("PUT", f"/contacts/{contact}"))


def tag_adds(ghl: GhlStandIn, contact: str) -> list[list[str]]:
    return [c.json["tags"] for c in ghl.calls_to("POST", f"/contacts/{contact}/tags")]


class Counting:
    """A boto3 client that records the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in ("exceptions", "meta") or not callable(attribute):
            return attribute

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return attribute(**kwargs)

        return call

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


@contextmanager
def queries_of(stack: Stack, logical: str) -> Iterator[list[dict[str, Any]]]:
    """The Query calls made to the table ``logical`` through the stack's DynamoDB client."""
    table, seen = stack.resources.tables[logical], []

    def record(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table:
            seen.append(params)

    events = stack.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.Query", record)
    try:
        yield seen
    finally:
        events.unregister("provide-client-params.dynamodb.Query", record)


def scorer(stack: Stack, ghl: GhlStandIn, moment: datetime) -> ChurnScorer:
    """The ChurnScoreFunction's scorer (GHL write-back, no plays) with its clock at ``moment``."""
    return ChurnScorer(
        leads=LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]),
        events=BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"]),
        predictors=churn_score_app.predictor_for,
        writeback=GhlWriteBack(GhlClient(ghl.base_url, "pit-test-token")),
        workflows=None,
        clock=lambda: moment,
    )


def sweeper(stack: Stack, moment: datetime) -> ChurnSweep:
    return ChurnSweep(
        LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]),
        JobQueue(stack.sqs, stack.resources.queue_urls["ChurnQueue"]),
        lambda: [LOCATION_ID],
        clock=lambda: moment,
    )


# -- fan-out -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "chunk", "pages", "chunk_sizes", "sqs_calls"),
    [
        # Chunks never span pages: each page of 7 makes a chunk of 5 and one of 2.
        (7, 5, [7, 7, 7, 2], [5, 2, 5, 2, 5, 2, 2], 4),
        # One page; 12 chunks go ten to an SQS call.
        (1000, 2, [23], [2] * 11 + [1], 2),
    ],
)
def test_the_sweep_pages_through_the_leads_and_queues_each_once(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    page: int,
    chunk: int,
    pages: list[int],
    chunk_sizes: list[int],
    sqs_calls: int,
) -> None:
    monkeypatch.setattr(sweep_module, "PAGE", page)
    monkeypatch.setattr(sweep_module, "CHUNK", chunk)
    contacts = [f"c{i:02d}" for i in range(23)]
    for contact in contacts:
        put_lead(stack, contact, BUSY)
    put_lead(stack, "elsewhere", BUSY, location=LOCATION_TWO)  # not this location's
    dynamodb, sqs = Counting(stack.dynamodb), Counting(stack.sqs)
    paged: list[int] = []
    sweep = ChurnSweep(
        LeadStore(dynamodb, stack.resources.tables["LeadsTable"]),
        JobQueue(sqs, stack.resources.queue_urls["ChurnQueue"]),
        lambda: [LOCATION_ID],
    )

    report = sweep.run(progress=paged.append)

    assert (report.locations, report.leads, report.chunks) == (1, 23, len(chunk_sizes))
    assert paged == pages
    queries = [kwargs for name, kwargs in dynamodb.calls if name == "query"]
    assert [q["Limit"] for q in queries] == [page] * len(pages)
    assert all(q["ProjectionExpression"].count(",") == 1 for q in queries)  # keys + churn.day
    assert sqs.count("send_message_batch") == sqs_calls and sqs.count("send_message") == 0
    chunks = take_chunks(stack)
    assert sorted(len(c.contacts) for c in chunks) == sorted(chunk_sizes)
    queued = [contact for c in chunks for contact in c.contacts]
    assert sorted(queued) == contacts  # every lead exactly once, none of the other location
    assert {(c.location_id, c.day) for c in chunks} == {(LOCATION_ID, report.day)}
    assert len({c.id for c in chunks}) == len(chunks)


def test_each_location_is_swept_on_its_own_and_the_cli_sweeps_one(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_module, "PAGE", 2)
    monkeypatch.setattr(sweep_module, "CHUNK", 2)
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": LOCATION_TWO}},
    )
    ours = [ghl.seed_contact(LOCATION_ID, firstName=f"A{i}")["id"] for i in range(5)]
    theirs = [ghl.seed_contact(LOCATION_TWO, firstName=f"B{i}")["id"] for i in range(3)]
    for contact in ours:
        put_lead(stack, contact, BUSY)
    for contact in theirs:
        put_lead(stack, contact, QUIET, location=LOCATION_TWO)

    result = runner.invoke(app, ["churn", "sweep", "--location", LOCATION_TWO, "--json"])

    assert result.exit_code == 0, result.output
    swept = json.loads(result.stdout)
    assert {k: swept[k] for k in ("locations", "queued", "already_scored", "chunks")} == {
        "locations": 1,
        "queued": 3,
        "already_scored": 0,
        "chunks": 2,  # pages of 2 leads: [2, 1]
    }
    chunks = take_chunks(stack)
    assert {c.location_id for c in chunks} == {LOCATION_TWO}
    assert sorted(c for chunk in chunks for c in chunk.contacts) == sorted(theirs)
    for chunk in chunks:
        stack.sqs.send_message(
            QueueUrl=stack.resources.queue_urls["ChurnQueue"], MessageBody=chunk.model_dump_json()
        )
    stack.run_churn_scoring()
    assert all(stack.lead(LOCATION_TWO, c)["churn"]["day"] == swept["day"] for c in theirs)
    assert all("churn" not in stack.lead(LOCATION_ID, c) for c in ours)

    # The schedule sweeps every location (the environment's and the tenants table's).
    report = stack.run_churn_sweep()
    # Every location served: ours, the second, and those of GHL's example payloads (no leads).
    served = len(FIXTURE_LOCATIONS | {LOCATION_ID, LOCATION_TWO})
    assert (report["locations"], report["leads"], report["already_scored"]) == (served, 5, 3)
    assert report["chunks"] == 3  # the first location's pages [2, 2, 1]; none of the second's
    stack.run_churn_scoring()
    for location, contacts in ((LOCATION_ID, ours), (LOCATION_TWO, theirs)):
        for contact in contacts:
            assert stack.lead(location, contact)["churn"]["day"] == report["day"]
    assert stack.lead(LOCATION_TWO, theirs[0])["churn"]["tier"] in ("high", "critical")
    assert stack.lead(LOCATION_ID, ours[0])["churn"]["tier"] == "low"

    again = json.loads(runner.invoke(app, ["churn", "sweep", "--json"]).stdout)
    assert (again["locations"], again["queued"], again["already_scored"]) == (served, 0, 8)


# -- once a day --------------------------------------------------------------------------------


def test_a_rerun_sweep_and_a_redelivered_chunk_score_each_lead_once(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contacts = [ghl.seed_contact(LOCATION_ID, firstName=n)["id"] for n in ("Sam", "Ana", "Bo")]
    for contact, days in zip(contacts, (QUIET, BUSY, [40, 35, 30]), strict=True):
        put_lead(stack, contact, days)
    first = stack.run_churn_sweep()
    assert (first["leads"], first["chunks"]) == (3, 1)
    (chunk,) = take_chunks(stack)
    url = stack.resources.queue_urls["ChurnQueue"]
    for _ in range(2):  # delivered twice (SQS is at-least-once)
        stack.sqs.send_message(QueueUrl=url, MessageBody=chunk.model_dump_json())

    batches = stack.run_churn_scoring()

    assert sum(b.received for b in batches) == 2 and sum(b.failed for b in batches) == 0
    for contact in contacts:
        churn = stack.lead(LOCATION_ID, contact)["churn"]
        assert churn["day"] == first["day"]
        if churn["tier"] == "low":  # a lead first scored low is left as it is in GHL
            assert field_puts(ghl, contact) == 0 and tag_adds(ghl, contact) == []
            continue
        assert field_puts(ghl, contact) == 1  # the Churn Risk field, once
        assert tag_adds(ghl, contact) == [[f"churn-risk-{churn['tier']}"]]
        assert fields(ghl, contact)["Churn Risk"] == churn["tier"].capitalize()
    assert stack.lead(LOCATION_ID, contacts[0])["churn"]["tier"] in ("high", "critical")
    assert stack.lead(LOCATION_ID, contacts[1])["churn"]["tier"] == "low"

    rerun = stack.run_churn_sweep()
    assert (rerun["leads"], rerun["already_scored"], rerun["chunks"]) == (0, 3, 0)
    assert stack.queue_depth("ChurnQueue") == 0


def first_tier_change(activity: Activity, start: datetime) -> tuple[datetime, str, str] | None:
    """The first moment (in steps of 6 hours from ``start``) at which the served models put the
    lead in another tier a day later: that moment, the tier then and the tier the day after."""
    predictor = churn_score_app.predictor_for(LOCATION_ID)
    for hours in range(0, 150 * 24, 6):
        today = start + timedelta(hours=hours)
        tomorrow = today + timedelta(days=1)
        now, then = (
            predictor.predict([activity], d.timestamp())[0].tier for d in (today, tomorrow)
        )
        if now != then:
            return today, now, then
    return None


def test_the_next_day_scores_again_and_writes_ghl_only_when_the_tier_changed(
    stack: Stack, ghl: GhlStandIn
) -> None:
    base = datetime(2026, 10, 1, 15, tzinfo=UTC)
    changing = summary([21, 18, 15, 12, 9, 6, 3, 0], now=base)
    found = first_tier_change(changing, base)
    assert found is not None, "the churn models never change this lead's tier in 150 days"
    day_one, before, after = found
    day_two = day_one + timedelta(days=1)
    steady = summary([400, 390, 380], now=base)  # long gone: the same tier both days
    predictor = churn_score_app.predictor_for(LOCATION_ID)
    assert {predictor.predict([steady], d.timestamp())[0].tier for d in (day_one, day_two)} == {
        "critical"
    }
    moving = ghl.seed_contact(LOCATION_ID, firstName="Mo")["id"]
    gone = ghl.seed_contact(LOCATION_ID, firstName="Gus")["id"]
    leads = LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"])
    for contact, activity in ((moving, changing), (gone, steady)):
        leads.apply(
            LeadKey(LOCATION_ID, contact), LeadChanges(set={"activity": activity.as_state()})
        )

    for moment in (day_one, day_two):
        report = sweeper(stack, moment).run()
        assert (report.leads, report.already_scored) == (2, 0)  # yesterday's score is not today's
        for chunk in take_chunks(stack):
            scorer(stack, ghl, moment).handle(chunk)
        assert sweeper(stack, moment).run().leads == 0  # and once scored, not again that day
        for contact in (moving, gone):
            churn = stack.lead(LOCATION_ID, contact)["churn"]
            assert (churn["day"], churn["scoredAt"]) == (
                moment.date().isoformat(),
                moment.timestamp(),
            )

    # The moving lead's tier changed overnight: written again, its old tier tag removed.
    assert stack.lead(LOCATION_ID, moving)["churn"]["tier"] == after
    first_write = [] if before == "low" else [[f"churn-risk-{before}"]]  # low at first: unwritten
    assert field_puts(ghl, moving) == len(first_write) + 1
    assert fields(ghl, moving)["Churn Risk"] == after.capitalize()
    assert tag_adds(ghl, moving) == [*first_write, [f"churn-risk-{after}"]]
    assert [t for t in ghl.contacts[moving]["tags"] if t.startswith("churn-risk")] == [
        f"churn-risk-{after}"
    ]
    # The steady one was scored again, but nothing new went to GHL.
    assert field_puts(ghl, gone) == 1 and len(tag_adds(ghl, gone)) == 1
    assert fields(ghl, gone)["Churn Risk"] == "Critical"


def test_a_lead_without_a_summary_has_its_events_read_once(stack: Stack, ghl: GhlStandIn) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Old")["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    events = BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"])
    events.put_new_batch(
        [
            BehaviourEvent(
                lead=LeadKey(LOCATION_ID, contact),
                type="property_view",
                timestamp=now - timedelta(days=d),
                event_id=str(uuid.uuid4()),
                source="test",
                property_id="IE-1",
            )
            for d in QUIET
        ]
    )
    put_lead(stack, contact)  # a lead record from before the summaries: no ``activity``
    job = ChurnChunkJob(
        id="c", location_id=LOCATION_ID, day=now.date().isoformat(), contacts=[contact]
    )

    with queries_of(stack, "EventsTable") as reads:
        (outcome,) = scorer(stack, ghl, now).handle(job)

    assert outcome.tier in ("high", "critical") and len(reads) == 1
    lead = stack.lead(LOCATION_ID, contact)
    assert lead["activity"]["count"] == len(QUIET) and lead["activity"]["at"] == now.timestamp()
    assert lead["churn"]["reasons"][0] == "no activity for 60 days; usually every 3"

    tomorrow = now + timedelta(days=1)
    next_job = job.model_copy(update={"day": tomorrow.date().isoformat()})
    with queries_of(stack, "EventsTable") as later:
        (again,) = scorer(stack, ghl, tomorrow).handle(next_job)
    assert later == []  # the stored summary, not the history
    assert again.tier == outcome.tier
    assert stack.lead(LOCATION_ID, contact)["churn"]["reasons"][0] == (
        "no activity for 61 days; usually every 3"
    )


# -- failures ----------------------------------------------------------------------------------


class Recording:
    """The ChurnScoreFunction handler, recording the message ids of every batch it got."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.batches.append([r["messageId"] for r in event["Records"]])
        result: dict[str, Any] = churn_score_app.handler(event, context)
        return result


def test_a_malformed_chunk_fails_alone_and_is_parked_in_the_dlq(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Sam")["id"]
    put_lead(stack, contact, QUIET)
    day = datetime.now(UTC).date().isoformat()
    good = ChurnChunkJob(id="good", location_id=LOCATION_ID, day=day, contacts=[contact])
    url = stack.resources.queue_urls["ChurnQueue"]
    bad = json.dumps({"kind": "churn_chunk", "location_id": LOCATION_ID, "contacts": []})
    bad_id = stack.sqs.send_message(QueueUrl=url, MessageBody=bad)["MessageId"]
    stack.sqs.send_message(QueueUrl=url, MessageBody=good.model_dump_json())
    handler = Recording()
    consumer = QueueConsumer(
        stack.sqs,
        url,
        stack.resources.queue_arns["ChurnQueue"],
        handler,
        function_name="ChurnScoreFunction",
    )

    first = consumer.poll_once(wait_seconds=0)

    assert (first.received, first.failed) == (2, 1)
    assert stack.lead(LOCATION_ID, contact)["churn"]["tier"] in ("high", "critical")
    assert field_puts(ghl, contact) == 1

    consumer.drain(max_batches=20)
    policy = TEMPLATE["Resources"]["ChurnQueue"]["Properties"]["RedrivePolicy"]
    assert handler.batches[1:] == [[bad_id]] * (int(policy["maxReceiveCount"]) - 1)
    assert stack.queue_depth("ChurnQueue") == 0
    parked = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_urls["ChurnDLQ"], MaxNumberOfMessages=10
    )["Messages"]
    assert [m["Body"] for m in parked] == [bad]
    assert field_puts(ghl, contact) == 1  # the good chunk's lead was not scored again
