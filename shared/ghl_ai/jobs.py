"""What travels on the job queue from the intake to the worker (and from the worker to itself).

* :class:`Job` (``ghl_event``) — a GHL webhook to apply to lead state and, for inbound
  messages, to answer.
* :class:`LyrioFormJob` — a website form: upsert the GHL contact, record the submission, start
  qualification when the lead consented.
* :class:`OutreachJob` — a proactive first message that must wait for the lead's
  quiet-hours-safe window; the worker re-queues it with a delay until the window opens.

Each job's ``id`` is its idempotency key in the worker.

On the workflow queue, :class:`WorkflowStartJob` and :class:`WorkflowStepJob`: start a nurture
sequence for a lead, run one step of a run (the WorkflowFunction).

On the matches queue, :class:`MatchesJob`: text a lead its top listing matches (the
RecommendationsFunction; a GHL workflow's tag, the conversation once a buyer is qualified).

On the scoring queue, :class:`ScoringJob`: leads whose behaviour changed (new website events,
a message, a form, a GHL event) and visitors identified, for the ScoringFunction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ghl_ai.forms.lyrio import LyrioForm
from ghl_ai.webhooks.events import GhlWebhook


class Job(BaseModel):
    """A GHL webhook. ``id`` is the delivery's dedupe key."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["ghl_event"] = "ghl_event"
    received_at: datetime
    event: GhlWebhook


class LyrioFormJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["lyrio_form"] = "lyrio_form"
    received_at: datetime
    location_id: str
    form: LyrioForm


class OutreachJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["outreach"] = "outreach"
    received_at: datetime
    location_id: str
    contact_id: str
    #: Why we write first: contact_created | form | activation_tag
    reason: str


class Identity(BaseModel):
    """A website visitor found to be a GHL contact."""

    model_config = ConfigDict(frozen=True)

    visitor_id: str
    contact_id: str
    source: str  # event | form | link


class ScoringJob(BaseModel):
    """Rescore these leads of one location: their streams changed."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["score"] = "score"
    received_at: datetime
    location_id: str
    contacts: list[str] = Field(default_factory=list)
    #: Anonymous visitors with new events (attached to their contact once identified).
    visitors: list[str] = Field(default_factory=list)
    identities: list[Identity] = Field(default_factory=list)
    reason: str = "events"


class WorkflowStartJob(BaseModel):
    """Start ``workflow`` for a lead (WorkflowFunction). ``id`` names the start: a redelivery
    starts nothing twice."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["workflow_start"] = "workflow_start"
    received_at: datetime
    location_id: str
    contact_id: str
    workflow: str
    #: What started it: first_outbound | appointment_created | score_hot | behaviour_alert |
    #: churn_risk | tag_added | workflow | manual
    trigger: str = "manual"
    #: Values the templates may use (``alert``, ``score``, ``appointment_time`` ...).
    context: dict[str, str] = Field(default_factory=dict)


class WorkflowStepJob(BaseModel):
    """Run step ``step_id`` of a run, as its ``seq``-th step. A copy (redelivery, the sweeper's
    safety net) whose ``seq`` the run has passed is dropped."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["workflow_step"] = "workflow_step"
    location_id: str
    contact_id: str
    run_id: str
    seq: int = Field(ge=0)
    step_id: str


class WorkflowReplyJob(BaseModel):
    """The lead wrote: its runs that stop on a reply end now (not at their next step)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["workflow_reply"] = "workflow_reply"
    location_id: str
    contact_id: str


class ChurnChunkJob(BaseModel):
    """Score these leads' churn risk for the sweep of ``day`` (ChurnScoreFunction). A lead
    already scored that day is skipped, so a redelivered chunk or a re-run sweep scores each
    lead once."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["churn_chunk"] = "churn_chunk"
    location_id: str = Field(min_length=1)
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    contacts: list[str] = Field(min_length=1, max_length=100)


WorkflowJobs = WorkflowStartJob | WorkflowStepJob | WorkflowReplyJob
WorkflowJob = Annotated[WorkflowJobs, Field(discriminator="kind")]
_WORKFLOW_ADAPTER: TypeAdapter[WorkflowJobs] = TypeAdapter(WorkflowJob)


def parse_workflow_job(body: str) -> WorkflowJobs:
    return _WORKFLOW_ADAPTER.validate_json(body)


class MatchesJob(BaseModel):
    """Send this lead its top listing matches by SMS. ``id`` names the send: a redelivered or
    held-and-requeued job with the same id never texts twice."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["send_matches"] = "send_matches"
    received_at: datetime
    location_id: str
    contact_id: str
    #: How many listings the text carries at most.
    k: int = Field(default=3, ge=1, le=5)
    #: Why: matches_tag | qualified | workflow | manual
    reason: str = "manual"


AnyJob = Annotated[Job | LyrioFormJob | OutreachJob, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[Job | LyrioFormJob | OutreachJob] = TypeAdapter(AnyJob)


def parse_job(body: str) -> Job | LyrioFormJob | OutreachJob:
    """Raises pydantic.ValidationError for a body that is not a job (it ends in the DLQ)."""
    return _ADAPTER.validate_json(body)
