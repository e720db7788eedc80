"""Churn: who stops engaging. ``ghl-ai eval churn`` on any event log, and ``ghl-ai train churn``,
which fits the served 7-, 14- and 30-day models the same way.

Contract (the churn issue's): the population at a cutoff T is every lead with an event on or
before T; such a lead has **churned** (the positive class) if it has no engagement event in
(T, T + horizon]. Engagement is every event type except our own and GHL's bookkeeping
(``ghl_ai.behaviour.features.ENGAGEMENT``; types the catalogue does not name count as
engagement, so a shop's purchases do).

**Split.** The leads are split 70 / 30 by a seeded draw. The test rows are the 30 % at T; every
fitting and validation row comes from the 70 %.

**No leakage**, by construction: every feature and every training row is built from the log cut
at T (events at or before T); the events after T are read only for the labels of the test rows.

**Features** of a lead at a cutoff: ``ghl_ai.churn.activity`` — the summary the served model
reads from the lead record, made here from the stream cut at the cutoff, so training sees what
serving sees: recency / frequency / monetary, the lead's own rhythm, recent volume, time since
its last visit, reply and high-intent action — and the BG/NBD churn probability over the
horizon (``ghl_models.churn``; fitted on the fitting rows), as its logit.

**Time-based validation.** Training cutoffs T − H − k·step for k = 0, 1, 2 … (step = H / 2, at
most :data:`MAX_CUTOFFS`, while at least :data:`MIN_LEADS` leads are active), each labelled
inside its own horizon, which ends at or before T. The latest one (T − H) validates; the models
are fitted on the cutoffs whose horizon ends at or before it (T − 2H and earlier; the one in
between is purged, so no fitting label overlaps the validation window).

**Candidates**: a regularised logistic regression on all the scaled features at two strengths,
histogram gradient boosting, and BG/NBD alone (a logistic regression on its logit: a monotone
recalibration) — each fitted on the fitting cutoffs and calibrated on the validation cutoffs,
sigmoid or isotonic, scored by two-fold cross-fitting on the validation rows (split by lead).
The simplest candidate whose validation log loss is within one standard error of the lowest
wins (:func:`one_standard_error`: a richer model must beat a compact one by more than noise)
and its calibrator is refitted on all validation rows.

**Baselines**, fitted and calibrated the same way on the same rows and scored by the same
metric functions on the same test rows: ``recency`` (a logistic regression on log(1 + days
since the last engagement) alone: a monotone mapping) and ``rfm_logistic`` (on log recency,
frequency and monetary value).

**Risk tiers**: ``ghl_ai.churn.risk.TIERS`` on the calibrated probability, each reported with
its observed churn rate on the test rows — calibration makes the thresholds mean what they say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ghl_ai.behaviour.features import DAY, EventStream
from ghl_ai.churn.activity import FEATURES, Activity, matrix
from ghl_ai.churn.risk import TIERS
from ghl_ai_cli import bgnbd
from ghl_ai_cli.datasets import EventLog
from ghl_ai_cli.training import Fitted, calibrated, candidates, export, library_versions
from ghl_models import metrics
from ghl_models.churn import BGNBD_FEATURE, BgNbd, ChurnModel, logit

MAX_CUTOFFS = 8
MIN_LEADS = 20
TEST_SHARE = 0.3
INPUTS = (*FEATURES, BGNBD_FEATURE)
#: The lead's rhythm against its recency, frequency and value: a compact candidate's features.
RHYTHM = (
    "recency_days_log",
    "frequency_log",
    "monetary_log",
    "mean_gap_days_log",
    "overdue",
    "single_active_day",
)
ALL = list(range(len(INPUTS)))


class ChurnError(ValueError):
    """The log and the flags give nothing to evaluate (the message says why)."""


@dataclass
class ChurnRows:
    """One lead at one cutoff per row."""

    x: np.ndarray  # the churn features (ghl_ai.churn.activity.FEATURES)
    counts: np.ndarray  # BG/NBD (x, t_x, T) in days
    y: np.ndarray  # churned
    leads: list[str]
    cutoffs: np.ndarray

    def __len__(self) -> int:
        return int(self.y.size)

    @property
    def rfm(self) -> np.ndarray:
        """log(1 + recency days), log(1 + frequency), log(1 + monetary)."""
        return self.x[:, :3]

    @staticmethod
    def concat(parts: list[ChurnRows]) -> ChurnRows:
        return ChurnRows(
            np.vstack([p.x for p in parts]),
            np.vstack([p.counts for p in parts]),
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
    horizon_days: float


def _engaged(stream: EventStream) -> np.ndarray:
    """Times of the stream's engagement events (unknown types included)."""
    from ghl_ai.behaviour.features import ENGAGEMENT

    mask = (stream.kind < 0) | np.isin(stream.kind, ENGAGEMENT)
    return stream.t[mask]


def rows_at(
    past: dict[str, EventStream], at: float, label: Callable[[str, float], bool]
) -> ChurnRows:
    """Every lead of ``past`` active by ``at``, its features from ``past`` (events up to ``at``
    only), its label from ``label(lead, at)``."""
    activities, ys, leads = [], [], []
    for lead, stream in past.items():
        activity = Activity.of(stream, at)
        if activity is None:
            continue
        activities.append(activity)
        ys.append(label(lead, at))
        leads.append(lead)
    x, counts = matrix(activities, at)
    return ChurnRows(x, counts, np.asarray(ys, dtype=bool), leads, np.full(len(leads), at))


def _churned(engaged: dict[str, np.ndarray], horizon: float) -> Callable[[str, float], bool]:
    def label(lead: str, at: float) -> bool:
        times = engaged.get(lead, np.empty(0))
        return not bool(np.any((times > at) & (times <= at + horizon)))

    return label


def _date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def test_leads(leads: Sequence[str], seed: int, share: float = TEST_SHARE) -> set[str]:
    """The seeded :data:`TEST_SHARE` of the leads held out for the test rows."""
    unique = sorted(set(leads))
    rng = np.random.default_rng(seed)
    return {lead for lead, u in zip(unique, rng.random(len(unique)), strict=True) if u < share}


def build(
    log: EventLog,
    cutoff: float,
    horizon_days: float,
    seed: int = 42,
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
    past = EventLog([e for e in log.events if e.t <= cutoff]).streams()
    held_out = test_leads(list(past), seed)
    past_train = {lead: s for lead, s in past.items() if lead not in held_out}
    past_test = {lead: s for lead, s in past.items() if lead in held_out}
    all_engaged = {lead: _engaged(s) for lead, s in log.streams().items() if lead in held_out}

    progress(f"test rows at {_date(cutoff)}")
    test = rows_at(past_test, cutoff, _churned(all_engaged, horizon))
    if len(test) == 0:
        raise ChurnError(f"no lead has an event on or before the cutoff {_date(cutoff)}")

    step = max(horizon / 2, DAY)
    train: list[tuple[float, ChurnRows]] = []
    label = _churned({lead: _engaged(s) for lead, s in past_train.items()}, horizon)
    for k in range(MAX_CUTOFFS):
        at = cutoff - horizon - k * step
        if at < first:
            break
        progress(f"training rows at {_date(at)}")
        rows = rows_at(past_train, at, label)
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
    return ChurnData(
        ChurnRows.concat([rows for _, rows in fit]),
        ChurnRows.concat([rows for _, rows in validation]),
        test,
        [at for at, _ in fit],
        [at for at, _ in validation],
        horizon_days,
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


@dataclass
class ChurnFit:
    """The chosen model of one horizon, ready to score rows and to export."""

    fitted: Fitted  # its scikit-learn model (on the columns) and calibrator
    columns: list[int]  # which of INPUTS it reads
    bgnbd: BgNbd
    horizon_days: float
    candidates: dict[str, dict[str, Any]]
    reference: np.ndarray  # the median fitting input row (where reasons start from)

    def inputs(self, rows: ChurnRows) -> np.ndarray:
        p = self.bgnbd.p_churn(
            rows.counts[:, 0], rows.counts[:, 1], rows.counts[:, 2], self.horizon_days
        )
        return np.column_stack([rows.x, logit(p)])

    def probability(self, rows: ChurnRows) -> np.ndarray:
        result: np.ndarray = self.fitted.calibrated.predict_proba(
            self.inputs(rows)[:, self.columns]
        )[:, 1]
        return result

    def spec(self, name: str, version: str) -> dict[str, Any]:
        """The ``ghl_models.churn.ChurnModel`` artifact."""
        spec = export(self.fitted, self.reference, version, name=name, features=INPUTS)
        if self.columns != ALL and spec["kind"] == "gbm":
            # Trees on some of the columns: their feature numbers, in all the columns.
            for tree in spec["gbm"]["trees"]:
                tree["feature"] = [self.columns[f] for f in tree["feature"]]
        elif self.columns != ALL:
            # A logistic regression on some of the columns: the others weigh nothing.
            lr, width = spec["logistic"], len(INPUTS)
            full = {"mean": [0.0] * width, "scale": [1.0] * width, "coef": [0.0] * width}
            for part, values in full.items():
                for j, value in zip(self.columns, lr[part], strict=True):
                    values[j] = value
            spec["logistic"] = {**full, "intercept": lr["intercept"]}
        spec["horizon_days"] = self.horizon_days
        spec["bgnbd"] = self.bgnbd.as_json()
        return spec


def _row_losses(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    result: np.ndarray = -(y * np.log(q) + (1 - y) * np.log1p(-q))
    return result


def one_standard_error(tried: dict[str, tuple[np.ndarray, Any, str, list[int]]]) -> str:
    """The simplest candidate (``tried`` is ordered simplest first) whose validation log loss
    is within one standard error of the best one's — the error of the mean per-row difference
    between the two, on the same rows — so that a more complex model must earn its place on
    more than noise (small logs pick the compact models, large ones the rich ones)."""
    losses = {name: entry[0] for name, entry in tried.items()}
    best = min(losses, key=lambda n: float(losses[n].mean()))
    for name, rows in losses.items():
        diff = rows - losses[best]
        se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
        if float(diff.mean()) <= se:
            return name
    return best


def fit_churn(
    data: ChurnData, seed: int, progress: Callable[[str], None] = lambda _: None
) -> ChurnFit:
    """Fit every candidate on the fitting rows, calibrate on the validation rows, keep the
    simplest within one standard error of the lowest cross-fitted validation log loss (see
    the module docstring)."""
    fit, val = data.fit, data.validation
    for what, rows in (("fitting", fit), ("validation", val)):
        if len(np.unique(rows.y)) < 2:
            outcome = "churned" if rows.y.all() else "stayed"
            raise ChurnError(
                f"every one of the {len(rows)} {what} rows {outcome}: need both outcomes"
            )
    progress("fitting BG/NBD")
    buy_till_you_die = bgnbd.fit(fit.counts)
    shell = ChurnFit(None, ALL, buy_till_you_die, data.horizon_days, {}, np.empty(0))  # type: ignore[arg-type]
    x_fit, x_val = shell.inputs(fit), shell.inputs(val)
    half = _halves(val.leads, seed)
    report: dict[str, dict[str, Any]] = {}
    # Simplest first: the order the one-standard-error rule prefers (below).
    features = list(range(len(FEATURES)))
    pool: dict[str, tuple[Any, list[int]]] = {
        "bgnbd": (_logistic(), [len(INPUTS) - 1]),
        "rhythm_logistic": (_logistic(), [INPUTS.index(n) for n in RHYTHM]),
    }
    # BG/NBD is a competitor, not an input of the others: as a column its sharp curvature
    # bought calibration at the cost of ranking (lower AUC on CDNOW at every cutoff tried).
    pool |= {name: (estimator, features) for name, estimator in candidates(seed).items()}
    tried: dict[str, tuple[np.ndarray, Any, str, list[int]]] = {}
    for name, (estimator, columns) in pool.items():
        progress(f"fitting {name}")
        model = clone(estimator).fit(x_fit[:, columns], fit.y)
        for method in ("sigmoid", "isotonic"):
            p = _cross_fitted(model, x_val[:, columns], val.y, half, method)
            if p is None:
                continue
            scored = _scores(val.y, p)
            if name not in report or scored["log_loss"] < report[name]["log_loss"]:
                report[name] = {"calibration_method": method, **scored}
                tried[name] = (_row_losses(val.y, p), model, method, columns)
    if not tried:
        raise ChurnError("too few churned or staying leads at the validation cutoffs to calibrate")
    chosen = one_standard_error(tried)
    _, model, method, columns = tried[chosen]
    final = calibrated(model, x_val[:, columns], val.y, method)
    fitted = Fitted(chosen, model, final, method, report[chosen])
    return ChurnFit(
        fitted, columns, buy_till_you_die, data.horizon_days, report, np.median(x_fit, axis=0)
    )


def baselines(data: ChurnData) -> dict[str, np.ndarray]:
    """The baselines' test probabilities, fitted and calibrated on the same rows."""
    fit, val, test = data.fit, data.validation, data.test
    out = {}
    for name, columns in (("recency", [0]), ("rfm_logistic", [0, 1, 2])):
        base = _logistic().fit(fit.rfm[:, columns], fit.y)
        cal = calibrated(base, val.rfm[:, columns], val.y, "sigmoid")
        out[name] = cal.predict_proba(test.rfm[:, columns])[:, 1]
    return out


def evaluate_churn(
    log: EventLog,
    *,
    cutoff: float,
    horizon_days: float,
    seed: int = 42,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract's JSON (see the module docstring) and the arrays behind it (``--report``)."""
    data = build(log, cutoff, horizon_days, seed, progress)
    test = data.test
    if len(np.unique(test.y)) < 2:
        outcome = "churned" if test.y.all() else "stayed"
        raise ChurnError(f"every one of the {len(test)} test rows {outcome}: need both outcomes")
    chosen = fit_churn(data, seed, progress)
    p_model = chosen.probability(test)
    progress("baselines")
    base = baselines(data)
    result = {
        "model": {
            "name": chosen.fitted.name,
            "calibration_method": chosen.fitted.method,
            **_scores(test.y, p_model),
            "calibration": metrics.calibration_table(test.y, p_model),
        },
        "baselines": {name: _scores(test.y, p) for name, p in base.items()},
        "candidates": chosen.candidates,
        "bgnbd": chosen.bgnbd.as_json(),
        "tiers": tiers(test.y, p_model),
        "base_rate": float(test.y.mean()),
        "n_train": len(data.fit) + len(data.validation),
        "n_fit": len(data.fit),
        "n_validation": len(data.validation),
        "n_test": len(test),
        "cutoff": _date(cutoff),
        "horizon_days": horizon_days,
        "seed": seed,
        "fit_cutoffs": [_date(t) for t in data.fit_cutoffs],
        "validation_cutoffs": [_date(t) for t in data.validation_cutoffs],
        "features": list(INPUTS),
    }
    return result, {"y": test.y, "model": p_model, **base}


# -- ghl-ai train churn ------------------------------------------------------------------------

HORIZONS = (7, 14, 30)


def model_name(horizon_days: int, location: str | None = None) -> str:
    base = f"churn_{horizon_days}d"
    return base if location is None else f"{base}--{location}"


@dataclass
class ChurnTraining:
    """One horizon's trained model: its artifact, its card, and the held-out rows it was
    scored on (a tenant's retrained model replaces the served one only if no worse on them)."""

    spec: dict[str, Any]
    card: dict[str, Any]
    held_out: ChurnRows
    held_out_p: np.ndarray


def train_churn(
    log: EventLog,
    *,
    horizon_days: int,
    seed: int,
    source: str,
    location: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> ChurnTraining:
    """The served model of one horizon: rows at the latest cutoff the log can label (its last
    event − the horizon) and the cutoffs before it, as :func:`evaluate_churn` builds them."""
    if not log.events:
        raise ChurnError("the log has no events")
    _, last = log.span
    cutoff = np.floor(last / DAY) * DAY - horizon_days * DAY
    data = build(log, float(cutoff), horizon_days, seed, progress)
    chosen = fit_churn(data, seed, progress)
    p = chosen.probability(data.test)
    base = baselines(data)
    name = model_name(horizon_days, location)
    version = f"{name}-{source.replace(':', '-')}-{_date(float(cutoff))}-s{seed}"
    spec = chosen.spec(name, version)
    ChurnModel(spec)  # the artifact must load as the serving code reads it

    def summary(rows: ChurnRows) -> dict[str, Any]:
        return {
            "rows": len(rows),
            "leads": len(set(rows.leads)),
            "churned": int(rows.y.sum()),
            "base_rate": float(rows.y.mean()),
        }

    card = {
        "name": name,
        "version": version,
        "kind": spec["kind"],
        "chosen": chosen.fitted.name,
        "calibration": chosen.fitted.method,
        "target": f"no engagement event within {horizon_days} days",
        "horizon_days": horizon_days,
        "bgnbd": chosen.bgnbd.as_json(),
        "training_data": {
            "source": source,
            "events": len(log.events),
            "leads": len({e.lead for e in log.events}),
            "cutoff": _date(float(cutoff)),
            "fit_cutoffs": [_date(t) for t in data.fit_cutoffs],
            "validation_cutoffs": [_date(t) for t in data.validation_cutoffs],
            "fit": summary(data.fit),
            "validation": summary(data.validation),
            "held_out": summary(data.test),
        },
        "seed": seed,
        "metrics": {
            "held_out": _scores(data.test.y, p),
            "baselines": {n: _scores(data.test.y, q) for n, q in base.items()},
            "candidates": chosen.candidates,
        },
        "tiers": tiers(data.test.y, p),
        "features": list(INPUTS),
        "libraries": library_versions(),
    }
    return ChurnTraining(spec, card, data.test, p)
