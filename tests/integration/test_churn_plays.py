"""The re-engagement plays the churn sweep starts: the ChurnScoreFunction fires ``churn_risk`` for
a lead whose tier rose into high / critical, the WorkflowFunction runs the built-in ``re_engage``
(a random holdout or a play), the guardrails hold, and the A/B report compares the outcomes."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from functions.churn_score import app as churn_score_app
from functions.workflows import app as workflows_app
from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, WorkflowRunStore
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.churn.risk import ACTIONABLE
from ghl_ai.churn.score import ChurnScorer
from ghl_ai.churn.sweep import sweep_day
from ghl_ai.config import churn_settings
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.jobs import ChurnChunkJob, WorkflowStartJob, parse_workflow_job
from ghl_ai.leads.models import LeadChanges, LeadKey
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows import definition as d
from ghl_ai.workflows.catalogue import builtin
from ghl_ai.workflows.experiments import assign
from ghl_ai.workflows.triggers import WorkflowStarter
from ghl_ai_cli.main import app
from local.ghl_standin import GhlStandIn
from local.sqs_runner import QueueConsumer
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import configure
from tests.integration.test_churn_sweep import QUIET, summary
from tests.integration.test_scoring import fields
from tests.integration.test_workflows import World, world_with

runner = CliRunner()
CHECKIN = "Hi Sam, it's Jorge. Still thinking about a home in Austin? I'm here if anything changed."


@pytest.fixture
def ghl(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


def weights(experiment: str) -> dict[str, float]:
    """The experiment's variants and weights, as the built-in definition gives them."""
    for workflow in builtin().values():
        for step in workflow.steps:
            if isinstance(step, d.AbSplit) and step.experiment == experiment:
                return {v.name: v.weight for v in step.variants}
    raise AssertionError(f"no experiment {experiment}")


def contact_in(ghl: GhlStandIn, variant: str, experiment: str = "re_engage", **fields: Any) -> str:
    """A GHL contact whose id the experiment assigns ``variant`` (assignment is a hash of the
    location and contact, so the id decides)."""
    split = weights(experiment)
    contact_id = next(
        f"c-{variant}-{i}"
        for i in itertools.count()
        if assign(experiment, f"{LOCATION_ID}:c-{variant}-{i}", split) == variant
    )
    values = {"firstName": "Sam", "phone": "+19095550160", "email": "sam@example.com"}
    contact = ghl.seed_contact(LOCATION_ID, **{**values, **fields})
    ghl.contacts.pop(contact["id"])
    ghl.contacts[contact_id] = {**contact, "id": contact_id}
    return contact_id


def quiet_lead(stack: Stack, contact: str, **state: Any) -> None:
    """A lead the ScoringFunction summarised: active every 3 days, quiet for two months."""
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(LOCATION_ID, contact),
        LeadChanges(set={"activity": summary(QUIET).as_state(), **state}),
    )


def score_today(stack: Stack) -> None:
    stack.run_churn_sweep()
    stack.run_churn_scoring()


def scorer_at(stack: Stack, ghl: GhlStandIn, moment: datetime) -> ChurnScorer:
    """The ChurnScoreFunction's scorer, plays included, with its clock at ``moment``."""
    settings = churn_settings()
    assert settings.workflow_queue_url
    return ChurnScorer(
        leads=LeadStore(stack.dynamodb, settings.leads_table),
        events=BehaviourEventStore(stack.dynamodb, settings.events_table),
        predictors=churn_score_app.predictor_for,
        writeback=GhlWriteBack(GhlClient(ghl.base_url, "pit-test-token")),
        workflows=WorkflowStarter(
            JobQueue(stack.sqs, settings.workflow_queue_url),
            TenantDirectory(settings, stack.dynamodb),
        ),
        clock=lambda: moment,
    )


def score_on(stack: Stack, ghl: GhlStandIn, moment: datetime, contact: str) -> list[str]:
    """Score the lead as that day's sweep would; returns the workflows it fired."""
    job = ChurnChunkJob(
        id=f"churn:{moment.date()}",
        location_id=LOCATION_ID,
        day=sweep_day(moment),
        contacts=[contact],
    )
    (outcome,) = scorer_at(stack, ghl, moment).handle(job)
    return outcome.plays


def waiting_starts(stack: Stack) -> list[WorkflowStartJob]:
    """The workflow starts on the workflow queue (left on it)."""
    got = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_urls["WorkflowQueue"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
    )
    jobs = [parse_workflow_job(m["Body"]) for m in got.get("Messages", [])]
    return [j for j in jobs if isinstance(j, WorkflowStartJob)]


def run_workflows(stack: Stack) -> None:
    """The WorkflowFunction on its queue until it is empty (long waits stay in the table)."""
    QueueConsumer(
        stack.sqs,
        stack.resources.queue_urls["WorkflowQueue"],
        stack.resources.queue_arns["WorkflowQueue"],
        workflows_app.handler,
        function_name="WorkflowFunction",
    ).drain()


def runs(stack: Stack, contact: str, workflow: str | None = None) -> list[dict[str, Any]]:
    found = WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"]).for_lead(
        LOCATION_ID, contact
    )
    return [r for r in found if workflow is None or r["workflow"] == workflow]


def texts(ghl: GhlStandIn, contact: str, kind: str = "SMS") -> list[str]:
    return [
        str(c.json.get("message"))
        for c in ghl.calls_to("POST", "/conversations/messages")
        if c.json.get("contactId") == contact and c.json.get("type") == kind
    ]


def steps(run: dict[str, Any]) -> list[str]:
    return [h["step"] for h in run["history"]]


# -- starting a play ---------------------------------------------------------------------------


def test_a_lead_whose_risk_rises_gets_one_re_engage_play(stack: Stack, ghl: GhlStandIn) -> None:
    contact = contact_in(ghl, "checkin")
    quiet_lead(stack, contact)

    score_today(stack)

    churn = stack.lead(LOCATION_ID, contact)["churn"]
    assert churn["tier"] in ACTIONABLE
    (start,) = waiting_starts(stack)
    assert (start.workflow, start.trigger, start.contact_id) == ("re_engage", "churn_risk", contact)
    assert start.id == f"churn_risk:{contact}:{churn['day']}"  # named by the lead and the day
    assert start.context["alert"] == "; ".join(churn["reasons"])

    run_workflows(stack)

    (play,) = runs(stack, contact, "re_engage")
    assert play["variants"]["re_engage"]["variant"] == "checkin"
    assert steps(play) == ["value", "plays", "checkin", "observe"]
    # Watching the lead for 14 days.
    assert (play["status"], play["stepId"]) == ("active", "done")
    assert float(play["dueAt"]) == pytest.approx(time.time() + 14 * 86400, abs=120)
    (checkin,) = runs(stack, contact, "re_engage_checkin")
    assert checkin["status"] == "active" and checkin["stepId"] == "replied"  # waiting 3 days
    assert texts(ghl, contact) == [CHECKIN]

    # The same start delivered again starts nothing more.
    stack.sqs.send_message(
        QueueUrl=stack.resources.queue_urls["WorkflowQueue"], MessageBody=start.model_dump_json()
    )
    run_workflows(stack)
    assert len(runs(stack, contact, "re_engage")) == 1
    assert texts(ghl, contact) == [CHECKIN]


def test_the_next_days_start_no_second_play_for_a_lead_in_one(
    stack: Stack, ghl: GhlStandIn
) -> None:
    contact = contact_in(ghl, "checkin")
    quiet_lead(stack, contact)
    score_today(stack)
    run_workflows(stack)
    (play,) = runs(stack, contact, "re_engage")
    now = datetime.now(UTC)

    # Tomorrow it is still at risk: no rise, no trigger.
    assert score_on(stack, ghl, now + timedelta(days=1), contact) == []
    assert waiting_starts(stack) == []
    assert stack.lead(LOCATION_ID, contact)["churn"]["tier"] in ACTIONABLE

    # The day after, its risk had dipped (a medium day) and rises again: the trigger fires,
    # but the lead is in a play already, so no second one starts.
    leads = LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"])
    churn = stack.lead(LOCATION_ID, contact)["churn"]
    leads.apply(
        LeadKey(LOCATION_ID, contact), LeadChanges(set={"churn": {**churn, "tier": "medium"}})
    )
    assert score_on(stack, ghl, now + timedelta(days=2), contact) == ["re_engage"]
    (second,) = waiting_starts(stack)
    run_workflows(stack)

    assert [r["runId"] for r in runs(stack, contact, "re_engage")] == [play["runId"]]
    assert second.id == f"churn_risk:{contact}:{(now + timedelta(days=2)).date()}"
    assert len(runs(stack, contact, "re_engage_checkin")) == 1
    assert texts(ghl, contact) == [CHECKIN]


@pytest.mark.parametrize("flag", ["optedOut", "dnd", "handedOff"])
def test_a_lead_we_must_not_work_gets_its_risk_but_no_play(
    stack: Stack, ghl: GhlStandIn, flag: str
) -> None:
    contact = contact_in(ghl, "checkin")
    quiet_lead(stack, contact, **{flag: True})

    score_today(stack)
    run_workflows(stack)

    tier = stack.lead(LOCATION_ID, contact)["churn"]["tier"]
    assert tier in ACTIONABLE
    assert fields(ghl, contact)["Churn Risk"] == tier.capitalize()  # the agent still sees it
    assert runs(stack, contact) == []
    assert texts(ghl, contact) == [] and texts(ghl, contact, "Email") == []


def test_the_holdout_gets_no_play(stack: Stack, ghl: GhlStandIn) -> None:
    contact = contact_in(ghl, "holdout")
    quiet_lead(stack, contact)

    score_today(stack)
    run_workflows(stack)

    (play,) = runs(stack, contact)  # no child workflow
    assert play["workflow"] == "re_engage"
    assert play["variants"]["re_engage"]["variant"] == "holdout"
    assert steps(play) == ["value", "plays", "observe"]
    assert (play["status"], play["stepId"]) == ("active", "done")
    assert [c for c in ghl.calls_to("POST", "/conversations/messages")] == []
    assert not ghl.calls_to("POST", f"/contacts/{contact}/tasks")
    assert stack.queue_depth("MatchesQueue") == 0


def test_a_high_value_lead_gets_a_call_from_the_agent(stack: Stack, ghl: GhlStandIn) -> None:
    contact = contact_in(ghl, "agent_call", "re_engage_high_value")
    quiet_lead(stack, contact, score={"value": 75, "temperature": "warm"})

    score_today(stack)
    run_workflows(stack)

    reasons = stack.lead(LOCATION_ID, contact)["churn"]["reasons"]
    (play,) = runs(stack, contact, "re_engage")
    assert play["variants"] == {"re_engage_high_value": play["variants"]["re_engage_high_value"]}
    assert play["variants"]["re_engage_high_value"]["variant"] == "agent_call"
    (task,) = [c.json for c in ghl.calls_to("POST", f"/contacts/{contact}/tasks")]
    assert task["title"] == "Call Sam: a high-value lead going quiet"
    assert f"Sam has gone quiet ({'; '.join(reasons)})" in task["body"]
    assert texts(ghl, contact) == []


# -- the play's messages keep the guardrails ---------------------------------------------------


def start_play(world: World, contact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start ``re_engage`` as the churn trigger does; its run and its check-in's run."""
    run_id = world.start("re_engage", contact, alert="no activity for 60 days", score="")
    (checkin,) = runs(world.stack, contact, "re_engage_checkin")
    return world.run(contact, run_id), checkin


def test_a_plays_text_due_at_night_waits_for_the_morning(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, QUIET_HOURS_START="8", QUIET_HOURS_END="21")
    world.clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    contact = contact_in(ghl, "checkin", timezone="America/Los_Angeles")

    _, checkin = start_play(world, contact)

    assert world.texts(contact) == []
    opening = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert checkin["history"][-1]["outcome"].startswith("held for quiet hours")
    assert checkin["dueAt"] == opening.timestamp()
    world.later(hours=9, minutes=59)
    assert world.texts(contact) == []
    world.later(minutes=2)
    assert world.texts(contact) == [CHECKIN]


def test_a_plays_text_waits_for_a_free_slot_under_the_daily_cap(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    configure(monkeypatch, ghl, WORKFLOW_DAILY_CAP="1")
    world.build()
    contact = contact_in(ghl, "checkin")
    # Another workflow emailed the lead two hours ago: today's one proactive message is spent.
    emailed = world.clock.now - timedelta(hours=2)
    world.set_lead(contact, proactiveSentAt=[emailed.timestamp()])

    _, checkin = start_play(world, contact)

    assert world.texts(contact) == []
    assert checkin["history"][-1]["outcome"] == "held: daily cap of 1"
    world.later(hours=21, minutes=58)
    assert world.texts(contact) == []
    world.later(minutes=3)
    assert world.texts(contact) == [CHECKIN]


def test_a_play_never_texts_a_lead_on_dnd(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    # DND was set in GHL after the lead was scored: the play is triggered, nothing must go.
    contact = contact_in(ghl, "checkin", dnd=True)

    run_id = world.start("re_engage", contact, alert="no activity for 60 days", score="")
    world.later(days=15)

    play = world.run(contact, run_id)
    assert (play["status"], play["endReason"]) == ("done", "goal: dnd")  # before its first step
    assert runs(stack, contact) == [play]  # no check-in started
    assert world.texts(contact) == [] and texts(ghl, contact, "Email") == []
    assert stack.lead(LOCATION_ID, contact)["dnd"] is True  # learnt from GHL


# -- the outcome -------------------------------------------------------------------------------


def test_a_reply_ends_the_play_and_the_report_compares_it_with_the_holdout(
    stack: Stack, ghl: GhlStandIn
) -> None:
    replier, holdout = contact_in(ghl, "checkin"), contact_in(ghl, "holdout")
    for contact in (replier, holdout):
        quiet_lead(stack, contact)
    score_today(stack)
    run_workflows(stack)

    inbound = {
        "type": "InboundMessage",
        "locationId": LOCATION_ID,
        "contactId": replier,
        "body": "Hi! Yes, still looking, just busy.",
        "direction": "inbound",
        "messageType": "SMS",
        "conversationId": "conv-churn",
        "dateAdded": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "messageId": str(uuid.uuid4()),
    }
    assert stack.post_webhook(inbound).status == 200
    stack.run_worker()
    run_workflows(stack)

    (play,) = runs(stack, replier, "re_engage")
    assert (play["status"], play["endReason"]) == ("cancelled", "goal: replied")
    assert all(r["status"] == "cancelled" for r in runs(stack, replier, "re_engage_checkin"))
    (held_out,) = runs(stack, holdout, "re_engage")
    assert held_out["status"] == "active"  # still watched

    result = runner.invoke(app, ["workflows", "report", "--location", LOCATION_ID, "--json"])

    assert result.exit_code == 0, result.output
    (entry,) = [
        e for e in json.loads(result.stdout)["experiments"] if e["experiment"] == "re_engage"
    ]
    assert entry["workflow"] == "re_engage" and entry["control"] == "holdout"
    replied = entry["outcomes"]["replied"]
    counts = {name: (v["n"], v["successes"]) for name, v in replied["variants"].items()}
    assert counts == {
        "holdout": (1, 0),
        "checkin": (1, 1),
        "matches": (0, 0),
        "market_update": (0, 0),
    }
    assert replied["verdict"].startswith("too small to call")
