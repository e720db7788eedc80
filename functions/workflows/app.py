"""Workflow Lambda: the steps of nurture sequences (SQS workflow queue: starts and steps,
partial batch failure, DLQ) and, every minute, the sweep of runs whose wait is over
(EventBridge schedule). See ghl_ai/workflows/engine.py for how a step runs exactly once.
A location's steps run on an engine holding that location's GHL client (ghl_ai.credentials);
without credentials its runs advance and send nothing.
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
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    OutboxStore,
    WorkflowRunStore,
)
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.config import WorkflowSettings, workflow_settings
from ghl_ai.credentials import GhlClients
from ghl_ai.jobs import WorkflowReplyJob, WorkflowStartJob, parse_workflow_job
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows.engine import WorkflowEngine


class Dependencies:
    def __init__(self, settings: WorkflowSettings) -> None:
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        self.ghl = GhlClients.from_settings(
            settings, location_id=settings.ghl_location_id, metrics=metrics
        )
        if not self.ghl.configured:
            logger.warning("no GHL credentials: workflows advance but send nothing")
        self._parts: dict[str, Any] = dict(
            runs=WorkflowRunStore(dynamodb, settings.runs_table),
            leads=LeadStore(dynamodb, settings.leads_table),
            events=BehaviourEventStore(dynamodb, settings.events_table),
            messages=MessageStore(dynamodb, settings.messages_table),
            outbox=OutboxStore(dynamodb, settings.outbox_table),
            tenants=TenantDirectory(settings, dynamodb),
            queue=JobQueue(sqs, settings.workflow_queue_url),
            matches=JobQueue(sqs, settings.matches_queue_url)
            if settings.matches_queue_url
            else None,
            time_scale=settings.workflow_time_scale,
        )
        self._engines: dict[str, WorkflowEngine] = {}

    def engine(self, location_id: str | None = None) -> WorkflowEngine:
        """The location's engine, with its GHL client (built once per container); without
        a location (the sweep) or credentials, one that sends nothing."""
        ghl = self.ghl.for_location(location_id) if location_id else None
        key = location_id if ghl is not None and location_id else ""
        found = self._engines.get(key)
        if found is None:
            found = WorkflowEngine(ghl=ghl, **self._parts)
            self._engines[key] = found
        return found


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(workflow_settings())


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        job = parse_workflow_job(record.body)
        engine = deps().engine(job.location_id)
        if isinstance(job, WorkflowStartJob):
            outcome = engine.start(job)
        elif isinstance(job, WorkflowReplyJob):
            cancelled = engine.on_reply(job.location_id, job.contact_id)
            outcome = f"replied: {len(cancelled)} runs ended"
        else:
            outcome = engine.step(job)
    except Exception as exc:
        logger.error(
            "workflow job failed; SQS will retry it, then park it in the DLQ",
            extra={
                "sqs_message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(exc).__name__,
            },
        )
        metrics.add_metric(name="WorkflowJobsFailed", unit=MetricUnit.Count, value=1)
        raise
    logger.info(
        "workflow job done",
        extra={
            "kind": job.kind,
            "location_id": job.location_id,
            "contact_id": job.contact_id,
            "workflow": getattr(job, "workflow", None) or getattr(job, "run_id", None),
            "outcome": outcome,
        },
    )
    metrics.add_metric(name="WorkflowSteps", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("detail-type") == "Scheduled Event":
        queued = deps().engine().sweep()
        logger.info("workflow sweep", extra={"queued": queued})
        return {"queued": queued}
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
