"""The lead as the read API shows it (``GET /leads/{contactId}``).

The caller's API key decides the location (see functions/intake/app.py); the lead is read only
under that location's partition, so another location's lead with the same contact id is
"not found", never returned. The response::

    {
      "contactId": "abc123",
      "locationId": "loc1",
      "name": "Jane Doe",              # the lead's name (else first + last name), or null
      "firstName": "Jane",             # or null
      "language": "es",                # the conversation's: en | es, or null before any
      "intent": "buy",                 # buy | sell | both | rent | invest, or null
      "intentConfidence": 0.9,         # 0..1, or null
      "answers": {                     # qualification answers, {} when none
        "budget": {
          "value": {"min": 400000, "max": 500000},  # the value's shape: conversation/model.py
          "confidence": 0.8,
          "source": "rules",           # rules | claude | form | ghl
          "text": "$400,000 to $500,000"  # the answer in words
        }
      },
      "temperature": "warm",           # what GHL shows: the score's, else the qualification's
      "qualificationTemperature": "warm",  # the conversation's own (hot | warm | cold), or null
      "score": {                       # the lead score (null until the lead is scored)
        "value": 72,                   # 0-100
        "probability": 0.41,           # calibrated P(appointment or opportunity in 30 days)
        "temperature": "hot",          # hot >= 70, warm >= 40, else cold
        "reasons": ["viewed 6 homes in Rancho Cucamonga this week", "pre-approved"],
        "modelVersion": "lead_score-synthetic-2026-10-31-s42",
        "scoredAt": "2026-11-20T15:04:05Z"
      },
      "churn": {                       # the churn risk (null until the daily sweep scores it)
        "d7": 0.62,                    # calibrated P(no engagement in the next 7 days)
        "d14": 0.48,
        "d30": 0.31,
        "tier": "medium",              # on d30: low < 0.3 <= medium < 0.5 <= high < 0.7 <= critical
        "reasons": ["no activity for 19 days; usually every 4"],
        "modelVersion": "churn_30d-synthetic-2026-10-30-s42",
        "scoredAt": "2026-11-20T14:00:03Z"
      },
      "flags": {
        "optedOut": false,             # the lead texted an opt-out word
        "dnd": false,                  # GHL's global DND
        "dndChannels": {"SMS": "active"},  # GHL's per-channel DND statuses, {} when none
        "handedOff": false,            # handed to the agent: the AI stays quiet
        "aiOff": false,                # the location's bot-off tag is on the contact
        "smsBlocked": false            # no SMS may be sent (DND on SMS, or opted out)
      },
      "qualifiedAt": "2026-11-20T15:04:05Z",  # ISO 8601, or null
      "lastInboundAt": "...",          # or null
      "lastOutboundAt": "...",         # or null
      "lastMessages": [                # the last 10 messages, oldest first
        {"direction": "inbound", "channel": "SMS", "body": "...", "at": "2026-11-20T15:00:00Z"}
      ],
      "workflows": [                   # the lead's active and paused workflow runs, newest
        {                              # first; [] when none (or no runs table configured)
          "runId": "long_term_nurture:3f2a...",
          "workflow": "long_term_nurture",
          "status": "active",          # active | paused
          "step": "wait_day_5",        # the step the run is at (its next step)
          "nextDueAt": "2026-11-25T17:02:00Z"  # when that step is due at the latest (a short
        }                              # wait's two minutes of grace included); null if paused
      ],
      "updatedAt": "..."               # or null
    }

The lead read is one GetItem on the leads table and one Query each on the messages and the
runs tables (only the live runs' few attributes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ghl_ai.adapters.dynamo import LeadStore, MessageStore, WorkflowRunStore, iso
from ghl_ai.conversation.qualification import describe, normalise
from ghl_ai.errors import DomainError, Unauthorized
from ghl_ai.leads.models import LeadKey, lead_name, sms_blocked

#: How many of the latest messages the view carries.
LAST_MESSAGES = 10
#: GHL contact ids are 20-odd characters; anything far longer is not one.
MAX_CONTACT_ID = 128


class InvalidApiKey(Unauthorized):
    """A read request without a valid ``Authorization: Bearer <key>`` (401 + WWW-Authenticate)."""


class LeadNotFound(DomainError):
    """No lead with this contact id in the caller's location (404)."""


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(name: str, value: Any) -> str:
    try:
        return describe(name, value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "" if value is None else str(value)


def _answers(raw: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        return {}
    answers = {}
    for name, answer in raw.items():
        if not isinstance(answer, Mapping):
            continue
        value = normalise(str(name), answer.get("value"))
        answers[str(name)] = {
            "value": value,
            "confidence": _float(answer.get("confidence")),
            "source": answer.get("source"),
            "text": _text(str(name), value),
        }
    return answers


def _score_view(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or "value" not in raw:
        return {}
    return {
        "value": raw.get("value"),
        "probability": _float(raw.get("probability")),
        "temperature": raw.get("temperature"),
        "reasons": [str(r) for r in raw.get("reasons") or []],
        "modelVersion": raw.get("modelVersion"),
        "scoredAt": raw.get("scoredAt"),
    }


def _churn_view(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping) or "tier" not in raw:
        return None
    scored = _float(raw.get("scoredAt"))
    return {
        "d7": _float(raw.get("d7")),
        "d14": _float(raw.get("d14")),
        "d30": _float(raw.get("d30")),
        "tier": raw.get("tier"),
        "reasons": [str(r) for r in raw.get("reasons") or []],
        "modelVersion": raw.get("modelVersion"),
        "scoredAt": _iso_seconds(scored) if scored is not None else None,
    }


def _iso_seconds(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC).replace(microsecond=0))


def _workflows_view(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The live runs, newest first; ``nextDueAt`` only for an active run (a paused one waits
    for a resume)."""
    live = [r for r in runs if r.get("status") in ("active", "paused")]
    live.sort(key=lambda r: (str(r.get("startedAt") or ""), str(r.get("runId"))), reverse=True)
    views = []
    for run in live:
        due = _float(run.get("dueAt"))
        active = run.get("status") == "active"
        views.append(
            {
                "runId": run.get("runId"),
                "workflow": run.get("workflow"),
                "status": run.get("status"),
                "step": run.get("stepId"),
                "nextDueAt": _iso_seconds(due) if active and due else None,
            }
        )
    return views


def lead_view(
    lead: Mapping[str, Any],
    messages: list[dict[str, Any]],
    bot_off_tag: str,
    runs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The read API's JSON for a lead item (numbers already plain, see ``from_item``), its
    latest messages (oldest first) and its workflow runs (only the live ones are shown)."""
    tags = {str(t).lower() for t in lead.get("tags") or []}
    opted_out = bool(lead.get("optedOut"))
    return {
        "contactId": lead.get("contactId"),
        "locationId": lead.get("locationId"),
        "name": lead_name(lead),
        "firstName": lead.get("firstName"),
        "language": lead.get("language"),
        "intent": lead.get("intent"),
        "intentConfidence": _float(lead.get("intentConfidence")),
        "answers": _answers(lead.get("answers")),
        "temperature": _score_view(lead.get("score")).get("temperature") or lead.get("temperature"),
        "qualificationTemperature": lead.get("temperature"),
        "score": _score_view(lead.get("score")) or None,
        "churn": _churn_view(lead.get("churn")),
        "flags": {
            "optedOut": opted_out,
            "dnd": bool(lead.get("dnd")),
            "dndChannels": dict(lead.get("dndChannels") or {}),
            "handedOff": bool(lead.get("handedOff")),
            "aiOff": bool(bot_off_tag) and bot_off_tag.lower() in tags,
            "smsBlocked": opted_out or sms_blocked(dict(lead)),
        },
        "qualifiedAt": lead.get("qualifiedAt"),
        "lastInboundAt": lead.get("lastInboundAt"),
        "lastOutboundAt": lead.get("lastOutboundAt"),
        "lastMessages": [
            {
                "direction": m.get("direction"),
                "channel": m.get("channel"),
                "body": m.get("body"),
                "at": m.get("sentAt"),
            }
            for m in messages
        ],
        "workflows": _workflows_view(runs),
        "updatedAt": lead.get("updatedAt"),
    }


class LeadReader:
    """Reads a lead of one location (the caller's) for the API."""

    def __init__(
        self, leads: LeadStore, messages: MessageStore, runs: WorkflowRunStore | None = None
    ) -> None:
        self._leads = leads
        self._messages = messages
        self._runs = runs

    def read(self, location_id: str, contact_id: str, bot_off_tag: str) -> dict[str, Any]:
        """Raises :class:`LeadNotFound` when the location has no such lead."""
        if not contact_id or len(contact_id) > MAX_CONTACT_ID:
            raise LeadNotFound(contact_id[:MAX_CONTACT_ID])
        key = LeadKey(location_id, contact_id)
        lead = self._leads.get(key)
        if lead is None:
            raise LeadNotFound(contact_id)
        runs = self._runs.live_for_lead(location_id, contact_id) if self._runs else []
        return lead_view(lead, self._messages.recent(key, LAST_MESSAGES), bot_off_tag, runs)
