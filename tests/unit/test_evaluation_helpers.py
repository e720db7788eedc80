"""The small pieces every evaluation shares: metrics on hand-computed cases, reading times, and
the rule that keeps the simple model unless a richer one is clearly better."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ghl_ai_cli.datasets import parse_time
from ghl_ai_cli.evaluation import choose
from ghl_models import metrics


def test_auc_by_hand_with_ties() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])
    # pairs (pos, neg): 9; wins: 0.35>0.1 ; 0.8>all 3 ; 0.4>0.1, ties with two 0.4s (0.5 each)
    assert metrics.auc(y, s) == pytest.approx((1 + 3 + 1 + 0.5 + 0.5) / 9)
    assert metrics.auc(np.array([1, 1]), np.array([0.2, 0.3])) == 0.5  # one class only


def test_brier_log_loss_and_calibration_by_hand() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.05])
    assert metrics.brier(y, p) == pytest.approx((0.01 + 0.04 + 0.16 + 0.0025) / 4)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.95)) / 4
    assert metrics.log_loss(y, p) == pytest.approx(expected)
    assert metrics.log_losses(y, p)[2] == pytest.approx(-math.log(0.6))
    assert metrics.calibration_table(y, p, bins=2) == [[0.125, 0.0, 2.0], [0.75, 1.0, 2.0]]
    assert np.isfinite(metrics.log_loss(np.array([1]), np.array([0.0])))  # clipped


def test_roc_curve_runs_from_0_to_1() -> None:
    fpr, tpr = metrics.roc_curve(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.7, 0.8]))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert list(tpr) == [0, 0.5, 0.5, 1, 1]


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2024-01-01", 1704067200.0),
        ("2024-01-01T12:00:00Z", 1704110400.0),
        ("2024-01-01 12:00:00", 1704110400.0),
        ("2024-01-01T14:00:00+02:00", 1704110400.0),
        ("1704110400", 1704110400.0),
        ("1704110400000", 1704110400.0),
    ],
)
def test_event_log_times_in_the_usual_spellings(text: str, epoch: float) -> None:
    assert parse_time(text) == epoch


def test_a_richer_model_must_beat_the_simple_one_by_more_than_noise() -> None:
    rng = np.random.default_rng(0)
    simple = rng.uniform(0.4, 0.6, 400)
    assert choose({"simple": simple, "rich": simple - 0.05}, "simple") == "rich"
    noisy = simple + rng.normal(0, 0.3, 400)
    noisy = noisy - (noisy.mean() - simple.mean()) - 0.001  # a hair better on average
    assert choose({"simple": simple, "rich": noisy}, "simple") == "simple"
    assert choose({"simple": simple, "rich": simple + 0.1}, "simple") == "simple"
