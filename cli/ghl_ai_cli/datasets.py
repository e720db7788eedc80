"""Event logs for training and evaluation: one columnar :class:`EventLog` whatever the source
(the synthetic generator, a CSV export, a tenant's events table), turned into per-lead
:class:`~ghl_ai.behaviour.features.EventStream` s and into training rows at cutoffs.

CSV format (``ghl-ai eval scoring --events``; any real event log)::

    lead_id,event_type,timestamp[,value][,property_id]

``timestamp`` is ISO 8601 (a date alone means midnight UTC; epoch seconds or milliseconds are
read too). Extra columns are ignored.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ghl_ai.behaviour.features import (
    CATALOGUE,
    DAY,
    EventStream,
    StreamBuilder,
    compute,
)


class DataError(ValueError):
    """An event log that cannot be read (the message names the line and the column)."""


@dataclass
class Event:
    lead: str
    type: str
    t: float
    property_id: str | None = None
    value: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class EventLog:
    events: list[Event]

    @property
    def span(self) -> tuple[float, float]:
        times = [e.t for e in self.events]
        return (min(times), max(times)) if times else (0.0, 0.0)

    def streams(self) -> dict[str, EventStream]:
        builders: dict[str, StreamBuilder] = {}
        for e in self.events:
            builder = builders.get(e.lead)
            if builder is None:
                builder = builders[e.lead] = StreamBuilder()
            builder.add(e.t, e.type, e.property_id, e.value, e.data)
        return {lead: b.build() for lead, b in builders.items()}

    def type_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e.type] = counts.get(e.type, 0) + 1
        return counts


_EPOCH = re.compile(r"\d{9,13}(\.\d+)?")


def parse_time(text: str) -> float:
    """ISO 8601 (a date alone is midnight; no offset is UTC) as epoch seconds; event logs that
    carry epoch seconds or milliseconds instead are read as such."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        value = float(text)
        return value / 1000.0 if value > 1e11 else value
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_csv(path: Path) -> EventLog:
    """Read ``lead_id,event_type,timestamp[,value][,property_id]``. Raises :class:`DataError`
    naming the line and column of the first bad row."""
    events: list[Event] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ("lead_id", "event_type", "timestamp") if c not in header]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)} in the header")
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not row.get("lead_id") or not row.get("event_type"):
                raise DataError(f"{path}:{line}: lead_id and event_type must not be empty")
            try:
                t = parse_time(row["timestamp"])
            except ValueError:
                raise DataError(f"{path}:{line}: timestamp is not ISO 8601") from None
            value = None
            if row.get("value"):
                try:
                    value = float(row["value"])
                except ValueError:
                    raise DataError(f"{path}:{line}: value is not a number") from None
            events.append(
                Event(row["lead_id"], row["event_type"], t, row.get("property_id") or None, value)
            )
    if not events:
        raise DataError(f"{path}: no events")
    return EventLog(events)


# -- training rows ---------------------------------------------------------------------------


def times_of(stream: EventStream, types: Sequence[str]) -> np.ndarray:
    """Times of the stream's events whose type is one of ``types``."""
    assert stream.other_types is not None
    return stream.t[np.isin(stream.other_types, list(types))]


@dataclass
class Rows:
    """Training rows: one lead at one cutoff."""

    x: np.ndarray  # catalogue features (raw)
    extra: np.ndarray  # per-type features of the log's own event types (generic evals)
    rf: np.ndarray  # the baseline's: days since the last event, log(1 + events so far)
    y: np.ndarray
    leads: list[str]
    cutoffs: np.ndarray

    def __len__(self) -> int:
        return int(self.y.size)

    def take(self, index: np.ndarray) -> Rows:
        return Rows(
            self.x[index],
            self.extra[index],
            self.rf[index],
            self.y[index],
            [self.leads[i] for i in index],
            self.cutoffs[index],
        )

    @staticmethod
    def concat(parts: Iterable[Rows]) -> Rows:
        parts = list(parts)
        return Rows(
            np.vstack([p.x for p in parts]),
            np.vstack([p.extra for p in parts]),
            np.vstack([p.rf for p in parts]),
            np.concatenate([p.y for p in parts]),
            [lead for p in parts for lead in p.leads],
            np.concatenate([p.cutoffs for p in parts]),
        )


#: Per event type of the log, in this order (see :func:`type_features`).
TYPE_FEATURES = (
    "count_30d",
    "count_90d",
    "count_total",
    "days_since_last",
    "mean_gap_days",
    "overdue",
    "active_days",
    "value_total",
)


def type_features(stream: EventStream, at: float, types: Sequence[str]) -> np.ndarray:
    """Per event type of the log, from its events up to ``at``: counts in the last 30 and 90
    days and ever (log), days since the last one, the lead's own rhythm (mean days between its
    days with that event) and how overdue it is (days since the last one over that rhythm,
    capped at 10), the number of days it happened on (log) and the sum of its values (log)."""
    assert stream.other_types is not None
    n = int(np.searchsorted(stream.t, at, side="right"))
    kinds, t, value = stream.other_types[:n], stream.t[:n], stream.value[:n]
    width = len(TYPE_FEATURES)
    out = np.zeros(width * len(types))
    for i, name in enumerate(types):
        mask = kinds == name
        age = (at - t[mask]) / DAY
        since = min(float(age[-1]), 365.0) if age.size else 365.0
        days = np.unique(np.floor(t[mask] / DAY))
        gap = float(np.mean(np.diff(days))) if days.size >= 2 else 365.0
        out[width * i : width * (i + 1)] = (
            np.log1p(np.count_nonzero(age <= 30)),
            np.log1p(np.count_nonzero(age <= 90)),
            np.log1p(age.size),
            since,
            min(gap, 365.0),
            min(since / max(gap, 1.0), 10.0),
            np.log1p(days.size),
            np.log1p(max(float(value[mask].sum()), 0.0)),
        )
    return out


def rows_at(
    streams: dict[str, EventStream],
    cutoff: float,
    horizon_days: float,
    conversion: Sequence[str],
    *,
    exclude_converted: bool = True,
    types: Sequence[str] = (),
) -> Rows:
    """Leads with an event at or before ``cutoff`` (and, with ``exclude_converted``, no
    conversion by then); label: a conversion in (cutoff, cutoff + horizon]."""
    xs, extras, rfs, ys, leads = [], [], [], [], []
    end = cutoff + horizon_days * DAY
    for lead, stream in streams.items():
        if stream.t.size == 0 or stream.t[0] > cutoff:
            continue
        converted = times_of(stream, conversion)
        if exclude_converted and np.any(converted <= cutoff):
            continue
        features, _ = compute(stream, cutoff)
        xs.append(features)
        extras.append(type_features(stream, cutoff, types))
        seen = int(np.searchsorted(stream.t, cutoff, side="right"))
        rfs.append([(cutoff - stream.t[seen - 1]) / DAY, np.log1p(seen)])
        ys.append(bool(np.any((converted > cutoff) & (converted <= end))))
        leads.append(lead)
    width = len(CATALOGUE)
    return Rows(
        np.asarray(xs).reshape(-1, width),
        np.asarray(extras).reshape(len(xs), len(TYPE_FEATURES) * len(types)),
        np.asarray(rfs, dtype=np.float64).reshape(len(xs), 2),
        np.asarray(ys, dtype=bool),
        leads,
        np.full(len(xs), cutoff),
    )
