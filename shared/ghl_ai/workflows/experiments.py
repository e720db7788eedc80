"""A/B tests of nurture sequences: which variant a lead gets, and whether a variant wins.

**Assignment is a hash, not a draw.** :func:`assign` maps ``sha256("{experiment}:{lead_key}")``
to a number in [0, 1) and picks the variant whose share of the weights covers it. Nothing is
stored or looked up: the same lead gets the same variant on every SQS redelivery and retry, in
every Lambda container and in the CLI, without a table read or a race between two workers
assigning the same lead. ``sha256`` rather than ``hash()`` because Python salts ``hash()`` per
process; the experiment's name in the key makes experiments independent of each other (a lead in
variant B of one test is not more likely to be in B of the next). Changing an experiment's
weights or the order of its variants moves leads between variants: keep them fixed while it runs,
and start a new experiment (a new name) to re-split.

**Reading a result.** :func:`report` gives each variant's conversion rate with its Wilson score
interval (:func:`wilson_interval`, honest near 0 % and 100 % and for small samples, unlike the
normal approximation) and compares every other variant with the control by a pooled
two-proportion z-test (:func:`two_proportion_test`). It refuses to call a winner on too little
data (too few trials, or too few successes or failures for the normal approximation), and with
several variants it divides ``alpha`` by the number of comparisons (Bonferroni), so that three
challengers do not get three chances at a lucky "win".

Standard library only (``hashlib``, ``math``): it runs in a Lambda without the model layer and in
the CLI.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

#: The 97.5 % quantile of the standard normal: a two-sided 95 % interval.
Z_95 = 1.959963984540054

_TWO_64 = float(2**64)


def bucket(experiment: str, lead_key: str) -> float:
    """The lead's uniform number in [0, 1) for ``experiment``: the first 8 bytes of
    ``sha256("{experiment}:{lead_key}")`` (big-endian) divided by 2**64."""
    digest = hashlib.sha256(f"{experiment}:{lead_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO_64


def assign(experiment: str, lead_key: str, variants: Mapping[str, float]) -> str:
    """The variant of ``experiment`` that the lead ``lead_key`` gets.

    ``variants`` maps each variant's name to its weight (any positive numbers, normalised here:
    ``{"A": 1, "B": 1}`` and ``{"A": 50, "B": 50}`` are the same split), in order: the lead's
    :func:`bucket` falls in one variant's cumulative interval. Deterministic and stateless (see
    the module's docstring), so every redelivery and every container agrees.

    Raises ``ValueError`` for an empty experiment name or lead key, no variants, an empty variant
    name, or a weight that is not a finite number > 0.
    """
    if not isinstance(experiment, str) or not experiment:
        raise ValueError("experiment must be a non-empty string")
    if not isinstance(lead_key, str) or not lead_key:
        raise ValueError(f"lead_key must be a non-empty string (experiment {experiment!r})")
    if not variants:
        raise ValueError(f"experiment {experiment!r} has no variants: give at least one")
    for name, weight in variants.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"experiment {experiment!r}: variant names must be non-empty strings")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight <= 0
        ):
            raise ValueError(
                f"experiment {experiment!r}: variant {name!r} has weight {weight!r}; "
                "weights must be finite numbers > 0"
            )
    total = math.fsum(variants.values())
    point = bucket(experiment, lead_key) * total
    cumulative = 0.0
    for name, weight in variants.items():
        cumulative += weight
        if point < cumulative:
            return name
    return name  # rounding left the point at the very top: it belongs to the last variant


def _check_counts(successes: int, n: int, what: str = "") -> None:
    label = f"{what}: " if what else ""
    for field, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{label}{field} must be an integer, got {value!r}")
    if n < 0:
        raise ValueError(f"{label}n must be ≥ 0, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"{label}successes must be between 0 and n = {n}, got {successes}")


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n`` (95 % by default)::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) × √(p(1 − p)/n + z²/4n²)

    clipped to [0, 1]. With no trials nothing is known: ``(0.0, 1.0)``.
    Raises ``ValueError`` unless ``0 ≤ successes ≤ n`` (integers) and ``z > 0``.
    """
    _check_counts(successes, n)
    if not math.isfinite(z) or z <= 0:
        raise ValueError(f"z must be a finite number > 0, got {z!r}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_test(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """The pooled two-proportion z-test of ``s1/n1`` against ``s2/n2``: ``(z, two-sided p)``.

    ``z = (p1 − p2) / √(P(1 − P)(1/n1 + 1/n2))`` with the pooled ``P = (s1 + s2) / (n1 + n2)``,
    positive when the first proportion is higher; ``p = erfc(|z| / √2)``. When there is nothing
    to test (a side with no trials, or every trial a success, or none) the answer is
    ``(0.0, 1.0)``: no evidence of a difference.
    Raises ``ValueError`` unless ``0 ≤ s ≤ n`` (integers) on both sides.
    """
    _check_counts(s1, n1, "first proportion")
    _check_counts(s2, n2, "second proportion")
    if n1 == 0 or n2 == 0:
        return (0.0, 1.0)
    pooled = (s1 + s2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return (0.0, 1.0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (s1 / n1 - s2 / n2) / se
    return (z, math.erfc(abs(z) / math.sqrt(2)))


def _more_trials(
    successes: int, n: int, min_per_variant: int, min_successes: int
) -> tuple[int, bool]:
    """Roughly how many more trials a variant needs, and whether that is only a lower bound.

    Enough trials for ``min_per_variant`` and for ``min_successes`` successes and failures at the
    variant's observed rate. With no successes (or no failures) yet the rate is unknown; the
    rule of three (a rate below 3/n, 95 %) gives a lower bound.
    """
    failures = n - successes
    needed = max(min_per_variant, 2 * min_successes)
    at_least = False
    for count in (successes, failures):
        if count >= min_successes:
            continue
        if count > 0:
            needed = max(needed, math.ceil(min_successes * n / count))
        else:
            needed = max(needed, math.ceil(min_successes * n / 3))
            at_least = True
    return max(needed - n, 1), at_least


def _plural(count: int, word: str, words: str) -> str:
    return f"{count} {word if count == 1 else words}"


def _needs(entry: Mapping[str, Any], min_per_variant: int, min_successes: int) -> str:
    """One too-small variant in words: "B needs about 18 more trials (12 trials, ...)"."""
    how = "at least" if entry["at_least"] else "about"
    have = ", ".join(
        (
            _plural(entry["n"], "trial", "trials"),
            _plural(entry["successes"], "success", "successes"),
            _plural(entry["failures"], "failure", "failures"),
        )
    )
    return (
        f"{entry['variant']} needs {how} {entry['more_trials']} more trials ({have}; wants at "
        f"least {min_per_variant} trials and {min_successes} of each outcome)"
    )


def report(
    outcomes: Mapping[str, tuple[int, int]],
    *,
    control: str | None = None,
    alpha: float = 0.05,
    min_per_variant: int = 30,
    min_successes: int = 5,
) -> dict[str, Any]:
    """The result of an experiment, from each variant's ``(successes, trials)``.

    Returns plain JSON types::

        {"control": "A", "alpha": 0.05, "comparisons": 2, "alpha_per_comparison": 0.025,
         "bonferroni": true,
         "variants": {"A": {"n": 400, "successes": 40, "failures": 360, "rate": 0.1,
                            "wilson": [lo, hi]}, ...},
         "vs_control": {"B": {"difference": 0.03, "z": 2.1, "p": 0.035,
                              "result": "no significant difference"}, ...},
         "too_small": [{"variant": "C", "n": 12, "successes": 1, "failures": 11,
                        "more_trials": 48, "at_least": false}],
         "outcome": "too small" | "no difference" | "significant",
         "verdict": "too small to call: C needs about 48 more trials (...)"}

    ``difference`` is the variant's rate minus the control's and ``z`` is positive when the
    variant converts better. Numbers are **not rounded**: they are exact so that callers can
    compare and re-use them; only the ``verdict`` sentence rounds, for people.

    The verdict is "too small to call" while any variant (control included) has fewer than
    ``min_per_variant`` trials or fewer than ``min_successes`` successes or failures, naming
    each such variant and roughly how many more trials it needs; otherwise "<variant> better
    than control <control>" / "<variant> worse ..." for each comparison with ``p`` below the
    per-comparison alpha (``alpha / comparisons``: Bonferroni, said so when there are several),
    else "no significant difference".

    The control is ``control`` or else the first variant. Raises ``ValueError`` for fewer than
    two variants, an unknown control, invalid counts, ``alpha`` outside (0, 1), or negative
    minimums.
    """
    if len(outcomes) < 2:
        raise ValueError(
            f"an experiment needs at least two variants to compare, got {len(outcomes)}"
        )
    if control is None:
        control = next(iter(outcomes))
    elif control not in outcomes:
        raise ValueError(f"control {control!r} is not one of the variants {sorted(outcomes)}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    for field, value in (("min_per_variant", min_per_variant), ("min_successes", min_successes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{field} must be an integer ≥ 0, got {value!r}")

    variants: dict[str, dict[str, Any]] = {}
    too_small: list[dict[str, Any]] = []
    for name, counts in outcomes.items():
        if not isinstance(counts, tuple | list) or len(counts) != 2:
            raise ValueError(f"variant {name!r}: expected (successes, trials), got {counts!r}")
        successes, n = counts
        _check_counts(successes, n, f"variant {name!r}")
        failures = n - successes
        lo, hi = wilson_interval(successes, n)
        variants[name] = {
            "n": n,
            "successes": successes,
            "failures": failures,
            "rate": successes / n if n else 0.0,
            "wilson": [lo, hi],
        }
        if n < min_per_variant or successes < min_successes or failures < min_successes:
            more, at_least = _more_trials(successes, n, min_per_variant, min_successes)
            too_small.append(
                {
                    "variant": name,
                    "n": n,
                    "successes": successes,
                    "failures": failures,
                    "more_trials": more,
                    "at_least": at_least,
                }
            )

    challengers = [name for name in outcomes if name != control]
    comparisons = len(challengers)
    per_comparison = alpha / comparisons
    small = {entry["variant"] for entry in too_small}
    base = variants[control]
    vs_control: dict[str, dict[str, Any]] = {}
    calls: list[str] = []
    for name in challengers:
        mine = variants[name]
        z, p = two_proportion_test(mine["successes"], mine["n"], base["successes"], base["n"])
        if name in small or control in small:
            result = "too small to call"
        elif p < per_comparison:
            result = "better" if z > 0 else "worse"
            calls.append(f"{name} {result} than control {control} (p = {p:.4g})")
        else:
            result = "no significant difference"
        vs_control[name] = {
            "difference": mine["rate"] - base["rate"],
            "z": z,
            "p": p,
            "result": result,
        }

    threshold = (
        f"Bonferroni: alpha {alpha:g} / {comparisons} comparisons = {per_comparison:.4g}"
        if comparisons > 1
        else f"alpha {alpha:g}"
    )
    if too_small:
        needs = [_needs(entry, min_per_variant, min_successes) for entry in too_small]
        outcome, verdict = "too small", "too small to call: " + "; ".join(needs)
    elif calls:
        outcome, verdict = "significant", "; ".join(calls) + f" ({threshold})"
    else:
        outcome, verdict = "no difference", f"no significant difference ({threshold})"

    return {
        "control": control,
        "alpha": alpha,
        "comparisons": comparisons,
        "alpha_per_comparison": per_comparison,
        "bonferroni": comparisons > 1,
        "variants": variants,
        "vs_control": vs_control,
        "too_small": too_small,
        "outcome": outcome,
        "verdict": verdict,
    }
