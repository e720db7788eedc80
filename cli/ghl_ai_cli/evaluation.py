"""``ghl-ai eval scoring``: the lead-score method evaluated on any event log, honestly.

Contract (the issue's): population = leads with an event on or before the cutoff (with
``exclude_converted``, only those with no conversion event by then); label = a conversion event
in (cutoff, cutoff + horizon]; features from events up to the cutoff only; a 70/30 split by lead
from the seed; trained on the 70, evaluated on the 30.

Features: the behavioural catalogue (``ghl_ai.behaviour.features``; event types it does not name
count as engagement) plus, for the log's own event types, the count in the last 30 days, the
count ever and the days since the last one — so a log with more than recency and frequency
(views, carts, purchases ...) is used for what it holds.

The model is chosen on the training 70 % alone, by 5-fold cross-validated log loss, among a
regularised logistic regression (two strengths), histogram gradient boosting, and the baseline's
own recency-frequency logistic regression — which is kept unless the best one beats it by more
than a standard error (so a log that carries nothing more, or too few leads to tell, is not
overfitted),
then refitted on the whole 70 %: a logistic regression as it is (its fit calibrates it), boosted
trees through 5-fold ``CalibratedClassifierCV`` (isotonic from 2,000 training leads, else
sigmoid). The baseline, a logistic regression on recency and frequency alone, is fitted in the
same run on the same split; both are scored by the same metric functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from ghl_ai.behaviour.features import model_input
from ghl_ai_cli.datasets import EventLog, rows_at
from ghl_ai_cli.training import baseline_model, candidates
from ghl_models import metrics

MAX_TYPES = 15


class EvaluationError(ValueError):
    """The log and the flags give nothing to evaluate (the message says why)."""


def _design(x: np.ndarray, extra: np.ndarray) -> np.ndarray:
    return np.hstack([model_input(x), extra])


def choose(per_lead: dict[str, np.ndarray], simplest: str) -> str:
    """The candidate with the lowest cross-validated log loss — but the ``simplest`` one unless
    the winner beats it by more than one standard error of the paired per-lead differences (a
    small log cannot tell a richer model from a lucky one)."""
    best = min(per_lead, key=lambda n: float(per_lead[n].mean()))
    if best == simplest:
        return best
    gain = per_lead[simplest] - per_lead[best]
    standard_error = float(gain.std(ddof=1) / np.sqrt(gain.size))
    return best if float(gain.mean()) > standard_error else simplest


def evaluate_scoring(
    log: EventLog,
    *,
    conversion_event: str,
    cutoff: float,
    horizon_days: float,
    seed: int = 42,
    exclude_converted: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract's JSON and the arrays behind it (for ``--report``)."""
    counts: dict[str, int] = {}
    for event in log.events:
        if event.t <= cutoff:
            counts[event.type] = counts.get(event.type, 0) + 1
    if not counts:
        raise EvaluationError("no event on or before the cutoff")
    if conversion_event not in log.type_counts():
        raise EvaluationError(f"no {conversion_event!r} event in the log")
    types: Sequence[str] = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TYPES]
    progress("features")
    streams = log.streams()
    rows = rows_at(
        streams,
        cutoff,
        horizon_days,
        [conversion_event],
        exclude_converted=exclude_converted,
        types=types,
    )
    if len(rows) < 20 or len(np.unique(rows.y)) < 2:
        raise EvaluationError(
            f"{len(rows)} leads at the cutoff, {int(rows.y.sum())} converting: need at least 20 "
            "leads and both outcomes"
        )
    leads = sorted(set(rows.leads))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(leads))
    train_leads = {leads[i] for i in order[: round(0.7 * len(leads))]}
    is_train = np.array([lead in train_leads for lead in rows.leads])
    train, test = rows.take(np.flatnonzero(is_train)), rows.take(np.flatnonzero(~is_train))
    if len(np.unique(train.y)) < 2 or len(np.unique(test.y)) < 2:
        raise EvaluationError("the 70/30 split leaves one side with a single outcome")

    xa, xb = _design(train.x, train.extra), _design(test.x, test.extra)
    folds = min(5, int(min(train.y.sum(), (~train.y).sum())))
    if folds < 2:
        raise EvaluationError("too few conversions in the training split to cross-validate")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pool: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {
        name: (est, xa, xb) for name, est in candidates(seed).items()
    }
    pool["recency_frequency"] = (baseline_model(), train.rf, test.rf)
    cv_loss: dict[str, float] = {}
    per_lead: dict[str, np.ndarray] = {}
    for name, (estimator, x_train, _) in pool.items():
        progress(f"cross-validating {name}")
        p = cross_val_predict(clone(estimator), x_train, train.y, cv=cv, method="predict_proba")
        per_lead[name] = metrics.log_losses(train.y, p[:, 1])
        cv_loss[name] = float(per_lead[name].mean())
    chosen = choose(per_lead, "recency_frequency")
    estimator, x_train, x_test = pool[chosen]
    progress(f"fitting {chosen}")
    if isinstance(estimator, Pipeline):
        # A logistic regression's probabilities are calibrated by its own fit (log loss).
        method = "none (logistic)"
        model: Any = clone(estimator).fit(x_train, train.y)
    else:
        method = "isotonic" if len(train) >= 2000 else "sigmoid"
        model = CalibratedClassifierCV(clone(estimator), method=method, cv=cv)
        model.fit(x_train, train.y)
    p_model = model.predict_proba(x_test)[:, 1]
    progress("baseline")
    base = baseline_model().fit(train.rf, train.y)
    p_base = base.predict_proba(test.rf)[:, 1]
    result = {
        "model": {
            "name": chosen,
            "calibration_method": method,
            "auc": metrics.auc(test.y, p_model),
            "brier": metrics.brier(test.y, p_model),
            "log_loss": metrics.log_loss(test.y, p_model),
            "calibration": metrics.calibration_table(test.y, p_model),
            "cv_log_loss": cv_loss,
        },
        "baseline": {
            "name": "recency_frequency",
            "auc": metrics.auc(test.y, p_base),
            "brier": metrics.brier(test.y, p_base),
            "log_loss": metrics.log_loss(test.y, p_base),
        },
        "base_rate": float(rows.y.mean()),
        "n_train": len(train),
        "n_test": len(test),
        "conversion_event": conversion_event,
        "horizon_days": horizon_days,
        "event_types": list(types),
        "seed": seed,
    }
    return result, {"y": test.y, "model": p_model, "baseline": p_base}


def write_report(directory: Path, arrays: dict[str, Any], result: dict[str, Any]) -> list[Path]:
    """A ROC curve and a reliability diagram (PNG), model beside baseline."""
    curves = {
        "model": (arrays["model"], result["model"]["auc"]),
        "baseline (recency, frequency)": (arrays["baseline"], result["baseline"]["auc"]),
    }
    return plot_report(directory, arrays["y"], curves, "held-out 30 %")


def plot_report(
    directory: Path, y: np.ndarray, curves: dict[str, tuple[np.ndarray, float]], split: str
) -> list[Path]:
    """``roc.png`` and ``reliability.png`` in ``directory``: one curve per ``label → (p,
    auc)``, all on the same rows ``y``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, (p, auc) in curves.items():
        fpr, tpr = metrics.roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{label}: AUC {auc:.3f}")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC ({split})")
    ax.legend(loc="lower right")
    fig.tight_layout()
    written.append(directory / "roc.png")
    fig.savefig(written[-1], dpi=110, metadata={"Software": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, (p, _) in curves.items():
        table = np.array(metrics.calibration_table(y, p))
        ax.plot(table[:, 0], table[:, 1], "o-", label=label.split(" (")[0])
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Reliability diagram")
    ax.legend(loc="upper left")
    fig.tight_layout()
    written.append(directory / "reliability.png")
    fig.savefig(written[-1], dpi=110, metadata={"Software": None})
    plt.close(fig)
    return written
