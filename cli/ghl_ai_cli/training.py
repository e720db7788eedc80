"""Training the lead-score model (scikit-learn) and exporting it to the model layer (numpy).

Pipeline (``ghl-ai train scoring``; ``make models`` runs it on the synthetic generator):

1. **Rows at cutoffs.** Every ``step_days`` a cutoff T; the population at T is every lead with
   an event by T and no conversion by T; the label is a conversion (an appointment booked, an
   opportunity won) in (T, T + horizon]. Features use events up to T only.
2. **Time-based split.** The earliest 60 % of cutoffs train, the next 20 % validate (model
   choice and calibration), the latest 20 % are held out and only scored once, at the end.
   Cutoffs whose horizon runs past the end of the data are dropped (their labels are unknown).
3. **Candidates**, each fitted on the training cutoffs: a regularised logistic regression on
   the standardised features (two strengths), and a histogram gradient-boosting classifier
   (shallow trees, shrinkage, L2). The one with the best validation log loss after
   calibration wins; calibration (Platt sigmoid or isotonic, whichever has the lower
   cross-fitted validation log loss) is fitted on the validation cutoffs.
4. **Baseline** in the same run, on the same split: a logistic regression on recency and
   frequency alone, calibrated the same way.
5. **Export** to JSON for numpy serving (``ghl_models.inference``) and a manifest entry with
   the data summary, the seed, the held-out metrics of the model and the baseline, the
   feature list and its catalogue hash, and the library versions.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ghl_ai.behaviour.features import DAY, NAMES, catalogue_hash, model_input
from ghl_ai_cli.datasets import EventLog, Rows, rows_at
from ghl_models import metrics

MODEL_NAME = "lead_score"


def candidates(seed: int) -> dict[str, Any]:
    """The models the pipeline chooses among (unfitted)."""

    def logistic(c: float) -> Pipeline:
        return Pipeline(
            [("scale", StandardScaler()), ("model", LogisticRegression(C=c, max_iter=5000))]
        )

    return {
        "logistic_c0.1": logistic(0.1),
        "logistic_c1": logistic(1.0),
        "gbm": HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=150,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        ),
    }


def baseline_model() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=5000))])


# -- calibration -----------------------------------------------------------------------------


def calibrated(model: Any, x: np.ndarray, y: np.ndarray, method: str) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(x, y)


def choose_calibration(model: Any, x: np.ndarray, y: np.ndarray, seed: int) -> str:
    """Sigmoid or isotonic: the lower log loss when fitted on one half of the validation rows
    and scored on the other (both ways)."""
    rng = np.random.default_rng(seed)
    half = rng.random(y.size) < 0.5
    losses = {}
    for method in ("sigmoid", "isotonic"):
        loss = 0.0
        for fit_mask in (half, ~half):
            if len(np.unique(y[fit_mask])) < 2 or len(np.unique(y[~fit_mask])) < 2:
                loss = np.inf if method == "isotonic" else 0.0
                break
            cal = calibrated(model, x[fit_mask], y[fit_mask], method)
            loss += metrics.log_loss(y[~fit_mask], cal.predict_proba(x[~fit_mask])[:, 1])
        losses[method] = loss
    return min(losses, key=lambda m: losses[m])


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    return {
        "auc": metrics.auc(y, p),
        "brier": metrics.brier(y, p),
        "log_loss": metrics.log_loss(y, p),
        "calibration": metrics.calibration_table(y, p),
    }


# -- the fitted result -----------------------------------------------------------------------


@dataclass
class Fitted:
    name: str
    model: Any  # the scikit-learn model (features → raw score)
    calibrated: CalibratedClassifierCV
    method: str
    validation: dict[str, Any]
    test: dict[str, Any] = field(default_factory=dict)


def fit_and_choose(
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    seed: int,
    models: dict[str, Any],
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[Fitted, list[Fitted]]:
    """Fit every candidate on ``train``, calibrate on ``valid``, pick the best validation log
    loss. Returns the winner and every candidate (for the report)."""
    fitted = []
    for name, estimator in models.items():
        progress(name)
        model = clone(estimator).fit(*train)
        method = choose_calibration(model, *valid, seed)
        cal = calibrated(model, *valid, method)
        p = cal.predict_proba(valid[0])[:, 1]
        fitted.append(Fitted(name, model, cal, method, scores(valid[1], p)))
    best = min(fitted, key=lambda f: f.validation["log_loss"])
    return best, fitted


# -- export ----------------------------------------------------------------------------------


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def export(
    fitted: Fitted,
    reference: np.ndarray,
    version: str,
    *,
    name: str = MODEL_NAME,
    features: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The numpy-servable spec of a fitted model (see ghl_models.inference); by default the
    lead score's, on the behavioural catalogue (whose hash it records)."""
    spec: dict[str, Any] = {
        "name": name,
        "version": version,
        "features": list(NAMES if features is None else features),
        "reference": _floats(reference),
    }
    if features is None:
        spec["catalogue_hash"] = catalogue_hash()
    model = fitted.model
    if isinstance(model, Pipeline):
        scaler, lr = model.named_steps["scale"], model.named_steps["model"]
        spec["kind"] = "logistic"
        spec["logistic"] = {
            "mean": _floats(scaler.mean_),
            "scale": _floats(scaler.scale_),
            "coef": _floats(lr.coef_[0]),
            "intercept": float(lr.intercept_[0]),
        }
    else:
        spec["kind"] = "gbm"
        trees = []
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            trees.append(
                {
                    "feature": [int(v) for v in nodes["feature_idx"]],
                    "threshold": _floats(nodes["num_threshold"]),
                    "left": [
                        int(v) if not leaf else -1
                        for v, leaf in zip(nodes["left"], nodes["is_leaf"], strict=True)
                    ],
                    "right": [
                        int(v) if not leaf else -1
                        for v, leaf in zip(nodes["right"], nodes["is_leaf"], strict=True)
                    ],
                    "missing_left": [bool(v) for v in nodes["missing_go_to_left"]],
                    "leaf": [bool(v) for v in nodes["is_leaf"]],
                    "value": _floats(nodes["value"]),
                    "depth": int(nodes["depth"].max()),
                }
            )
        spec["gbm"] = {"baseline": float(np.ravel(model._baseline_prediction)[0]), "trees": trees}
    calibrator = fitted.calibrated.calibrated_classifiers_[0].calibrators[0]
    if fitted.method == "sigmoid":
        spec["calibration"] = {
            "kind": "sigmoid",
            "a": float(calibrator.a_),
            "b": float(calibrator.b_),
        }
    else:
        spec["calibration"] = {
            "kind": "isotonic",
            "x": _floats(calibrator.X_thresholds_),
            "y": _floats(calibrator.y_thresholds_),
        }
    return spec


def dump(spec: dict[str, Any], path: Path) -> None:
    """Deterministic JSON (sorted keys, exact floats): two builds give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, sort_keys=True, separators=(",", ":")) + "\n")


def library_versions() -> dict[str, str]:
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


# -- the whole pipeline ----------------------------------------------------------------------


@dataclass
class TrainingResult:
    spec: dict[str, Any]
    card: dict[str, Any]
    fitted: Fitted
    baseline: Fitted
    candidates: list[Fitted]
    held_out: Rows


def cutoffs_of(
    log: EventLog, horizon_days: float, step_days: float, warmup_days: float
) -> list[float]:
    start, end = log.span
    first = start + warmup_days * DAY
    last = end - horizon_days * DAY
    if last <= first:
        raise ValueError(
            f"the log spans {(end - start) / DAY:.0f} days: too short for a {warmup_days:.0f}-day "
            f"warm-up and a {horizon_days:.0f}-day horizon"
        )
    count = int((last - first) // (step_days * DAY)) + 1
    return [last - k * step_days * DAY for k in range(count)][::-1]


def train_lead_score(
    log: EventLog,
    *,
    conversion: Sequence[str],
    horizon_days: float = 30,
    step_days: float = 14,
    warmup_days: float = 45,
    seed: int = 42,
    source: str,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingResult:
    cutoffs = cutoffs_of(log, horizon_days, step_days, warmup_days)
    if len(cutoffs) < 5:
        raise ValueError(
            f"need at least 5 cutoffs of {step_days:.0f} days; the log gives {len(cutoffs)}"
        )
    streams = log.streams()
    parts = []
    for cutoff in cutoffs:
        progress(f"rows at {datetime.fromtimestamp(cutoff, UTC).date()}")
        parts.append(rows_at(streams, cutoff, horizon_days, conversion))
    n = len(parts)
    n_train, n_valid = max(1, round(0.6 * n)), max(1, round(0.2 * n))
    train = Rows.concat(parts[:n_train])
    valid = Rows.concat(parts[n_train : n_train + n_valid])
    test = Rows.concat(parts[n_train + n_valid :])
    for label, rows in (("training", train), ("validation", valid), ("held-out", test)):
        if len(np.unique(rows.y)) < 2:
            raise ValueError(f"the {label} cutoffs have no conversions (or nothing but); need both")
    xa, xb, xc = (model_input(r.x) for r in (train, valid, test))
    best, every = fit_and_choose((xa, train.y), (xb, valid.y), seed, candidates(seed), progress)
    for f in every:
        f.test = scores(test.y, f.calibrated.predict_proba(xc)[:, 1])
    progress("baseline")
    base, _ = fit_and_choose(
        (train.rf, train.y), (valid.rf, valid.y), seed, {"recency_frequency": baseline_model()}
    )
    base.test = scores(test.y, base.calibrated.predict_proba(test.rf)[:, 1])

    def day(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).date().isoformat()

    reference = np.median(xa, axis=0)
    version = f"{MODEL_NAME}-{source}-{day(cutoffs[-1])}-s{seed}"
    spec = export(best, reference, version)

    def summary(rows: Rows) -> dict[str, Any]:
        return {
            "rows": len(rows),
            "leads": len(set(rows.leads)),
            "positives": int(rows.y.sum()),
            "base_rate": float(rows.y.mean()),
            "cutoffs": [day(float(rows.cutoffs.min())), day(float(rows.cutoffs.max()))],
        }

    card = {
        "name": MODEL_NAME,
        "version": version,
        "kind": spec["kind"],
        "chosen": best.name,
        "calibration": best.method,
        "target": f"a conversion ({', '.join(conversion)}) within {horizon_days:g} days",
        "training_data": {
            "source": source,
            "events": len(log.events),
            "leads": len(streams),
            "date_range": [day(log.span[0]), day(log.span[1])],
            "horizon_days": horizon_days,
            "step_days": step_days,
            "train": summary(train),
            "validation": summary(valid),
            "held_out": summary(test),
        },
        "seed": seed,
        "metrics": {
            "held_out": {k: v for k, v in best.test.items()},
            "baseline": {"name": "recency_frequency", **base.test},
            "candidates": {
                f.name: {
                    "validation_log_loss": f.validation["log_loss"],
                    "validation_auc": f.validation["auc"],
                    "held_out_auc": f.test["auc"],
                }
                for f in every
            },
        },
        "features": list(NAMES),
        "catalogue_hash": catalogue_hash(),
        "libraries": library_versions(),
    }
    return TrainingResult(spec, card, best, base, every, test)
