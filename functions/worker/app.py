"""Worker Lambda (SQS job queue): applies GHL events to lead state.

Powertools BatchProcessor reports partial batch failures (template: ReportBatchItemFailures),
so one bad message is retried alone and, after maxReceiveCount receives, lands in the DLQ.
Each job runs at most once to completion: an idempotency record keyed on the job id.
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
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, MessageStore
from ghl_ai.config import WorkerSettings, worker_settings
from ghl_ai.jobs import Job
from ghl_ai.leads.tracker import LeadTracker
from ghl_ai.observability import logger, metrics


class Dependencies:
    def __init__(self, settings: WorkerSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        self.tracker = LeadTracker(
            LeadStore(dynamodb, settings.leads_table),
            MessageStore(dynamodb, settings.messages_table),
            BehaviourEventStore(dynamodb, settings.events_table),
        )
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=72 * 3600,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=dynamodb
        )

        @idempotent_function(
            data_keyword_argument="job",
            persistence_store=persistence,
            config=self.idempotency_config,
        )
        def handle_once(job: Job) -> dict[str, str]:
            outcome = self.tracker.handle(job)
            return {"action": outcome.action, "detail": outcome.detail}

        self.handle_once = handle_once


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(worker_settings())


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, str]:
    try:
        # A body that is not a valid job raises here: retried, then parked in the DLQ.
        job = Job.model_validate_json(record.body)
        result = deps().handle_once(job=job)
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
    event = job.event
    logger.info(
        "job done",
        extra={
            "job_id": job.id,
            "type": event.type,
            "location_id": event.location_id,
            "contact_id": event.contact_id,
            "action": result["action"],
        },
    )
    metrics.add_metric(name="JobsProcessed", unit=MetricUnit.Count, value=1)
    return result


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps().idempotency_config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
