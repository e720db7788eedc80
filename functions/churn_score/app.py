"""Churn score Lambda (SQS churn queue): scores the chunks the sweep queued — the 7/14/30-day
churn risk, tier and reasons of each lead — writes the *Churn Risk* field and the tier tag to
GHL when they change, and starts a re-engagement play for a lead whose risk rose into an
actionable tier (``ghl_ai/churn/sweep.py``).

Powertools BatchProcessor reports partial batch failures (template: ReportBatchItemFailures):
a chunk that fails is retried alone and, after maxReceiveCount receives, parked in ChurnDLQ.
Chunks are safe to repeat: a lead is scored once per day. Cold start imports the model layer
(numpy) and never scikit-learn or pandas. A chunk (one location's leads) is written to GHL with
that location's client (ghl_ai.credentials); without credentials nothing is written.
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

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.churn.risk import ChurnPredictor
from ghl_ai.churn.score import ChurnScorer, summarise
from ghl_ai.config import ChurnSettings, churn_settings
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.credentials import GhlClients
from ghl_ai.jobs import ChurnChunkJob
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows.triggers import WorkflowStarter
from ghl_models import churn_models


@lru_cache(maxsize=64)
def predictor_for(location_id: str) -> ChurnPredictor:
    """The location's churn models (its own once retrained, else the layer's)."""
    return ChurnPredictor(churn_models(location_id))


class Dependencies:
    def __init__(self, settings: ChurnSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        self.ghl = GhlClients.from_settings(
            settings, location_id=settings.ghl_location_id, metrics=metrics
        )
        if not self.ghl.configured:
            logger.warning("no GHL credentials: churn risk is scored but nothing is written")
        self._leads = LeadStore(dynamodb, settings.leads_table)
        self._events = BehaviourEventStore(dynamodb, settings.events_table)
        self._workflows = None
        if settings.workflow_queue_url:
            self._workflows = WorkflowStarter(
                JobQueue(boto3.client("sqs"), settings.workflow_queue_url),
                TenantDirectory(settings, dynamodb),
            )
        self._scorers: dict[str, ChurnScorer] = {}

    def scorer(self, location_id: str) -> ChurnScorer:
        """The location's scorer (built once per container), writing to GHL with the
        location's own client, or to nobody without credentials."""
        ghl = self.ghl.for_location(location_id)
        key = location_id if ghl is not None else ""
        found = self._scorers.get(key)
        if found is None:
            found = ChurnScorer(
                leads=self._leads,
                events=self._events,
                predictors=predictor_for,
                writeback=GhlWriteBack(ghl) if ghl is not None else None,
                workflows=self._workflows,
            )
            self._scorers[key] = found
        return found


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(churn_settings())


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        # A body that is not a churn chunk raises here: retried, then parked in the DLQ.
        job = ChurnChunkJob.model_validate_json(record.body)
        outcomes = deps().scorer(job.location_id).handle(job)
    except Exception as exc:
        logger.error(
            "churn chunk failed; SQS will retry it, then park it in the DLQ",
            extra={
                "sqs_message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(exc).__name__,
            },
        )
        metrics.add_metric(name="ChurnChunksFailed", unit=MetricUnit.Count, value=1)
        raise
    counts = summarise(outcomes)
    logger.info(
        "churn chunk scored",
        extra={"location_id": job.location_id, "day": job.day, "chunk": job.id, **counts},
    )
    metrics.add_metric(name="ChurnLeadsScored", unit=MetricUnit.Count, value=len(outcomes))
    if counts["plays"]:
        metrics.add_metric(name="ChurnPlaysStarted", unit=MetricUnit.Count, value=counts["plays"])
    return {"chunk": job.id, **counts}


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
