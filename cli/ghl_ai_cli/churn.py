"""``ghl-ai eval churn``: who stops engaging, evaluated on any event log with time-based validation.

Contract (the churn issue's): the population at a cutoff T is every lead with an event on or
before T; such a lead has **churned** (the positive class) if it has no engagement event in
(T, T + horizon]. Engagement is every event type except our own and GHL's bookkeeping
(``ghl_ai.behaviour.features.ENGAGEMENT``; types the catalogue does not name count as
engagement, so a shop's purchases do).

No leakage, by construction: every feature and every training row is built from the log cut at
T (events at or before T); the events after T are read only for the labels of the test rows.

Features of a lead at a cutoff: the behavioural catalogue (``features.compute``, counts as
log(1 + x)), the per-type features of the log's own event types (``datasets.type_features``, as
``eval scoring`` uses them), and the recency / frequency / monetary family with the lead's own
rhythm (:data:`RHYTHM`).

Time-based validation. Training cutoffs T − H − k·step for k = 0, 1, 2 … (step = H / 2, at most
:data:`MAX_CUTOFFS`, while at least :data:`MIN_LEADS` leads are active), each labelled inside
its own horizon, which ends at or before T. The latest one (T − H) validates; the model is
fitted on the cutoffs whose horizon ends at or before it (T − 2H and earlier; the one in
between is purged, so no fitting label overlaps the validation window). Candidates
(``training.candidates``: a regularised logistic regression on all the scaled features at two
strengths and histogram gradient boosting; plus ``rhythm_logistic``, a logistic regression on
the :data:`RHYTHM` family alone) are each fitted on the fitting cutoffs and
calibrated on the validation cutoffs, sigmoid or isotonic, scored by two-fold cross-fitting on
the validation rows (split by lead); the lowest validation log loss wins and its calibrator is
refitted on all validation rows. The test rows are the leads at T.

Baselines, fitted and calibrated the same way on the same rows and scored by the same metric
functions on the same test rows: ``recency`` (a logistic regression on log(1 + days since the
last engagement) alone: a monotone mapping) and ``rfm_logistic`` (on log recency, frequency and
monetary value).

Risk tiers: fixed thresholds on the calibrated churn probability (:data:`TIERS`: low < 0.3 ≤
medium < 0.5 ≤ high < 0.7 ≤ critical), each reported with its observed churn rate on the test
rows — calibration makes the thresholds mean what they say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ghl_ai.behaviour.features import DAY, ENGAGEMENT, NAMES, EventStream, compute, model_input
from ghl_ai_cli.datasets import TYPE_FEATURES, EventLog, type_features
from ghl_ai_cli.training import calibrated, candidates
from ghl_models import metrics

MAX_TYPES = 15
MAX_CUTOFFS = 8
MIN_LEADS = 20
#: (name, lower bound) of each risk tier, on the calibrated churn probability.
TIERS = (("low", 0.0), ("medium", 0.3), ("high", 0.5), ("critical", 0.7))
#: The recency / frequency / monetary family and the lead's own rhythm (engagement events).
RHYTHM = (
    "recency_days_log",  # log(1 + days since the last engagement; since the first event if none)
    "frequency_log",  # log(1 + engagement events)
    "monetary_log",  # log(1 + sum of the events' values)
    "tenure_days_log",  # log(1 + days since the first event)
    "mean_gap_days_log",  # log(1 + mean days between its engagement days; tenure if one day)
    "overdue",  # days since the last engagement / its mean gap (capped at 10)
    "single_active_day",  # 1 when it engaged on one day only (the gap is then its tenure)
    "events_30d_log",
    "events_90d_log",
    "events_before_90d_log",
    "recent_share_90d",  # engagement events in the last 90 days / all of them
    "mean_value_log",  # log(1 + monetary / frequency)
)


class ChurnError(ValueError):
    """The log and the flags give nothing to evaluate (the message says why)."""


@dataclass
class ChurnRows:
    """One lead at one cutoff per row."""

    x: np.ndarray  # the model's features (catalogue, per type, rhythm), already transformed
    rfm: np.ndarray  # log(1 + recency days), log(1 + frequency), log(1 + monetary)
    y: np.ndarray  # churned
    leads: list[str]
    cutoffs: np.ndarray

    def __len__(self) -> int:
        return int(self.y.size)

    @staticmethod
    def concat(parts: list[ChurnRows]) -> ChurnRows:
        return ChurnRows(
            np.vstack([p.x for p in parts]),
            np.vstack([p.rfm for p in parts]),
            np.concatenate([p.y for p in parts]),
            [lead for p in parts for lead in p.leads],
            np.concatenate([p.cutoffs for p in parts]),
        )


@dataclass
class ChurnData:
    fit: ChurnRows
    validation: ChurnRows
    test: ChurnRows
    fit_cutoffs: list[float]
    validation_cutoffs: list[float]
    feature_names: list[str]


def _engaged(stream: EventStream) -> np.ndarray:
    """Times of the stream's engagement events (unknown types included)."""
    mask = (stream.kind < 0) | np.isin(stream.kind, ENGAGEMENT)
    return stream.t[mask]


def rhythm(stream: EventStream, at: float) -> np.ndarray:
    """The :data:`RHYTHM` features of a lead at ``at`` (events at or before it only)."""
    n = int(np.searchsorted(stream.t, at, side="right"))
    engaged = _engaged(stream)
    engaged = engaged[: int(np.searchsorted(engaged, at, side="right"))]
    tenure = (at - float(stream.t[0])) / DAY
    recency = (at - float(engaged[-1])) / DAY if engaged.size else tenure
    frequency = int(engaged.size)
    monetary = max(float(stream.value[:n].sum()), 0.0)
    days = np.unique(np.floor(engaged / DAY))
    single = days.size < 2
    gap = max(tenure, 1.0) if single else float(np.mean(np.diff(days)))
    age = (at - engaged) / DAY
    n30, n90 = int(np.count_nonzero(age <= 30)), int(np.count_nonzero(age <= 90))
    return np.array(
        [
            np.log1p(recency),
            np.log1p(frequency),
            np.log1p(monetary),
            np.log1p(tenure),
            np.log1p(gap),
            min(recency / max(gap, 1.0), 10.0),
            float(single),
            np.log1p(n30),
            np.log1p(n90),
            np.log1p(frequency - n90),
            n90 / frequency if frequency else 0.0,
            np.log1p(monetary / max(frequency, 1)),
        ]
    )


def rows_at(
    past: dict[str, EventStream],
    at: float,
    types: list[str],
    label: Callable[[str, float], bool],
) -> ChurnRows:
    """Every lead of ``past`` active by ``at``, its features from ``past`` (events up to ``at``
    only), its label from ``label(lead, at)``."""
    xs, rfms, ys, leads = [], [], [], []
    for lead, stream in past.items():
        if stream.t.size == 0 or stream.t[0] > at:
            continue
        catalogue, _ = compute(stream, at)
        own = rhythm(stream, at)
        xs.append(np.concatenate([model_input(catalogue), type_features(stream, at, types), own]))
        rfms.append(own[:3])
        ys.append(label(lead, at))
        leads.append(lead)
    width = len(NAMES) + len(TYPE_FEATURES) * len(types) + len(RHYTHM)
    return ChurnRows(
        np.asarray(xs, dtype=np.float64).reshape(-1, width),
        np.asarray(rfms, dtype=np.float64).reshape(-1, 3),
        np.asarray(ys, dtype=bool),
        leads,
        np.full(len(xs), at),
    )


def _churned(engaged: dict[str, np.ndarray], horizon: float) -> Callable[[str, float], bool]:
    def label(lead: str, at: float) -> bool:
        times = engaged.get(lead, np.empty(0))
        return not bool(np.any((times > at) & (times <= at + horizon)))

    return label


def _date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def build(
    log: EventLog,
    cutoff: float,
    horizon_days: float,
    progress: Callable[[str], None] = lambda _: None,
) -> ChurnData:
    """The fitting, validation and test rows (see the module docstring)."""
    if not log.events:
        raise ChurnError("the log has no events")
    first, last = log.span
    if not first <= cutoff < last:
        raise ChurnError(
            f"the cutoff {_date(cutoff)} is outside the data ({_date(first)} to {_date(last)})"
        )
    horizon = horizon_days * DAY
    if cutoff + horizon > last:
        raise ChurnError(
            f"the horizon runs past the data: {_date(cutoff)} + {horizon_days:g} days is after "
            f"the last event ({_date(last)}), so the labels would be unknown"
        )
    # Everything but the test labels is built from this log, cut at the cutoff.
    past_log = EventLog([e for e in log.events if e.t <= cutoff])
    counts = past_log.type_counts()
    types = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TYPES]
    past = past_log.streams()
    past_engaged = {lead: _engaged(s) for lead, s in past.items()}
    all_engaged = {lead: _engaged(s) for lead, s in log.streams().items()}

    progress(f"test rows at {_date(cutoff)}")
    test = rows_at(past, cutoff, types, _churned(all_engaged, horizon))
    if len(test) == 0:
        raise ChurnError(f"no lead has an event on or before the cutoff {_date(cutoff)}")

    step = max(horizon / 2, DAY)
    train: list[tuple[float, ChurnRows]] = []
    label = _churned(past_engaged, horizon)
    for k in range(MAX_CUTOFFS):
        at = cutoff - horizon - k * step
        if at < first:
            break
        progress(f"training rows at {_date(at)}")
        rows = rows_at(past, at, types, label)
        if len(rows) < MIN_LEADS:
            break
        train.append((at, rows))
    validation = train[:1]
    fit = [(at, rows) for at, rows in train if at + horizon <= validation[-1][0]] if train else []
    if not fit:
        raise ChurnError(
            f"not enough history before {_date(cutoff)} for time-based validation: need "
            f"{MIN_LEADS}+ active leads at cutoffs {horizon_days:g} and {2 * horizon_days:g} "
            "days before it"
        )
    names = list(NAMES) + [f"{t}:{f}" for t in types for f in TYPE_FEATURES] + list(RHYTHM)
    return ChurnData(
        ChurnRows.concat([rows for _, rows in fit]),
        ChurnRows.concat([rows for _, rows in validation]),
        test,
        [at for at, _ in fit],
        [at for at, _ in validation],
        names,
    )


def _halves(leads: list[str], seed: int) -> np.ndarray:
    """A seeded split of the rows into two halves, by lead."""
    unique = sorted(set(leads))
    rng = np.random.default_rng(seed)
    side = dict(zip(unique, rng.random(len(unique)) < 0.5, strict=True))
    return np.array([side[lead] for lead in leads], dtype=bool)


def _cross_fitted(model: Any, x: np.ndarray, y: np.ndarray, half: np.ndarray, method: str) -> Any:
    """Out-of-fold calibrated probabilities on the validation rows (None if a half lacks a
    class)."""
    p = np.empty(y.size)
    for fit_mask in (half, ~half):
        if len(np.unique(y[fit_mask])) < 2 or not np.any(~fit_mask):
            return None
        p[~fit_mask] = calibrated(model, x[fit_mask], y[fit_mask], method).predict_proba(
            x[~fit_mask]
        )[:, 1]
    return p


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "auc": metrics.auc(y, p),
        "brier": metrics.brier(y, p),
        "log_loss": metrics.log_loss(y, p),
    }


def _logistic() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=5000))])


def tiers(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Each :data:`TIERS` tier: its probability range, test rows, mean predicted, churn rate."""
    out = []
    for i, (name, lower) in enumerate(TIERS):
        upper = TIERS[i + 1][1] if i + 1 < len(TIERS) else 1.0
        mask = (p >= lower) & ((p < upper) if i + 1 < len(TIERS) else (p <= upper))
        n = int(mask.sum())
        out.append(
            {
                "tier": name,
                "from": lower,
                "to": upper,
                "n": n,
                "mean_predicted": float(p[mask].mean()) if n else None,
                "churn_rate": float(y[mask].mean()) if n else None,
            }
        )
    return out


def evaluate_churn(
    log: EventLog,
    *,
    cutoff: float,
    horizon_days: float,
    seed: int = 42,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The contract's JSON (see the module docstring)."""
    data = build(log, cutoff, horizon_days, progress)
    fit, val, test = data.fit, data.validation, data.test
    for what, rows in (("fitting", fit), ("validation", val), ("test", test)):
        if len(np.unique(rows.y)) < 2:
            outcome = "churned" if rows.y.all() else "stayed"
            raise ChurnError(
                f"every one of the {len(rows)} {what} rows {outcome}: need both outcomes"
            )
    half = _halves(val.leads, seed)
    report: dict[str, dict[str, Any]] = {}
    best: tuple[float, str, Any, str, slice] | None = None
    pool = {name: (estimator, slice(None)) for name, estimator in candidates(seed).items()}
    pool["rhythm_logistic"] = (_logistic(), slice(-len(RHYTHM), None))
    for name, (estimator, columns) in pool.items():
        progress(f"fitting {name}")
        model = clone(estimator).fit(fit.x[:, columns], fit.y)
        for method in ("sigmoid", "isotonic"):
            p = _cross_fitted(model, val.x[:, columns], val.y, half, method)
            if p is None:
                continue
            scored = _scores(val.y, p)
            if name not in report or scored["log_loss"] < report[name]["log_loss"]:
                report[name] = {"calibration_method": method, **scored}
            if best is None or scored["log_loss"] < best[0]:
                best = (scored["log_loss"], name, model, method, columns)
    if best is None:
        raise ChurnError("too few churned or staying leads at the validation cutoffs to calibrate")
    _, chosen, model, method, columns = best
    final = calibrated(model, val.x[:, columns], val.y, method)
    p_model = final.predict_proba(test.x[:, columns])[:, 1]

    progress("baselines")
    baselines: dict[str, Any] = {}
    for name, rfm_columns in (("recency", [0]), ("rfm_logistic", [0, 1, 2])):
        base = _logistic().fit(fit.rfm[:, rfm_columns], fit.y)
        cal = calibrated(base, val.rfm[:, rfm_columns], val.y, "sigmoid")
        baselines[name] = _scores(test.y, cal.predict_proba(test.rfm[:, rfm_columns])[:, 1])
    return {
        "model": {
            "name": chosen,
            "calibration_method": method,
            **_scores(test.y, p_model),
            "calibration": metrics.calibration_table(test.y, p_model),
        },
        "baselines": baselines,
        "candidates": report,
        "tiers": tiers(test.y, p_model),
        "base_rate": float(test.y.mean()),
        "n_train": len(fit) + len(val),
        "n_fit": len(fit),
        "n_validation": len(val),
        "n_test": len(test),
        "cutoff": _date(cutoff),
        "horizon_days": horizon_days,
        "seed": seed,
        "fit_cutoffs": [_date(t) for t in data.fit_cutoffs],
        "validation_cutoffs": [_date(t) for t in data.validation_cutoffs],
        "features": data.feature_names,
    }
