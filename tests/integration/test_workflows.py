"""The workflow engine with an injected clock, against the template's tables and queues (moto)
and the GHL stand-in: every step type, branches, durable waits across a restart, cancellation
on reply, exactly-once under redelivery and a crash, quiet hours, caps across workflows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from ghl_ai import config
from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    OutboxStore,
    WorkflowRunStore,
)
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.errors import GhlApiError
from ghl_ai.jobs import WorkflowStartJob, WorkflowStepJob, parse_workflow_job
from ghl_ai.leads.models import LeadChanges, LeadKey
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows.engine import GRACE_SECONDS, SWEEP_LEASE_SECONDS, WorkflowEngine
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import configure

#: 17:00 UTC = 09:00 in Los Angeles: inside the default quiet-hours window.
START = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    stack: Stack
    ghl: GhlStandIn
    clock: Clock = field(default_factory=Clock)
    engine: WorkflowEngine | None = None

    def build(self) -> WorkflowEngine:
        """A fresh engine on the same tables and queues (as after a restart or a deploy)."""
        config.workflow_settings.cache_clear()
        s = config.workflow_settings()
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        assert s.ghl_api_token is not None
        self.engine = WorkflowEngine(
            runs=WorkflowRunStore(dynamodb, s.runs_table),
            leads=LeadStore(dynamodb, s.leads_table),
            events=BehaviourEventStore(dynamodb, s.events_table),
            messages=MessageStore(dynamodb, s.messages_table),
            outbox=OutboxStore(dynamodb, s.outbox_table),
            tenants=TenantDirectory(s, dynamodb),
            queue=JobQueue(sqs, s.workflow_queue_url),
            ghl=GhlClient(s.ghl_api_base_url, s.ghl_api_token.get_secret_value()),
            matches=JobQueue(sqs, s.matches_queue_url) if s.matches_queue_url else None,
            clock=self.clock,
        )
        return self.engine

    def lead(self, **fields: Any) -> str:
        values = {"firstName": "Ana", "phone": "+19095550150", "timezone": "America/Los_Angeles"}
        contact = self.ghl.seed_contact(**{**values, **fields})
        return str(contact["id"])

    def start(self, workflow: str, contact: str, **context: str) -> str:
        assert self.engine is not None
        job = WorkflowStartJob(
            id=str(uuid.uuid4()),
            received_at=self.clock(),
            location_id=LOCATION_ID,
            contact_id=contact,
            workflow=workflow,
            context=context,
        )
        outcome = self.engine.start(job)
        assert outcome.startswith("started"), outcome
        self.pump()
        return outcome.removeprefix("started ")

    def pump(self) -> list[str]:
        """Run every visible workflow job (delayed ones wait: the sweep re-queues them)."""
        assert self.engine is not None
        url = self.stack.resources.queue_urls["WorkflowQueue"]
        outcomes = []
        for _ in range(200):
            got = self.stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                break
            for message in messages:
                job = parse_workflow_job(message["Body"])
                if isinstance(job, WorkflowStartJob):
                    outcomes.append(self.engine.start(job))
                elif isinstance(job, WorkflowStepJob):
                    outcomes.append(self.engine.step(job))
                else:
                    self.engine.on_reply(job.location_id, job.contact_id)
                self.stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return outcomes

    def later(self, **delta: float) -> None:
        """Time passes; the every-minute sweep queues what is due; the steps run."""
        assert self.engine is not None
        self.clock.now += timedelta(**delta)
        self.engine.sweep()
        self.pump()

    def run(self, contact: str, run_id: str) -> dict[str, Any]:
        runs = WorkflowRunStore(
            self.stack.dynamodb, self.stack.resources.tables["WorkflowRunsTable"]
        )
        found = runs.get(LOCATION_ID, contact, run_id)
        assert found is not None
        return found

    def texts(self, contact: str) -> list[str]:
        return [
            str(c.json["message"])
            for c in self.ghl.calls_to("POST", "/conversations/messages")
            if c.json.get("contactId") == contact and c.json.get("type") == "SMS"
        ]

    def set_lead(self, contact: str, **state: Any) -> None:
        LeadStore(self.stack.dynamodb, self.stack.resources.tables["LeadsTable"]).apply(
            LeadKey(LOCATION_ID, contact), LeadChanges(set=state)
        )


def world_with(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn, workflows: str = "", **env: str
) -> World:
    configure(monkeypatch, ghl, WORKFLOWS=workflows, WORKFLOW_DAILY_CAP="10", **env)
    world = World(stack, ghl)
    world.build()
    return world


@pytest.fixture
def ghl(stack: Stack) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


EVERYTHING = """
- name: everything
  steps:
    - {id: hello, type: send_sms, text: "Hi {first_name}, still looking in {area}?"}
    - {id: mail, type: send_email, subject: "Homes in {area}", body: "Hi {first_name}, homes."}
    - {id: pause, type: wait, for: 2h}
    - {id: tag, type: add_tag, tag: nurtured}
    - {id: untag, type: remove_tag, tag: cold-lead}
    - {id: field, type: update_field, field: Preferred Area, value: "{area}"}
    - {id: task, type: create_task, title: "Call {first_name}", due_in: 2h}
    - {id: note, type: notify_agent, text: "{first_name} is in the nurture sequence"}
    - {id: homes, type: send_matches, k: 2}
    - id: split
      type: ab_split
      experiment: exp_opener
      variants: [{name: a, goto: chain}, {name: b, goto: chain}]
    - {id: chain, type: start_workflow, workflow: follow_on}
    - {id: vip, type: branch, if: {tag: vip}, then: vip_task, else: done}
    - {id: vip_task, type: create_task, title: "VIP"}
    - {id: done, type: end}
- name: follow_on
  steps:
    - {id: thanks, type: add_tag, tag: follow-on-started}
"""


def test_every_step_type_does_what_it_says(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, EVERYTHING)
    contact = world.lead(email="ana@example.com", tags=["cold-lead"])
    world.set_lead(
        contact,
        answers={"area": {"value": "Fontana", "confidence": 0.9, "source": "rules"}},
    )
    run_id = world.start("everything", contact)

    assert world.texts(contact) == ["Hi Ana, still looking in Fontana?"]
    emails = [
        c.json for c in ghl.calls_to("POST", "/conversations/messages") if c.json["type"] == "Email"
    ]
    assert [e["subject"] for e in emails] == ["Homes in Fontana"]
    assert world.run(contact, run_id)["stepId"] == "tag"  # waiting two hours
    assert not ghl.calls_to("POST", f"/contacts/{contact}/tags")

    world.later(hours=2, minutes=1)

    added = [c.json["tags"] for c in ghl.calls_to("POST", f"/contacts/{contact}/tags")]
    assert ["nurtured"] in added and ["follow-on-started"] in added
    assert [c.json["tags"] for c in ghl.calls_to("DELETE", f"/contacts/{contact}/tags")] == [
        ["cold-lead"]
    ]
    fields = [c.json for c in ghl.calls_to("PUT", f"/contacts/{contact}")]
    assert {"id": "cf-area", "field_value": "Fontana"} in fields[-1]["customFields"]
    tasks = [c.json["title"] for c in ghl.calls_to("POST", f"/contacts/{contact}/tasks")]
    assert tasks == ["Call Ana"]  # the branch went to "done": no VIP tag
    notes = [c.json["body"] for c in ghl.calls_to("POST", f"/contacts/{contact}/notes")]
    assert notes == ["Ana is in the nurture sequence"]
    matches = stack.sqs.receive_message(QueueUrl=stack.resources.queue_urls["MatchesQueue"])
    (job,) = [json.loads(m["Body"]) for m in matches["Messages"]]
    assert job["contact_id"] == contact and job["k"] == 2 and job["reason"] == "workflow"
    run = world.run(contact, run_id)
    assert run["status"] == "done" and run["endReason"] == "end"
    assert run["variants"]["exp_opener"]["variant"] in ("a", "b")
    steps = [h["step"] for h in run["history"]]
    assert steps == [
        "hello", "mail", "pause", "tag", "untag", "field", "task", "note", "homes", "split",
        "chain", "vip", "done",
    ]  # fmt: skip


BRANCH = """
- name: by_score
  steps:
    - {id: hot, type: branch, if: {score_at_least: 70}, then: call, else: tag_cold}
    - {id: call, type: create_task, title: "Call {first_name} now", next: done}
    - {id: tag_cold, type: add_tag, tag: keep-warm}
    - {id: done, type: end}
"""


def test_a_branch_goes_both_ways(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, BRANCH)
    hot, cold = world.lead(), world.lead(firstName="Bo", phone="+19095550151")
    world.set_lead(hot, score={"value": 82, "temperature": "hot"})
    world.set_lead(cold, score={"value": 31, "temperature": "cold"})
    world.start("by_score", hot)
    world.start("by_score", cold)
    assert [c.json["title"] for c in ghl.calls_to("POST", f"/contacts/{hot}/tasks")] == [
        "Call Ana now"
    ]
    assert not ghl.calls_to("POST", f"/contacts/{hot}/tags")
    assert not ghl.calls_to("POST", f"/contacts/{cold}/tasks")
    assert [c.json["tags"] for c in ghl.calls_to("POST", f"/contacts/{cold}/tags")] == [
        ["keep-warm"]
    ]


LONG = """
- name: three_days
  steps:
    - {id: wait, type: wait, for: 3d}
    - {id: hello, type: send_sms, text: "Hi {first_name}, three days on: any homes you liked?"}
"""


def test_a_long_wait_fires_at_the_right_time_after_a_restart(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, LONG)
    contact = world.lead()
    run_id = world.start("three_days", contact)
    assert world.run(contact, run_id)["dueAt"] == (START + timedelta(days=3)).timestamp()

    world.later(days=2, hours=23, minutes=58)
    assert world.texts(contact) == []

    world.build()  # the stack restarts: nothing but the tables survives
    world.later(minutes=2)
    assert world.texts(contact) == ["Hi Ana, three days on: any homes you liked?"]
    assert world.run(contact, run_id)["status"] == "done"


def test_a_reply_ends_the_nurture_and_no_follow_up_goes_out(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    contact = world.lead()
    run_id = world.start("no_reply_followup", contact)
    world.later(hours=24, minutes=1)
    assert len(world.texts(contact)) == 1  # the 24-hour follow-up

    # The lead texts back: the worker tells the workflows, which end the run.
    world.clock.now += timedelta(hours=1)
    inbound = {
        "type": "InboundMessage",
        "locationId": LOCATION_ID,
        "contactId": contact,
        "body": "Yes, still looking!",
        "direction": "inbound",
        "messageType": "SMS",
        "conversationId": "conv-1",
        "dateAdded": world.clock.now.isoformat().replace("+00:00", "Z"),
        "messageId": str(uuid.uuid4()),
    }
    assert stack.post_webhook(inbound).status == 200
    stack.consumer().drain()
    world.pump()
    run = world.run(contact, run_id)
    assert run["status"] == "cancelled" and run["endReason"] == "goal: replied"

    before = len(world.texts(contact))
    world.later(days=3)
    assert len(world.texts(contact)) == before  # nothing more from the sequence


def test_the_reply_goal_ends_a_run_even_if_the_reply_job_is_lost(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    contact = world.lead()
    run_id = world.start("no_reply_followup", contact)
    world.set_lead(contact, lastInboundAt=(START + timedelta(hours=3)).isoformat())
    world.later(hours=24, minutes=1)
    assert world.texts(contact) == []
    assert world.run(contact, run_id)["endReason"] == "goal: replied"


ONE_TEXT = """
- name: one_text
  steps:
    - {id: hello, type: send_sms, text: "Hi {first_name}, a quick hello."}
    - {id: wait, type: wait, for: 1d}
    - {id: bye, type: send_sms, text: "Bye for now, {first_name}."}
"""


def test_a_redelivered_step_and_a_crash_after_sending_send_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, ONE_TEXT)
    engine = world.build()
    contact = world.lead()
    job = WorkflowStartJob(
        id="start-1",
        received_at=START,
        location_id=LOCATION_ID,
        contact_id=contact,
        workflow="one_text",
    )
    assert engine.start(job).startswith("started")
    assert engine.start(job) == "one_text already runs for this lead"  # a redelivered start
    run_id = "one_text:start-1"
    step = WorkflowStepJob(
        location_id=LOCATION_ID, contact_id=contact, run_id=run_id, seq=0, step_id="hello"
    )
    engine.step(step)
    assert engine.step(step).startswith("stale step")  # the same message delivered again
    assert world.texts(contact) == ["Hi Ana, a quick hello."]

    # A crash after the text went out but before the run recorded it: put the run back.
    table = stack.resources.tables["WorkflowRunsTable"]
    stack.dynamodb.update_item(
        TableName=table,
        Key={"lead": {"S": f"{LOCATION_ID}#{contact}"}, "runId": {"S": run_id}},
        UpdateExpression="SET #s = :zero, stepId = :hello",
        ExpressionAttributeNames={"#s": "seq"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":hello": {"S": "hello"}},
    )
    assert engine.step(step) == "sms already sent"
    assert world.texts(contact) == ["Hi Ana, a quick hello."]
    assert world.run(contact, run_id)["stepId"] == "wait"


TASK_AND_NOTE = """
- name: tell_the_agent
  steps:
    - id: call
      type: create_task
      title: "Call {first_name}"
      body: "She asked about schools"
      due_in: 1h
    - {id: note, type: notify_agent, text: "{first_name} asked about schools"}
"""


def run_retrying(world: World, job: WorkflowStepJob | WorkflowStartJob) -> list[str]:
    """Run the job and every step it queues as the WorkflowFunction would: a step that fails
    (GHL's answer was lost) stays on the queue and is delivered again."""
    assert world.engine is not None
    url = world.stack.resources.queue_urls["WorkflowQueue"]
    failures = []
    assert isinstance(job, WorkflowStartJob)
    world.engine.start(job)
    for _ in range(20):
        got = world.stack.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0
        )
        if not got.get("Messages"):
            break
        (message,) = got["Messages"]
        step = parse_workflow_job(message["Body"])
        assert isinstance(step, WorkflowStepJob)
        try:
            world.engine.step(step)
        except GhlApiError as exc:
            failures.append(f"{step.step_id}: {exc.status}")
            continue  # not deleted: SQS delivers it again
        world.stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return failures


def test_a_task_and_a_note_ghl_created_but_whose_answers_were_lost_are_made_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, TASK_AND_NOTE)
    world.clock.now = datetime.now(UTC)  # GHL dates what it creates by its own clock
    contact = world.lead()
    lost: list[str] = []

    def drop_first(call: Any, status: int, payload: Any, client: Any) -> bool:
        kind = call.path.rsplit("/", 1)[-1]
        if call.method == "POST" and kind in ("tasks", "notes") and kind not in lost:
            lost.append(kind)
            return True  # carried out; the connection drops before the answer
        return False

    ghl.before_answer = drop_first
    job = WorkflowStartJob(
        id="start-lost",
        received_at=world.clock(),
        location_id=LOCATION_ID,
        contact_id=contact,
        workflow="tell_the_agent",
    )
    failures = run_retrying(world, job)

    assert lost == ["tasks", "notes"]
    assert failures == ["call: 0", "note: 0"]
    assert [t["title"] for t in ghl.tasks if t["contactId"] == contact] == ["Call Ana"]
    assert [n["body"] for n in ghl.notes if n["contactId"] == contact] == [
        "Ana asked about schools"
    ]
    assert world.run(contact, "tell_the_agent:start-lost")["status"] == "done"


def test_the_same_task_from_an_earlier_run_does_not_stand_in_for_a_new_one(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    """Two weeks later the workflow runs again and GHL answers 500 without creating the task:
    the earlier run's identical task is not taken for it, and the retry creates it."""
    world = world_with(stack, monkeypatch, ghl, TASK_AND_NOTE)
    world.clock.now = datetime.now(UTC) - timedelta(days=14)
    contact = world.lead()
    first = WorkflowStartJob(
        id="start-1",
        received_at=world.clock(),
        location_id=LOCATION_ID,
        contact_id=contact,
        workflow="tell_the_agent",
    )
    assert run_retrying(world, first) == []
    world.clock.now = datetime.now(UTC)
    ghl.script("POST", f"/contacts/{contact}/tasks", [500])
    again = first.model_copy(update={"id": "start-2", "received_at": world.clock()})

    assert run_retrying(world, again) == ["call: 500"]
    assert [t["title"] for t in ghl.tasks if t["contactId"] == contact] == ["Call Ana"] * 2


def test_the_sweep_queues_a_due_step_once_while_it_waits_in_the_queue(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    """A backlogged queue: the step the sweep queued is not taken yet. The next sweeps leave
    the run alone; if that step is lost, the sweep queues it again once its lease ends."""
    world = world_with(stack, monkeypatch, ghl, ONE_TEXT)
    engine = world.build()
    contact = world.lead()
    world.start("one_text", contact)  # the hello text, then a one-day wait
    url = stack.resources.queue_urls["WorkflowQueue"]

    world.clock.now += timedelta(days=1, minutes=1)
    assert engine.sweep() == 1
    assert [engine.sweep() for _ in range(3)] == [0, 0, 0]
    stack.sqs.purge_queue(QueueUrl=url)  # the step is lost

    world.clock.now += timedelta(seconds=SWEEP_LEASE_SECONDS + 1)
    assert engine.sweep() == 1
    world.pump()
    assert world.texts(contact) == ["Hi Ana, a quick hello.", "Bye for now, Ana."]


def test_a_text_due_at_night_waits_for_the_quiet_hours_window(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(
        stack, monkeypatch, ghl, ONE_TEXT, QUIET_HOURS_START="8", QUIET_HOURS_END="21"
    )
    world.clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    contact = world.lead()
    run_id = world.start("one_text", contact)
    assert world.texts(contact) == []
    opening = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert world.run(contact, run_id)["dueAt"] == opening.timestamp()
    world.later(hours=9, minutes=59)
    assert world.texts(contact) == []
    world.later(minutes=1)
    assert world.texts(contact) == ["Hi Ana, a quick hello."]


TWO_TEXTS = """
- name: first_pair
  steps:
    - {id: a1, type: send_sms, text: "One from the first sequence."}
    - {id: a2, type: send_sms, text: "Two from the first sequence."}
- name: second_pair
  steps:
    - {id: b1, type: send_sms, text: "One from the second sequence."}
    - {id: b2, type: send_sms, text: "Two from the second sequence."}
"""


def test_the_daily_and_weekly_caps_hold_across_workflows(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, TWO_TEXTS)
    configure(
        monkeypatch, ghl, WORKFLOWS=TWO_TEXTS, WORKFLOW_DAILY_CAP="2", WORKFLOW_WEEKLY_CAP="3"
    )
    world.build()
    contact = world.lead()
    world.start("first_pair", contact)
    world.start("second_pair", contact)
    assert len(world.texts(contact)) == 2  # the daily cap: the other two wait

    world.later(hours=23, minutes=59)
    assert len(world.texts(contact)) == 2
    world.later(minutes=1 + GRACE_SECONDS / 60)
    assert len(world.texts(contact)) == 3  # a new day, but the weekly cap is 3
    world.later(days=5)
    assert len(world.texts(contact)) == 3
    world.later(days=1, minutes=5)
    assert len(world.texts(contact)) == 4  # a week after the first
    assert sorted(world.texts(contact)) == sorted(
        [
            "One from the first sequence.",
            "Two from the first sequence.",
            "One from the second sequence.",
            "Two from the second sequence.",
        ]
    )


def test_appointment_reminders_go_24_and_2_hours_before(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    contact = world.lead()
    appointment = START + timedelta(days=3)  # Saturday 09:00 in Los Angeles
    world.set_lead(
        contact,
        appointment={
            "id": "apt-1",
            "startTime": appointment.isoformat(),
            "appointmentStatus": "confirmed",
        },
    )
    world.start("appointment_reminder", contact)
    world.later(days=1, hours=23, minutes=59)
    assert world.texts(contact) == []
    world.later(minutes=2)
    assert world.texts(contact) == [
        "Hi Ana, a reminder that we're meeting Saturday at 9 AM. Reply if anything changes."
    ]
    world.later(hours=21, minutes=58)  # 2 hours and a minute before the appointment
    assert len(world.texts(contact)) == 1
    world.later(minutes=2)
    assert world.texts(contact)[1] == "See you soon, Ana! Jorge will meet you Saturday at 9 AM."


def test_a_run_can_be_paused_resumed_and_cancelled_and_never_runs_twice(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, LONG)
    engine = world.build()
    contact = world.lead()
    run_id = world.start("three_days", contact)
    again = WorkflowStartJob(
        id="another-cause",
        received_at=START,
        location_id=LOCATION_ID,
        contact_id=contact,
        workflow="three_days",
    )
    assert engine.start(again) == "three_days already runs for this lead"

    assert engine.pause(LOCATION_ID, contact, run_id)
    world.later(days=1)
    assert engine.resume(LOCATION_ID, contact, run_id)  # still two days of the wait to go
    world.pump()
    assert world.texts(contact) == []
    assert engine.pause(LOCATION_ID, contact, run_id)
    world.later(days=4)
    assert world.texts(contact) == [] and world.run(contact, run_id)["status"] == "paused"
    assert engine.resume(LOCATION_ID, contact, run_id)  # the wait is over: the step runs now
    world.pump()
    assert world.texts(contact) == ["Hi Ana, three days on: any homes you liked?"]

    second = world.start("three_days", contact)  # the first one ended: the lock is free
    assert engine.cancel(LOCATION_ID, contact, second, "cancelled by the agent")
    world.later(days=4)
    assert len(world.texts(contact)) == 1
    assert world.run(contact, second)["endReason"] == "cancelled by the agent"


def test_no_behaviour_triggered_text_within_3_days_of_our_last_unless_the_lead_wrote(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    quiet, wrote = world.lead(), world.lead(firstName="Bo", phone="+19095550152")
    yesterday = (START - timedelta(days=1)).isoformat()
    world.set_lead(quiet, lastOutboundAt=yesterday)
    world.set_lead(
        wrote, lastOutboundAt=yesterday, lastInboundAt=(START - timedelta(hours=20)).isoformat()
    )
    quiet_run = world.start("behaviour_alert_followup", quiet, alert="a home viewed 3 times")
    world.start("behaviour_alert_followup", wrote, alert="a home viewed 3 times")
    world.later(minutes=13)
    assert world.texts(quiet) == []
    history = world.run(quiet, quiet_run)["history"]
    assert history[-2]["outcome"] == "skipped: contacted in the last 3 days (3-day rule)"
    assert world.texts(wrote) == [
        "Hi Bo, it's Jorge. If you'd like more details or a showing on any home you've been "
        "looking at, just reply here."
    ]


def test_a_human_writing_to_the_lead_holds_the_sequence_until_the_pause_ends(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl, ONE_TEXT, HUMAN_PAUSE_MINUTES="120")
    contact = world.lead()
    world.set_lead(contact, lastHumanOutboundAt=(START - timedelta(minutes=30)).isoformat())
    world.start("one_text", contact)
    assert world.texts(contact) == []
    world.later(minutes=89)
    assert world.texts(contact) == []
    world.later(minutes=2)
    assert world.texts(contact) == ["Hi Ana, a quick hello."]


def test_ghl_events_start_their_workflows_through_the_worker(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, ghl: GhlStandIn
) -> None:
    world = world_with(stack, monkeypatch, ghl)
    contact = world.lead(tags=["long-term nurture"])
    tagged = {
        "type": "ContactTagUpdate",
        "locationId": LOCATION_ID,
        "id": contact,
        "tags": ["long-term nurture"],
        "webhookId": str(uuid.uuid4()),
    }
    booked = {
        "type": "AppointmentCreate",
        "locationId": LOCATION_ID,
        "webhookId": str(uuid.uuid4()),
        "appointment": {
            "id": "apt-9",
            "contactId": contact,
            "startTime": (START + timedelta(days=2)).isoformat(),
            "appointmentStatus": "confirmed",
        },
    }
    for delivery in (tagged, booked):
        assert stack.post_webhook(delivery).status == 200
    stack.consumer().drain()
    world.pump()
    runs = WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"])
    started = {r["workflow"]: r for r in runs.for_lead(LOCATION_ID, contact)}
    assert set(started) == {"long_term_nurture", "appointment_reminder"}
    # The nurture's goal is met at once (an appointment is booked); the reminders wait.
    assert started["long_term_nurture"]["endReason"] == "goal: appointment_booked"
    assert started["appointment_reminder"]["status"] == "active"
    assert started["appointment_reminder"]["stepId"] == "reminder_24h"
