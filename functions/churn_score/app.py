"""Churn score Lambda (SQS churn queue): scores the chunks the sweep queued — the 7/14/30-day
churn risk, tier and reasons of each lead — writes the *Churn Risk* field and the tier tag to
GHL when they change, and starts a re-engagement play for a lead whose risk rose into an
actionable tier (``ghl_ai/churn/sweep.py``).

Powertools BatchProcessor reports partial batch failures (template: ReportBatchItemFailures):
a chunk that fails is retried alone and, after maxReceiveCount receives, parked in ChurnDLQ.
Chunks are safe to repeat: a lead is scored once per day. Cold start imports the model layer
(numpy) and never scikit-learn or pandas.
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
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.churn.risk import ChurnPredictor
from ghl_ai.churn.score import ChurnScorer, summarise
from ghl_ai.config import ChurnSettings, churn_settings
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.jobs import ChurnChunkJob
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory
from ghl_ai.workflows.triggers import WorkflowStarter
from ghl_models import churn_models


@lru_cache(maxsize=64)
def predictor_for(location_id: str) -> ChurnPredictor:
    """The location's churn models (its own once retrained, else the layer's)."""
    return ChurnPredictor(churn_models(location_id))


@lru_cache(maxsize=1)
def deps() -> ChurnScorer:
    settings: ChurnSettings = churn_settings()
    dynamodb = boto3.client("dynamodb")
    writeback = None
    if settings.ghl_api_token is not None:
        ghl = GhlClient(settings.ghl_api_base_url, settings.ghl_api_token.get_secret_value())
        writeback = GhlWriteBack(ghl)
    else:
        logger.warning("GHL_API_TOKEN is not set: churn risk is scored but nothing is written")
    workflows = None
    if settings.workflow_queue_url:
        workflows = WorkflowStarter(
            JobQueue(boto3.client("sqs"), settings.workflow_queue_url),
            TenantDirectory(settings, dynamodb),
        )
    return ChurnScorer(
        leads=LeadStore(dynamodb, settings.leads_table),
        events=BehaviourEventStore(dynamodb, settings.events_table),
        predictors=predictor_for,
        writeback=writeback,
        workflows=workflows,
    )


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        # A body that is not a churn chunk raises here: retried, then parked in the DLQ.
        job = ChurnChunkJob.model_validate_json(record.body)
        outcomes = deps().handle(job)
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
