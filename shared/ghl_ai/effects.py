"""Tasks and notes for the agent, created in GHL exactly once.

GHL may create a task or a note and then lose its answer: a dropped connection, a read
timeout, a worker killed right after the call. Each is claimed in the outbox first (under an id
derived from its cause) and the claim marked ``sending`` before GHL is called; a retry that
finds the claim ``sending`` looks at the contact's tasks or notes in GHL, and a task with the
same title and text due since the claim (a note with the same text added since) means the first
call went through: it is not created again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ghl_ai.adapters.dynamo import OutboxStore, moment
from ghl_ai.adapters.ghl import GhlClient

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
    contact_id: str,
    title: str,
    due: datetime,
    body: str | None,
    now: datetime,
) -> bool:
    """Create the task once; True when it was created now."""

    def found(claimed: datetime | None) -> bool:
        return any(
            _text(t.get("title")) == _text(title)
            and _text(t.get("body")) == _text(body)
            and _since(claimed, t.get("dueDate"))
            for t in ghl.list_tasks(contact_id)
        )

    return outbox.once(
        effect_id, lambda: ghl.create_task(contact_id, title, due, body), now, found=found
    )


def add_note(
    outbox: OutboxStore,
    ghl: GhlClient,
    effect_id: str,
    contact_id: str,
    body: str,
    now: datetime,
) -> bool:
    """Add the note once; True when it was added now."""

    def found(claimed: datetime | None) -> bool:
        return any(
            _text(n.get("body")) == _text(body) and _since(claimed, n.get("dateAdded"))
            for n in ghl.list_notes(contact_id)
        )

    return outbox.once(effect_id, lambda: ghl.add_note(contact_id, body), now, found=found)
