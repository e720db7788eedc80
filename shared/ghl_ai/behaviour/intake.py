"""Accepting a batch of website behaviour events (``POST /events``): store each valid event
once, then ask the ScoringFunction to rescore what changed.

Deduplication is the events table's own key: an event is stored under its stream with sort key
``timestamp#eventId`` by a conditional write (one transaction per batch), so the tracking
script's retries (same id, same time) are counted as ``duplicates`` and stored once. One
scoring job per batch lists the contacts and anonymous visitors that got new events and the
visitors the batch identified (an event carrying both ``visitorId`` and ``contactId``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ghl_ai.adapters.dynamo import BehaviourEventStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.behaviour.events import CheckedBatch, normalised
from ghl_ai.jobs import Identity, ScoringJob
from ghl_ai.webhooks.events import utcnow


@dataclass
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    #: Indices (in the posted batch) of the events taken: stored now or already stored.
    taken: list[int] = field(default_factory=list)


class EventIntake:
    def __init__(
        self,
        events: BehaviourEventStore,
        scoring: JobQueue,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._events = events
        self._scoring = scoring
        #: The intake's clock: events are judged (too old, in the future) against it.
        self.clock = clock

    def accept(self, location_id: str, batch: CheckedBatch) -> BatchOutcome:
        outcome = BatchOutcome()
        contacts: set[str] = set()
        visitors: set[str] = set()
        identities: dict[str, Identity] = {}
        stored = self._events.put_new_batch([normalised(location_id, e) for _, e in batch.events])
        for (index, event), new in zip(batch.events, stored, strict=True):
            if new:
                outcome.accepted += 1
                if event.contact_id:
                    contacts.add(event.contact_id)
                else:
                    visitors.add(str(event.visitor_id))
            else:
                outcome.duplicates += 1
            outcome.taken.append(index)
            if event.contact_id and event.visitor_id:
                identities[event.visitor_id] = Identity(
                    visitor_id=event.visitor_id, contact_id=event.contact_id, source="event"
                )
        if contacts or visitors or identities:
            now = self.clock()
            ids = ",".join(sorted(e.event_id for _, e in batch.events))
            job = ScoringJob(
                id="events:" + hashlib.sha256(f"{location_id}\n{ids}".encode()).hexdigest()[:32],
                received_at=now,
                location_id=location_id,
                contacts=sorted(contacts),
                visitors=sorted(visitors),
                identities=list(identities.values()),
            )
            self._scoring.send(job.model_dump_json())
        return outcome
