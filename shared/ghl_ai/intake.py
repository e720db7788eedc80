"""Accepting a GHL delivery: record it raw, record its behaviour event, enqueue its work.

Deduplication happens around :meth:`WebhookIntake.accept` (an idempotency record per dedupe key,
see functions/intake/app.py), so a delivery GHL repeats is stored once and enqueued once.
Every write here is keyed by the dedupe key, so a retry after a partial failure overwrites
rather than duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ghl_ai.adapters.dynamo import BehaviourEventStore, WebhookInbox
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.jobs import Job
from ghl_ai.leads.events import behaviour_event_of
from ghl_ai.webhooks.events import GhlWebhook, utcnow

Status = Literal["queued", "recorded", "unknown", "duplicate", "refused"]
#: A refusal keeps at most this many problem lines.
MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Acceptance:
    status: Status
    dedupe_key: str
    event_type: str

    def as_response(self) -> dict[str, str]:
        return {"status": self.status, "id": self.dedupe_key, "type": self.event_type}


@dataclass(frozen=True)
class Refusal:
    """An authentic delivery that can never be processed: recorded, answered 2xx (so GHL does
    not retry it twelve times), never queued."""

    dedupe_key: str
    reason: str
    problems: tuple[str, ...] = ()

    def as_response(self) -> dict[str, object]:
        body: dict[str, object] = {
            "status": "refused",
            "id": self.dedupe_key,
            "reason": self.reason,
        }
        if self.problems:
            body["problems"] = list(self.problems)
        return body


class WebhookIntake:
    def __init__(
        self,
        inbox: WebhookInbox,
        events: BehaviourEventStore,
        jobs: JobQueue,
        *,
        inbox_ttl: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._inbox = inbox
        self._events = events
        self._jobs = jobs
        self._inbox_ttl = inbox_ttl
        self._clock = clock

    def accept(self, event: GhlWebhook) -> Acceptance:
        now = self._clock()
        if event.needs_work:
            status: Status = "queued"
        elif event.is_known:
            status = "recorded"
        else:
            status = "unknown"
        self._inbox.record(
            location_id=event.location_id,
            dedupe_key=event.dedupe_key,
            event_type=event.type,
            status=status,
            payload=event.payload,
            received_at=now,
            expires_at=int((now + self._inbox_ttl).timestamp()),
            contact_id=event.contact_id,  # erasing the contact finds the delivery
        )
        behaviour = behaviour_event_of(event, now)
        if behaviour is not None:
            self._events.put(behaviour)
        if status == "queued":
            self._jobs.send(
                Job(id=event.dedupe_key, received_at=now, event=event).model_dump_json()
            )
        return Acceptance(status=status, dedupe_key=event.dedupe_key, event_type=event.type)

    def refuse(
        self,
        *,
        location_id: str,
        dedupe_key: str,
        event_type: str,
        reason: str,
        problems: list[str] | tuple[str, ...] = (),
    ) -> Refusal:
        """Record a refused delivery: why, and no content (it may be what could not be stored)."""
        now = self._clock()
        kept = tuple(p[:200] for p in problems[:MAX_PROBLEMS])
        self._inbox.record(
            location_id=location_id,
            dedupe_key=dedupe_key,
            event_type=event_type[:100],
            status="refused",
            payload={"reason": reason, "problems": list(kept)},
            received_at=now,
            expires_at=int((now + self._inbox_ttl).timestamp()),
        )
        return Refusal(dedupe_key=dedupe_key, reason=reason, problems=kept)
