"""A/B testing maths: stable hash assignment, Wilson intervals and the two-proportion test on
hand-computed and published cases, and the report's verdicts."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ghl_ai.workflows.experiments import (
    Z_95,
    assign,
    bucket,
    report,
    two_proportion_test,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parents[2]
LEADS = [f"lead-{i:05d}" for i in range(20_000)]


def by_hand(experiment: str, lead_key: str, variants: dict[str, float]) -> str:
    """The assignment rule written out again: first 8 bytes of the sha256, over 2**64, against
    the cumulative normalised weights."""
    digest = hashlib.sha256(f"{experiment}:{lead_key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(variants.values())
    edge = 0.0
    for name, weight in variants.items():
        edge += weight / total
        if u < edge:
            return name
    raise AssertionError("u is below 1")


# --- assignment ----------------------------------------------------------------------------


def test_assignment_is_the_hash_of_experiment_and_lead() -> None:
    digest = hashlib.sha256(b"subject-line:contact-42").digest()
    assert bucket("subject-line", "contact-42") == int.from_bytes(digest[:8], "big") / 2**64
    variants = {"A": 1.0, "B": 1.0, "C": 2.0}
    for lead in LEADS[:2_000]:
        assert assign("subject-line", lead, variants) == by_hand("subject-line", lead, variants)
    # the same call again gives the same answer
    assert [assign("subject-line", lead, variants) for lead in LEADS[:500]] == [
        assign("subject-line", lead, variants) for lead in LEADS[:500]
    ]


def test_assignment_is_the_same_in_another_process_with_another_hash_seed() -> None:
    leads = LEADS[:200]
    variants = {"control": 0.5, "short": 0.25, "long": 0.25}
    here = [assign("nurture-v2", lead, variants) for lead in leads]
    code = (
        "import json, sys\n"
        "from ghl_ai.workflows.experiments import assign\n"
        "leads, variants = json.loads(sys.stdin.read())\n"
        "print(json.dumps([assign('nurture-v2', lead, variants) for lead in leads]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT / "shared")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps([leads, variants]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == here


def test_weights_are_normalised_and_followed_on_20000_leads() -> None:
    shares = {"A": 0.5, "B": 0.3, "C": 0.2}
    counts = Counter(assign("cta-test", lead, {"A": 5, "B": 3, "C": 2}) for lead in LEADS)
    assert set(counts) == set(shares)
    for name, share in shares.items():  # 0.015 is 4.6 standard errors at p = 0.3
        assert counts[name] / len(LEADS) == pytest.approx(share, abs=0.015)
    # the same split given as fractions or percentages gives the same leads the same variant
    for lead in LEADS[:1_000]:
        assert assign("cta-test", lead, shares) == assign(
            "cta-test", lead, {"A": 50, "B": 30, "C": 20}
        )


def test_a_lone_variant_gets_everyone_and_order_matters() -> None:
    assert {assign("solo", lead, {"only": 3.0}) for lead in LEADS[:300]} == {"only"}
    forward = [assign("e", lead, {"A": 1, "B": 1}) for lead in LEADS[:1_000]]
    backward = [assign("e", lead, {"B": 1, "A": 1}) for lead in LEADS[:1_000]]
    assert forward != backward  # the intervals are laid out in the given order


def test_different_experiments_are_independent() -> None:
    split = {"A": 1, "B": 1}
    table = Counter(
        (assign("first-test", lead, split), assign("second-test", lead, split)) for lead in LEADS
    )
    for cell in (("A", "A"), ("A", "B"), ("B", "A"), ("B", "B")):
        assert table[cell] / len(LEADS) == pytest.approx(0.25, abs=0.015)
    # same bucket salt → same answer; a different salt disagrees about half the time
    agree = sum(table[(v, v)] for v in split) / len(LEADS)
    assert agree == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize(
    ("experiment", "lead", "variants", "message"),
    [
        ("e", "lead-1", {}, "no variants"),
        ("e", "lead-1", {"A": 0, "B": 1}, "'A' has weight 0"),
        ("e", "lead-1", {"A": -1.0}, "weights must be finite numbers > 0"),
        ("e", "lead-1", {"A": math.nan}, "weight nan"),
        ("e", "lead-1", {"A": math.inf}, "weight inf"),
        ("e", "lead-1", {"A": True}, "weight True"),
        ("e", "lead-1", {"A": "1"}, "weight '1'"),
        ("e", "lead-1", {"": 1.0}, "variant names must be non-empty"),
        ("", "lead-1", {"A": 1.0}, "experiment must be a non-empty string"),
        ("e", "", {"A": 1.0}, "lead_key must be a non-empty string"),
    ],
)
def test_bad_assignments_are_refused(
    experiment: str, lead: str, variants: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        assign(experiment, lead, variants)


# --- Wilson interval --------------------------------------------------------------------------


def wilson_by_roots(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson interval as the roots of (p̂ − π)² = z² π(1 − π)/n, a quadratic in π."""
    p = successes / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    root = math.sqrt(b * b - 4 * a * c)
    return ((-b - root) / (2 * a), (-b + root) / (2 * a))


def test_wilson_interval_by_hand() -> None:
    assert wilson_interval(12, 40) == pytest.approx(wilson_by_roots(12, 40), abs=1e-12)
    assert wilson_interval(12, 40) == pytest.approx((0.18075, 0.45430), abs=1e-5)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(Z_95**2 / 10 / (1 + Z_95**2 / 10))  # z²/(n + z²) when p̂ = 0
    assert wilson_interval(10, 10) == pytest.approx((1 - hi, 1.0))
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_published_example() -> None:
    # 81 successes in 263 trials, the worked example in the Wikipedia article "Binomial
    # proportion confidence interval": Wilson 95 % interval (0.2553, 0.3662)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-3)
    assert wilson_interval(81, 263) == pytest.approx(wilson_by_roots(81, 263), abs=1e-12)
    narrower = wilson_interval(81, 263, z=1.0)
    assert narrower[0] > 0.2553 and narrower[1] < 0.3662


@pytest.mark.parametrize(
    ("successes", "n", "message"),
    [(5, 4, "between 0 and n = 4"), (-1, 4, "between 0 and n"), (0, -1, "n must be ≥ 0")],
)
def test_wilson_interval_refuses_impossible_counts(successes: int, n: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n)


def test_wilson_interval_refuses_non_integers_and_bad_z() -> None:
    with pytest.raises(ValueError, match="successes must be an integer"):
        wilson_interval(2.5, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="z must be"):
        wilson_interval(2, 10, z=0.0)


# --- two-proportion test ----------------------------------------------------------------------


def test_two_proportion_test_by_hand() -> None:
    # pooled p = 75/200 = 0.375; se = √(0.375 × 0.625 × (1/100 + 1/100)) = 0.068465
    se = math.sqrt(0.375 * 0.625 * 0.02)
    z, p = two_proportion_test(45, 100, 30, 100)
    assert z == pytest.approx(0.15 / se)
    assert z == pytest.approx(2.1909, abs=1e-4)
    assert p == pytest.approx(0.0285, abs=1e-4)
    assert p == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2)))))
    z_back, p_back = two_proportion_test(30, 100, 45, 100)
    assert (z_back, p_back) == pytest.approx((-z, p))


def test_two_proportion_test_degenerate_cases() -> None:
    assert two_proportion_test(0, 50, 0, 80) == (0.0, 1.0)  # nobody converted
    assert two_proportion_test(50, 50, 80, 80) == (0.0, 1.0)  # everybody converted
    assert two_proportion_test(0, 0, 3, 10) == (0.0, 1.0)  # no trials on one side
    assert two_proportion_test(5, 50, 5, 50) == (0.0, 1.0)  # equal rates: z = 0, p = 1


def test_two_proportion_test_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="second proportion: successes must be between"):
        two_proportion_test(1, 10, 11, 10)


# --- report ----------------------------------------------------------------------------------


def test_report_too_small_says_who_and_how_many_more() -> None:
    result = report({"A": (3, 12), "B": (0, 40), "C": (20, 40)})
    assert result["outcome"] == "too small"
    assert result["verdict"].startswith("too small to call: ")
    assert "A needs about 18 more trials" in result["verdict"]  # 30 trials wanted, 12 had
    assert "B needs at least 27 more trials" in result["verdict"]  # no successes: rule of three
    assert "C" not in {entry["variant"] for entry in result["too_small"]}
    assert {name: c["result"] for name, c in result["vs_control"].items()} == {
        "B": "too small to call",
        "C": "too small to call",
    }
    # 3 successes in 40 trials at 7.5 %: 5 successes need about 67 trials, 27 more
    few = report({"A": (20, 100), "B": (3, 40)})
    assert few["too_small"] == [
        {"variant": "B", "n": 40, "successes": 3, "failures": 37, "more_trials": 27,
         "at_least": False}
    ]  # fmt: skip
    assert "B needs about 27 more trials (40 trials, 3 successes, 37 failures" in few["verdict"]
    # too few failures count too
    assert report({"A": (20, 100), "B": (38, 40)})["outcome"] == "too small"


def test_report_clear_win() -> None:
    result = report({"control": (30, 100), "new-copy": (45, 100)})
    assert result["control"] == "control"
    assert result["outcome"] == "significant"
    assert result["verdict"].startswith("new-copy better than control control (p = 0.02846)")
    assert result["bonferroni"] is False and result["alpha_per_comparison"] == 0.05
    comparison = result["vs_control"]["new-copy"]
    assert comparison["result"] == "better"
    assert comparison["difference"] == pytest.approx(0.15)
    assert (comparison["z"], comparison["p"]) == pytest.approx((2.1909, 0.0285), abs=1e-4)
    assert result["variants"]["new-copy"] == {
        "n": 100,
        "successes": 45,
        "failures": 55,
        "rate": 0.45,
        "wilson": list(wilson_interval(45, 100)),
    }
    # the same result read from the other side: the challenger is worse
    worse = report({"A": (45, 100), "B": (30, 100)})
    assert worse["verdict"].startswith("B worse than control A")
    # exact values, and plain JSON all the way down
    assert json.loads(json.dumps(result)) == result


def test_report_no_difference() -> None:
    result = report({"A": (40, 400), "B": (44, 400)})
    assert result["outcome"] == "no difference"
    assert result["verdict"] == "no significant difference (alpha 0.05)"
    assert result["vs_control"]["B"]["p"] > 0.05


def test_report_control_can_be_named() -> None:
    result = report({"A": (45, 100), "B": (30, 100)}, control="B")
    assert result["control"] == "B"
    assert list(result["vs_control"]) == ["A"]
    assert result["verdict"].startswith("A better than control B")


def test_report_bonferroni_with_three_variants() -> None:
    # B vs A alone: z = 2.1027, p = 0.0355 — under 0.05, over the corrected 0.05 / 2 = 0.025
    outcomes = {"A": (100, 1000), "B": (130, 1000), "C": (100, 1000)}
    assert report({"A": (100, 1000), "B": (130, 1000)})["verdict"].startswith("B better")
    result = report(outcomes)
    assert result["comparisons"] == 2 and result["bonferroni"] is True
    assert result["alpha_per_comparison"] == 0.025
    assert result["vs_control"]["B"]["p"] == pytest.approx(0.0355, abs=1e-4)
    assert result["outcome"] == "no difference"
    assert result["verdict"] == (
        "no significant difference (Bonferroni: alpha 0.05 / 2 comparisons = 0.025)"
    )
    # strong enough to survive the correction: one better, one worse
    strong = report({"A": (100, 1000), "B": (160, 1000), "C": (70, 1000)})
    assert strong["outcome"] == "significant"
    assert strong["verdict"].startswith("B better than control A (p = 6.625e-05); C worse")
    assert strong["verdict"].endswith("(Bonferroni: alpha 0.05 / 2 comparisons = 0.025)")
    assert strong["vs_control"]["C"]["p"] == pytest.approx(0.0162, abs=1e-4)


@pytest.mark.parametrize(
    ("outcomes", "kwargs", "message"),
    [
        ({"A": (1, 10)}, {}, "at least two variants"),
        ({"A": (1, 10), "B": (2, 10)}, {"control": "Z"}, "control 'Z' is not one of"),
        ({"A": (1, 10), "B": (12, 10)}, {}, "variant 'B': successes must be between 0 and n"),
        ({"A": (1, 10), "B": (2,)}, {}, r"variant 'B': expected \(successes, trials\)"),
        ({"A": (1, 10), "B": (2, 10)}, {"alpha": 1.5}, "alpha must be a number between 0"),
        ({"A": (1, 10), "B": (2, 10)}, {"alpha": 0}, "alpha must be a number between 0"),
        ({"A": (1, 10), "B": (2, 10)}, {"min_per_variant": -1}, "min_per_variant must be"),
    ],
)
def test_report_refuses_bad_inputs(
    outcomes: dict[str, tuple[int, int]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        report(outcomes, **kwargs)  # type: ignore[arg-type]
