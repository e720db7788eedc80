"""What the churn model knows of a lead: a compact summary of its engagement (:class:`Activity`),
and the churn features computed from it at any later time (:func:`features`).

**Why a summary.** The daily sweep scores every lead; reading every lead's whole event history
each day would cost a query per lead and grow with the history. Instead the ScoringFunction,
which already reads a lead's stream whenever its events change, stores this summary on the lead
record (``activity``); the sweep reads one small item per lead. The summary is *sufficient*:
for any time ``T`` at or after it was made, with no event in between (the next event triggers a
rescore, which remakes it), ``features(Activity.of(stream, at), T)`` equals
``features(Activity.of(stream, T), T)`` — a test proves it. Training and evaluation build their
rows the same way, from the stream cut at each cutoff, so the model sees in training exactly
what it is served.

**Engagement** is every event type except our own and GHL's bookkeeping
(``ghl_ai.behaviour.features.ENGAGEMENT``; types the catalogue does not name count, so a shop's
purchases do). An *active day* is a UTC day with at least one engagement event.

**Features** (:data:`FEATURES`): the recency / frequency / monetary family, the lead's own
rhythm (its mean gap between active days and how overdue it is against it), recent volume
(events and active days in the last 30 and 90 days) and the time since its last website visit,
reply and high-intent action (save, share, tour or valuation request). Counts and durations are
``log(1 + x)``; a lead that never did something gets :data:`NEVER_DAYS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghl_ai.behaviour.features import DAY, ENGAGEMENT, HIGH_INTENT, KINDS, VISIT, EventStream

#: The summary keeps the active days of this many days before it was made.
RECENT_DAYS = 90
#: Days since something the lead never did (and the cap of every "days since").
NEVER_DAYS = 365.0
OVERDUE_CAP = 10.0
#: The kinds whose last time the summary keeps (``days_since_*`` features and reasons).
LAST_OF: dict[str, tuple[int, ...]] = {
    "visit": VISIT,
    "reply": (KINDS.index("message_in"),),
    "high_intent": HIGH_INTENT,
}

FEATURES: tuple[str, ...] = (
    "recency_days_log",  # log(1 + days since the last engagement; since the first event if none)
    "frequency_log",  # log(1 + engagement events)
    "monetary_log",  # log(1 + sum of the events' values)
    "tenure_days_log",  # log(1 + days since the first event)
    "mean_gap_days_log",  # log(1 + mean days between its active days; tenure if one day)
    "overdue",  # days since the last engagement / its mean gap (capped at 10)
    "single_active_day",  # 1 when it engaged on one day only (the gap is then its tenure)
    "events_30d_log",
    "events_90d_log",
    "events_before_90d_log",
    "recent_share_90d",  # engagement events in the last 90 days / all of them
    "mean_value_log",  # log(1 + monetary / frequency)
    "active_days_30d_log",
    "active_days_90d_log",
    "days_since_visit_log",
    "days_since_reply_log",
    "days_since_high_intent_log",
    "last_gap_days_log",  # log(1 + days between its last two active days; 0 with fewer)
    "longest_gap_days_log",  # log(1 + its longest gap between active days; 0 with fewer)
    "gap_cv",  # the spread of its gaps: standard deviation / mean (0 with fewer than 3 days)
    "overdue_longest",  # days since the last engagement / its longest gap (capped at 10)
)
INDEX = {name: i for i, name in enumerate(FEATURES)}


def _day(t: float) -> int:
    return int(np.floor(t / DAY))


@dataclass(frozen=True)
class Activity:
    """A lead's engagement up to ``at`` (epoch seconds), in a few numbers."""

    at: float
    first: float  # its first event of any type
    last: float | None  # its last engagement event (None: it never engaged)
    count: int  # engagement events
    value: float  # the sum of its events' values (monetary), at least 0
    days: int  # active days
    first_day: int  # epoch day number of its first and last active day (0 when none)
    last_day: int
    last_gap: int = 0  # days between its last two active days (0 with fewer than two)
    longest_gap: int = 0  # its longest gap between active days
    gap_sq: float = 0.0  # the sum of its squared gaps (their spread)
    recent: dict[int, int] = field(default_factory=dict)  # day → engagement events (recent)
    last_of: dict[str, float] = field(default_factory=dict)  # LAST_OF name → last time

    @classmethod
    def of(cls, stream: EventStream, at: float) -> Activity | None:
        """The summary of ``stream`` at ``at`` (events at or before it only); None when the
        lead has no event by then."""
        n = int(np.searchsorted(stream.t, at, side="right"))
        if n == 0:
            return None
        t, kind = stream.t[:n], stream.kind[:n]
        engaged = (kind < 0) | np.isin(kind, ENGAGEMENT)
        times = t[engaged]
        days, per_day = np.unique(np.floor(times / DAY).astype(np.int64), return_counts=True)
        since = _day(at) - RECENT_DAYS
        recent = {int(d): int(c) for d, c in zip(days, per_day, strict=True) if d > since}
        gaps = np.diff(days)
        last_of = {}
        for name, kinds in LAST_OF.items():
            hits = t[np.isin(kind, kinds)]
            if hits.size:
                last_of[name] = float(hits[-1])
        return cls(
            at=float(at),
            first=float(t[0]),
            last=float(times[-1]) if times.size else None,
            count=int(times.size),
            value=max(float(stream.value[:n].sum()), 0.0),
            days=int(days.size),
            first_day=int(days[0]) if days.size else 0,
            last_day=int(days[-1]) if days.size else 0,
            last_gap=int(gaps[-1]) if gaps.size else 0,
            longest_gap=int(gaps.max()) if gaps.size else 0,
            gap_sq=float(np.sum(gaps.astype(np.float64) ** 2)),
            recent=recent,
            last_of=last_of,
        )

    # -- the lead record's ``activity`` attribute ---------------------------------------------

    def as_state(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "value": self.value,
            "days": self.days,
            "firstDay": self.first_day,
            "lastDay": self.last_day,
            "lastGap": self.last_gap,
            "longestGap": self.longest_gap,
            "gapSq": self.gap_sq,
            # "day:count ..." — one short string, not a map of 90 attributes to (de)serialise.
            "recent": " ".join(f"{d}:{c}" for d, c in sorted(self.recent.items())),
            "lastOf": dict(self.last_of),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Activity:
        recent = {}
        for pair in str(state.get("recent") or "").split():
            day, _, count = pair.partition(":")
            recent[int(day)] = int(count)
        last = state.get("last")
        return cls(
            at=float(state["at"]),
            first=float(state["first"]),
            last=float(last) if last is not None else None,
            count=int(state.get("count") or 0),
            value=float(state.get("value") or 0.0),
            days=int(state.get("days") or 0),
            first_day=int(state.get("firstDay") or 0),
            last_day=int(state.get("lastDay") or 0),
            last_gap=int(state.get("lastGap") or 0),
            longest_gap=int(state.get("longestGap") or 0),
            gap_sq=float(state.get("gapSq") or 0.0),
            recent=recent,
            last_of={k: float(v) for k, v in (state.get("lastOf") or {}).items()},
        )

    # -- what the features and the reasons say, in days -----------------------------------------

    def recency_days(self, at: float) -> float:
        """Days since its last engagement (since its first event if it never engaged)."""
        return (at - (self.last if self.last is not None else self.first)) / DAY

    def tenure_days(self, at: float) -> float:
        return (at - self.first) / DAY

    def mean_gap_days(self, at: float) -> float | None:
        """Its usual number of days between active days (None with fewer than two)."""
        if self.days < 2:
            return None
        return (self.last_day - self.first_day) / (self.days - 1)

    def recent_counts(self, at: float, window_days: int) -> tuple[int, int]:
        """(events, active days) in the last ``window_days`` days up to ``at``."""
        since = _day(at) - window_days
        counts = [c for d, c in self.recent.items() if d > since]
        return sum(counts), len(counts)

    def days_since(self, what: str, at: float) -> float | None:
        last = self.last_of.get(what)
        return None if last is None else (at - last) / DAY

    def bgnbd_counts(self, at: float) -> tuple[float, float, float]:
        """``(x, t_x, T)`` for BG/NBD, in days: repeat active days, the last one's day after the
        first active day, and the time observed since that first day."""
        if self.days == 0:
            return 0.0, 0.0, max(self.tenure_days(at), 0.0)
        return (
            float(self.days - 1),
            float(self.last_day - self.first_day),
            max(at / DAY - self.first_day, float(self.last_day - self.first_day)),
        )


def _since(days: float | None) -> float:
    return float(np.log1p(min(max(days, 0.0), NEVER_DAYS) if days is not None else NEVER_DAYS))


def features(activity: Activity, at: float) -> np.ndarray:
    """The :data:`FEATURES` of a lead at ``at`` (at or after the summary was made)."""
    at = max(at, activity.at)
    tenure = max(activity.tenure_days(at), 0.0)
    recency = max(activity.recency_days(at), 0.0)
    gap = activity.mean_gap_days(at)
    single = gap is None
    gap = max(tenure, 1.0) if gap is None else gap
    frequency = activity.count
    n30, d30 = activity.recent_counts(at, 30)
    n90, d90 = activity.recent_counts(at, 90)
    gaps = activity.days - 1
    cv = 0.0
    if gaps >= 2 and gap > 0:
        variance = max(activity.gap_sq / gaps - gap**2, 0.0)
        cv = float(np.sqrt(variance)) / gap
    return np.array(
        [
            np.log1p(recency),
            np.log1p(frequency),
            np.log1p(activity.value),
            np.log1p(tenure),
            np.log1p(gap),
            min(recency / max(gap, 1.0), OVERDUE_CAP),
            float(single),
            np.log1p(n30),
            np.log1p(n90),
            np.log1p(max(frequency - n90, 0)),
            n90 / frequency if frequency else 0.0,
            np.log1p(activity.value / max(frequency, 1)),
            np.log1p(d30),
            np.log1p(d90),
            _since(activity.days_since("visit", at)),
            _since(activity.days_since("reply", at)),
            _since(activity.days_since("high_intent", at)),
            np.log1p(activity.last_gap),
            np.log1p(activity.longest_gap),
            cv,
            min(recency / max(activity.longest_gap, 1), OVERDUE_CAP),
        ]
    )


def matrix(activities: list[Activity], at: float | list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and BG/NBD counts ``(x, t_x, T)`` of many leads (at one time or each its
    own)."""
    times = at if isinstance(at, list) else [at] * len(activities)
    x = np.array([features(a, t) for a, t in zip(activities, times, strict=True)]).reshape(
        -1, len(FEATURES)
    )
    counts = np.array(
        [a.bgnbd_counts(max(t, a.at)) for a, t in zip(activities, times, strict=True)]
    ).reshape(-1, 3)
    return x, counts
