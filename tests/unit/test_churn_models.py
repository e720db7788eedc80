"""The churn models: every candidate the trainer may choose serves (numpy, from its JSON
artifact) the probabilities scikit-learn computed; BG/NBD is fitted and served right; the
served risk is consistent across horizons, tiered by its 30-day risk and explained in words."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from ghl_ai.behaviour.features import DAY, StreamBuilder
from ghl_ai.churn.activity import FEATURES, Activity, matrix
from ghl_ai.churn.risk import (
    ACTIONABLE,
    REASON_GROUPS,
    ChurnModelMismatch,
    ChurnPredictor,
    phrase,
    tier_of,
)
from ghl_ai_cli import bgnbd, synthetic
from ghl_ai_cli.churn import (
    ALL,
    INPUTS,
    RHYTHM,
    ChurnData,
    ChurnFit,
    _logistic,
    build,
    fit_churn,
    one_standard_error,
)
from ghl_ai_cli.training import Fitted, calibrated, candidates
from ghl_models import churn_models
from ghl_models.churn import BGNBD_FEATURE, BgNbd, ChurnModel, logit

SEED = 3
HORIZON = 14
#: The candidates fit_churn chooses among, with the columns of INPUTS each reads.
POOL = ("logistic_c0.1", "logistic_c1", "gbm", "rhythm_logistic", "bgnbd")


def pool(seed: int) -> dict[str, tuple[Any, list[int]]]:
    features = list(range(len(FEATURES)))
    out = {name: (estimator, features) for name, estimator in candidates(seed).items()}
    out["rhythm_logistic"] = (_logistic(), [INPUTS.index(n) for n in RHYTHM])
    out["bgnbd"] = (_logistic(), [len(INPUTS) - 1])
    return out


@pytest.fixture(scope="module")
def data() -> ChurnData:
    log = synthetic.generate(synthetic.Config(leads=400, days=150, seed=5, end=synthetic.FIXED_END))
    _, last = log.span
    cutoff = float(np.floor(last / DAY) * DAY - HORIZON * DAY)
    return build(log, cutoff, HORIZON, SEED)


def served(fit: ChurnFit, name: str = "churn_14d") -> ChurnModel:
    """The artifact as the layer ships it (through JSON) and the serving code loads it."""
    return ChurnModel(json.loads(json.dumps(fit.spec(name, f"{name}-test"))))


# -- export parity -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("name", POOL)
def test_every_candidate_serves_the_probabilities_scikit_learn_computed(
    data: ChurnData, name: str, method: str
) -> None:
    buy_till_you_die = bgnbd.fit(data.fit.counts)
    shell = ChurnFit(None, ALL, buy_till_you_die, HORIZON, {}, np.empty(0))  # type: ignore[arg-type]
    x_fit, x_val = shell.inputs(data.fit), shell.inputs(data.validation)
    estimator, columns = pool(SEED)[name]
    model = clone(estimator).fit(x_fit[:, columns], data.fit.y)
    cal = calibrated(model, x_val[:, columns], data.validation.y, method)
    fit = ChurnFit(
        Fitted(name, model, cal, method, {}),
        columns,
        buy_till_you_die,
        HORIZON,
        {},
        np.median(x_fit, axis=0),
    )

    ours = served(fit).probability(data.test.x, data.test.counts)
    theirs = fit.probability(data.test)

    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    assert len(np.unique(np.round(theirs, 9))) > 3  # a model that says something
    # Its features, in the order this code computes them, and the BG/NBD logit last.
    assert served(fit).features == list(FEATURES)
    assert served(fit).model.features[-1] == BGNBD_FEATURE


def test_the_trainers_choice_serves_what_it_scored(data: ChurnData) -> None:
    chosen = fit_churn(data, SEED)

    assert set(chosen.candidates) == set(POOL)
    assert chosen.fitted.name in POOL
    assert chosen.fitted.method == chosen.candidates[chosen.fitted.name]["calibration_method"]
    np.testing.assert_allclose(
        served(chosen).probability(data.test.x, data.test.counts),
        chosen.probability(data.test),
        rtol=0,
        atol=1e-9,
    )


def test_a_richer_model_must_beat_a_compact_one_by_more_than_noise() -> None:
    rng = np.random.default_rng(0)
    best = rng.exponential(0.5, 400)  # per-row validation log losses of the best candidate

    def tried(**losses: np.ndarray) -> dict[str, tuple[np.ndarray, Any, str, list[int]]]:
        return {name: (rows, None, "sigmoid", []) for name, rows in losses.items()}

    noise = rng.normal(0, 0.2, 400)
    # The compact model is behind by less than the noise: it wins.
    close = best + 0.002 + noise
    assert one_standard_error(tried(bgnbd=close, rhythm_logistic=close + 0.5, gbm=best)) == "bgnbd"
    # Clearly behind (by far more than one standard error): the next simplest close one wins.
    far = best + 0.2 + noise
    assert one_standard_error(tried(bgnbd=far, rhythm_logistic=close, gbm=best)) == (
        "rhythm_logistic"
    )
    assert one_standard_error(tried(bgnbd=far, rhythm_logistic=far, gbm=best)) == "gbm"
    # A simpler model that is better outright wins, of course.
    assert one_standard_error(tried(bgnbd=best - 0.1, gbm=best)) == "bgnbd"


# -- BG/NBD ------------------------------------------------------------------------------------

TRUTH = BgNbd(r=0.6, alpha=8.0, a=0.7, b=2.8)


def simulate(
    truth: BgNbd, n: int, observed: float, horizon: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD's story (Fader, Hardie & Lee 2005): from a first active day at 0, active days
    arrive at rate ``λ ~ Gamma(r, α)``; after each one the lead drops out with probability
    ``p ~ Beta(a, b)``. Returns the counts ``(x, t_x, T)`` seen over ``observed`` days and
    whether each lead had no active day in the ``horizon`` after."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(truth.r, 1 / truth.alpha, n)
    drop = rng.beta(truth.a, truth.b, n)
    x, t_x, t = np.zeros(n), np.zeros(n), np.zeros(n)
    came_back = np.zeros(n, dtype=bool)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        leads = np.flatnonzero(alive)
        t[leads] += rng.exponential(1 / rate[leads])
        seen = leads[t[leads] <= observed]
        x[seen] += 1
        t_x[seen] = t[seen]
        after = leads[t[leads] > observed]
        came_back[after[t[after] <= observed + horizon]] = True
        alive[after] = False
        alive[seen[rng.random(seen.size) < drop[seen]]] = False
    return np.column_stack([x, t_x, np.full(n, observed)]), ~came_back


def test_bgnbd_recovers_the_parameters_it_was_simulated_from() -> None:
    counts, _ = simulate(TRUTH, 6000, 120.0, 0.0, seed=0)

    fitted = bgnbd.fit(counts)

    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(TRUTH, name), rel=0.2), name
    # The mean rate of active days, r / α, is what the data pin down best.
    assert fitted.r / fitted.alpha == pytest.approx(TRUTH.r / TRUTH.alpha, rel=0.06)


def test_bgnbd_churn_probability_matches_a_monte_carlo_estimate() -> None:
    counts, churned = simulate(TRUTH, 20000, 120.0, 30.0, seed=1)
    x, t_x, t = counts.T

    p = TRUTH.p_churn(x, t_x, t, 30.0)

    # Leads alike in their history (repeat days, and whether the last was early or late) go
    # quiet as often as the formula says: from "surely gone" to "surely back".
    groups = [(x == 0, "never came back")]
    for lo, hi in ((1, 1), (2, 3), (4, 8), (9, np.inf)):
        many = (x >= lo) & (x <= hi)
        groups += [(many & (t_x < 60), f"x {lo}-{hi}, early"), (many & (t_x >= 60), f"x {lo}-{hi}")]
    means = []
    for mask, label in groups:
        n = int(mask.sum())
        assert n >= 150, label
        expected, observed = float(p[mask].mean()), float(churned[mask].mean())
        error = np.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) < 4 * error + 0.005, (label, n, expected, observed)
        means.append(expected)
    assert max(means) - min(means) > 0.5  # the groups differ: a constant would not pass
    # Never came back: alive for sure, so only the Poisson–Gamma quiet spell remains.
    np.testing.assert_allclose(
        p[x == 0], ((TRUTH.alpha + 120) / (TRUTH.alpha + 150)) ** TRUTH.r, rtol=1e-12
    )
    assert np.all(TRUTH.p_alive(x[x == 0], t_x[x == 0], t[x == 0]) == 1.0)


# -- the served risk ---------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC).timestamp()


def activity(days_ago: list[float], at_days_ago: float = 0.0) -> Activity:
    builder = StreamBuilder()
    for d in days_ago:
        builder.add(NOW - d * DAY, "property_view")
    made = Activity.of(builder.build(), NOW - at_days_ago * DAY)
    assert made is not None
    return made


def constant(horizon: int, p: float) -> ChurnModel:
    """A model that gives every lead the probability ``p``."""
    width = len(INPUTS)
    return ChurnModel(
        {
            "name": f"churn_{horizon}d",
            "version": f"constant-{p}",
            "kind": "logistic",
            "features": list(INPUTS),
            "reference": [0.0] * width,
            "logistic": {
                "mean": [0.0] * width,
                "scale": [1.0] * width,
                "coef": [0.0] * width,
                "intercept": float(logit(np.array(p))),
            },
            "calibration": {"kind": "none"},
            "horizon_days": horizon,
            "bgnbd": TRUTH.as_json(),
        }
    )


def test_a_longer_horizon_never_gets_a_higher_churn_risk() -> None:
    # Quiet for 30 days implies quiet for 14 and for 7: models that say otherwise are capped.
    predictor = ChurnPredictor({7: constant(7, 0.2), 14: constant(14, 0.6), 30: constant(30, 0.9)})

    (risk,) = predictor.predict([activity([40, 30, 20])], NOW)

    assert (risk.d7, risk.d14, risk.d30) == pytest.approx((0.2, 0.2, 0.2))
    assert risk.tier == "low"  # the tier follows the consistent d30, not the raw 0.9


def test_the_shipped_models_give_consistent_risks_tiers_and_reasons() -> None:
    models = churn_models("any-location")
    predictor = ChurnPredictor(models)
    rng = np.random.default_rng(4)
    leads = []
    for _ in range(300):
        days = [float(d) for d in rng.uniform(0, 150, int(rng.integers(1, 40)))]
        leads.append(activity(days, at_days_ago=min(days)))  # summarised at its last event
    now = NOW

    risks = predictor.predict(leads, now)

    raw = {h: m.probability(*matrix(leads, now)) for h, m in models.items()}
    d7, d14, d30 = (np.array([getattr(r, f"d{h}") for r in risks]) for h in (7, 14, 30))
    assert np.all(d7 >= d14) and np.all(d14 >= d30)
    np.testing.assert_allclose(d7, raw[7])
    np.testing.assert_allclose(d14, np.minimum(raw[14], raw[7]))
    np.testing.assert_allclose(d30, np.minimum(raw[30], d14))
    assert {r.tier for r in risks} >= {"low", "critical"}  # the leads span the tiers
    groups = list(REASON_GROUPS)
    for lead, risk in zip(leads, risks, strict=True):
        assert risk.tier == tier_of(risk.d30)
        assert risk.model_version == models[30].version
        assert 1 <= len(risk.reasons) <= 3
        words = {phrase(g, lead, now) for g in groups}
        assert set(risk.reasons) <= words, risk.reasons


def test_a_dormant_lead_is_at_risk_because_of_its_silence() -> None:
    predictor = ChurnPredictor(churn_models("any-location"))
    # Every 3 days for three weeks, then nothing for 60 days.
    dormant = activity([81, 78, 75, 72, 69, 66, 63, 60], at_days_ago=60)
    busy = activity([12, 9, 6, 4, 3, 1, 0.2])

    quiet, active = predictor.predict([dormant, busy], NOW)

    assert quiet.tier in ACTIONABLE
    assert quiet.reasons[0] == "no activity for 60 days; usually every 3"
    assert active.tier == "low" and active.d30 < quiet.d30


def test_models_trained_on_other_features_are_refused() -> None:
    shipped = churn_models("any-location")
    spec = copy.deepcopy(shipped[30].spec)
    spec["features"] = [*spec["features"][:3], "an_old_feature", *spec["features"][4:]]
    stale = ChurnModel(spec)

    with pytest.raises(ChurnModelMismatch, match="retrain"):
        ChurnPredictor({7: shipped[7], 14: shipped[14], 30: stale})
    with pytest.raises(ChurnModelMismatch, match=r"no churn model for \[30\] days"):
        ChurnPredictor({7: shipped[7], 14: shipped[14]})
    no_bgnbd = copy.deepcopy(shipped[30].spec)
    no_bgnbd["features"] = [*no_bgnbd["features"][:-1], "something_else"]
    with pytest.raises(ValueError, match=BGNBD_FEATURE):
        ChurnModel(no_bgnbd)
