"""Lead records, messages and behaviour events as the stores hold them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: dndSettings statuses that block a channel.
_BLOCKING = {"active", "permanent"}


@dataclass(frozen=True)
class LeadKey:
    location_id: str
    contact_id: str

    @property
    def partition(self) -> str:
        """Partition key for per-lead history (messages, behaviour events)."""
        return f"{self.location_id}#{self.contact_id}"


@dataclass
class LeadChanges:
    """A partial update of a lead record: attributes to set, to set only when absent, counters
    to increment (or strings to add to a string set). Applying it is idempotent except for
    counter increments, which the worker guards with a per-job idempotency record."""

    set: dict[str, Any] = field(default_factory=dict)
    set_if_absent: dict[str, Any] = field(default_factory=dict)
    increments: dict[str, int | frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.set or self.set_if_absent or self.increments)


@dataclass(frozen=True)
class Message:
    """One message of a lead's conversation history."""

    lead: LeadKey
    message_id: str
    direction: str  # inbound | outbound
    channel: str
    body: str
    sent_at: datetime
    conversation_id: str | None = None
    #: GHL user who wrote an outbound message by hand (None for automations and for us).
    user_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class BehaviourEvent:
    """A normalised behaviour event: the input of scoring and churn."""

    lead: LeadKey
    type: str
    timestamp: datetime
    event_id: str
    source: str
    property_id: str | None = None
    value: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def sms_blocked(lead: dict[str, Any], channel: str = "SMS") -> bool:
    """Whether GHL's DND settings forbid messaging this lead on ``channel``."""
    if lead.get("dnd"):
        return True
    status = (lead.get("dndChannels") or {}).get(channel)
    return isinstance(status, str) and status.lower() in _BLOCKING


def lead_name(lead: Mapping[str, Any]) -> str | None:
    """The lead's name as GHL gave it, else first and last name, else None."""
    if lead.get("name"):
        return str(lead["name"])
    joined = " ".join(str(lead[k]) for k in ("firstName", "lastName") if lead.get(k))
    return joined or None
