"""Worker Lambda (SQS job queue): applies GHL events to lead state and works the conversation.

Powertools BatchProcessor reports partial batch failures (template: ReportBatchItemFailures),
so one bad message is retried alone and, after maxReceiveCount receives, lands in the DLQ.
Each job runs in two idempotent steps keyed on the job id — ``track`` (lead state, history)
and ``converse`` (reply, write-back) — so a failed reply is retried without counting the
message twice. After each job about a lead the worker asks the ScoringFunction to rescore it
(its stream or its answers changed). The Anthropic SDK is imported only when a key is
configured. Each location's conversation runs with that location's GHL client
(ghl_ai.credentials); a location without credentials is tracked, never answered.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ghl_ai import knowledge
from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    OutboxStore,
    VisitorStore,
    WebhookInbox,
    WorkflowRunStore,
)
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.config import WorkerSettings, worker_settings
from ghl_ai.conversation.engine import ConversationEngine, Outcome
from ghl_ai.conversation.model import Brain
from ghl_ai.conversation.rules import RuleBrain
from ghl_ai.credentials import GhlClients
from ghl_ai.forms.processor import FormProcessor
from ghl_ai.jobs import (
    Identity,
    Job,
    LyrioFormJob,
    MatchesJob,
    OutreachJob,
    ScoringJob,
    parse_job,
)
from ghl_ai.leads.erase import LeadEraser
from ghl_ai.leads.events import lead_key, message_of
from ghl_ai.leads.models import LeadKey
from ghl_ai.leads.tracker import LeadTracker
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import utcnow
from ghl_ai.workflows.triggers import WorkflowStarter

AnyJob = Job | LyrioFormJob | OutreachJob


def claude_brain(settings: WorkerSettings) -> Brain | None:
    if settings.anthropic_api_key is None:
        return None
    from ghl_ai.conversation.claude import ClaudeBrain  # imports anthropic: only when used

    return ClaudeBrain(
        api_key=settings.anthropic_api_key.get_secret_value(),
        model=settings.anthropic_model,
        timeout=settings.anthropic_timeout_seconds,
    )


class Conversation:
    """A location's conversation engine and form processor, with its own GHL client."""

    def __init__(self, engine: ConversationEngine, forms: FormProcessor) -> None:
        self.engine = engine
        self.forms = forms


class Dependencies:
    def __init__(self, settings: WorkerSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        leads = LeadStore(dynamodb, settings.leads_table)
        messages = MessageStore(dynamodb, settings.messages_table)
        events = BehaviourEventStore(dynamodb, settings.events_table)
        # ContactDelete erases the lead from every table that holds it (ghl_ai.leads.erase).
        eraser = LeadEraser(
            leads=leads,
            messages=messages,
            events=events,
            outbox=OutboxStore(dynamodb, settings.outbox_table),
            runs=WorkflowRunStore(dynamodb, settings.runs_table) if settings.runs_table else None,
            webhooks=WebhookInbox(dynamodb, settings.webhooks_table)
            if settings.webhooks_table
            else None,
            visitors=VisitorStore(dynamodb, settings.visitors_table)
            if settings.visitors_table
            else None,
        )
        self.tracker = LeadTracker(leads, messages, events, eraser)
        sqs = boto3.client("sqs")
        self._leads, self._messages, self._events = leads, messages, events
        self.scoring = (
            JobQueue(sqs, settings.scoring_queue_url) if settings.scoring_queue_url else None
        )
        self.matches = (
            JobQueue(sqs, settings.matches_queue_url) if settings.matches_queue_url else None
        )
        self.tenants = TenantDirectory(settings, dynamodb)
        self.workflows = (
            WorkflowStarter(JobQueue(sqs, settings.workflow_queue_url), self.tenants)
            if settings.workflow_queue_url
            else None
        )
        self.ghl = GhlClients.from_settings(
            settings, location_id=settings.ghl_location_id, metrics=metrics
        )
        self._outbox = OutboxStore(dynamodb, settings.outbox_table)
        self._jobs = JobQueue(sqs, settings.jobs_queue_url)
        # A lead's question answered from the agent's documents (none without the table).
        self._knowledge = knowledge.base_from_settings(settings.knowledge_table, client=dynamodb)
        self._rules = RuleBrain()
        self._claude = claude_brain(settings)
        self._conversations: dict[str, Conversation] = {}
        if not self.ghl.configured:
            logger.warning("no GHL credentials: leads are tracked but not answered")
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=72 * 3600,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=dynamodb
        )
        once = idempotent_function(
            data_keyword_argument="job",
            persistence_store=persistence,
            config=self.idempotency_config,
        )

        # Two steps, two idempotency records (Powertools keys them by function name).
        @once
        def track(job: Job) -> dict[str, str]:
            outcome = self.tracker.handle(job)
            return {"action": outcome.action, "detail": outcome.detail}

        @once
        def converse(job: AnyJob) -> dict[str, str]:
            outcome = self._converse(job)
            return {"action": outcome.action, "reason": outcome.reason}

        self.track = track
        self.converse = converse

    def conversation(self, location_id: str) -> Conversation | None:
        """The location's engine (built once per container), or None without credentials."""
        found = self._conversations.get(location_id)
        if found is not None:
            return found
        ghl = self.ghl.for_location(location_id)
        if ghl is None:
            return None
        found = Conversation(
            ConversationEngine(
                leads=self._leads,
                messages=self._messages,
                outbox=self._outbox,
                ghl=ghl,
                tenants=self.tenants,
                jobs=self._jobs,
                matches=self.matches,
                rules=self._rules,
                claude=self._claude,
                workflows=self.workflows,  # a browsing lead starts long-term nurture
                knowledge=self._knowledge,
            ),
            FormProcessor(ghl, self._leads, self._events),
        )
        self._conversations[location_id] = found
        return found

    def request_score(
        self, job_id: str, key: LeadKey, reason: str, visitor: str | None = None
    ) -> None:
        """Ask the ScoringFunction to rescore the lead (and attach the website visitor the
        lead turned out to be)."""
        if self.scoring is None:
            return
        identities = (
            [Identity(visitor_id=visitor, contact_id=key.contact_id, source="form")]
            if visitor
            else []
        )
        job = ScoringJob(
            id=f"rescore:{job_id}",
            received_at=utcnow(),
            location_id=key.location_id,
            contacts=[key.contact_id],
            identities=identities,
            reason=reason,
        )
        self.scoring.send(job.model_dump_json())

    def _request_matches(self, job_id: str, key: LeadKey, tag: str) -> Outcome:
        """A GHL workflow added the matches tag: the RecommendationsFunction texts the lead its
        top listing matches (its own guardrails, quiet hours and no-repeat rule apply there)."""
        if self.matches is None:
            return Outcome("skipped", "no matches queue")
        job = MatchesJob(
            id=f"tag:{job_id}",
            received_at=utcnow(),
            location_id=key.location_id,
            contact_id=key.contact_id,
            reason="matches_tag",
        )
        self.matches.send(job.model_dump_json())
        return Outcome("queued", f"top matches requested (tag {tag})")

    def _converse(self, job: AnyJob) -> Outcome:
        outcome = self._conversation(job)
        if self.workflows is not None:
            self._fire_workflows(job, outcome)
        return outcome

    def _fire_workflows(self, job: AnyJob, outcome: Outcome) -> None:
        """Start the workflows this job triggers, and tell them a lead replied."""
        assert self.workflows is not None
        if not isinstance(job, Job):
            return
        event, key = job.event, lead_key(job.event)
        if key is None:
            return
        if event.type == "InboundMessage" and event.direction == "inbound":
            self.workflows.replied(key)
        elif event.type == "AppointmentCreate":
            appointment = event.payload.get("appointment") or {}
            cause = str(appointment.get("id") or job.id)
            self.workflows.fire(key, "appointment_created", cause)
        elif event.type in ("ContactTagUpdate", "WorkflowWebhook"):
            for tag in {str(t).lower() for t in event.payload.get("tags") or []}:
                self.workflows.fire(key, "tag_added", f"{key.contact_id}:{tag}", tag=tag)

    def _start(
        self,
        engine: ConversationEngine,
        key: LeadKey,
        reason: str,
        context: dict[str, Any] | None = None,
    ) -> Outcome:
        """Write first; once our first text is out, the follow-up workflows start."""
        outcome = engine.start(key, reason, context)
        if outcome.action == "replied" and self.workflows is not None:
            self.workflows.fire(key, "first_outbound", key.contact_id)
        return outcome

    def _conversation(self, job: AnyJob) -> Outcome:
        location_id = job.event.location_id if isinstance(job, Job) else job.location_id
        conversation = self.conversation(location_id)
        if conversation is None:
            return Outcome("skipped", "no GHL token")
        engine = conversation.engine
        if isinstance(job, OutreachJob):
            return self._start(engine, LeadKey(job.location_id, job.contact_id), job.reason)
        if isinstance(job, LyrioFormJob):
            key, context = conversation.forms.handle(job)
            self.request_score(job.id, key, "form", visitor=job.form.visitor_id)
            if not job.form.consent:
                return Outcome("skipped", "no consent to text")
            return self._start(engine, key, "form", context)
        event, contact = job.event, lead_key(job.event)
        if contact is None:
            return Outcome("skipped", "no contact")
        if event.type == "InboundMessage" and event.direction == "inbound":
            message = message_of(event, job.received_at)
            assert message is not None
            return engine.on_inbound(message)
        if event.type == "ContactCreate":
            return self._start(engine, contact, "contact_created")
        tags = {str(t).lower() for t in event.payload.get("tags") or []}
        profile = self.tenants.profile(contact.location_id)
        if event.type in ("WorkflowWebhook", "ContactTagUpdate") and profile.activation_tag in tags:
            return self._start(engine, contact, "activation_tag")
        if event.type in ("WorkflowWebhook", "ContactTagUpdate") and profile.matches_tag in tags:
            return self._request_matches(job.id, contact, profile.matches_tag)
        return Outcome("skipped", f"nothing to say on {event.type}")


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(worker_settings())


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        # A body that is not a valid job raises here: retried, then parked in the DLQ.
        job = parse_job(record.body)
        tracked: dict[str, str] = {}
        if isinstance(job, Job):
            tracked = deps().track(job=job)
        result = deps().converse(job=job)
        if isinstance(job, Job) and job.event.type != "ContactDelete":
            key = lead_key(job.event)
            if key is not None:
                deps().request_score(job.id, key, job.event.type)
    except Exception as exc:
        # Type and ids only: the message text of some errors quotes the body.
        logger.error(
            "job failed; SQS will retry it, then park it in the DLQ",
            extra={
                "sqs_message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(exc).__name__,
            },
        )
        metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
        raise
    logger.info(
        "job done",
        extra={
            "job_id": job.id,
            "kind": job.kind,
            "type": job.event.type if isinstance(job, Job) else job.kind,
            "location_id": job.event.location_id if isinstance(job, Job) else job.location_id,
            "action": tracked.get("action", "-"),
            "conversation": result["action"],
            "reason": result.get("reason", ""),
        },
    )
    metrics.add_metric(name="JobsProcessed", unit=MetricUnit.Count, value=1)
    if result["action"] == "replied":
        metrics.add_metric(name="RepliesSent", unit=MetricUnit.Count, value=1)
    return {"action": tracked.get("action", result["action"]), "conversation": result["action"]}


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    deps().idempotency_config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
