"""The A/B results of workflow runs: who was assigned which variant, and what came of it.

A run that passed an ``ab_split`` step holds ``variants: {experiment: {variant, at}}`` (``at``:
the assignment, epoch seconds). Per experiment and variant, :func:`experiment_results` counts

- **trials**: the runs assigned the variant;
- **replied**: those that ended on the goal ``replied`` within ``hours`` of the assignment
  (``endReason == "goal: replied"`` and ``endedAt − at ≤ hours``). A run ends on a reply when
  the reply arrives (stop-on-reply workflows) or at its next step, so ``endedAt`` is the reply's
  time or a little after: a reply near the window's edge may fall outside it;
- **appointment_booked**: those that ended on the goal ``appointment_booked`` (at any time
  after the assignment: appointments take longer than replies),

and hands each outcome to :func:`ghl_ai.workflows.experiments.report` (Wilson intervals, the
two-proportion test against the control, "too small to call"). A run assigned less than
``hours`` ago counts as a trial that has not replied yet: read the report once the window has
passed for the runs that matter. The control is the experiment's first variant in its
definition (when the definition is known), else the first variant by name.

Plain Python over run dicts as the runs table stores them (see adapters/dynamo.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ghl_ai.workflows import definition as d
from ghl_ai.workflows.experiments import report, wilson_interval

OUTCOMES = ("replied", "appointment_booked")
#: The attributes of a run the report reads (a Scan projects only these).
ATTRIBUTES = ("runId", "locationId", "workflow", "variants", "endReason", "endedAt")


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _success(run: Mapping[str, Any], outcome: str, assigned_at: float | None, hours: float) -> bool:
    if run.get("endReason") != f"goal: {outcome}":
        return False
    if outcome != "replied":
        return True
    ended = _epoch(run.get("endedAt"))
    if ended is None or assigned_at is None:
        return False
    return 0 <= ended - assigned_at <= hours * 3600


def variant_order(workflows: Mapping[str, d.Workflow]) -> dict[tuple[str, str], list[str]]:
    """``(workflow, experiment)`` → its variants in the definition's order (control first)."""
    order: dict[tuple[str, str], list[str]] = {}
    for workflow in workflows.values():
        for step in workflow.steps:
            if isinstance(step, d.AbSplit):
                order[(workflow.name, step.experiment)] = [v.name for v in step.variants]
    return order


def count_outcomes(
    runs: Iterable[Mapping[str, Any]], hours: float
) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    """``(workflow, experiment)`` → variant → ``{"trials", "replied", "appointment_booked"}``."""
    counts: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    for run in runs:
        assigned = run.get("variants")
        if not isinstance(assigned, Mapping):
            continue
        for experiment, choice in assigned.items():
            if not isinstance(choice, Mapping) or not choice.get("variant"):
                continue
            variants = counts.setdefault((str(run.get("workflow") or ""), str(experiment)), {})
            tally = variants.setdefault(
                str(choice["variant"]), {"trials": 0, **dict.fromkeys(OUTCOMES, 0)}
            )
            tally["trials"] += 1
            at = _epoch(choice.get("at"))
            for outcome in OUTCOMES:
                tally[outcome] += int(_success(run, outcome, at, hours))
    return counts


def _one_variant(name: str, successes: int, n: int) -> dict[str, Any]:
    """What :func:`report` would say of one variant, when there is nothing to compare it with."""
    lo, hi = wilson_interval(successes, n)
    return {
        "control": name,
        "variants": {
            name: {
                "n": n,
                "successes": successes,
                "failures": n - successes,
                "rate": successes / n if n else 0.0,
                "wilson": [lo, hi],
            }
        },
        "vs_control": {},
        "outcome": "too small",
        "verdict": f"too small to call: only variant {name} has runs, nothing to compare",
    }


def experiment_results(
    runs: Iterable[Mapping[str, Any]],
    hours: float,
    workflows: Mapping[str, d.Workflow] | None = None,
) -> list[dict[str, Any]]:
    """Per experiment (sorted by workflow, then name)::

        {"experiment": "nurture_opener", "workflow": "long_term_nurture",
         "control": "question", "variants": ["question", "listings"],
         "outcomes": {"replied": <report>, "appointment_booked": <report>}}

    ``workflows`` (the definitions) give each experiment's variant order, so the control is
    the definition's first variant and a variant nobody was assigned yet shows with 0 trials.
    """
    order = variant_order(workflows or {})
    results = []
    for (workflow, experiment), seen in sorted(count_outcomes(runs, hours).items()):
        defined = order.get((workflow, experiment), [])
        names = [*defined, *sorted(v for v in seen if v not in defined)]
        empty = {"trials": 0, **dict.fromkeys(OUTCOMES, 0)}
        tallies = {name: seen.get(name, empty) for name in names}
        outcomes: dict[str, dict[str, Any]] = {}
        for outcome in OUTCOMES:
            if len(names) < 2:
                only = tallies[names[0]]
                outcomes[outcome] = _one_variant(names[0], only[outcome], only["trials"])
            else:
                outcomes[outcome] = report(
                    {name: (t[outcome], t["trials"]) for name, t in tallies.items()},
                    control=names[0],
                )
        results.append(
            {
                "experiment": experiment,
                "workflow": workflow,
                "control": names[0],
                "variants": names,
                "outcomes": outcomes,
            }
        )
    return results
