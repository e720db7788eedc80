"""A lead's churn risk: the probability that it has no engagement in the next 7, 14 and 30
days, its tier, and the reasons in plain words.

**Probabilities** come from the model layer's ``churn_7d``, ``churn_14d`` and ``churn_30d``
(``ghl_models.churn``), each calibrated on its own. Going quiet for 30 days implies going quiet
for 14 and for 7, so the served numbers are made consistent: ``d14 ≤ d7`` and ``d30 ≤ d14``
(each capped by the shorter horizon's).

**Tiers** (:data:`TIERS`) are fixed thresholds on ``d30``, the risk that the lead is quiet for
the next month: *low* below 0.3, *medium* from 0.3, *high* from 0.5, *critical* from 0.7.
Calibration makes them mean what they say: about half the leads rated 0.5 do go a month
without engaging. *High* and *critical* are :data:`ACTIONABLE`: a lead whose tier rises into
them gets a re-engagement play (``churn/score.py``).

**Reasons** come from the 30-day model's own response, as the lead score's do: the features are
grouped by what they say (:data:`REASON_GROUPS`: the silence against the lead's own rhythm,
recent volume, website visits, replies, high-intent actions, tenure, value), and a group's
contribution is how much the risk would fall (or rise) if the lead's values of that group were
typical (the training medians). The largest that raise the risk are put in words — "no activity
for 19 days; usually every 4", "no reply for 26 days" — or, for a low-risk lead, the largest
that keep it low ("6 active days in the last 30 days").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ghl_ai.churn.activity import FEATURES, Activity, matrix
from ghl_models.churn import BGNBD_FEATURE, ChurnModel

Tier = Literal["low", "medium", "high", "critical"]
#: (tier, lower bound on the 30-day churn probability).
TIERS: tuple[tuple[Tier, float], ...] = (
    ("low", 0.0),
    ("medium", 0.3),
    ("high", 0.5),
    ("critical", 0.7),
)
ACTIONABLE: frozenset[str] = frozenset({"high", "critical"})
HORIZONS = (7, 14, 30)
REASONS = 3
#: A group must move the risk by at least this much to be given as a reason.
MIN_CONTRIBUTION = 0.01

REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "silence": (
        "recency_days_log",
        "overdue",
        "single_active_day",
        "mean_gap_days_log",
        "last_gap_days_log",
        "longest_gap_days_log",
        "gap_cv",
        "overdue_longest",
        BGNBD_FEATURE,
    ),
    "volume": (
        "frequency_log",
        "events_30d_log",
        "events_90d_log",
        "events_before_90d_log",
        "recent_share_90d",
        "active_days_30d_log",
        "active_days_90d_log",
    ),
    "visits": ("days_since_visit_log",),
    "replies": ("days_since_reply_log",),
    "intent": ("days_since_high_intent_log",),
    "tenure": ("tenure_days_log",),
    "value": ("monetary_log", "mean_value_log"),
}
_INPUTS = (*FEATURES, BGNBD_FEATURE)
_GROUP_INDEX = {
    group: np.array([_INPUTS.index(n) for n in names]) for group, names in REASON_GROUPS.items()
}


class ChurnModelMismatch(RuntimeError):
    """A churn model of the layer was trained on other features than this code computes."""


def tier_of(d30: float) -> Tier:
    tier: Tier = "low"
    for name, lower in TIERS:
        if d30 >= lower:
            tier = name
    return tier


def _days(value: float) -> str:
    n = max(round(value), 0)
    return "1 day" if n == 1 else f"{n} days"


def phrase(group: str, activity: Activity, at: float) -> str:
    """What the lead's ``group`` of features says, in words (true whichever way it pushes)."""
    if group == "silence":
        recency = activity.recency_days(at)
        gap = activity.mean_gap_days(at)
        if activity.last is None:
            return f"has not engaged since arriving {_days(recency)} ago"
        if gap is None:
            return f"active on one day only, {_days(recency)} ago"
        usually = "every day" if gap < 1.5 else f"every {round(gap)}"
        if recency < 1:
            return f"active today; usually {usually}"
        return f"no activity for {_days(recency)}; usually {usually}"
    if group == "volume":
        _, d30 = activity.recent_counts(at, 30)
        _, d90 = activity.recent_counts(at, 90)
        active = "1 active day" if d30 == 1 else f"{d30} active days"
        return f"{active} in the last 30 days, {d90 - d30} in the 60 before"
    if group in ("visits", "replies", "intent"):
        key = {"visits": "visit", "replies": "reply", "intent": "high_intent"}[group]
        since = activity.days_since(key, at)
        if group == "visits":
            return (
                "no website visit yet" if since is None else f"no website visit for {_days(since)}"
            )
        if group == "replies":
            return "has not replied yet" if since is None else f"no reply for {_days(since)}"
        if since is None:
            return "has not saved a home or asked for a tour"
        return f"last saved, shared or asked about a home {_days(since)} ago"
    if group == "tenure":
        return f"a lead for {_days(activity.tenure_days(at))}"
    return f"activity worth {activity.value:,.0f} in all"


@dataclass(frozen=True)
class ChurnRisk:
    d7: float
    d14: float
    d30: float
    tier: Tier
    reasons: list[str]
    model_version: str

    def as_state(self, scored_at: float, day: str) -> dict[str, Any]:
        """The lead record's ``churn`` attribute (``day``: the sweep's, for idempotency)."""
        return {
            "d7": round(self.d7, 4),
            "d14": round(self.d14, 4),
            "d30": round(self.d30, 4),
            "tier": self.tier,
            "reasons": list(self.reasons),
            "modelVersion": self.model_version,
            "scoredAt": scored_at,
            "day": day,
        }


class ChurnPredictor:
    """The three horizons' models of one location, scoring many leads at once."""

    def __init__(self, models: Mapping[int, ChurnModel]) -> None:
        missing = [h for h in HORIZONS if h not in models]
        if missing:
            raise ChurnModelMismatch(f"no churn model for {missing} days")
        for _horizon, model in models.items():
            if tuple(model.features) != FEATURES:
                raise ChurnModelMismatch(
                    f"{model.name} was trained on other features than this code computes: "
                    "retrain it (make models)"
                )
        self._models = dict(models)
        self.version = models[30].version

    def predict(self, activities: list[Activity], at: float) -> list[ChurnRisk]:
        if not activities:
            return []
        x, counts = matrix(activities, at)
        p = {h: self._models[h].probability(x, counts) for h in HORIZONS}
        p[14] = np.minimum(p[14], p[7])
        p[30] = np.minimum(p[30], p[14])
        contributions = self._contributions(x, counts)
        out = []
        for i, activity in enumerate(activities):
            tier = tier_of(float(p[30][i]))
            out.append(
                ChurnRisk(
                    d7=float(p[7][i]),
                    d14=float(p[14][i]),
                    d30=float(p[30][i]),
                    tier=tier,
                    reasons=self._reasons(contributions[i], tier, activity, at),
                    model_version=self.version,
                )
            )
        return out

    def _contributions(self, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per lead and group: the 30-day risk minus its risk with the group at typical values."""
        model = self._models[30]
        inputs = model.inputs(x, counts)
        n, groups = inputs.shape[0], len(_GROUP_INDEX)
        # The lead as it is, then once per group with that group typical: one model pass.
        stacked = np.tile(inputs, (groups + 1, 1))
        for j, columns in enumerate(_GROUP_INDEX.values(), start=1):
            stacked[j * n : (j + 1) * n][:, columns] = model.reference[columns]
        p = model.model.probability(stacked).reshape(groups + 1, n)
        result: np.ndarray = (p[0] - p[1:]).T
        return result

    @staticmethod
    def _reasons(row: np.ndarray, tier: str, activity: Activity, at: float) -> list[str]:
        groups = list(_GROUP_INDEX)
        sign = -1.0 if tier == "low" else 1.0
        order = np.argsort(-sign * row, kind="stable")
        picked = [groups[j] for j in order if sign * row[j] >= MIN_CONTRIBUTION][:REASONS]
        if not picked:
            picked = ["silence"]
        return [phrase(g, activity, at) for g in picked]
