"""Recommendations Lambda: ``GET /leads/{contactId}/recommendations?k=5`` (API Gateway HTTP
API, Powertools resolver) and "send top matches" jobs (SQS matches queue, partial batch
failure, DLQ).

The route takes the Bearer API key of the lead read (``GET /leads/{contactId}``): the key
decides the location, and only that location's lead, events and listings are read. Errors are
JSON with a message: 401 (missing / invalid key, ``WWW-Authenticate: Bearer``), 400 (``k`` not
an integer from 1 to 50, a contact id that cannot be one), 404 (no such lead in the location).

Cold start imports numpy and the model layer's numpy-only inference, never scikit-learn,
scipy, pandas or anthropic; the catalogue and the collaborative model load on the first use
per location and stay for ``CATALOGUE_TTL_SECONDS``. "Send top matches" texts go out with the
lead's location's GHL client (ghl_ai.credentials); without credentials they are skipped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    ListingStore,
    MessageStore,
    OutboxStore,
)
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.config import RecommendationsSettings, recommendations_settings
from ghl_ai.conversation.outbound import Outbound
from ghl_ai.credentials import GhlClients
from ghl_ai.jobs import MatchesJob
from ghl_ai.observability import logger, metrics
from ghl_ai.recommend.send import MatchSender
from ghl_ai.recommend.service import (
    MAX_K,
    CatalogueCache,
    LeadHasNoData,
    RecommendationService,
    ServedModel,
)
from ghl_ai.tenants import TenantDirectory
from ghl_models import recommender_for

_CONTACT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_K = re.compile(r"^[0-9]{1,3}$")  # ASCII digits only (str.isdigit takes "٣")


class Dependencies:
    def __init__(self, settings: RecommendationsSettings) -> None:
        dynamodb = boto3.client("dynamodb")
        self.tenants = TenantDirectory(settings, dynamodb)
        leads = LeadStore(dynamodb, settings.leads_table)
        events = BehaviourEventStore(dynamodb, settings.events_table)
        listings = ListingStore(dynamodb, settings.listings_table)
        catalogue = CatalogueCache(listings, served_model, settings.catalogue_ttl_seconds)
        self.service = RecommendationService(
            leads=leads,
            events=events,
            listings=listings,
            tenants=self.tenants,
            catalogue=catalogue,
        )
        self.ghl = GhlClients.from_settings(
            settings, location_id=settings.ghl_location_id, metrics=metrics
        )
        if not self.ghl.configured:
            logger.warning("no GHL credentials: recommendations are served, never texted")
        self._leads, self._events, self._listings = leads, events, listings
        self._messages = MessageStore(dynamodb, settings.messages_table)
        self._outbox = OutboxStore(dynamodb, settings.outbox_table)
        self._queue = JobQueue(boto3.client("sqs"), settings.matches_queue_url)
        self._senders: dict[str, MatchSender] = {}

    def sender(self, location_id: str) -> MatchSender | None:
        """The location's sender of "top matches" texts, with its GHL client (built once per
        container), or None without credentials."""
        found = self._senders.get(location_id)
        if found is not None:
            return found
        ghl = self.ghl.for_location(location_id)
        if ghl is None:
            return None
        found = MatchSender(
            leads=self._leads,
            events=self._events,
            listings=self._listings,
            messages=self._messages,
            outbox=self._outbox,
            outbound=Outbound(leads=self._leads, outbox=self._outbox, ghl=ghl),
            tenants=self.tenants,
            queue=self._queue,
            rank=self.service.rank,
        )
        self._senders[location_id] = found
        return found


def served_model(location_id: str) -> ServedModel:
    """The location's collaborative model (its own once retrained, else the layer's), its
    version and blend from the manifest; content only when the layer has none."""
    return ServedModel.of(recommender_for(location_id))


@lru_cache(maxsize=1)
def deps() -> Dependencies:
    return Dependencies(recommendations_settings())


api = APIGatewayHttpResolver()


def _error(status: int, message: str, **headers: str) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": message},
        headers=headers or None,
    )


def _location(authorization: str | None) -> str | None:
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return deps().tenants.location_for_api_key(key.strip())


@api.get("/leads/<contactId>/recommendations")
def recommendations(contactId: str) -> Response:
    location_id = _location(api.current_event.headers.get("authorization"))
    if location_id is None:
        return _error(401, "missing or invalid API key", **{"WWW-Authenticate": "Bearer"})
    if not _CONTACT_ID.match(contactId):
        return _error(400, "contactId is not a GHL contact id")
    raw_k = api.current_event.get_query_string_value("k", "5") or "5"
    if not _K.match(raw_k) or not 1 <= int(raw_k) <= MAX_K:
        return _error(400, f"k must be an integer from 1 to {MAX_K}")
    try:
        body = deps().service.for_lead(location_id, contactId, int(raw_k))
    except LeadHasNoData as exc:
        return _error(404, str(exc))
    logger.info(
        "recommendations read",
        extra={
            "location_id": location_id,
            "contact_id": contactId,
            "k": int(raw_k),
            "returned": len(body["recommendations"]),
        },
    )
    return Response(status_code=200, content_type="application/json", body=body)


@api.not_found
def not_found(_: Exception) -> Response:
    return _error(404, "no such route")


@api.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    logger.error("recommendations failed", extra={"error_type": type(exc).__name__})
    return _error(503, "recommendations are unavailable right now; try again")


processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    try:
        job = MatchesJob.model_validate_json(record.body)
        sender = deps().sender(job.location_id)
        if sender is None:
            return {"job_id": job.id, "action": "skipped"}
        outcome = sender.send(job)
    except Exception as exc:
        logger.error(
            "matches job failed; SQS will retry it, then park it in the DLQ",
            extra={
                "sqs_message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error_type": type(exc).__name__,
            },
        )
        metrics.add_metric(name="MatchesJobsFailed", unit=MetricUnit.Count, value=1)
        raise
    logger.info(
        "matches job done",
        extra={
            "job_id": job.id,
            "location_id": job.location_id,
            "contact_id": job.contact_id,
            "action": outcome.action,
            "reason": outcome.reason,
            "listings": outcome.listings,
        },
    )
    if outcome.action == "sent":
        metrics.add_metric(name="MatchesSent", unit=MetricUnit.Count, value=1)
    return {"job_id": job.id, "action": outcome.action}


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        response: PartialItemFailureResponse = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return response
    return api.resolve(event, context)
