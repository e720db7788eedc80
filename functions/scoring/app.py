"""Scoring Lambda (SQS scoring queue): new behaviour → features → lead score, reasons, alerts.

Powertools BatchProcessor reports partial batch failures (template: ReportBatchItemFailures):
a job that fails is retried alone and, after maxReceiveCount receives, parked in ScoringDLQ.
Jobs are safe to repeat: stitching moves keep sort keys, GHL is written only when the score
changed, and alerts are claimed once per rule and cool-down. Cold start imports the model layer
(numpy) and never scikit-learn or pandas. Each location is scored by a service holding that
location's GHL client (ghl_ai.credentials); without credentials its leads are scored and
nothing is written.
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

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, OutboxStore, VisitorStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.behaviour.stitching import Stitcher
from ghl_ai.config import ScoringSettings, scoring_settings
from ghl_ai.credentials import GhlClients
from ghl_ai.jobs import ScoringJob
from ghl_ai.observability import logger, metrics
from ghl_ai.scoring.score import Scorer
from ghl_ai.scoring.service import ScoringService
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows.triggers import WorkflowStarter
from ghl_models import model_for, served


class Dependencies:
    def __init__(self, settings: ScoringSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        self._events = BehaviourEventStore(dynamodb, settings.events_table)
        self._tenants = TenantDirectory(settings, dynamodb)
        self._leads = LeadStore(dynamodb, settings.leads_table)
        self._stitcher = Stitcher(VisitorStore(dynamodb, settings.visitors_table), self._events)
        self._outbox = OutboxStore(dynamodb, settings.outbox_table)
        self._workflows = (
            WorkflowStarter(
                JobQueue(boto3.client("sqs"), settings.workflow_queue_url), self._tenants
            )
            if settings.workflow_queue_url
            else None
        )
        self.ghl = GhlClients.from_settings(
            settings, location_id=settings.ghl_location_id, metrics=metrics
        )
        if not self.ghl.configured:
            logger.warning("no GHL credentials: leads are scored but nothing is written")
        self._services: dict[str, ScoringService] = {}

    def service(self, location_id: str) -> ScoringService:
        """The location's scoring service (built once per container per location), writing
        to GHL with the location's own client, or to nobody without credentials."""
        ghl = self.ghl.for_location(location_id)
        key = location_id if ghl is not None else ""
        found = self._services.get(key)
        if found is None:
            found = ScoringService(
                leads=self._leads,
                events=self._events,
                stitcher=self._stitcher,
                outbox=self._outbox,
                tenants=self._tenants,
                scorers=scorer_for,
                ghl=ghl,
                workflows=self._workflows,
            )
            self._services[key] = found
        return found


@lru_cache(maxsize=64)
def scorer_for(location_id: str) -> Scorer:
    """The location's lead-score model (its own once retrained, else the layer's default),
    loaded once per container."""
    return Scorer(served(model_for("lead_score", location_id)))


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(scoring_settings())


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        # A body that is not a scoring job raises here: retried, then parked in the DLQ.
        job = ScoringJob.model_validate_json(record.body)
        outcomes = deps().service(job.location_id).handle(job)
    except Exception as exc:
        logger.error(
            "scoring job failed; SQS will retry it, then park it in the DLQ",
            extra={
                "sqs_message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(exc).__name__,
            },
        )
        metrics.add_metric(name="ScoringJobsFailed", unit=MetricUnit.Count, value=1)
        raise
    for outcome in outcomes:
        logger.info(
            "lead scored",
            extra={
                "location_id": job.location_id,
                "contact_id": outcome.contact_id,
                "score": outcome.score,
                "temperature": outcome.temperature,
                "written": outcome.written,
                "alerts": outcome.alerts,
                "detail": outcome.detail,
            },
        )
        if outcome.alerts:
            metrics.add_metric(name="AlertsFired", unit=MetricUnit.Count, value=len(outcome.alerts))
    metrics.add_metric(name="LeadsScored", unit=MetricUnit.Count, value=len(outcomes))
    return {"job_id": job.id, "leads": len(outcomes)}


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
