"""Behaviour events from the agent's website (``POST /events``): the wire format, its validation
and the normalised :class:`~ghl_ai.leads.models.BehaviourEvent` each valid event becomes.

A batch is ``{"events": [...]}`` with 1–:data:`MAX_BATCH` events. Every event is validated on
its own, so one bad event never costs the good ones of its batch: :func:`validate_batch` returns
the valid events with their index and one problem per bad field (``{"index", "field",
"message"}``), never quoting a value.

Event fields (camelCase on the wire):

=============== =========================================================================
``type``        required; lower-case ``[a-z][a-z0-9_]*`` (``page_view``, ``property_view``,
                ``property_save``, ``property_unsave``, ``property_share``, ``search``,
                ``tour_request``, ``valuation_request``, ``email_open``, ``email_click``, ...);
                types we do not know are stored as they are, never refused
``timestamp``   required; ISO 8601 with an offset (``Z`` or ``+hh:mm``; none = UTC); at most
                :data:`FUTURE_TOLERANCE` ahead of the server clock and at most
                :data:`MAX_AGE` old
``eventId``     required; the dedupe key (a resend with the same id is a duplicate)
``visitorId``   the website's first-party visitor id; ``visitorId`` or ``contactId`` required
``contactId``   optional; the GHL contact, once known (a tracked link ``?cid=``, a form)
``propertyId``  optional; the listing (``ListingKey``)
``value``       optional finite number (a price searched, an amount)
``dwellSeconds`` optional, 0–86,400: seconds a page / listing was visible
``data``        optional object of at most :data:`MAX_DATA_BYTES` as JSON: for listings
                ``price``, ``beds``, ``baths``, ``city``, ``zip``; for ``search``
                ``filters`` {``minPrice``, ``maxPrice``, ``beds``, ``baths``, ``city``,
                ``zip``, ``propertyType``}; ``path`` for pages
=============== =========================================================================
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ghl_ai.leads.models import BehaviourEvent, LeadKey

MAX_BATCH = 100
#: Largest body the route reads (413 beyond).
MAX_BODY_BYTES = 256 * 1024
MAX_DATA_BYTES = 4096
#: Browser clocks run a little fast; more than this ahead is a wrong clock, not an event.
FUTURE_TOLERANCE = timedelta(minutes=5)
#: The tracking script keeps unsent events for days at most; older ones are not live behaviour.
MAX_AGE = timedelta(days=30)

_ID = r"^[A-Za-z0-9._:\-]+$"
_CONTACT_ID = r"^[A-Za-z0-9_\-]+$"


class WebsiteEvent(BaseModel):
    """One event as the website sends it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    timestamp: datetime
    event_id: str = Field(alias="eventId", min_length=1, max_length=128, pattern=_ID)
    visitor_id: str | None = Field(
        default=None, alias="visitorId", min_length=1, max_length=128, pattern=_ID
    )
    contact_id: str | None = Field(
        default=None, alias="contactId", min_length=1, max_length=64, pattern=_CONTACT_ID
    )
    property_id: str | None = Field(
        default=None, alias="propertyId", min_length=1, max_length=128, pattern=_ID
    )
    value: float | None = None
    dwell_seconds: float | None = Field(default=None, alias="dwellSeconds", ge=0, le=86400)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 0001-01-01+05:00 has no UTC time
            raise ValueError("is outside the calendar") from None

    @field_validator("value", "dwell_seconds")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("data")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_storable(value, depth=0)
        try:
            text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate such as "\\ud800"
            raise ValueError("must be valid UTF-8 text") from None
        except ValueError:
            raise ValueError("must hold only finite numbers") from None
        if size > MAX_DATA_BYTES:
            raise ValueError(f"must be at most {MAX_DATA_BYTES} bytes as JSON")
        return value


#: DynamoDB keeps 38 significant digits of a number, and nested maps only so deep.
_MAX_DIGITS, _MAX_DEPTH = 38, 8


def _check_storable(value: Any, depth: int) -> None:
    """What DynamoDB can store as it is: no empty keys, numbers it can hold, bounded nesting."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"must nest at most {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key:
                raise ValueError("must not have empty keys")
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool):
        if len(str(abs(value)).rstrip("0")) > _MAX_DIGITS:
            raise ValueError(f"numbers must have at most {_MAX_DIGITS} significant digits")
    elif isinstance(value, float) and value != 0 and not 1e-125 < abs(value) < 1e125:
        raise ValueError("numbers must be between 1e-125 and 1e125")


@dataclass(frozen=True)
class Problem:
    index: int | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class CheckedBatch:
    """The valid events (with their index in the batch) and the problems of the others."""

    events: list[tuple[int, WebsiteEvent]]
    problems: list[Problem]


_WIRE_NAMES = {
    "event_id": "eventId",
    "visitor_id": "visitorId",
    "contact_id": "contactId",
    "property_id": "propertyId",
    "dwell_seconds": "dwellSeconds",
}


class BatchError(ValueError):
    """The batch itself is unusable (not an object, no ``events`` list, too many)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _event_problems(index: int, exc: ValidationError) -> list[Problem]:
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = error["loc"]
        field = _WIRE_NAMES.get(str(loc[0]), str(loc[0])) if loc else "event"
        problems.setdefault(field, error["msg"].removeprefix("Value error, "))
    return [Problem(index, field, message) for field, message in problems.items()]


def validate_batch(payload: Any, now: datetime) -> CheckedBatch:
    """Check a parsed body. Raises :class:`BatchError` when the batch itself is unusable."""
    if not isinstance(payload, dict):
        raise BatchError(Problem(None, "body", "must be a JSON object"))
    events = payload.get("events")
    if not isinstance(events, list):
        raise BatchError(Problem(None, "events", "must be a list of events"))
    if not 1 <= len(events) <= MAX_BATCH:
        raise BatchError(Problem(None, "events", f"must hold 1 to {MAX_BATCH} events"))
    valid: list[tuple[int, WebsiteEvent]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(events):
        if not isinstance(raw, dict):
            problems.append(Problem(index, "event", "must be a JSON object"))
            continue
        try:
            event = WebsiteEvent.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_event_problems(index, exc))
            continue
        if event.visitor_id is None and event.contact_id is None:
            problems.append(Problem(index, "visitorId", "visitorId or contactId is required"))
            continue
        if event.timestamp > now + FUTURE_TOLERANCE:
            problems.append(Problem(index, "timestamp", "is in the future"))
            continue
        if event.timestamp < now - MAX_AGE:
            problems.append(
                Problem(index, "timestamp", f"is more than {MAX_AGE.days} days in the past")
            )
            continue
        if event.event_id in seen:
            problems.append(Problem(index, "eventId", "appears twice in this batch"))
            continue
        seen.add(event.event_id)
        valid.append((index, event))
    return CheckedBatch(valid, problems)


def visitor_partition_id(visitor_id: str) -> str:
    """The per-lead stream key of a visitor not yet identified (``loc#visitor:<id>``). GHL
    contact ids never contain a colon, so the two kinds of stream cannot collide."""
    return f"visitor:{visitor_id}"


def normalised(location_id: str, event: WebsiteEvent) -> BehaviourEvent:
    """The stored event. It belongs to the contact when the website knows it, else to the
    visitor's stream until the visitor is identified (see ghl_ai.behaviour.stitching)."""
    stream = event.contact_id or visitor_partition_id(str(event.visitor_id))
    data = dict(event.data)
    if event.visitor_id:
        data["visitorId"] = event.visitor_id
    if event.dwell_seconds is not None:
        data["dwellSeconds"] = event.dwell_seconds
    return BehaviourEvent(
        lead=LeadKey(location_id, stream),
        type=event.type,
        timestamp=event.timestamp,
        event_id=event.event_id,
        source="website",
        property_id=event.property_id,
        value=event.value,
        data=data,
    )
