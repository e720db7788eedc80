"""Fitting BG/NBD (the model ``ghl_models.churn.BgNbd`` serves) by maximum likelihood.

The likelihood of one lead's ``(x, t_x, T)`` (Fader, Hardie & Lee 2005, eq. 6)::

    L = B(a, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r + x))
      + [x > 0] · B(a + 1, b + x − 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r + x))

computed in logs; the four parameters are optimised on a log scale (L-BFGS-B, scipy) with a
small ridge on the log-parameters so that a log with few repeat days cannot run them off to
infinity.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from ghl_models.churn import BgNbd

PENALTY = 1e-3


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
    r, alpha, a, b = np.exp(params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    stay = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
    drop = np.where(
        x > 0,
        betaln(a + 1, b + np.maximum(x - 1, 0)) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    result: np.ndarray = common + np.logaddexp(stay, drop)
    return result


def fit(counts: np.ndarray) -> BgNbd:
    """The maximum-likelihood BG/NBD of rows ``(x, t_x, T)`` (days)."""
    x, t_x, t = (np.asarray(counts[:, i], dtype=np.float64) for i in range(3))
    t = np.maximum(t, 1e-3)

    def loss(params: np.ndarray) -> float:
        return float(-log_likelihood(params, x, t_x, t).mean() + PENALTY * np.sum(params**2))

    result = minimize(loss, np.zeros(4), method="L-BFGS-B", bounds=[(-8.0, 8.0)] * 4)
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbd(r=r, alpha=alpha, a=a, b=b)
