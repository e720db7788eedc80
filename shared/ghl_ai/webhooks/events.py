"""GHL webhook payloads → one normalised :class:`GhlWebhook`.

Handles every documented shape (reference/ghl.md): flat camelCase Marketplace payloads, the
``data``-wrapped variant, contact events carrying the contact id as ``id``, appointments nested
under ``appointment``, email ``to`` as a string or a list, and the workflow "Webhook" action's
snake_case body (``tags`` as a comma-separated string, ``location.id``, ``customData``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ghl_ai.errors import SchemaError
from ghl_ai.limits import load_json

#: Event types the worker acts on; everything else is recorded and acknowledged only.
WORKER_TYPES = frozenset(
    {
        "ContactCreate",
        "ContactUpdate",
        "ContactDelete",
        "ContactDndUpdate",
        "ContactTagUpdate",
        "InboundMessage",
        "OutboundMessage",
        "AppointmentCreate",
        "AppointmentUpdate",
        "OpportunityCreate",
        "OpportunityStageUpdate",
        "OpportunityStatusUpdate",
        "WorkflowWebhook",
    }
)

#: Documented Marketplace types we accept but have no work for (yet): recorded as "recorded".
RECORDED_TYPES = frozenset(
    {
        "AppointmentDelete",
        "NoteCreate",
        "NoteUpdate",
        "NoteDelete",
        "TaskCreate",
        "TaskComplete",
        "TaskDelete",
        "OpportunityDelete",
        "OpportunityUpdate",
        "OpportunityAssignedToUpdate",
        "OpportunityMonetaryValueUpdate",
        "LocationUpdate",
        "LCEmailStats",
        "ConversationUnreadUpdate",
    }
)

Channel = str  # "SMS", "Email", "CALL", "FB", "IG", "GMB", "Live Chat", "WhatsApp", ...

_TYPE_STRING_CHANNEL = {
    "TYPE_SMS": "SMS",
    "TYPE_EMAIL": "Email",
    "TYPE_CALL": "CALL",
    "TYPE_FACEBOOK": "FB",
    "TYPE_INSTAGRAM": "IG",
    "TYPE_GMB": "GMB",
    "TYPE_WHATSAPP": "WhatsApp",
    "TYPE_LIVE_CHAT": "Live Chat",
    "TYPE_WEBCHAT": "Live Chat",
}


class GhlWebhook(BaseModel):
    """A GHL event after parsing: what the intake stores and the worker consumes."""

    model_config = ConfigDict(frozen=True)

    type: str
    location_id: str
    contact_id: str | None = None
    dedupe_key: str
    occurred_at: datetime | None = None
    direction: Literal["inbound", "outbound"] | None = None
    channel: Channel | None = None
    message_id: str | None = None
    #: The flat payload (``data`` unwrapped), exactly as GHL sent its fields.
    payload: dict[str, Any]

    @property
    def is_known(self) -> bool:
        return self.type in WORKER_TYPES or self.type in RECORDED_TYPES

    @property
    def needs_work(self) -> bool:
        return self.type in WORKER_TYPES


# --- per-type shapes: only what we rely on is required -------------------------------------


class _Base(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(min_length=1)
    location_id: str = Field(alias="locationId", min_length=1)
    webhook_id: str | None = Field(default=None, alias="webhookId")
    timestamp: datetime | None = None


class _Message(_Base):
    contact_id: str = Field(alias="contactId", min_length=1)
    direction: Literal["inbound", "outbound"]
    message_type: str | None = Field(default=None, alias="messageType")
    message_type_string: str | None = Field(default=None, alias="messageTypeString")
    message_id: str | None = Field(default=None, alias="messageId")
    email_message_id: str | None = Field(default=None, alias="emailMessageId")
    body: str | None = None
    to: str | list[str] | None = None
    date_added: datetime | None = Field(default=None, alias="dateAdded")

    @field_validator("direction", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def channel(self) -> str:
        if self.message_type:
            return self.message_type
        if self.message_type_string:
            return _TYPE_STRING_CHANNEL.get(self.message_type_string, self.message_type_string)
        return "unknown"


class _Contact(_Base):
    id: str = Field(min_length=1)


class _Appointment(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    contactId: str = Field(min_length=1)


class _AppointmentEvent(_Base):
    appointment: _Appointment


class _Opportunity(_Base):
    id: str = Field(min_length=1)
    contact_id: str = Field(alias="contactId", min_length=1)


class _ContactScoped(_Base):
    contact_id: str = Field(alias="contactId", min_length=1)


class _Unknown(_Base):
    location_id: str = Field(default="unknown", alias="locationId")


def _shape_for(event_type: str) -> type[_Base]:
    if event_type in ("InboundMessage", "OutboundMessage"):
        return _Message
    if event_type.startswith("Contact"):
        return _Contact
    if event_type.startswith("Appointment"):
        return _AppointmentEvent
    if event_type.startswith("Opportunity"):
        return _Opportunity
    if event_type.startswith(("Note", "Task")):
        return _ContactScoped
    return _Unknown


def describe(exc: ValidationError, prefix: str = "") -> list[str]:
    """pydantic errors → one line per field: ``"contactId: Field required"``."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "body"
        lines.append(f"{prefix}{where}: {err['msg']}")
    return lines


def _unwrap(payload: dict[str, Any]) -> dict[str, Any]:
    """Some GHL guides wrap the fields in ``data``; real handlers read them flat. Accept both."""
    inner = payload.get("data")
    if isinstance(inner, dict) and ("type" in inner or "locationId" in inner or "type" in payload):
        outer = {k: v for k, v in payload.items() if k != "data"}
        return {**inner, **outer}
    return payload


def _body_hash(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def parse_marketplace_webhook(payload: Any, raw_body: bytes) -> GhlWebhook:
    """Validate a Marketplace webhook body. Raises :class:`SchemaError` naming the bad fields."""
    if not isinstance(payload, dict):
        raise SchemaError(["body: expected a JSON object"])
    flat = _unwrap(payload)
    event_type = flat.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise SchemaError(["type: Field required (the GHL event name, e.g. InboundMessage)"])
    shape = _shape_for(event_type)
    try:
        parsed = shape.model_validate(flat)
    except ValidationError as exc:
        raise SchemaError(describe(exc)) from None

    contact_id: str | None = None
    direction = channel = message_id = None
    occurred_at = parsed.timestamp
    if isinstance(parsed, _Message):
        contact_id = parsed.contact_id
        direction = parsed.direction
        channel = parsed.channel
        message_id = parsed.message_id or parsed.email_message_id
        occurred_at = occurred_at or parsed.date_added
    elif isinstance(parsed, _Contact):
        contact_id = parsed.id
    elif isinstance(parsed, _AppointmentEvent):
        contact_id = parsed.appointment.contactId
    elif isinstance(parsed, _Opportunity | _ContactScoped):
        contact_id = parsed.contact_id
    elif isinstance(flat.get("contactId"), str):
        contact_id = flat["contactId"]

    if parsed.webhook_id:
        dedupe_key = f"wh:{parsed.webhook_id}"
    elif message_id:
        dedupe_key = f"msg:{parsed.location_id}:{event_type}:{message_id}"
    else:
        dedupe_key = f"body:{_body_hash(raw_body)}"

    return GhlWebhook(
        type=event_type,
        location_id=parsed.location_id,
        contact_id=contact_id,
        dedupe_key=dedupe_key,
        occurred_at=occurred_at,
        direction=direction,
        channel=channel,
        message_id=message_id,
        payload=flat,
    )


# --- workflow "Webhook" action -------------------------------------------------------------


class _WorkflowLocation(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)


class _WorkflowBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    contact_id: str = Field(min_length=1)
    location: _WorkflowLocation
    tags: list[str] = Field(default_factory=list)
    customData: dict[str, Any] = Field(default_factory=dict)
    #: GHL sends ``{id, name}``; the worker reads the id.
    workflow: dict[str, Any] | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [tag.strip() for tag in value.split(",") if tag.strip()]
        return value


def workflow_location_id(payload: Any) -> str | None:
    """The location a workflow payload claims to come from (checked against its secret)."""
    if isinstance(payload, dict) and isinstance(payload.get("location"), dict):
        location_id = payload["location"].get("id")
        return location_id if isinstance(location_id, str) and location_id else None
    return None


def parse_workflow_webhook(payload: Any, raw_body: bytes) -> GhlWebhook:
    """Validate a workflow Webhook-action body (no signature, no webhookId, no timestamp)."""
    if not isinstance(payload, dict):
        raise SchemaError(["body: expected a JSON object"])
    try:
        parsed = _WorkflowBody.model_validate(payload)
    except ValidationError as exc:
        raise SchemaError(describe(exc)) from None
    flat = {**payload, "tags": parsed.tags}
    return GhlWebhook(
        type="WorkflowWebhook",
        location_id=parsed.location.id,
        contact_id=parsed.contact_id,
        # GHL sends no delivery id: identical bodies from the same location are one delivery.
        dedupe_key=f"wf:{parsed.location.id}:{_body_hash(raw_body)}",
        occurred_at=None,
        payload=flat,
    )


#: A webhook body's limit (API Gateway itself stops at 10 MB). A GHL delivery is a few KB; this
#: leaves room for long emails while keeping every job under SQS's 256 KB message limit.
MAX_BODY_BYTES = 128 * 1024


def parse_json(raw_body: bytes) -> Any:
    """A webhook body parsed within :mod:`ghl_ai.limits`'s limits, or MalformedBody (413 for
    its size) saying why not, without quoting it."""
    return load_json(raw_body, max_bytes=MAX_BODY_BYTES)


def utcnow() -> datetime:
    return datetime.now(UTC)
