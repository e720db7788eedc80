"""Intake Lambda (API Gateway HTTP API → FastAPI via Mangum).

Thin by design: verify, parse, dedupe, hand to the domain (:class:`ghl_ai.intake.WebhookIntake`
for GHL webhooks, :class:`ghl_ai.forms.intake.FormIntake` for Lyrio forms,
:class:`ghl_ai.behaviour.intake.EventIntake` for website behaviour events,
:class:`ghl_ai.leads.view.LeadReader` for lead reads, :mod:`ghl_ai.knowledge` for the agent's
documents), map the outcome to HTTP. Domain errors
are mapped to status codes here and only here. Heavy libraries (anthropic, scikit-learn) are
never imported on this path.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import cached_property, lru_cache
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
from ghl_ai.adapters.ratelimit import FixedWindowLimiter, IntakeLimits, RateLimited
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
from ghl_ai.intake import Refusal, WebhookIntake
from ghl_ai.knowledge.errors import DocumentError, KnowledgeUnavailable
from ghl_ai.leads.view import InvalidApiKey, LeadNotFound, LeadReader
from ghl_ai.limits import PayloadTooLarge, id_problem, load_json
from ghl_ai.observability import logger, metrics
from ghl_ai.openapi import operation as documented
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import (
    GhlWebhook,
    parse_json,
    parse_marketplace_webhook,
    parse_workflow_webhook,
    utcnow,
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
        self.limits = IntakeLimits(
            dynamodb,
            settings.rate_limits_table,
            per_location={
                "webhook": (settings.webhook_rate_limit_per_minute, 60),
                "events": (settings.location_events_rate_limit_per_minute, 60),
                "read": (settings.read_rate_limit_per_minute, 60),
                "form": (settings.location_form_rate_limit_per_hour, 3600),
            },
            per_client={"events": (settings.events_rate_limit_per_minute, 60)},
            auth_failures_per_hour=settings.auth_failure_limit_per_hour,
        )
        #: A signed delivery older than this is refused: after it, its dedupe record is gone.
        self.replay_window = timedelta(hours=settings.dedupe_ttl_hours)
        self._dynamodb = dynamodb
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

    @cached_property
    def knowledge(self) -> Any:
        """The knowledge table's store (ghl_ai.knowledge loads on the first /kb request)."""
        from ghl_ai.knowledge.store import KnowledgeStore

        return KnowledgeStore(self._dynamodb, self.settings.knowledge_table)

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


# No trailing-slash redirects: API Gateway never redirects, and Starlette would build the
# Location from the Host header.
app = FastAPI(
    title="GHL Real Estate AI — intake",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    redirect_slashes=False,
)


class ContainErrors:
    """The last line: an exception no handler mapped becomes a bare 500 here, logged by type.

    Starlette's own error middleware re-raises after answering, which puts a full traceback in
    the log (Mangum logs it); nothing gets past this one.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracked_send(message: Any) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            logger.error("intake failed", extra={"error_type": type(exc).__name__})
            metrics.add_metric(name="IntakeErrors", unit=MetricUnit.Count, value=1)
            if not started:
                response = _error(
                    500, "internal error; the delivery was not accepted, please retry"
                )
                await response(scope, receive, send)


app.add_middleware(ContainErrors)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, **extra})


def _client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (``requestContext.http.sourceIp``)."""
    event = request.scope.get("aws.event") or {}
    source_ip = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    if source_ip:
        return str(source_ip)
    return request.client.host if request.client else "unknown"


@app.exception_handler(RateLimited)
async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    metrics.add_metric(name="IntakeRateLimited", unit=MetricUnit.Count, value=1)
    response = _error(429, f"too many {exc}; retry later", retryAfter=exc.retry_after)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _auth_failed(request: Request, exc: Exception) -> JSONResponse | None:
    """Count a refused credential for the client; past the limit it is answered 429."""
    blocked = deps().limits.auth_failure(_client_ip(request))
    if blocked is None:
        return None
    logger.warning(
        "client blocked: repeated bad credentials", extra={"error_type": type(exc).__name__}
    )
    response = _error(
        429, "too many requests with bad credentials; retry later", retryAfter=blocked
    )
    response.headers["Retry-After"] = str(blocked)
    return response


@app.exception_handler(InvalidSignature)
async def _invalid_signature(request: Request, exc: InvalidSignature) -> JSONResponse:
    logger.warning("webhook rejected: bad signature", extra={"reason": str(exc)})
    metrics.add_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1)
    return _auth_failed(request, exc) or _error(401, "invalid signature")


@app.exception_handler(InvalidApiKey)
async def _invalid_api_key(request: Request, exc: InvalidApiKey) -> JSONResponse:
    logger.warning("read rejected: unauthorized", extra={"reason": str(exc)})
    response = _auth_failed(request, exc) or _error(401, str(exc))
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@app.exception_handler(Unauthorized)
async def _unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
    logger.warning("request rejected: unauthorized", extra={"reason": str(exc)})
    return _auth_failed(request, exc) or _error(401, str(exc))


@app.exception_handler(MalformedBody)
async def _malformed(_: Request, exc: MalformedBody) -> JSONResponse:
    if isinstance(exc, PayloadTooLarge):
        return _error(413, str(exc))
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


@app.exception_handler(DocumentError)
async def _bad_document(_: Request, exc: DocumentError) -> JSONResponse:
    return _error(422, str(exc))


@app.exception_handler(KnowledgeUnavailable)
async def _knowledge_unavailable(_: Request, exc: KnowledgeUnavailable) -> JSONResponse:
    logger.error("knowledge table unavailable", extra={"error_type": str(exc)})
    return _error(503, "the knowledge base is unavailable right now; retry")


@app.exception_handler(DuplicateInProgress)
async def _in_progress(_: Request, exc: DuplicateInProgress) -> JSONResponse:
    return _error(409, "this delivery is being processed; retry later")


# -- credentials: one value, in one place -----------------------------------------------------


def _guard(request: Request) -> Dependencies:
    """The route's dependencies, once the client is known not to be blocked for bad
    credentials (a blocked client's credentials are not even checked)."""
    d = deps()
    blocked = d.limits.blocked(_client_ip(request))
    if blocked is not None:
        raise RateLimited(blocked, "requests with bad credentials")
    return d


def _credential(request: Request, header: str, query: str) -> str | None:
    """The credential a request presents in ``header`` or the ``query`` parameter, or None.

    One rule for every route: a credential is sent once, in one place. A header repeated (API
    Gateway joins repeats with commas), a parameter repeated, or both places used is refused,
    even when the values agree: an ambiguous request is never resolved in the caller's favour.
    """
    headers = request.headers.getlist(header)
    params = request.query_params.getlist(query)
    if len(headers) + len(params) > 1 or any("," in v for v in headers):
        raise Unauthorized(
            f"ambiguous credentials: send one {header} header or one {query} parameter"
        )
    value = (headers or params or [""])[0].strip()
    return value or None


def _refused(d: Dependencies, refusal: Refusal, location_id: str, event_type: str) -> JSONResponse:
    logger.warning(
        "webhook refused",
        extra={"location_id": location_id, "type": event_type, "reason": refusal.reason},
    )
    metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
    return JSONResponse(status_code=200, content=refusal.as_response())


def _refuse(
    d: Dependencies,
    raw: bytes,
    reason: str,
    problems: list[str] | tuple[str, ...] = (),
    *,
    location_id: str | None = None,
    event_type: str = "unknown",
) -> JSONResponse:
    """Record and answer an authentic delivery that can never be processed (2xx: no retries)."""
    where = location_id if location_id and id_problem(location_id, "id") is None else "unknown"
    refusal = d.intake.refuse(
        location_id=where,
        dedupe_key=f"refused:{hashlib.sha256(raw).hexdigest()}",
        event_type=event_type,
        reason=reason,
        problems=problems,
    )
    return _refused(d, refusal, where, event_type)


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


def _screen(d: Dependencies, raw: bytes, event: GhlWebhook) -> JSONResponse | None:
    """The checks an authentic, well-formed delivery must still pass: ids we can store, a
    location this install serves, a delivery time inside the replay window."""
    problems = [
        p
        for p in (
            id_problem(event.location_id, "locationId"),
            id_problem(event.contact_id, "contactId") if event.contact_id is not None else None,
            id_problem(event.message_id, "messageId") if event.message_id is not None else None,
        )
        if p
    ]
    if problems:
        return _refuse(d, raw, "invalid ids", problems, event_type=event.type)
    if not d.tenants.serves(event.location_id):
        return _refuse(d, raw, "this install does not serve the location", event_type=event.type)
    stamp = event.payload.get("timestamp") if isinstance(event.payload, dict) else None
    if stamp is not None and event.occurred_at is not None:
        age = utcnow() - event.occurred_at
        if age > d.replay_window or age < -FUTURE_SKEW:
            return _refuse(
                d,
                raw,
                "delivery timestamp is outside the replay window",
                [f"timestamp: must be within {d.replay_window.total_seconds() / 3600:.0f} hours"],
                location_id=event.location_id,
                event_type=event.type,
            )
    return None


#: How far in the future a delivery's timestamp may be (clock skew between GHL and us).
FUTURE_SKEW = timedelta(minutes=15)


@app.get("/health", openapi_extra=documented("GET /health"))
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/webhooks/ghl", openapi_extra=documented("POST /webhooks/ghl"))
async def marketplace_webhook(request: Request) -> JSONResponse:
    d = _guard(request)
    raw = await request.body()
    signatures = request.headers.getlist("x-ghl-signature")
    if len(signatures) > 1:
        raise InvalidSignature("X-GHL-Signature given more than once")
    d.verifier.verify(raw, signatures[0] if signatures else None)
    # Signed by GHL from here on: what cannot be processed is refused with a 2xx.
    try:
        payload = parse_json(raw)
        event = parse_marketplace_webhook(payload, raw)
    except SchemaError as exc:
        return _refuse(d, raw, "invalid payload", exc.problems)
    except MalformedBody as exc:
        return _refuse(d, raw, "unreadable body", [str(exc)])
    refused = _screen(d, raw, event)
    if refused is not None:
        return refused
    d.limits.per_location("webhook", event.location_id)
    return _record(d.accept(event), event)


@app.post("/webhooks/ghl/workflow", openapi_extra=documented("POST /webhooks/ghl/workflow"))
async def workflow_webhook(request: Request) -> JSONResponse:
    d = _guard(request)
    presented = _credential(request, "x-webhook-secret", "token")
    if not presented:
        raise Unauthorized("missing workflow secret (X-Webhook-Secret header or token parameter)")
    location_id = d.tenants.location_for_workflow_secret(presented)
    if location_id is None:
        raise Unauthorized("invalid workflow secret")
    raw = await request.body()
    try:
        payload = parse_json(raw)
    except MalformedBody as exc:
        return _refuse(d, raw, "unreadable body", [str(exc)], location_id=location_id)
    claimed = workflow_location_id(payload)
    if claimed is not None and claimed != location_id:
        raise Unauthorized("invalid workflow secret for this location")
    try:
        event = parse_workflow_webhook(payload, raw)
    except SchemaError as exc:
        return _refuse(
            d,
            raw,
            "invalid payload",
            exc.problems,
            location_id=location_id,
            event_type="WorkflowWebhook",
        )
    refused = _screen(d, raw, event)
    if refused is not None:
        return refused
    d.limits.per_location("webhook", event.location_id)
    return _record(d.accept(event), event)


@app.post("/forms/lyrio", status_code=202, openapi_extra=documented("POST /forms/lyrio"))
async def lyrio_form(request: Request) -> JSONResponse:
    d = _guard(request)
    header_key = _credential(request, "x-site-key", "siteKey")
    if header_key is not None and d.tenants.location_for_site_key(header_key) is None:
        raise Unauthorized("invalid site key")
    raw = await request.body()
    if len(raw) > forms.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {forms.MAX_BODY_BYTES // 1024} KB")
    fields = forms.parse_body(raw, request.headers.get("content-type"))
    site_key = forms.site_key_of(fields, header_key)
    location_id = d.tenants.location_for_site_key(site_key)
    if location_id is None:
        raise Unauthorized("invalid site key")
    d.limits.per_location("form", location_id)
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
# CORS (preflight and the Allow-Origin header) is API Gateway's, from LyrioAllowedOrigins in
# template.yaml; locally local/apigw.py does the same from the same configuration.


@app.post("/events", status_code=202, openapi_extra=documented("POST /events"))
async def behaviour_events(request: Request) -> Response:
    """A batch of behaviour events from the agent's website (see ghl_ai.behaviour.events)."""
    d = _guard(request)
    kind = forms.media_type(request.headers.get("content-type"))
    if kind not in _EVENT_MEDIA_TYPES:
        raise forms.UnsupportedMediaType(
            "unsupported content type: send application/json or text/plain"
        )
    # The key in a header or the query is checked before the body is read.
    site_key = _credential(request, "x-site-key", "siteKey")
    location_id = d.tenants.location_for_site_key(site_key) if site_key else None
    if site_key and location_id is None:
        raise Unauthorized("invalid site key")
    raw = await request.body()
    payload = load_json(raw, max_bytes=behaviour.MAX_BODY_BYTES)
    body_key = payload.get("siteKey") if isinstance(payload, dict) else None
    body_key = body_key.strip() if isinstance(body_key, str) and body_key.strip() else None
    if location_id is None:
        location_id = d.tenants.location_for_site_key(body_key) if body_key else None
        if location_id is None:
            raise Unauthorized("invalid site key")
    elif body_key is not None and body_key != site_key:
        raise Unauthorized("ambiguous credentials: the body's siteKey differs from the request's")
    d.limits.per_location("events", location_id)
    d.limits.per_client("events", location_id, _client_ip(request))
    try:
        checked = behaviour.validate_batch(payload, d.events.clock())
    except behaviour.BatchError as exc:
        response = _error(422, "invalid batch", problems=[exc.problem.as_dict()])
        return response
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
        return JSONResponse(status_code=422, content=body)
    return JSONResponse(status_code=202, content=body)


@app.get("/track.js", response_class=Response, openapi_extra=documented("GET /track.js"))
async def tracking_script(request: Request) -> Response:
    """The website's tracking script (``<script src=".../track.js" data-site-key="...">``)."""
    response = Response(
        content=TRACKING_SCRIPT,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
    return response


def _bearer_location(request: Request) -> str:
    """The location whose API key the request carries (``Authorization: Bearer <key>``)."""
    values = request.headers.getlist("authorization")
    if len(values) > 1 or any("," in v for v in values):
        raise InvalidApiKey("ambiguous credentials: send one Authorization header")
    scheme, _, key = (values[0] if values else "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise InvalidApiKey("missing API key (Authorization: Bearer <key>)")
    location_id = deps().tenants.location_for_api_key(key.strip())
    if location_id is None:
        raise InvalidApiKey("invalid API key")
    return location_id


@app.get("/leads/{contactId}", openapi_extra=documented("GET /leads/{contactId}"))
async def read_lead(request: Request) -> JSONResponse:
    d = _guard(request)
    location_id = _bearer_location(request)
    contact_id = str(request.path_params["contactId"])
    problem = id_problem(contact_id, "contactId")
    if problem:
        return _error(400, problem)
    d.limits.per_location("read", location_id)
    bot_off_tag = d.tenants.profile(location_id).bot_off_tag
    view = d.leads.read(location_id, contact_id, bot_off_tag)
    logger.info("lead read", extra={"location_id": location_id, "contact_id": contact_id})
    return JSONResponse(status_code=200, content=view)


# -- the agent's documents (ghl_ai.knowledge): the location is the API key's --------------------

#: POST /kb/documents bodies up to this size (a 3 MB PDF is about 4 MB in base64).
KB_MAX_BODY_BYTES = 4 * 1024 * 1024


@app.post("/kb/documents", status_code=201, openapi_extra=documented("POST /kb/documents"))
async def add_document(request: Request) -> JSONResponse:
    """Add (or replace, under the same docId) one of the location's documents."""
    from ghl_ai.knowledge.ingest import ingest, upload_from_body

    d = _guard(request)
    location_id = _bearer_location(request)
    d.limits.per_location("read", location_id)
    raw = await request.body()
    upload = upload_from_body(load_json(raw, max_bytes=KB_MAX_BODY_BYTES))
    outcome = ingest(
        d.knowledge,
        location_id,
        upload.content,
        upload.format,
        utcnow(),
        title=upload.title,
        doc_id=upload.doc_id,
        source="api",
    )
    logger.info(
        "knowledge document added",
        extra={
            "location_id": location_id,
            "doc_id": outcome.document.doc_id,
            "status": outcome.status,
            "chunks": outcome.document.chunks,
        },
    )
    metrics.add_metric(name="KnowledgeDocuments", unit=MetricUnit.Count, value=1)
    status = 200 if outcome.status == "unchanged" else 201
    return JSONResponse(status_code=status, content=outcome.as_dict())


@app.get("/kb/documents", openapi_extra=documented("GET /kb/documents"))
async def list_documents(request: Request) -> JSONResponse:
    d = _guard(request)
    location_id = _bearer_location(request)
    d.limits.per_location("read", location_id)
    manifest = d.knowledge.manifest(location_id)
    documents = sorted(manifest.documents.values(), key=lambda doc: doc.doc_id)
    body = {
        "locationId": location_id,
        "version": manifest.version,
        "chunks": manifest.chunk_count,
        "documents": [doc.as_dict() for doc in documents],
    }
    return JSONResponse(status_code=200, content=body)


@app.delete("/kb/documents/{docId}", openapi_extra=documented("DELETE /kb/documents/{docId}"))
async def remove_document(request: Request) -> JSONResponse:
    d = _guard(request)
    location_id = _bearer_location(request)
    from ghl_ai.knowledge.ingest import check_doc_id

    doc_id = str(request.path_params["docId"])
    try:
        check_doc_id(doc_id)
    except DocumentError as exc:
        return _error(400, str(exc))
    d.limits.per_location("read", location_id)
    removed = d.knowledge.remove_document(location_id, doc_id)
    if removed is None:
        return _error(404, "document not found")
    logger.info(
        "knowledge document removed",
        extra={"location_id": location_id, "doc_id": doc_id, "chunks": removed.chunks},
    )
    return JSONResponse(
        status_code=200, content={"docId": doc_id, "removed": True, "chunks": removed.chunks}
    )


# -- the Marketplace app's install: a location's first OAuth tokens (ghl_ai.credentials) -------


@lru_cache(maxsize=1)
def _installer() -> Any:
    from ghl_ai.config import ghl_credential_settings
    from ghl_ai.credentials import Installer  # httpx and the OAuth client: this route only

    return Installer.from_settings(ghl_credential_settings())


def _install_page(
    request: Request, status: int, title: str, text: str, body: dict[str, str] | None = None
) -> Response:
    """What the person installing the app sees: a small page in a browser, else JSON. It is
    never cached and sends no referrer (the URL carried the code)."""
    import html

    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if "text/html" in (request.headers.get("accept") or ""):
        page = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        )
        return Response(page, status, headers, media_type="text/html; charset=utf-8")
    content = body if body is not None else {"error": text}
    return JSONResponse(status_code=status, content=content, headers=headers)


@app.get("/oauth/callback", openapi_extra=documented("GET /oauth/callback"))
async def oauth_callback(request: Request) -> Response:
    """GHL sends the installer here with ``?code=`` once the app is installed on a
    sub-account: the code is exchanged for the location's tokens, which are stored in its
    secret. Neither the code nor a token is ever echoed or logged."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import BotoCoreError, ClientError

    from ghl_ai.credentials import GrantRejected, InvalidInstall
    from ghl_ai.errors import GhlApiError

    codes = [c.strip() for c in request.query_params.getlist("code")]
    if len(codes) != 1 or not codes[0]:
        text = "missing code: open this page from the app's install in GHL (it adds ?code=)"
        return _install_page(request, 400, "Not connected", text)
    try:
        tokens = _installer().connect(codes[0])
    except ConfigurationError:
        text = "the Marketplace app is not configured on this install"
        return _install_page(request, 503, "Not connected", text)
    except InvalidInstall as exc:
        return _install_page(request, 400, "Not connected", str(exc))
    except GrantRejected as exc:
        logger.warning("install refused: GHL refused the code", extra={"status": exc.status})
        text = "GHL refused the code (expired or already used): install the app again"
        return _install_page(request, 400, "Not connected", text)
    except GhlApiError as exc:
        logger.warning("install failed: GHL unavailable", extra={"status": exc.status})
        text = "GHL could not be reached: install the app again in a minute"
        return _install_page(request, 502, "Not connected", text)
    except (BotoCoreError, ClientError, GetParameterError) as exc:
        logger.error("install failed: secrets", extra={"error_type": type(exc).__name__})
        text = "the tokens could not be stored: install the app again in a minute"
        return _install_page(request, 503, "Not connected", text)
    metrics.add_metric(name="GhlLocationConnected", unit=MetricUnit.Count, value=1)
    text = f"Location {tokens.location_id} is connected: its leads will be answered."
    body = {"status": "connected", "locationId": tokens.location_id}
    return _install_page(request, 200, "Connected", text, body)


_mangum = Mangum(app, lifespan="off")


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        deps().idempotency_config.register_lambda_context(context)
    except ConfigurationError as exc:
        logger.error("intake misconfigured", extra={"reason": str(exc)})
        return {"statusCode": 500, "body": '{"error": "service misconfigured"}'}
    return _mangum(event, context)
