"""The workflow engine: a run per (lead, workflow) in DynamoDB, each step an SQS message.

**A step, exactly once.** A :class:`~ghl_ai.jobs.WorkflowStepJob` names the run, the step and
the run's ``seq`` (steps taken so far). The handler drops a copy whose ``seq`` the run has
passed; every side effect is claimed in the outbox under ``wf:<location>:<contact>:<run>:<seq>``
(:func:`effect_id`) before it is carried out (an SMS claim holds its text), and the run
advances with a write conditional on ``seq``. So an SQS redelivery, the sweeper's safety-net
copy, or a crash between "sent" and "recorded" never sends twice: the retry finds the claim
done and only advances the run.

**Waits.** Up to 15 minutes: the next step message is sent with an SQS delay. Longer — hours,
days, months — the run is written with ``dueAt`` in the ``byDue`` index and an EventBridge
schedule runs :meth:`WorkflowEngine.sweep` every minute, which queues the step of every run
that is due. Chosen over one EventBridge Scheduler schedule per wait because nothing has to be
created or deleted per wait (a cancelled run needs no clean-up, a deploy or a restart loses
nothing: the state is the table), it is one query a minute whatever the number of runs, and it
runs the same on the local stack; the cost is up to a minute of lateness, fine for nurture.
Every advance also sets ``dueAt`` (a short wait's plus two minutes of grace), so a step message
lost between the write and the send is picked up by the sweep: the run cannot get stuck. The
sweep moves the ``dueAt`` of each run it queues ``SWEEP_LEASE_SECONDS`` on: while the step waits
in a backlogged queue the next sweeps leave the run alone (else each sweep would queue it
again, and a backlog would feed itself), and a step lost after all is queued again then.

**Before every step:** the exit goals (replied, appointment booked, opted out, DND, handed
off, opportunity won / lost) end the run. Before a message (SMS, email, matches): the
conversation's gates (bot-off tag, a human writing: held until the pause ends), quiet hours in
the lead's zone (held until the window opens, never dropped), the per-lead caps on proactive
messages across all workflows (``workflow_daily_cap`` / ``workflow_weekly_cap``: held until a
slot frees), and for behaviour-triggered workflows the 3-day rule (no text within 3 days of
our last message unless the lead wrote since: the step is skipped).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ghl_ai import effects
from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    OutboxStore,
    WorkflowRunStore,
    iso,
)
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import MAX_DELAY_SECONDS, JobQueue
from ghl_ai.conversation import compliance
from ghl_ai.conversation.outbound import Outbound
from ghl_ai.conversation.qualification import describe, stored_answers
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.jobs import MatchesJob, WorkflowStartJob, WorkflowStepJob
from ghl_ai.leads.models import LeadChanges, LeadKey, Message, sms_blocked
from ghl_ai.observability import logger
from ghl_ai.tenants import TenantDirectory, TenantProfile
from ghl_ai.webhooks.events import utcnow
from ghl_ai.workflows import definition as d
from ghl_ai.workflows.catalogue import builtin, for_location
from ghl_ai.workflows.experiments import assign

#: A step message lost after its run advanced is re-sent by the sweep after this much grace.
GRACE_SECONDS = 120
#: How long a step the sweep queued holds its run before the sweep queues it again.
SWEEP_LEASE_SECONDS = 600
HISTORY_KEPT = 50
THREE_DAYS = timedelta(days=3)
MESSAGE_TYPES = ("send_sms", "send_email", "send_matches")


def effect_id(run: Mapping[str, Any], seq: int) -> str:
    """The outbox id of the side effect of a run's ``seq``-th step. A run id is unique only
    within its lead (``<workflow>:<start id>``, and a trigger's start id names the contact, not
    the location), so the id names the lead too: the same contact id in two locations must
    never share a claim, or one location's text or task would be skipped as already done."""
    return f"wf:{run['locationId']}:{run['contactId']}:{run['runId']}:{seq}"


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def end_run(
    runs: WorkflowRunStore,
    run: dict[str, Any],
    seq: int,
    reason: str,
    *,
    now: datetime,
    cancelled: bool = False,
    history: list[Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """End the run at ``seq`` (done, or cancelled) with ``reason`` and free its workflow's lock
    for the lead. False when another copy advanced the run first (nothing was written)."""
    changes: dict[str, Any] = {
        **(extra or {}),
        "status": "cancelled" if cancelled else "done",
        "seq": seq + 1,
        "endReason": reason,
        "endedAt": iso(now),
        "updatedAt": iso(now),
        "dueAt": None,
        "dueBucket": None,
    }
    if history is not None:
        changes["history"] = history
    if not runs.advance(run, seq, changes):
        return False
    runs.unlock(run)
    return True


def cancel_run(
    runs: WorkflowRunStore,
    location_id: str,
    contact_id: str,
    run_id: str,
    reason: str,
    *,
    now: datetime,
    attempts: int = 3,
) -> bool:
    """Cancel an active or paused run (the engine's :meth:`WorkflowEngine.cancel`, and
    ``ghl-ai workflows cancel``, which needs only the runs table). A step taken at the same
    moment moves ``seq`` on: the run is read again and the cancel retried. False when there is
    no such run or it has already ended."""
    for _ in range(attempts):
        run = runs.get(location_id, contact_id, run_id)
        if run is None or run.get("status") not in ("active", "paused"):
            return False
        if end_run(runs, run, int(run["seq"]), reason, now=now, cancelled=True):
            return True
    return False


@dataclass(frozen=True)
class StepOutcome:
    """What a step did and where the run goes: ``next`` (at ``due``, now when None; a wait
    sets it), ``hold`` this step until ``due``, or ``end``."""

    action: str  # next | hold | end
    detail: str = ""
    next_step: str | None = None
    due: float | None = None
    changes: dict[str, Any] = field(default_factory=dict)


class WorkflowEngine:
    def __init__(
        self,
        *,
        runs: WorkflowRunStore,
        leads: LeadStore,
        events: BehaviourEventStore,
        messages: MessageStore,
        outbox: OutboxStore,
        tenants: TenantDirectory,
        queue: JobQueue,
        ghl: GhlClient | None,
        matches: JobQueue | None = None,
        time_scale: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runs = runs
        self._leads = leads
        self._events = events
        self._messages = messages
        self._outbox = outbox
        self._tenants = tenants
        self._queue = queue
        self._ghl = ghl
        self._writeback = GhlWriteBack(ghl) if ghl is not None else None
        self._outbound = (
            Outbound(leads=leads, outbox=outbox, ghl=ghl, clock=clock) if ghl is not None else None
        )
        self._matches = matches
        self._scale = time_scale
        self._clock = clock

    # -- definitions ---------------------------------------------------------------------------

    def workflows(self, profile: TenantProfile) -> dict[str, d.Workflow]:
        try:
            return for_location(profile.workflows)
        except d.WorkflowError as exc:
            logger.error(
                "the location's workflows are invalid; the built-ins run",
                extra={"location_id": profile.location_id, "problems": exc.problems[:5]},
            )
            return builtin()

    # -- starting ------------------------------------------------------------------------------

    def start(self, job: WorkflowStartJob) -> str:
        profile = self._tenants.profile(job.location_id)
        workflow = self.workflows(profile).get(job.workflow)
        if workflow is None:
            return f"no workflow {job.workflow!r}"
        now = self._clock()
        run_id = f"{workflow.name}:{job.id}"
        first = workflow.steps[0].id
        run = {
            "runId": run_id,
            "locationId": job.location_id,
            "contactId": job.contact_id,
            "workflow": workflow.name,
            "status": "active",
            "stepId": first,
            "seq": 0,
            "trigger": job.trigger,
            "context": dict(job.context),
            "startedAt": iso(now),
            "updatedAt": iso(now),
            "dueAt": now.timestamp() + GRACE_SECONDS,
            "dueBucket": WorkflowRunStore.DUE,
            "history": [],
        }
        if not self._runs.create(run, lock=not workflow.settings.allow_concurrent):
            return f"{workflow.name} already runs for this lead"
        self._send_step(run, 0, first, 0)
        return f"started {run_id}"

    # -- one step ------------------------------------------------------------------------------

    def step(self, job: WorkflowStepJob) -> str:
        run = self._runs.get(job.location_id, job.contact_id, job.run_id)
        if run is None:
            return "no such run"
        if run.get("status") != "active" or int(run["seq"]) != job.seq:
            return "stale step (already taken, or the run is not active)"
        if run["stepId"] != job.step_id:
            return "stale step (another step is due)"
        profile = self._tenants.profile(job.location_id)
        workflow = self.workflows(profile).get(str(run["workflow"]))
        if workflow is None:
            return self._end(run, job.seq, "its workflow no longer exists", cancelled=True)
        key = LeadKey(job.location_id, job.contact_id)
        # Completed from GHL the first time (name, phone, DND, zone), as the conversation does.
        lead = self._outbound.lead(key) if self._outbound else (self._leads.get(key) or {})
        goal = self._goal_met(workflow, run, lead)
        if goal:
            return self._end(run, job.seq, f"goal: {goal}")
        step = workflow.step(job.step_id)
        outcome = self._run_step(workflow, step, run, key, lead, profile, job.seq)
        return self._apply(workflow, run, job.seq, step, outcome)

    def _goal_met(self, workflow: d.Workflow, run: dict[str, Any], lead: dict[str, Any]) -> str:
        started = _epoch(run.get("startedAt")) or 0.0
        status = str((lead.get("opportunity") or {}).get("status") or "").lower()
        appointment = lead.get("appointment") or {}
        met = {
            "replied": (_epoch(lead.get("lastInboundAt")) or 0.0) > started,
            "appointment_booked": bool(appointment.get("startTime"))
            and str(appointment.get("appointmentStatus", "")).lower()
            not in ("cancelled", "noshow", "invalid"),
            "opted_out": bool(lead.get("optedOut")),
            "dnd": sms_blocked(lead, "SMS"),
            "handed_off": bool(lead.get("handedOff")),
            "opportunity_won": status == "won",
            "opportunity_lost": status in ("lost", "abandoned"),
        }
        if workflow.settings.stop_on_reply and met["replied"]:
            return "replied"
        return next((g for g in workflow.goals if met.get(g)), "")

    def _apply(
        self,
        workflow: d.Workflow,
        run: dict[str, Any],
        seq: int,
        step: Any,
        outcome: StepOutcome,
    ) -> str:
        now = self._clock().timestamp()
        entry = {
            "seq": seq,
            "step": step.id,
            "type": step.type,
            "at": now,
            "outcome": outcome.detail,
        }
        history = [*(run.get("history") or []), entry][-HISTORY_KEPT:]
        if outcome.action == "hold":
            due = float(outcome.due or now)
            changes = {"history": history, "dueAt": due, "dueBucket": WorkflowRunStore.DUE}
            changes["seq"] = seq + 1
            if not self._runs.advance(run, seq, {**changes, "updatedAt": iso(self._clock())}):
                return "stale step (another copy advanced the run)"
            self._send_step(run, seq + 1, step.id, due - now)
            return f"held: {outcome.detail}"
        following = outcome.next_step if outcome.action != "end" else None
        if outcome.action == "next" and following is None:
            following = workflow.after(step.id)
        if outcome.action == "end" or following is None:
            return self._end(
                run, seq, outcome.detail or "the last step", history=history, extra=outcome.changes
            )
        due = float(outcome.due) if outcome.due is not None else now
        changes = {
            **outcome.changes,
            "seq": seq + 1,
            "stepId": following,
            "history": history,
            "updatedAt": iso(self._clock()),
            "dueAt": due + (GRACE_SECONDS if due - now <= MAX_DELAY_SECONDS else 0),
            "dueBucket": WorkflowRunStore.DUE,
        }
        if not self._runs.advance(run, seq, changes):
            return "stale step (another copy advanced the run)"
        self._send_step(run, seq + 1, following, due - now)
        return outcome.detail or "done"

    def _end(
        self,
        run: dict[str, Any],
        seq: int,
        reason: str,
        *,
        cancelled: bool = False,
        history: list[Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        end_run(
            self._runs,
            run,
            seq,
            reason,
            now=self._clock(),
            cancelled=cancelled,
            history=history,
            extra=extra,
        )
        return f"ended: {reason}"

    def _send_step(self, run: dict[str, Any], seq: int, step_id: str, delay: float) -> None:
        """Queue the step if it is due within SQS's delay limit (the sweep queues the rest)."""
        if delay > MAX_DELAY_SECONDS:
            return
        job = WorkflowStepJob(
            location_id=run["locationId"],
            contact_id=run["contactId"],
            run_id=run["runId"],
            seq=seq,
            step_id=step_id,
        )
        self._queue.send(job.model_dump_json(), delay_seconds=max(0, math.ceil(delay)))

    # -- the sweep, cancellation ---------------------------------------------------------------

    def sweep(self) -> int:
        """Queue the step of every run that is due (the EventBridge schedule, every minute)."""
        now = self._clock().timestamp()
        queued = 0
        for run in self._runs.due(now):
            if run.get("status") != "active":
                continue
            seq = int(run["seq"])
            if not self._runs.advance(run, seq, {"dueAt": now + SWEEP_LEASE_SECONDS}):
                continue  # the run moved on meanwhile
            self._send_step(run, seq, str(run["stepId"]), 0)
            queued += 1
        return queued

    def cancel(self, location_id: str, contact_id: str, run_id: str, reason: str) -> bool:
        """End an active or paused run as cancelled (see :func:`cancel_run`)."""
        return cancel_run(self._runs, location_id, contact_id, run_id, reason, now=self._clock())

    def on_reply(self, location_id: str, contact_id: str) -> list[str]:
        """The lead wrote: cancel its runs that stop on a reply. Returns the runs cancelled."""
        profile = self._tenants.profile(location_id)
        workflows = self.workflows(profile)
        cancelled = []
        for run in self._runs.for_lead(location_id, contact_id):
            workflow = workflows.get(str(run.get("workflow")))
            stops = workflow is None or workflow.settings.stop_on_reply
            run_id = str(run["runId"])
            if (
                run.get("status") == "active"
                and stops
                and self.cancel(location_id, contact_id, run_id, "goal: replied")
            ):
                cancelled.append(run_id)
        return cancelled

    def pause(self, location_id: str, contact_id: str, run_id: str) -> bool:
        run = self._runs.get(location_id, contact_id, run_id)
        if run is None or run.get("status") != "active":
            return False
        changes = {"status": "paused", "dueBucket": None, "seq": int(run["seq"]) + 1}
        return self._runs.advance(run, int(run["seq"]), changes)

    def resume(self, location_id: str, contact_id: str, run_id: str) -> bool:
        """Resume a paused run: its next step is due when it was before the pause (now, if
        that has passed)."""
        run = self._runs.get(location_id, contact_id, run_id)
        if run is None or run.get("status") != "paused":
            return False
        now = self._clock().timestamp()
        due = max(float(run.get("dueAt") or now), now)
        seq = int(run["seq"]) + 1
        changes = {"status": "active", "seq": seq, "dueAt": due, "dueBucket": WorkflowRunStore.DUE}
        if not self._runs.advance(run, int(run["seq"]), changes):
            return False
        self._send_step({**run, **changes}, seq, str(run["stepId"]), due - now)
        return True

    # -- the steps -----------------------------------------------------------------------------

    def _run_step(
        self,
        workflow: d.Workflow,
        step: Any,
        run: dict[str, Any],
        key: LeadKey,
        lead: dict[str, Any],
        profile: TenantProfile,
        seq: int,
    ) -> StepOutcome:
        now = self._clock()
        if isinstance(step, d.End):
            return StepOutcome("end", "end")
        if isinstance(step, d.Wait):
            return self._wait(step, lead, profile, now)
        if isinstance(step, d.Branch):
            taken = self._holds(step.if_, run, key, lead)
            return StepOutcome("next", f"branch: {taken}", step.then if taken else step.else_)
        if isinstance(step, d.AbSplit):
            variant = assign(
                step.experiment,
                f"{key.location_id}:{key.contact_id}",
                {v.name: v.weight for v in step.variants},
            )
            chosen = next(v for v in step.variants if v.name == variant)
            variants = {
                **(run.get("variants") or {}),
                step.experiment: {"variant": variant, "at": now.timestamp()},
            }
            return StepOutcome(
                "next", f"variant {variant}", chosen.goto, changes={"variants": variants}
            )
        if isinstance(step, d.StartWorkflow):
            start = WorkflowStartJob(
                id=f"{run['runId']}:{seq}",
                received_at=now,
                location_id=key.location_id,
                contact_id=key.contact_id,
                workflow=step.workflow,
                trigger="workflow",
                context={k: str(v) for k, v in (run.get("context") or {}).items()},
            )
            self._queue.send(start.model_dump_json())
            return StepOutcome("next", f"started {step.workflow}")
        if self._ghl is None or self._outbound is None or self._writeback is None:
            return StepOutcome("next", "skipped: no GHL token")
        effect = effect_id(run, seq)
        values = self._values(run, lead, profile)
        if step.type in MESSAGE_TYPES:
            held = self._guard(workflow, lead, profile, now, key)
            if held is not None:
                return held
        ghl, contact = self._ghl, key.contact_id
        if isinstance(step, d.SendSms):
            return self._send_sms(step, key, lead, effect, d.render(step.text, values), now)
        if isinstance(step, d.SendEmail):
            if sms_blocked(lead, "Email") or not lead.get("email"):
                return StepOutcome("next", "skipped: no email, or DND for email")
            subject, body = d.render(step.subject, values), d.render(step.body, values)
            self._outbox.once(
                effect,
                lambda: ghl.send_message(contact, body, "Email", subject=subject, html=body),
                now,
            )
            self._count_proactive(key, lead, now)
            return StepOutcome("next", "email sent")
        if isinstance(step, d.SendMatches):
            if self._matches is None:
                return StepOutcome("next", "skipped: no matches queue")
            job = MatchesJob(
                id=effect,
                received_at=now,
                location_id=key.location_id,
                contact_id=contact,
                k=step.k,
                reason="workflow",
            )
            matches = self._matches
            self._outbox.once(f"{effect}:matches", lambda: matches.send(job.model_dump_json()), now)
            self._count_proactive(key, lead, now)
            return StepOutcome("next", "top matches requested")
        if isinstance(step, d.AddTag | d.RemoveTag):
            change = ghl.add_tags if isinstance(step, d.AddTag) else ghl.remove_tags
            tag = step.tag
            self._outbox.once(effect, lambda: change(contact, [tag]), now)
            return StepOutcome("next", f"{step.type} {tag}")
        if isinstance(step, d.UpdateField):
            value, writeback = d.render(step.value, values), self._writeback
            name = step.field
            self._outbox.once(
                effect,
                lambda: writeback.write_named_field(key.location_id, contact, name, value),
                now,
            )
            return StepOutcome("next", f"field {name} updated")
        if isinstance(step, d.CreateTask):
            title, body = d.render(step.title, values), d.render(step.body, values)
            due = now + d.parse_duration(step.due_in)
            effects.create_task(self._outbox, ghl, effect, key, title, due, body, now)
            return StepOutcome("next", "task created")
        if isinstance(step, d.NotifyAgent):
            text = d.render(step.text, values)
            effects.add_note(self._outbox, ghl, effect, key, text, now)
            return StepOutcome("next", "agent notified")
        return StepOutcome("next", f"skipped: {step.type}")

    def _wait(
        self, step: d.Wait, lead: dict[str, Any], profile: TenantProfile, now: datetime
    ) -> StepOutcome:
        if step.duration is not None:
            due = now + step.duration / self._scale
            return StepOutcome("next", f"wait {step.for_}", due=due.timestamp())
        tz = compliance.zone(lead.get("timezone"), profile.timezone)
        if step.until is not None:
            hour, minute = (int(x) for x in step.until.split(":"))
            local = now.astimezone(tz)
            at = datetime(local.year, local.month, local.day, hour, minute, tzinfo=tz)
            if at <= local:
                at = datetime.combine(at.date() + timedelta(days=1), at.timetz())
            due = now + (at - local) / self._scale
            return StepOutcome("next", f"wait until {step.until}", due=due.timestamp())
        start = _epoch((lead.get("appointment") or {}).get("startTime"))
        if start is None:
            return StepOutcome("next", "no appointment: no wait")
        assert step.before_appointment is not None
        moment = start - d.parse_duration(step.before_appointment).total_seconds()
        if moment <= now.timestamp():
            return StepOutcome("next", "appointment too close: no wait")
        due_at = now.timestamp() + (moment - now.timestamp()) / self._scale
        return StepOutcome("next", f"wait until {step.before_appointment} before", due=due_at)

    def _guard(
        self,
        workflow: d.Workflow,
        lead: dict[str, Any],
        profile: TenantProfile,
        now: datetime,
        key: LeadKey,
    ) -> StepOutcome | None:
        """Why this message must wait (a hold) or be skipped (next), or None to send it."""
        assert self._outbound is not None
        gate = self._outbound.gate(lead, profile)
        if gate == "a human is in the conversation":
            human = _epoch(lead.get("lastHumanOutboundAt")) or now.timestamp()
            due = human + profile.human_pause_minutes * 60
            return StepOutcome("hold", "held: a human is in the conversation", due=due)
        if gate:
            return StepOutcome("next", f"skipped: {gate}")
        if not lead.get("phone") and lead.get("ghlSyncedAt"):
            return StepOutcome("next", "skipped: no phone")
        if workflow.settings.behaviour_triggered:
            last_out = _epoch(lead.get("lastOutboundAt"))
            last_in = _epoch(lead.get("lastInboundAt")) or 0.0
            recent = (
                last_out is not None and now.timestamp() - last_out < THREE_DAYS.total_seconds()
            )
            if recent and last_in <= (last_out or 0.0):
                return StepOutcome("next", "skipped: contacted in the last 3 days (3-day rule)")
        opens = self._outbound.window_opens(lead, profile, now)
        if opens > now:
            return StepOutcome(
                "hold", f"held for quiet hours until {iso(opens)}", due=opens.timestamp()
            )
        sent = sorted(float(t) for t in lead.get("proactiveSentAt") or [])
        day = [t for t in sent if now.timestamp() - t < 86400]
        week = [t for t in sent if now.timestamp() - t < 7 * 86400]
        if len(day) >= profile.workflow_daily_cap:
            due = day[0] + 86400
            return StepOutcome("hold", f"held: daily cap of {profile.workflow_daily_cap}", due=due)
        if len(week) >= profile.workflow_weekly_cap:
            due = week[0] + 7 * 86400
            return StepOutcome(
                "hold", f"held: weekly cap of {profile.workflow_weekly_cap}", due=due
            )
        return None

    def _count_proactive(self, key: LeadKey, lead: dict[str, Any], now: datetime) -> None:
        week = [
            float(t)
            for t in lead.get("proactiveSentAt") or []
            if now.timestamp() - float(t) < 7 * 86400
        ]
        self._leads.apply(key, LeadChanges(set={"proactiveSentAt": [*week, now.timestamp()]}))

    def _send_sms(
        self,
        step: d.SendSms,
        key: LeadKey,
        lead: dict[str, Any],
        effect: str,
        text: str,
        now: datetime,
    ) -> StepOutcome:
        assert self._outbound is not None
        claim = self._outbox.claim(
            effect, {"kind": "workflow_sms", "body": text, "contactId": key.contact_id}, now
        )
        body = str(claim.get("body") or text)
        if claim.get("status") == "done":
            return StepOutcome("next", "sms already sent")
        if not self._outbound.send(key, effect, claim, body):
            return StepOutcome("next", "skipped: GHL refused the text")
        self._count_proactive(key, lead, now)
        self._messages.put(
            Message(
                lead=key,
                message_id=str(claim.get("messageId") or effect),
                direction="outbound",
                channel="SMS",
                body=body,
                sent_at=now,
                source="workflow",
            )
        )
        self._leads.apply(key, LeadChanges(set={"lastOutboundAt": iso(now)}))
        return StepOutcome("next", "sms sent")

    # -- conditions and template values --------------------------------------------------------

    def _holds(
        self, c: d.Condition, run: dict[str, Any], key: LeadKey, lead: dict[str, Any]
    ) -> bool:
        if c.all is not None:
            return all(self._holds(x, run, key, lead) for x in c.all)
        if c.any is not None:
            return any(self._holds(x, run, key, lead) for x in c.any)
        if c.not_ is not None:
            return not self._holds(c.not_, run, key, lead)
        score = lead.get("score") or {}
        if c.tag is not None:
            return c.tag.lower() in {str(t).lower() for t in lead.get("tags") or []}
        if c.score_at_least is not None:
            return float(score.get("value") or 0) >= c.score_at_least
        if c.temperature is not None:
            return (score.get("temperature") or lead.get("temperature")) == c.temperature
        if c.churn_risk_at_least is not None:
            return float((lead.get("churn") or {}).get("d30") or 0) >= c.churn_risk_at_least
        if c.replied_since_start is not None:
            replied = (_epoch(lead.get("lastInboundAt")) or 0) > (_epoch(run.get("startedAt")) or 0)
            return replied == c.replied_since_start
        if c.appointment_booked is not None:
            booked = bool((lead.get("appointment") or {}).get("startTime"))
            return booked == c.appointment_booked
        if c.days_since_last_activity_at_least is not None:
            last = self._events.latest(key)
            at = _epoch((last or {}).get("timestamp")) or _epoch(lead.get("lastInboundAt"))
            days = math.inf if at is None else (self._clock().timestamp() - at) / 86400
            return days >= c.days_since_last_activity_at_least
        if c.answer is not None:
            answer = stored_answers(lead.get("answers")).get(c.answer.name)
            return _test(c.answer, None if answer is None else answer.value)
        if c.field is not None and self._writeback is not None:
            fields = self._writeback.named_fields(key.location_id, key.contact_id)
            return _test(c.field, fields.get(c.field.name.lower()))
        return False

    def _values(
        self, run: dict[str, Any], lead: dict[str, Any], profile: TenantProfile
    ) -> dict[str, Any]:
        answers = stored_answers(lead.get("answers"))
        persona = profile.persona

        def said(name: str) -> str:
            answer = answers.get(name)
            return describe(name, answer.value) if answer is not None else ""  # type: ignore[arg-type]

        appointment = _epoch((lead.get("appointment") or {}).get("startTime"))
        when = ""
        if appointment is not None:
            tz = compliance.zone(lead.get("timezone"), profile.timezone)
            local = datetime.fromtimestamp(appointment, ZoneInfo("UTC")).astimezone(tz)
            when = local.strftime("%A at %-I:%M %p").replace(":00 ", " ")
        context = run.get("context") or {}
        return {
            "first_name": lead.get("firstName"),
            "last_name": lead.get("lastName"),
            "agent_name": persona.agent_name,
            "brokerage": persona.brokerage,
            "market_area": persona.market_area,
            "area": said("area") or persona.market_area,
            "budget": said("budget"),
            "bedrooms": said("bedrooms"),
            "property_type": said("property_type"),
            "timeline": said("timeline"),
            "appointment_time": when,
            "alert": context.get("alert"),
            "score": (lead.get("score") or {}).get("value") or context.get("score"),
            "listing_address": context.get("listing_address"),
        }


def _test(test: d.FieldTest, value: Any) -> bool:
    if test.present is not None:
        return (value not in (None, "", [], {})) == test.present
    return str(value).strip().lower() == str(test.equals).strip().lower()
