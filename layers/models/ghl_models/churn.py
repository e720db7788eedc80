"""Numpy-only serving of the churn models: the BG/NBD buy-till-you-die probability and the
calibrated classifier on top of it, one per horizon (``churn_7d``, ``churn_14d``,
``churn_30d``; trained by ``ghl-ai train churn``).

**BG/NBD** (Fader, Hardie & Lee, "Counting your customers the easy way", 2005), on *active
days*: while alive, a lead is active on days that arrive as a Poisson process with rate
``λ ~ Gamma(r, α)``; after each active day it goes quiet for good with probability
``p ~ Beta(a, b)``. Given its history (``x`` repeat active days, the last ``t_x`` days after its
first one, observed for ``T`` days since that first one), the probability that it is still
alive is::

    P(alive) = 1 / (1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x))

and, alive, the chance that it has no active day in the next ``H`` days is the Poisson–Gamma
posterior's ``((α + T) / (α + T + H))^(r + x)`` (a lead only drops out right after an active
day, so one that stays quiet stays alive). So the probability that it churns over ``H`` is::

    P(churn_H) = 1 − P(alive) · (1 − ((α + T) / (α + T + H))^(r + x))

The classifier (``ghl_models.inference.Model``: a logistic regression or boosted trees, with
its calibration) takes the lead's churn features (``ghl_ai.churn.activity.FEATURES``) and, as
its last column, the logit of that BG/NBD probability; the trainer also tried BG/NBD alone as a
competitor (then the classifier is a calibrated identity on that column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ghl_models.inference import Model

#: The extra model input: logit of the BG/NBD churn probability over the model's horizon.
BGNBD_FEATURE = "bgnbd_churn_logit"
_EPS = 1e-6


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> BgNbd:
        return cls(float(spec["r"]), float(spec["alpha"]), float(spec["a"]), float(spec["b"]))

    def as_json(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
        x, t_x, t = (np.asarray(v, dtype=np.float64) for v in (x, t_x, t))
        log_ratio = (self.r + x) * (np.log(self.alpha + t) - np.log(self.alpha + t_x))
        odds = np.where(
            x > 0, self.a / np.maximum(self.b + x - 1, _EPS) * np.exp(np.minimum(log_ratio, 700)), 0
        )
        result: np.ndarray = 1.0 / (1.0 + odds)
        return result

    def p_churn(self, x: np.ndarray, t_x: np.ndarray, t: np.ndarray, horizon: float) -> np.ndarray:
        """P(no active day in the next ``horizon`` days) per lead (``x``, ``t_x``, ``t`` in
        days, as in the module docstring)."""
        x, t = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)
        quiet = np.exp((self.r + x) * (np.log(self.alpha + t) - np.log(self.alpha + t + horizon)))
        result: np.ndarray = 1.0 - self.p_alive(x, t_x, t) * (1.0 - quiet)
        return result


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    result: np.ndarray = np.log(q) - np.log1p(-q)
    return result


class ChurnModel:
    """One horizon's model: ``probability(features, counts)`` for rows of churn features and
    the BG/NBD counts ``(x, t_x, T)`` of the same leads."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.model = Model(spec)
        self.name = self.model.name
        self.version = self.model.version
        self.horizon_days = float(spec["horizon_days"])
        self.bgnbd = BgNbd.from_json(spec["bgnbd"])
        if not self.model.features or self.model.features[-1] != BGNBD_FEATURE:
            raise ValueError(f"{self.name}: the last feature must be {BGNBD_FEATURE}")
        #: The churn features the model was trained on (without the BG/NBD column).
        self.features = self.model.features[:-1]
        self.reference = self.model.reference

    def inputs(self, features: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The model's input rows: the features and the BG/NBD logit as the last column."""
        features = np.atleast_2d(np.asarray(features, dtype=np.float64))
        counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        p = self.bgnbd.p_churn(counts[:, 0], counts[:, 1], counts[:, 2], self.horizon_days)
        return np.column_stack([features, logit(p)])

    def probability(self, features: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return self.model.probability(self.inputs(features, counts))
