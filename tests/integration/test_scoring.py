"""From website events to the score in GHL: the intake, the ScoringFunction on its queue, the
GHL stand-in — stitching, write-back only on change, alerts and their caps, failures."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.intake import app as intake_app
from functions.scoring import app as scoring_app
from ghl_ai import effects
from ghl_ai.adapters.dynamo import (
    SENDING_LEASE,
    BehaviourEventStore,
    EffectInProgress,
    LeadStore,
    OutboxStore,
    VisitorStore,
)
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.behaviour.stitching import Stitcher
from ghl_ai.config import scoring_settings
from ghl_ai.errors import GhlApiError
from ghl_ai.jobs import ScoringJob
from ghl_ai.leads.models import LeadKey
from ghl_ai.scoring.score import Scorer
from ghl_ai.scoring.service import ScoringService
from ghl_ai.tenants import TenantDirectory
from ghl_models import served
from local import devkeys
from local import events as sample_events
from local.apigw import LambdaContext, http_event, response_json
from local.ghl_standin import GhlStandIn
from tests.conftest import EVENTS, LOCATION_ID, Stack
from tests.conversation.driver import configure
from tests.support import events_of


@pytest.fixture
def ghl(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def website_event(kind: str, minutes_ago: float, **fields: Any) -> dict[str, Any]:
    event = {
        "type": kind,
        "timestamp": iso(datetime.now(UTC) - timedelta(minutes=minutes_ago)),
        "eventId": str(uuid.uuid4()),
        "visitorId": "v-maria",
    }
    if kind == "property_view":
        event.setdefault("dwellSeconds", 75)
    event.update(fields)
    return event


def views(count: int, start_minutes_ago: float, contact: str | None = None) -> list[dict]:
    extra = {"contactId": contact} if contact else {}
    return [
        website_event(
            "property_view",
            start_minutes_ago - i,
            propertyId=f"IE-{100 + i}",
            data={"price": 600000 + 5000 * i, "beds": 4, "city": "Rancho Cucamonga"},
            **extra,
        )
        for i in range(count)
    ]


def read_lead(stack: Stack, contact_id: str) -> dict[str, Any]:
    event = http_event(
        "GET",
        f"/leads/{contact_id}",
        headers={"authorization": f"Bearer {devkeys.API_KEY}"},
        route_key="GET /leads/{contactId}",
    )
    event["pathParameters"] = {"contactId": contact_id}
    result = intake_app.handler(event, LambdaContext("IntakeFunction"))
    assert result["statusCode"] == 200, result
    return response_json(result)


def field_writes(ghl: GhlStandIn, contact_id: str) -> list[dict[str, Any]]:
    return [c.json for c in ghl.calls_to("PUT", f"/contacts/{contact_id}") if c.json]


def fields(ghl: GhlStandIn, contact_id: str) -> dict[str, Any]:
    names = {f["id"]: f["name"] for f in ghl.custom_fields}
    return {names[cf["id"]]: cf["value"] for cf in ghl.contacts[contact_id]["customFields"]}


# -- the whole path ---------------------------------------------------------------------------


def test_a_browsing_lead_gets_a_score_with_reasons_in_ghl_and_the_lead_api(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Maria", phone="+19095550101")["id"]
    burst = [
        *views(6, 60, contact),
        website_event("property_save", 40, contactId=contact, propertyId="IE-101"),
        website_event("tour_request", 30, contactId=contact, propertyId="IE-101"),
    ]
    assert stack.post_events({"events": burst}).status == 202

    stack.run_scoring()

    view = read_lead(stack, contact)
    score = view["score"]
    assert 0 <= score["value"] <= 100 and 0 < score["probability"] < 1
    assert score["temperature"] in ("hot", "warm", "cold")
    assert view["temperature"] == score["temperature"]
    assert score["modelVersion"] == served("lead_score").version
    assert len(score["reasons"]) == 3
    assert any("homes" in r or "tour" in r for r in score["reasons"]), score["reasons"]
    written = fields(ghl, contact)
    assert written["AI Score"] == score["value"]
    assert written["Lead Temperature"] == score["temperature"].capitalize()
    assert f"{score['temperature']}-lead" in ghl.contacts[contact]["tags"]
    assert "alert-tour-requested" in ghl.contacts[contact]["tags"]
    titles = [t["title"] for t in ghl.tasks]
    assert "Maria asked for a tour listing IE-101" in titles, titles


def test_nothing_is_written_to_ghl_when_the_score_has_not_changed(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Ana", phone="+19095550102")["id"]
    stack.post_events({"events": views(3, 120, contact)})
    stack.run_scoring()
    before = len(ghl.calls)
    assert field_writes(ghl, contact)  # the first score was written

    # rescored with nothing new (as after a message that changed no answer): not rewritten
    job = ScoringJob(id="again", received_at=datetime.now(UTC), location_id=LOCATION_ID,
                     contacts=[contact])  # fmt: skip
    stack.sqs.send_message(
        QueueUrl=stack.resources.queue_urls["ScoringQueue"], MessageBody=job.model_dump_json()
    )
    stack.run_scoring()

    new_calls = ghl.calls[before:]
    assert [c for c in new_calls if c.method in ("PUT", "POST", "DELETE")] == []
    assert stack.lead(LOCATION_ID, contact)["score"]["scoredAt"]


def test_the_score_is_rewritten_when_it_moves(stack: Stack, ghl: GhlStandIn) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Luis", phone="+19095550103")["id"]
    stack.post_events({"events": [website_event("page_view", 600, contactId=contact)]})
    stack.run_scoring()
    first = stack.lead(LOCATION_ID, contact)["score"]["value"]

    stack.post_events(
        {
            "events": [
                *views(12, 50, contact),
                website_event("tour_request", 10, contactId=contact, propertyId="IE-101"),
            ]
        }
    )
    stack.run_scoring()

    second = stack.lead(LOCATION_ID, contact)["score"]["value"]
    assert second > first
    assert fields(ghl, contact)["AI Score"] == second


# -- stitching -------------------------------------------------------------------------------


def test_anonymous_browsing_counts_for_the_lead_once_a_tracked_link_names_it(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Rosa", phone="+19095550104")["id"]
    stack.post_events({"events": views(5, 90)})  # anonymous
    stack.run_scoring()
    assert len(events_of(stack, LOCATION_ID, "visitor:v-maria")) == 5
    assert stack.lead(LOCATION_ID, contact) is None  # nobody to score yet

    # the visitor follows a ?cid= link: the script sends the contact id with its visitor id
    stack.post_events({"events": [website_event("page_view", 5, contactId=contact)]})
    stack.run_scoring()

    assert events_of(stack, LOCATION_ID, "visitor:v-maria") == []
    stitched = events_of(stack, LOCATION_ID, contact)
    assert sorted(e["type"] for e in stitched) == ["page_view"] + ["property_view"] * 5
    assert (
        VisitorStore(stack.dynamodb, stack.resources.tables["VisitorsTable"]).contact_for(
            LOCATION_ID, "v-maria"
        )
        == contact
    )
    reasons = read_lead(stack, contact)["score"]["reasons"]
    assert any("5 homes" in r for r in reasons), reasons

    # later anonymous events of the identified visitor join the lead too
    stack.post_events({"events": views(2, 3)})
    stack.run_scoring()
    assert len(events_of(stack, LOCATION_ID, contact)) == 8
    assert events_of(stack, LOCATION_ID, "visitor:v-maria") == []


def test_a_form_carrying_the_visitor_id_attaches_the_earlier_browsing(
    stack: Stack, ghl: GhlStandIn
) -> None:
    stack.post_events({"events": views(4, 90)})
    form = {
        "first_name": "Elena",
        "phone": "(909) 555-0105",
        "intent": "buy",
        "consent": False,
        "visitorId": "v-maria",
    }
    raw = json.dumps(form).encode()
    headers = {"content-type": "application/json", "x-site-key": devkeys.SITE_KEY}
    result = intake_app.handler(http_event("POST", "/forms/lyrio", raw, headers), LambdaContext())
    assert result["statusCode"] == 202

    stack.run_worker()  # the form upserts the contact, then asks for a rescore

    [contact] = [c["id"] for c in ghl.contacts.values() if c.get("firstName") == "Elena"]
    stitched = events_of(stack, LOCATION_ID, contact)
    assert sorted(e["type"] for e in stitched) == ["form_submission"] + ["property_view"] * 4
    assert read_lead(stack, contact)["score"]["value"] >= 0


def test_a_conversation_turn_rescores_the_lead(stack: Stack, ghl: GhlStandIn) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Ivan", phone="+19095550106")["id"]
    inbound = {
        "type": "InboundMessage",
        "locationId": LOCATION_ID,
        "contactId": contact,
        "messageId": "m-ivan-1",
        "body": "Hi, we want to buy in Upland, pre-approved, around 600k, moving in 2 months",
        "direction": "inbound",
        "messageType": "SMS",
    }
    assert stack.post_webhook(inbound).status == 200

    stack.run_worker()

    lead = read_lead(stack, contact)
    assert lead["score"] is not None
    assert fields(ghl, contact)["AI Score"] == lead["score"]["value"]


# -- alerts ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def service(stack: Stack, ghl: GhlStandIn) -> tuple[ScoringService, Clock]:
    clock = Clock()
    settings = scoring_settings()
    events = BehaviourEventStore(stack.dynamodb, settings.events_table)
    svc = ScoringService(
        leads=LeadStore(stack.dynamodb, settings.leads_table),
        events=events,
        stitcher=Stitcher(VisitorStore(stack.dynamodb, settings.visitors_table), events),
        outbox=OutboxStore(stack.dynamodb, settings.outbox_table),
        tenants=TenantDirectory(settings, stack.dynamodb),
        scorers=lambda _location: Scorer(served("lead_score")),
        ghl=GhlClient(ghl.base_url, "pit-test"),
        clock=clock,
    )
    return svc, clock


def store(stack: Stack, contact: str, events: list[dict[str, Any]]) -> None:
    from ghl_ai.behaviour.events import WebsiteEvent, normalised

    target = BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"])
    for raw in events:
        target.put(
            normalised(LOCATION_ID, WebsiteEvent.model_validate({**raw, "contactId": contact}))
        )


def ago(clock: Clock, **delta: float) -> str:
    return iso(clock.now - timedelta(**delta))


RULE_STREAMS: dict[str, Any] = {
    "back_after_absence": lambda c: [
        {"type": "page_view", "timestamp": ago(c, days=20), "eventId": "a1", "visitorId": "v"},
        {"type": "page_view", "timestamp": ago(c, hours=2), "eventId": "a2", "visitorId": "v"},
    ],
    "frequent_visits": lambda c: [
        {"type": "page_view", "timestamp": ago(c, days=d), "eventId": f"f{d}", "visitorId": "v"}
        for d in (5, 3, 1)
    ],
    "repeat_listing_view": lambda c: [
        {
            "type": "property_view",
            "timestamp": ago(c, days=d),
            "eventId": f"r{d}",
            "visitorId": "v",
            "propertyId": "IE-9",
        }
        for d in (6, 4, 2)
    ],
    "binge_browsing": lambda c: [
        {
            "type": "property_view",
            "timestamp": ago(c, hours=3, minutes=i),
            "eventId": f"b{i}",
            "visitorId": "v",
            "propertyId": f"IE-{i}",
        }
        for i in range(5)
    ],
    "property_saved": lambda c: [
        {
            "type": "property_save",
            "timestamp": ago(c, hours=1),
            "eventId": "s1",
            "visitorId": "v",
            "propertyId": "IE-5",
        }
    ],
    "tour_requested": lambda c: [
        {
            "type": "tour_request",
            "timestamp": ago(c, hours=1),
            "eventId": "t1",
            "visitorId": "v",
            "propertyId": "IE-5",
        }
    ],
    "valuation_requested": lambda c: [
        {
            "type": "valuation_request",
            "timestamp": ago(c, hours=1),
            "eventId": "v1",
            "visitorId": "v",
        }
    ],
}


@pytest.mark.parametrize("rule", sorted(RULE_STREAMS))
def test_each_alert_rule_fires_once_and_respects_its_cap(
    stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock], rule: str
) -> None:
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Kim", phone="+19095550107")["id"]
    store(stack, contact, RULE_STREAMS[rule](clock))
    key = LeadKey(LOCATION_ID, contact)
    tag = "alert-" + rule.replace("_", "-")

    first = svc.rescore(key)
    assert rule in first.alerts
    assert tag in ghl.contacts[contact]["tags"]
    tasks = [t for t in ghl.tasks if t["contactId"] == contact]
    assert len(tasks) == len(first.alerts)

    # scored again (a redelivered job, another event): no second alert within the cap
    clock.now += timedelta(minutes=30)
    again = svc.rescore(key)
    assert rule not in again.alerts
    assert len([t for t in ghl.tasks if t["contactId"] == contact]) == len(tasks)


def test_an_alert_fires_again_after_its_cool_down(
    stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock]
) -> None:
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Jo", phone="+19095550108")["id"]
    key = LeadKey(LOCATION_ID, contact)
    store(stack, contact, RULE_STREAMS["property_saved"](clock))
    assert "property_saved" in svc.rescore(key).alerts

    clock.now += timedelta(hours=25)
    store(stack, contact, [{"type": "property_save", "timestamp": ago(clock, minutes=5),
                            "eventId": "s2", "visitorId": "v", "propertyId": "IE-6"}])  # fmt: skip

    assert "property_saved" in svc.rescore(key).alerts
    saved = [t for t in ghl.tasks if t["contactId"] == contact and "saved" in t["title"]]
    assert len(saved) == 2


@pytest.fixture
def alert_overrides(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = {"tour_requested": {"enabled": False}, "property_saved": {"task": "notify"}}
    monkeypatch.setenv("ALERT_RULES", json.dumps(overrides))
    scoring_settings.cache_clear()


def test_alert_rules_are_configurable_per_location(
    alert_overrides: None,
    stack: Stack,
    ghl: GhlStandIn,
    service: tuple[ScoringService, Clock],
) -> None:
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Al", phone="+19095550109")["id"]
    store(
        stack,
        contact,
        RULE_STREAMS["tour_requested"](clock) + RULE_STREAMS["property_saved"](clock),
    )

    outcome = svc.rescore(LeadKey(LOCATION_ID, contact))

    assert "tour_requested" not in outcome.alerts and "property_saved" in outcome.alerts
    assert [n for n in ghl.notes if n["contactId"] == contact and "saved a home" in n["body"]]
    assert not [t for t in ghl.tasks if t["contactId"] == contact]


def test_two_scorings_at_once_give_one_task(
    stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock]
) -> None:
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Bo", phone="+19095550110")["id"]
    store(stack, contact, RULE_STREAMS["tour_requested"](clock))
    key = LeadKey(LOCATION_ID, contact)
    # the lead record is claimed first: a second claim within the cool-down loses
    leads = LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"])
    now = clock.now.timestamp()
    assert leads.claim_alert(key, "tour_requested", "other-alert", now, 86400)

    assert "tour_requested" not in svc.rescore(key).alerts
    assert not [t for t in ghl.tasks if t["contactId"] == contact and "tour" in t["title"]]


def test_two_scorings_creating_the_same_alert_at_once_create_one_task(
    stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock]
) -> None:
    # Found by the 10,000-delivery soak: two rescore jobs of one lead in two containers both
    # reached the same alert's task; the second, finding it "sending", looked at GHL before
    # the first's call had made it, and created it again.
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Flo", phone="+19095550114")["id"]
    store(stack, contact, RULE_STREAMS["tour_requested"](clock))
    key = LeadKey(LOCATION_ID, contact)
    second: list[BaseException] = []

    marking: list[bool] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        values = params.get("ExpressionAttributeValues") or {}
        marking[:] = [{"S": "sending"} in values.values()]

    def meanwhile(**_: Any) -> None:
        # The first scoring has marked the task's claim "sending" and is about to call GHL:
        # now the other container scores the same lead.
        if marking == [True] and not second:
            second.append(RuntimeError("the second scoring created the task"))
            try:
                svc.rescore(key)
            except EffectInProgress as exc:
                second[0] = exc

    hooks = stack.dynamodb.meta.events
    hooks.register("before-parameter-build.dynamodb.UpdateItem", seen)
    hooks.register("after-call.dynamodb.UpdateItem", meanwhile)
    try:
        assert "tour_requested" in svc.rescore(key).alerts
    finally:
        hooks.unregister("before-parameter-build.dynamodb.UpdateItem", seen)
        hooks.unregister("after-call.dynamodb.UpdateItem", meanwhile)
    assert second and isinstance(second[0], EffectInProgress), second
    svc.rescore(key)  # its job again: nothing more

    tours = [t for t in ghl.tasks if t["contactId"] == contact and "tour" in t["title"]]
    assert len(tours) == 1


def test_a_task_left_sending_by_a_killed_caller_waits_for_its_lease_then_is_made_once(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Gus", phone="+19095550115")["id"]
    key = LeadKey(LOCATION_ID, contact)
    outbox = OutboxStore(stack.dynamodb, stack.resources.tables["OutboxTable"])
    client = GhlClient(ghl.base_url, "pit-test")
    now = datetime.now(UTC)

    def create() -> bool:
        return effects.create_task(
            outbox, client, "task:test:gus", key, "Call Gus", now + timedelta(hours=1), "B", now
        )

    create_claim = outbox.claim(
        "task:test:gus",
        {"kind": "task", "locationId": LOCATION_ID, "contactId": contact, "title": "Call Gus",
         "body": "B", "dueDate": iso(now + timedelta(hours=1))},
        now,
    )  # fmt: skip
    assert create_claim["status"] == "pending"
    # A caller marked it sending and was killed before calling GHL.
    outbox.finish("task:test:gus", "sending", sendingAt=iso(now))
    with pytest.raises(EffectInProgress):
        create()  # it may still be calling GHL: not yet
    outbox.finish("task:test:gus", "sending", sendingAt=iso(now - SENDING_LEASE))
    assert create()  # the lease is over and GHL has no such task: made now
    assert not create()
    assert [t["title"] for t in ghl.tasks if t["contactId"] == contact] == ["Call Gus"]


def lose_first_answer(ghl: GhlStandIn, suffix: str) -> list[Any]:
    """GHL carries out the first ``POST …{suffix}`` and the connection drops before its answer."""
    lost: list[Any] = []

    def drop(call: Any, status: int, payload: Any, client: Any) -> bool:
        if call.method == "POST" and call.path.endswith(suffix) and not lost:
            lost.append(call)
            return True
        return False

    ghl.before_answer = drop
    return lost


@pytest.fixture(params=["task", "notify"])
def alert_kind(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """The property_saved alert as a task, or as a note to the agent."""
    monkeypatch.setenv("ALERT_RULES", json.dumps({"property_saved": {"task": request.param}}))
    scoring_settings.cache_clear()
    return str(request.param)


def test_an_alert_ghl_created_but_whose_answer_was_lost_is_not_created_again(
    alert_kind: str, stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock]
) -> None:
    kind = alert_kind
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Di", phone="+19095550112")["id"]
    store(stack, contact, RULE_STREAMS["property_saved"](clock))
    key = LeadKey(LOCATION_ID, contact)
    lost = lose_first_answer(ghl, "/tasks" if kind == "task" else "/notes")

    with pytest.raises(GhlApiError):
        svc.rescore(key)  # the job fails and SQS delivers it again
    assert lost
    # Before the retry the lead browses on: the score (in the task's text) moves.
    clock.now += timedelta(minutes=2)
    store(stack, contact, [{"type": "page_view", "timestamp": ago(clock, minutes=1),
                            "eventId": "p9", "visitorId": "v"}])  # fmt: skip
    svc.rescore(key)

    made = ghl.tasks if kind == "task" else ghl.notes
    saved = [x for x in made if x["contactId"] == contact and "saved" in str(x)]
    assert len(saved) == 1
    assert (
        len(ghl.calls_to("POST", f"/contacts/{contact}/{'tasks' if kind == 'task' else 'notes'}"))
        == 1
    )


def test_an_alert_whose_call_ghl_refused_with_a_500_is_created_on_the_retry(
    stack: Stack, ghl: GhlStandIn, service: tuple[ScoringService, Clock]
) -> None:
    svc, clock = service
    contact = ghl.seed_contact(LOCATION_ID, firstName="Ed", phone="+19095550113")["id"]
    store(stack, contact, RULE_STREAMS["property_saved"](clock))
    key = LeadKey(LOCATION_ID, contact)
    ghl.script("POST", f"/contacts/{contact}/tasks", [500])  # not carried out

    with pytest.raises(GhlApiError):
        svc.rescore(key)
    svc.rescore(key)

    saved = [t for t in ghl.tasks if t["contactId"] == contact and "saved" in t["title"]]
    assert len(saved) == 1


# -- the function's own behaviour ------------------------------------------------------------


def test_the_scoring_sample_event_scores_the_sample_lead(stack: Stack, ghl: GhlStandIn) -> None:
    sample = json.loads((EVENTS / "intake" / "behaviour_events.json").read_text())
    recorded = datetime(2026, 11, 20, 15, 10, tzinfo=UTC)
    intake_app.deps().events.clock = lambda: recorded  # the sample's events are of that day
    contact = sample_events.BEHAVIOUR_CONTACT_ID
    ghl.contacts[contact] = {**ghl.seed_contact(LOCATION_ID, firstName="Jordan"), "id": contact}

    answer = intake_app.handler(sample, LambdaContext("IntakeFunction"))
    assert answer["statusCode"] == 202, answer
    assert response_json(answer) == {"accepted": 3, "duplicates": 0}
    job = json.loads((EVENTS / "scoring" / "score_job.json").read_text())

    result = scoring_app.handler(job, LambdaContext("ScoringFunction"))

    assert result == {"batchItemFailures": []}
    lead = stack.lead(LOCATION_ID, contact)
    assert lead["score"]["modelVersion"] == served("lead_score").version
    assert len(events_of(stack, LOCATION_ID, contact)) == 3


def test_a_job_that_is_not_a_scoring_job_is_retried_then_parked_in_the_dlq(stack: Stack) -> None:
    stack.sqs.send_message(QueueUrl=stack.resources.queue_urls["ScoringQueue"], MessageBody="{}")

    for _ in range(6):
        stack.run_scoring()

    assert stack.queue_depth("ScoringQueue") == 0
    assert stack.queue_depth("ScoringDLQ") == 1


def test_a_contact_ghl_does_not_know_is_scored_but_not_written(
    stack: Stack, ghl: GhlStandIn
) -> None:
    stack.post_events({"events": views(2, 30, "c-unknown-to-ghl")})

    stack.run_scoring()

    lead = stack.lead(LOCATION_ID, "c-unknown-to-ghl")
    assert lead["score"]["value"] >= 0
    assert stack.queue_depth("ScoringQueue") == stack.queue_depth("ScoringDLQ") == 0
    assert not ghl.tasks and not ghl.calls_to("POST", "/contacts/c-unknown-to-ghl/tags")


def test_a_ghl_outage_retries_the_job(stack: Stack, ghl: GhlStandIn) -> None:
    contact = ghl.seed_contact(LOCATION_ID, firstName="Cy", phone="+19095550111")["id"]
    stack.post_events({"events": views(3, 30, contact)})
    ghl.script("PUT", f"/contacts/{contact}", [503] * 4)

    batches = stack.run_scoring()

    # the first receive failed (GHL kept answering 503) and SQS delivered it again
    assert [(b.received, b.failed) for b in batches] == [(1, 1), (1, 0)]
    assert fields(ghl, contact)["AI Score"] == stack.lead(LOCATION_ID, contact)["score"]["value"]
    assert stack.queue_depth("ScoringDLQ") == 0
