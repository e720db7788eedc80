"""The lead score: the combination with the qualification answers, the temperature bands, and
reasons that name the features that moved this lead's score most."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ghl_ai.behaviour.features import INDEX, NAMES, Context, catalogue_hash
from ghl_ai.conversation.model import Answer
from ghl_ai.scoring.score import REASON_GROUPS, ModelMismatch, Scorer, combine, temperature_of
from ghl_models import served
from ghl_models.inference import Model

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
NOBODY = Context(None, None, 0)


def linear_model(weights: dict[str, float], intercept: float = -3.0) -> Model:
    """A logistic model whose log-odds are ``intercept + Σ w·x`` (no scaling, reference 0)."""
    coef = np.zeros(len(NAMES))
    for name, w in weights.items():
        coef[INDEX[name]] = w
    return Model(
        {
            "name": "lead_score",
            "version": "test-linear",
            "kind": "logistic",
            "features": list(NAMES),
            "catalogue_hash": catalogue_hash(),
            "reference": [0.0] * len(NAMES),
            "logistic": {
                "mean": [0.0] * len(NAMES),
                "scale": [1.0] * len(NAMES),
                "coef": coef.tolist(),
                "intercept": intercept,
            },
            "calibration": {"kind": "none"},
        }
    )


def features(**values: float) -> np.ndarray:
    x = np.zeros(len(NAMES))
    x[INDEX["days_since_last_event"]] = 0.0
    x[INDEX["days_since_last_reply"]] = 365.0
    x[INDEX["days_since_high_intent"]] = 365.0
    x[INDEX["response_hours_median"]] = 168.0
    for name, value in values.items():
        x[INDEX[name]] = value
    return x


def answers(**values: object) -> dict[str, Answer]:
    return {k: Answer(value=v, confidence=0.9, source="rules") for k, v in values.items()}


def test_temperature_bands() -> None:
    assert [temperature_of(s) for s in (100, 70, 69, 40, 39, 0)] == [
        "hot", "hot", "warm", "warm", "cold", "cold",
    ]  # fmt: skip


def test_the_score_is_a_noisy_or_of_the_model_and_the_qualification() -> None:
    assert combine(0.0, 0.7) == pytest.approx(70)
    assert combine(0.5, 0.0) == pytest.approx(50)
    assert combine(0.5, 0.4) == pytest.approx(70)


def test_reasons_name_the_features_that_drove_the_score_in_order() -> None:
    # log1p(views) weighs 1.5, log1p(tours) 1.0, days without a reply -0.02
    scorer = Scorer(
        linear_model(
            {
                "distinct_properties_7d": 1.5,
                "tour_requests_90d": 1.0,
                "days_since_last_reply": -0.01,
            }
        )
    )
    x = features(
        distinct_properties_7d=6, property_views_7d=8, tour_requests_90d=1, top_city_share_30d=1.0,
        days_since_last_reply=9, days_since_tour_request=2,
    )  # fmt: skip
    context = Context("Rancho Cucamonga", "IE-1042", 3)

    score = scorer.score(x, context, "buy", {}, NOW)

    names = [c.name for c in score.contributions]
    assert names[:3] == ["browsing_week", "tours", "replies"]
    assert score.contributions[0].points > score.contributions[1].points > 0
    assert score.contributions[2].points < 0
    assert score.reasons == [
        "viewed 6 homes in Rancho Cucamonga this week",
        "requested 1 tour (last 2 days ago)",
        "no reply for 9 days",
    ]


def test_every_feature_belongs_to_exactly_one_reason_group() -> None:
    grouped = [name for names in REASON_GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(NAMES)


def test_a_hot_qualification_makes_a_quiet_lead_hot_and_says_why() -> None:
    scorer = Scorer(linear_model({"events_7d": 1.0}, intercept=-5))
    qualified = answers(
        budget={"min": None, "max": 600000}, area="Upland", timeline=45, pre_approval="yes"
    )

    score = scorer.score(features(), NOBODY, "buy", qualified, NOW)

    assert score.value >= 70 and score.temperature == "hot"
    assert score.reasons[0] == "pre-approved, wants to move within 3 months"
    assert score.probability < 0.01


def test_with_nothing_to_say_the_lead_is_cold() -> None:
    score = Scorer(linear_model({"events_7d": 1.0}, intercept=-5)).score(
        features(), NOBODY, None, {}, NOW
    )

    assert (score.value, score.temperature) == (1, "cold")
    assert score.as_state()["modelVersion"] == "test-linear"


def test_a_model_trained_on_another_catalogue_is_refused() -> None:
    model = linear_model({})
    model.catalogue_hash = "0" * 64

    with pytest.raises(ModelMismatch, match="make models"):
        Scorer(model)


def test_the_shipped_model_ranks_leads_about_to_convert_above_the_rest() -> None:
    """On fresh synthetic leads (another seed than the shipped model's), scored a week before
    the end: those who book within the next 30 days rank above those who do not."""
    from ghl_ai_cli import synthetic
    from ghl_ai_cli.datasets import rows_at
    from ghl_models.metrics import auc

    end = datetime(2026, 8, 31, tzinfo=UTC).timestamp()
    log = synthetic.generate(synthetic.Config(leads=1500, days=160, seed=99, end=end))
    cutoff = end - 40 * 86400
    rows = rows_at(log.streams(), cutoff, 30, synthetic.CONVERSION_TYPES)
    scorer = Scorer(served("lead_score"))

    p = scorer.probabilities(rows.x)

    assert rows.y.sum() >= 10
    assert auc(rows.y, p) > 0.68
    # and the reasons of the lead ranked first are about what it did
    top = int(np.argmax(p))
    from ghl_ai.behaviour.features import compute

    features_top, context = compute(log.streams()[rows.leads[top]], cutoff)
    score = scorer.score(features_top, context, "buy", {}, NOW)
    assert len(score.reasons) == 3 and score.temperature in ("warm", "hot")
