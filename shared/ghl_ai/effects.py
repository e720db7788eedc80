"""Tasks and notes for the agent, created in GHL exactly once.

Each is claimed in the outbox first, under an id derived from its cause, with its content (title,
text, due date): a retry creates the *stored* task, even when the lead's score or name changed
in between. The claim is marked ``sending`` before GHL is called. GHL may create the task or
note and then lose its answer (a dropped connection, a read timeout, a worker killed right after
the call), so a retry that finds the claim ``sending`` first looks at the contact's tasks or
notes in GHL: one with the same title and text, due (or added) since the claim, means the first
call went through, and it is not created again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ghl_ai.adapters.dynamo import OutboxStore, iso, moment
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.leads.models import LeadKey

#: Clock difference allowed between our claim and GHL's dates.
SKEW = timedelta(minutes=1)


def _text(value: object) -> str:
    return str(value or "").strip()


def _since(claimed: datetime | None, value: object) -> bool:
    at = moment(value)
    return claimed is None or at is None or at >= claimed - SKEW


def create_task(
    outbox: OutboxStore,
    ghl: GhlClient,
    effect_id: str,
    key: LeadKey,
    title: str,
    due: datetime,
    body: str | None,
    now: datetime,
) -> bool:
    """Create the task once; True when it was created now."""
    claim = outbox.claim(
        effect_id,
        {
            "kind": "task",
            "locationId": key.location_id,
            "contactId": key.contact_id,
            "title": title,
            "body": body,
            "dueDate": iso(due),
        },
        now,
    )
    title, body = str(claim.get("title") or title), claim.get("body", body)
    due = moment(claim.get("dueDate")) or due

    def found(claimed: datetime | None) -> bool:
        return any(
            _text(t.get("title")) == _text(title)
            and _text(t.get("body")) == _text(body)
            and _since(claimed, t.get("dueDate"))
            for t in ghl.list_tasks(key.contact_id)
        )

    return outbox.carry_out(
        claim, lambda: ghl.create_task(key.contact_id, title, due, body), found=found
    )


def add_note(
    outbox: OutboxStore,
    ghl: GhlClient,
    effect_id: str,
    key: LeadKey,
    body: str,
    now: datetime,
) -> bool:
    """Add the note once; True when it was added now."""
    claim = outbox.claim(
        effect_id,
        {"kind": "note", "locationId": key.location_id, "contactId": key.contact_id, "body": body},
        now,
    )
    body = str(claim.get("body") or body)

    def found(claimed: datetime | None) -> bool:
        return any(
            _text(n.get("body")) == _text(body) and _since(claimed, n.get("dateAdded"))
            for n in ghl.list_notes(key.contact_id)
        )

    return outbox.carry_out(claim, lambda: ghl.add_note(key.contact_id, body), found=found)
