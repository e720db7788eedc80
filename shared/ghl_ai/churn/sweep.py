"""The daily churn sweep's fan-out: every lead of every location queued for scoring.

:class:`ChurnSweep` (ChurnSweepFunction, on an EventBridge schedule) pages through each
location's leads — a keys-and-one-attribute projection, :data:`PAGE` leads per Query — and queues
them as :class:`~ghl_ai.jobs.ChurnChunkJob` chunks of :data:`CHUNK` on the churn queue, ten
chunks per SQS call; the ChurnScoreFunction scores them (``churn/score.py``, where the whole
design is described). A lead already scored today (its ``churn.day``) is not queued again, so a
re-run sweep queues only what is left. Standard library and boto3 only: the sweep loads no
model and no numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ghl_ai.adapters.dynamo import LeadStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.jobs import ChurnChunkJob
from ghl_ai.observability import logger
from ghl_ai.webhooks.events import utcnow

#: Leads per Query page of the sweep and per chunk (one BatchGetItem holds 100 keys).
PAGE = 1000
CHUNK = 100


def sweep_day(now: datetime) -> str:
    """The sweep's day (UTC): a lead is scored once per day."""
    return now.date().isoformat()


@dataclass
class SweepReport:
    day: str
    locations: int = 0
    leads: int = 0  # queued for scoring
    already_scored: int = 0  # scored earlier that day: not queued again
    chunks: int = 0


class ChurnSweep:
    def __init__(
        self,
        leads: LeadStore,
        queue: JobQueue,
        locations: Callable[[], list[str]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._queue = queue
        self._locations = locations
        self._clock = clock

    def run(
        self, location: str | None = None, progress: Callable[[int], None] = lambda _: None
    ) -> SweepReport:
        """Queue every lead not yet scored today (of ``location``, else of every location);
        ``progress(n)`` after each page with the leads it paged."""
        report = SweepReport(sweep_day(self._clock()))
        for location_id in [location] if location else self._locations():
            report.locations += 1
            start: str | None = None
            while True:
                page, start = self._leads.page(location_id, ("contactId", "churn.day"), start, PAGE)
                todo = []
                for lead in page:
                    if (lead.get("churn") or {}).get("day") == report.day:
                        report.already_scored += 1
                    else:
                        todo.append(str(lead["contactId"]))
                self._fan_out(location_id, report, todo)
                progress(len(page))
                if start is None:
                    break
        logger.info(
            "churn sweep queued",
            extra={
                "day": report.day,
                "locations": report.locations,
                "leads": report.leads,
                "already_scored": report.already_scored,
                "chunks": report.chunks,
            },
        )
        return report

    def _fan_out(self, location_id: str, report: SweepReport, contacts: list[str]) -> None:
        bodies = []
        for i in range(0, len(contacts), CHUNK):
            chunk = contacts[i : i + CHUNK]
            job = ChurnChunkJob(
                id=f"churn:{location_id}:{report.day}:{chunk[0]}",
                location_id=location_id,
                day=report.day,
                contacts=chunk,
            )
            bodies.append(job.model_dump_json())
        self._queue.send_many(bodies)
        report.leads += len(contacts)
        report.chunks += len(bodies)
