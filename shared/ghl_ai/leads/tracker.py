"""The worker's state work: keep each lead's record, history and DND flags in step with GHL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, MessageStore
from ghl_ai.jobs import Job
from ghl_ai.leads.erase import LeadEraser
from ghl_ai.leads.events import lead_changes, lead_key, message_of
from ghl_ai.observability import logger
from ghl_ai.webhooks.events import utcnow


@dataclass(frozen=True)
class Outcome:
    """What handling one job did (logged by the worker, asserted by tests)."""

    action: str  # lead_updated | message_recorded | lead_deleted | nothing
    detail: str = ""


class LeadTracker:
    def __init__(
        self,
        leads: LeadStore,
        messages: MessageStore,
        events: BehaviourEventStore,
        eraser: LeadEraser,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._messages = messages
        self._events = events
        self._eraser = eraser
        self._clock = clock

    def handle(self, job: Job) -> Outcome:
        event = job.event
        key = lead_key(event)
        if key is None:
            return Outcome("nothing", f"{event.type} names no contact")
        if event.type == "ContactDelete":
            # Deleting a contact in GHL erases what we hold about it, in every table; its
            # workflow runs stop (ghl_ai.leads.erase).
            erasure = self._eraser.erase(key)
            log = logger.warning if erasure.skipped else logger.info
            log(
                "lead erased" if not erasure.skipped else "lead erased, some tables not configured",
                extra={
                    "location_id": key.location_id,
                    "contact_id": key.contact_id,
                    "removed": erasure.removed,
                    "runs_stopped": erasure.runs_stopped,
                    "skipped": list(erasure.skipped),
                },
            )
            return Outcome("lead_deleted", erasure.summary())
        now = self._clock()
        message = message_of(event, now)
        if message is not None:
            self._messages.put(message)
        changes = lead_changes(event, now)
        if changes:
            self._leads.apply(key, changes)
        if message is not None:
            return Outcome("message_recorded", f"{message.direction} {message.channel}")
        return Outcome("lead_updated" if changes else "nothing", event.type)
