"""Intake Lambda (API Gateway HTTP API → FastAPI via Mangum).

Thin by design: verify, parse, dedupe, hand to :class:`ghl_ai.intake.WebhookIntake`, map the
outcome to HTTP. Domain errors are mapped to status codes here and only here. Heavy libraries
(anthropic, scikit-learn) are never imported on this path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from ghl_ai.adapters.dynamo import BehaviourEventStore, WebhookInbox
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.config import ConfigurationError, IntakeSettings, intake_settings
from ghl_ai.errors import (
    DuplicateInProgress,
    InvalidSignature,
    MalformedBody,
    SchemaError,
    Unauthorized,
)
from ghl_ai.intake import WebhookIntake
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import (
    GhlWebhook,
    parse_json,
    parse_marketplace_webhook,
    parse_workflow_webhook,
    workflow_location_id,
)
from ghl_ai.webhooks.signature import WebhookVerifier


class Dependencies:
    """Everything the routes need, built once per container (see :func:`deps`)."""

    def __init__(self, settings: IntakeSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        sqs = boto3.client("sqs")
        self.settings = settings
        self.verifier = WebhookVerifier(settings.ghl_webhook_public_key)
        self.tenants = TenantDirectory(settings, dynamodb)
        self.intake = WebhookIntake(
            WebhookInbox(dynamodb, settings.webhooks_table),
            BehaviourEventStore(dynamodb, settings.events_table),
            JobQueue(sqs, settings.jobs_queue_url),
        )
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="dedupe_key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.dedupe_ttl_hours * 3600,
            response_hook=lambda response, _record: {**response, "status": "duplicate"},
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=dynamodb
        )

        @idempotent_function(
            data_keyword_argument="event",
            persistence_store=persistence,
            config=self.idempotency_config,
        )
        def accept_once(event: GhlWebhook) -> dict[str, str]:
            return self.intake.accept(event).as_response()

        self._accept_once = accept_once

    def accept(self, event: GhlWebhook) -> dict[str, str]:
        try:
            return self._accept_once(event=event)
        except IdempotencyAlreadyInProgressError:
            raise DuplicateInProgress(event.dedupe_key) from None


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(intake_settings())


app = FastAPI(title="GHL Real Estate AI — intake", docs_url=None, redoc_url=None, openapi_url=None)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, **extra})


@app.exception_handler(InvalidSignature)
async def _invalid_signature(_: Request, exc: InvalidSignature) -> JSONResponse:
    logger.warning("webhook rejected: bad signature", extra={"reason": str(exc)})
    metrics.add_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1)
    return _error(401, "invalid signature")


@app.exception_handler(Unauthorized)
async def _unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
    logger.warning("request rejected: unauthorized", extra={"reason": str(exc)})
    return _error(401, str(exc))


@app.exception_handler(MalformedBody)
async def _malformed(_: Request, exc: MalformedBody) -> JSONResponse:
    return _error(400, str(exc))


@app.exception_handler(SchemaError)
async def _schema(_: Request, exc: SchemaError) -> JSONResponse:
    return _error(422, "invalid payload", details=exc.problems)


@app.exception_handler(DuplicateInProgress)
async def _in_progress(_: Request, exc: DuplicateInProgress) -> JSONResponse:
    return _error(409, "this delivery is being processed; retry later")


@app.exception_handler(Exception)
async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # No stack trace and no message text (it may quote input): the type is enough to search logs.
    logger.error("intake failed", extra={"error_type": type(exc).__name__})
    metrics.add_metric(name="IntakeErrors", unit=MetricUnit.Count, value=1)
    return _error(500, "internal error; the delivery was not accepted, please retry")


def _record(acceptance: dict[str, str], event: GhlWebhook) -> JSONResponse:
    logger.info(
        "webhook accepted",
        extra={
            "type": event.type,
            "location_id": event.location_id,
            "contact_id": event.contact_id,
            "dedupe_key": event.dedupe_key,
            "status": acceptance["status"],
        },
    )
    metrics.add_metric(name=f"Webhook_{acceptance['status']}", unit=MetricUnit.Count, value=1)
    return JSONResponse(status_code=200, content=acceptance)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/webhooks/ghl")
async def marketplace_webhook(request: Request) -> JSONResponse:
    d = deps()
    raw = await request.body()
    d.verifier.verify(raw, request.headers.get("x-ghl-signature"))
    event = parse_marketplace_webhook(parse_json(raw), raw)
    return _record(d.accept(event), event)


@app.post("/webhooks/ghl/workflow")
async def workflow_webhook(request: Request) -> JSONResponse:
    d = deps()
    presented = request.headers.get("x-webhook-secret") or request.query_params.get("token")
    if not presented:
        raise Unauthorized("missing workflow secret (X-Webhook-Secret header or token parameter)")
    raw = await request.body()
    payload = parse_json(raw)
    location_id = workflow_location_id(payload)
    if location_id is None or not d.tenants.workflow_secret_matches(location_id, presented):
        raise Unauthorized("invalid workflow secret for this location")
    event = parse_workflow_webhook(payload, raw)
    return _record(d.accept(event), event)


_mangum = Mangum(app, lifespan="off")


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        deps().idempotency_config.register_lambda_context(context)
    except ConfigurationError as exc:
        logger.error("intake misconfigured", extra={"reason": str(exc)})
        return {"statusCode": 500, "body": '{"error": "service misconfigured"}'}
    return _mangum(event, context)
