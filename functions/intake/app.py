"""Intake Lambda (API Gateway HTTP API → FastAPI via Mangum).

Thin by design: verify, parse, dedupe, hand to the domain (:class:`ghl_ai.intake.WebhookIntake`
for GHL webhooks, :class:`ghl_ai.forms.intake.FormIntake` for Lyrio forms,
:class:`ghl_ai.behaviour.intake.EventIntake` for website behaviour events,
:class:`ghl_ai.leads.view.LeadReader` for lead reads), map the outcome to HTTP. Domain errors
are mapped to status codes here and only here. Heavy libraries (anthropic, scikit-learn) are
never imported on this path.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
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
from fastapi.responses import JSONResponse, Response
from mangum import Mangum

from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    WebhookInbox,
    WorkflowRunStore,
)
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.adapters.ratelimit import FixedWindowLimiter
from ghl_ai.behaviour import events as behaviour
from ghl_ai.behaviour.intake import EventIntake
from ghl_ai.config import ConfigurationError, IntakeSettings, intake_settings
from ghl_ai.errors import (
    DuplicateInProgress,
    InvalidSignature,
    MalformedBody,
    SchemaError,
    Unauthorized,
)
from ghl_ai.forms import intake as forms
from ghl_ai.intake import WebhookIntake
from ghl_ai.leads.view import InvalidApiKey, LeadNotFound, LeadReader
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
        jobs = JobQueue(sqs, settings.jobs_queue_url)
        self.settings = settings
        self.verifier = WebhookVerifier(settings.ghl_webhook_public_key)
        self.tenants = TenantDirectory(settings, dynamodb)
        self.intake = WebhookIntake(
            WebhookInbox(dynamodb, settings.webhooks_table),
            BehaviourEventStore(dynamodb, settings.events_table),
            jobs,
        )
        self.forms = forms.FormIntake(
            jobs,
            FixedWindowLimiter(
                dynamodb, settings.rate_limits_table, limit=settings.form_rate_limit_per_hour
            ),
        )
        self.events = EventIntake(
            BehaviourEventStore(dynamodb, settings.events_table),
            JobQueue(sqs, settings.scoring_queue_url),
        )
        origins = [o.strip() for o in settings.allowed_origins.split(",") if o.strip()]
        self.allowed_origins = frozenset(origins or ["*"])
        self.leads = LeadReader(
            LeadStore(dynamodb, settings.leads_table),
            MessageStore(dynamodb, settings.messages_table),
            WorkflowRunStore(dynamodb, settings.runs_table) if settings.runs_table else None,
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

        @idempotent_function(
            data_keyword_argument="submission",
            persistence_store=persistence,
            config=self.idempotency_config,
        )
        def accept_form_once(submission: forms.FormSubmission) -> dict[str, str]:
            return self.forms.accept(submission)

        self._accept_once = accept_once
        self._accept_form_once = accept_form_once

    def accept(self, event: GhlWebhook) -> dict[str, str]:
        try:
            return self._accept_once(event=event)
        except IdempotencyAlreadyInProgressError:
            raise DuplicateInProgress(event.dedupe_key) from None

    def accept_form(self, submission: forms.FormSubmission) -> dict[str, str]:
        """Enqueue a form once per dedupe key; a repeat answers ``status: duplicate``."""
        try:
            return self._accept_form_once(submission=submission)
        except IdempotencyAlreadyInProgressError:
            raise DuplicateInProgress(submission.dedupe_key) from None


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


@app.exception_handler(InvalidApiKey)
async def _invalid_api_key(_: Request, exc: InvalidApiKey) -> JSONResponse:
    logger.warning("read rejected: unauthorized", extra={"reason": str(exc)})
    response = _error(401, str(exc))
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


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


@app.exception_handler(forms.UnsupportedMediaType)
async def _unsupported_media(_: Request, exc: forms.UnsupportedMediaType) -> JSONResponse:
    return _error(415, str(exc))


@app.exception_handler(forms.InvalidForm)
async def _invalid_form(_: Request, exc: forms.InvalidForm) -> JSONResponse:
    # Field names only: the values are what the visitor typed.
    logger.info("form rejected: invalid", extra={"fields": [p["field"] for p in exc.problems]})
    metrics.add_metric(name="LyrioFormInvalid", unit=MetricUnit.Count, value=1)
    return _error(422, "invalid form", problems=exc.problems)


@app.exception_handler(forms.TooManySubmissions)
async def _too_many(_: Request, exc: forms.TooManySubmissions) -> JSONResponse:
    metrics.add_metric(name="LyrioFormRateLimited", unit=MetricUnit.Count, value=1)
    response = _error(429, "too many submissions; retry later", retryAfter=exc.retry_after)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@app.exception_handler(LeadNotFound)
async def _lead_not_found(_: Request, exc: LeadNotFound) -> JSONResponse:
    return _error(404, "lead not found")


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


class PayloadTooLarge(MalformedBody):
    """A body over the route's limit (413)."""


@app.exception_handler(PayloadTooLarge)
async def _too_large(_: Request, exc: PayloadTooLarge) -> JSONResponse:
    return _error(413, str(exc))


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


def _client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (``requestContext.http.sourceIp``)."""
    event = request.scope.get("aws.event") or {}
    source_ip = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    if source_ip:
        return str(source_ip)
    return request.client.host if request.client else "unknown"


@app.post("/forms/lyrio")
async def lyrio_form(request: Request) -> JSONResponse:
    d = deps()
    fields = forms.parse_body(await request.body(), request.headers.get("content-type"))
    site_key = forms.site_key_of(fields, request.headers.get("x-site-key"))
    location_id = d.tenants.location_for_site_key(site_key)
    if location_id is None:
        raise Unauthorized("invalid site key")
    try:
        form = d.forms.screen(location_id, _client_ip(request), fields)
    except forms.TooManySubmissions:
        logger.warning("form rejected: rate limited", extra={"location_id": location_id})
        raise
    if form is None:
        logger.info("form dropped: honeypot", extra={"location_id": location_id})
        metrics.add_metric(name="LyrioFormHoneypot", unit=MetricUnit.Count, value=1)
        decoy = {"status": "accepted", "id": forms.FormIntake.decoy_id(location_id, fields)}
        return JSONResponse(status_code=202, content=decoy)
    acceptance = d.accept_form(forms.FormIntake.submission(location_id, form))
    logger.info(
        "form accepted",
        extra={
            "location_id": location_id,
            "dedupe_key": acceptance["id"],
            "status": acceptance["status"],
            "consent": form.consent,
        },
    )
    metrics.add_metric(name=f"LyrioForm_{acceptance['status']}", unit=MetricUnit.Count, value=1)
    return JSONResponse(status_code=202, content=acceptance)


# -- the website: behaviour events and the tracking script ----------------------------------

TRACKING_SCRIPT = (Path(behaviour.__file__).parent / "track.js").read_bytes()
_EVENT_MEDIA_TYPES = ("", "application/json", "text/plain")


def _cors(request: Request, response: Response) -> Response:
    """CORS for the website routes (API Gateway adds the same when deployed with
    LyrioAllowedOrigins; locally the app does it)."""
    origin = request.headers.get("origin")
    allowed = deps().allowed_origins
    if origin and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Vary"] = "Origin"
    return response


@app.options("/events")
async def events_preflight(request: Request) -> Response:
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "content-type, x-site-key"
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(request, response)


@app.post("/events")
async def behaviour_events(request: Request) -> Response:
    """A batch of behaviour events from the agent's website (see ghl_ai.behaviour.events)."""
    d = deps()
    kind = forms.media_type(request.headers.get("content-type"))
    if kind not in _EVENT_MEDIA_TYPES:
        raise forms.UnsupportedMediaType(
            f"unsupported content type {kind[:80]!r}: send application/json or text/plain"
        )
    raw = await request.body()
    if len(raw) > behaviour.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {behaviour.MAX_BODY_BYTES // 1024} KB")
    # The key in a header or the query is checked before the body is read as JSON.
    site_key = request.headers.get("x-site-key") or request.query_params.get("siteKey")
    location_id = d.tenants.location_for_site_key(site_key.strip()) if site_key else None
    if site_key and location_id is None:
        raise Unauthorized("invalid site key")
    payload = parse_json(raw)
    if location_id is None:
        body_key = payload.get("siteKey") if isinstance(payload, dict) else None
        if isinstance(body_key, str) and body_key.strip():
            location_id = d.tenants.location_for_site_key(body_key.strip())
        if location_id is None:
            raise Unauthorized("invalid site key")
    try:
        checked = behaviour.validate_batch(payload, d.events.clock())
    except behaviour.BatchError as exc:
        response = _error(422, "invalid batch", problems=[exc.problem.as_dict()])
        return _cors(request, response)
    outcome = d.events.accept(location_id, checked)
    logger.info(
        "behaviour events accepted",
        extra={
            "location_id": location_id,
            "accepted": outcome.accepted,
            "duplicates": outcome.duplicates,
            "rejected": len({p.index for p in checked.problems}),
        },
    )
    metrics.add_metric(name="BehaviourEvents", unit=MetricUnit.Count, value=outcome.accepted)
    body: dict[str, Any] = {"accepted": outcome.accepted, "duplicates": outcome.duplicates}
    if checked.problems:
        body = {
            "error": "invalid events",
            "problems": [p.as_dict() for p in checked.problems],
            **body,
            "taken": outcome.taken,
        }
        return _cors(request, JSONResponse(status_code=422, content=body))
    return _cors(request, JSONResponse(status_code=202, content=body))


@app.get("/track.js")
async def tracking_script(request: Request) -> Response:
    """The website's tracking script (``<script src=".../track.js" data-site-key="...">``)."""
    response = Response(
        content=TRACKING_SCRIPT,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
    return _cors(request, response)


def _bearer_location(request: Request) -> str:
    """The location whose API key the request carries (``Authorization: Bearer <key>``)."""
    scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise InvalidApiKey("missing API key (Authorization: Bearer <key>)")
    location_id = deps().tenants.location_for_api_key(key.strip())
    if location_id is None:
        raise InvalidApiKey("invalid API key")
    return location_id


@app.get("/leads/{contactId}")
async def read_lead(request: Request) -> JSONResponse:
    d = deps()
    location_id = _bearer_location(request)
    contact_id = str(request.path_params["contactId"])
    bot_off_tag = d.tenants.profile(location_id).bot_off_tag
    view = d.leads.read(location_id, contact_id, bot_off_tag)
    logger.info("lead read", extra={"location_id": location_id, "contact_id": contact_id})
    return JSONResponse(status_code=200, content=view)


_mangum = Mangum(app, lifespan="off")


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        deps().idempotency_config.register_lambda_context(context)
    except ConfigurationError as exc:
        logger.error("intake misconfigured", extra={"reason": str(exc)})
        return {"statusCode": 500, "body": '{"error": "service misconfigured"}'}
    return _mangum(event, context)
