"""How each GHL event changes a lead: pure functions from :class:`GhlWebhook` to
:class:`LeadChanges`, :class:`Message` and :class:`BehaviourEvent`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ghl_ai.leads.models import BehaviourEvent, LeadChanges, LeadKey, Message
from ghl_ai.webhooks.events import GhlWebhook

#: Contact fields copied onto the lead record (GHL name → our attribute).
_CONTACT_FIELDS = {
    "firstName": "firstName",
    "lastName": "lastName",
    "name": "name",
    "email": "email",
    "phone": "phone",
    "source": "source",
    "timezone": "timezone",
    "assignedTo": "assignedTo",
    "city": "city",
    "state": "state",
    "postalCode": "postalCode",
    "country": "country",
    "companyName": "companyName",
    "dateAdded": "ghlDateAdded",
}

#: Workflow Webhook action fields (snake_case) → our attribute.
_WORKFLOW_FIELDS = {
    "first_name": "firstName",
    "last_name": "lastName",
    "full_name": "name",
    "email": "email",
    "phone": "phone",
    "timezone": "timezone",
    "country": "country",
    "city": "city",
    "state": "state",
    "postal_code": "postalCode",
    "contact_source": "source",
    "date_created": "ghlDateAdded",
}


def lead_key(event: GhlWebhook) -> LeadKey | None:
    return LeadKey(event.location_id, event.contact_id) if event.contact_id else None


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _dnd_channels(settings: Any) -> dict[str, str]:
    if not isinstance(settings, dict):
        return {}
    channels = {}
    for channel, spec in settings.items():
        status = spec.get("status") if isinstance(spec, dict) else spec
        if isinstance(status, str):
            channels[channel] = status.lower()
    return channels


def _copy(payload: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {
        ours: payload[theirs]
        for theirs, ours in mapping.items()
        if payload.get(theirs) not in (None, "")
    }


def lead_changes(event: GhlWebhook, now: datetime) -> LeadChanges:
    """What ``event`` changes on the lead record (empty for events that change nothing)."""
    p = event.payload
    changes = LeadChanges(set={"updatedAt": _iso(now)}, set_if_absent={"createdAt": _iso(now)})
    if event.type in ("ContactCreate", "ContactUpdate", "ContactDndUpdate", "ContactTagUpdate"):
        changes.set.update(_copy(p, _CONTACT_FIELDS))
        if isinstance(p.get("tags"), list):
            changes.set["tags"] = [str(t).lower() for t in p["tags"]]
        if "dnd" in p:
            changes.set["dnd"] = bool(p["dnd"])
        if "dndSettings" in p:
            changes.set["dndChannels"] = _dnd_channels(p["dndSettings"])
        if isinstance(p.get("customFields"), list):
            changes.set["ghlCustomFields"] = {
                str(f["id"]): f.get("value")
                for f in p["customFields"]
                if isinstance(f, dict) and "id" in f
            }
    elif event.type == "WorkflowWebhook":
        changes.set.update(_copy(p, _WORKFLOW_FIELDS))
        changes.set["tags"] = [t.lower() for t in p.get("tags", [])]
        if p.get("customData"):
            changes.set["workflowData"] = p["customData"]
        if isinstance(p.get("workflow"), dict) and p["workflow"].get("id"):
            changes.set["lastWorkflowId"] = p["workflow"]["id"]
    elif event.type in ("InboundMessage", "OutboundMessage"):
        at = _iso(event.occurred_at or now)
        if event.direction == "inbound":
            changes.set.update(lastInboundAt=at, lastInboundChannel=event.channel)
            changes.increments["messagesIn"] = 1
        else:
            changes.set.update(lastOutboundAt=at, lastOutboundChannel=event.channel)
            if p.get("userId") and p.get("source") != "api":
                # A person in the GHL app wrote to the lead: the conversation has a human in it.
                changes.set["lastHumanOutboundAt"] = at
            changes.increments["messagesOut"] = 1
    elif event.type.startswith("Opportunity"):
        changes.set["opportunity"] = {
            k: v
            for k, v in {
                "id": p.get("id"),
                "pipelineId": p.get("pipelineId"),
                "stageId": p.get("pipelineStageId"),
                "status": p.get("status"),
                "monetaryValue": p.get("monetaryValue"),
            }.items()
            if v is not None
        }
    elif event.type.startswith("Appointment"):
        a = p.get("appointment", {})
        changes.set["appointment"] = {
            k: a.get(k)
            for k in ("id", "calendarId", "appointmentStatus", "startTime", "endTime")
            if a.get(k)
        }
    else:
        return LeadChanges()
    return changes


def message_of(event: GhlWebhook, now: datetime) -> Message | None:
    """The conversation message an ``InboundMessage``/``OutboundMessage`` carries."""
    key = lead_key(event)
    if key is None or event.type not in ("InboundMessage", "OutboundMessage"):
        return None
    p = event.payload
    body = p.get("body") or ""
    if event.channel == "CALL":
        body = (
            body
            or f"[call {p.get('callStatus') or p.get('status') or ''}, {p.get('callDuration', 0)}s]"
        )
    return Message(
        lead=key,
        message_id=event.message_id or event.dedupe_key,
        direction=event.direction or "inbound",
        channel=event.channel or "unknown",
        body=str(body),
        sent_at=event.occurred_at or now,
        conversation_id=p.get("conversationId"),
        user_id=p.get("userId"),
        source=p.get("source"),
    )


_BEHAVIOUR_TYPES = {
    "ContactCreate": "lead_created",
    "AppointmentCreate": "appointment_booked",
    "OpportunityStageUpdate": "opportunity_stage",
    "OpportunityStatusUpdate": "opportunity_status",
    "WorkflowWebhook": "workflow_trigger",
}


def behaviour_event_of(event: GhlWebhook, received_at: datetime) -> BehaviourEvent | None:
    """The behaviour event a GHL webhook represents, for scoring and churn (None if none)."""
    key = lead_key(event)
    if key is None:
        return None
    data: dict[str, Any] = {}
    if event.type in ("InboundMessage", "OutboundMessage"):
        kind = "message_in" if event.direction == "inbound" else "message_out"
        data["channel"] = event.channel
    elif event.type in _BEHAVIOUR_TYPES:
        kind = _BEHAVIOUR_TYPES[event.type]
        if event.type.startswith("Opportunity"):
            data = {
                "stageId": event.payload.get("pipelineStageId"),
                "status": event.payload.get("status"),
            }
        elif event.type == "WorkflowWebhook":
            data = {"workflowId": (event.payload.get("workflow") or {}).get("id")}
    else:
        return None
    return BehaviourEvent(
        lead=key,
        type=kind,
        timestamp=event.occurred_at or received_at,
        # A message GHL delivers again under a new webhookId is still one message.
        event_id=(
            f"msg:{event.location_id}:{event.type}:{event.message_id}"
            if event.message_id
            else event.dedupe_key
        ),
        source="ghl",
        data={k: v for k, v in data.items() if v is not None},
    )
