"""``ghl-ai eval churn``: its contract, no leakage past the cutoff, reproducibility, its errors."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ghl_ai_cli.churn import build
from ghl_ai_cli.datasets import Event, EventLog, parse_time
from ghl_ai_cli.main import app

runner = CliRunner()
T0 = datetime(2024, 1, 1, tzinfo=UTC)
CUTOFF = "2024-05-01"


def shop_log(leads: int = 300, seed: int = 3) -> list[tuple[str, str, str, str]]:
    """Customers who buy at their own pace, some slowing down until they stop."""
    rnd, rows = random.Random(seed), []
    for lead in range(leads):
        t = T0 + timedelta(days=rnd.randrange(60))
        gap, lifetime = rnd.uniform(3, 40), rnd.expovariate(1 / 120)
        end = t + timedelta(days=lifetime)
        kind = "signup"
        while t < min(end, T0 + timedelta(days=240)):
            rows.append(
                (f"l{lead}", kind, t.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{rnd.uniform(5, 80):.2f}")
            )
            t += timedelta(days=rnd.expovariate(1 / gap))
            kind = "purchase"
    rows.append(("tail", "purchase", "2024-09-01T00:00:00Z", "1"))  # the data runs past T + H
    return rows


def write(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or ("lead_id", "event_type", "timestamp", "value"))
        writer.writerows(rows)
    return path


def as_log(rows: list[tuple[str, str, str, str]]) -> EventLog:
    return EventLog([Event(r[0], r[1], parse_time(r[2]), value=float(r[3])) for r in rows])


def run(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, list(args))
    out = result.stdout
    return result.exit_code, json.loads(out) if out.startswith("{") else out + result.stderr


def churn_args(events: Path, *extra: str) -> tuple[str, ...]:
    return (
        "eval",
        "churn",
        "--events",
        str(events),
        "--cutoff",
        CUTOFF,
        "--horizon-days",
        "30",
        *extra,
    )


def test_eval_churn_keeps_the_contract(tmp_path: Path) -> None:
    code, data = run(*churn_args(write(tmp_path / "e.csv", shop_log()), "--json"))
    assert code == 0, data
    for block in (data["model"], data["baselines"]["recency"], data["baselines"]["rfm_logistic"]):
        assert 0 <= block["auc"] <= 1 and 0 <= block["brier"] <= 1 and block["log_loss"] > 0
    assert data["model"]["name"] in data["candidates"]
    assert 0 < data["base_rate"] < 1 and data["n_train"] > 0 and data["n_test"] > 0
    assert sum(t["n"] for t in data["tiers"]) == data["n_test"]
    assert [t["tier"] for t in data["tiers"]] == ["low", "medium", "high", "critical"]
    assert (data["cutoff"], data["horizon_days"], data["seed"]) == (CUTOFF, 30, 42)
    # Every training horizon ends at or before the cutoff; fitting ones before validation's.
    val = min(data["validation_cutoffs"])
    for day in data["fit_cutoffs"]:
        assert parse_time(day) + 30 * 86400 <= parse_time(val)
    assert parse_time(val) + 30 * 86400 <= parse_time(CUTOFF)
    # Churn in this log is predictable from the lead's rhythm.
    assert data["model"]["auc"] > 0.6


def test_events_after_the_cutoff_change_labels_but_never_features() -> None:
    rows = shop_log()
    cutoff = parse_time(CUTOFF)
    after = [r for r in rows if parse_time(r[2]) > cutoff]
    before = [r for r in rows if parse_time(r[2]) <= cutoff]
    # Move every post-cutoff event to another lead active by then, and add a burst for all.
    rnd = random.Random(0)
    leads = sorted({r[0] for r in before})
    altered = before + [(rnd.choice(leads), r[1], r[2], "999") for r in after]
    altered += [(lead, "purchase", "2024-05-02T00:00:00Z", "5") for lead in leads[::3]]
    a, b = build(as_log(rows), cutoff, 30), build(as_log(altered), cutoff, 30)
    for part in ("fit", "validation", "test"):
        ra, rb = getattr(a, part), getattr(b, part)
        assert ra.leads == rb.leads
        np.testing.assert_array_equal(ra.x, rb.x)
        np.testing.assert_array_equal(ra.rfm, rb.rfm)
    np.testing.assert_array_equal(a.fit.y, b.fit.y)
    np.testing.assert_array_equal(a.validation.y, b.validation.y)
    assert not np.array_equal(a.test.y, b.test.y)


def test_eval_churn_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    events = write(tmp_path / "e.csv", shop_log())
    first, second = run(*churn_args(events, "--json")), run(*churn_args(events, "--json"))
    assert first[0] == 0 and first == second


@pytest.mark.parametrize(
    ("rows", "header", "args", "message"),
    [
        (None, None, ("--cutoff", CUTOFF), "cannot read"),
        ([("l1", "buy")], ("lead_id", "event_type"), ("--cutoff", CUTOFF), "timestamp"),
        ("shop", None, ("--cutoff", "2030-01-01"), "outside the data"),
        ("shop", None, ("--cutoff", "2024-08-20"), "horizon runs past"),
        ("shop", None, ("--cutoff", "2024-01-20"), "not enough history"),
        ("daily", None, ("--cutoff", CUTOFF), "need both outcomes"),
    ],
)
def test_eval_churn_fails_with_one_clear_line(
    tmp_path: Path, rows: Any, header: Any, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "e.csv"
    if rows == "shop":
        write(path, shop_log())
    elif rows == "daily":  # everyone buys every day: nobody churns
        write(
            path,
            [
                (f"l{i}", "purchase", (T0 + timedelta(days=d)).strftime("%Y-%m-%d"), "1")
                for i in range(30)
                for d in range(200)
            ],
        )
    elif rows is not None:
        write(path, rows, header)
    result = runner.invoke(app, ["eval", "churn", "--events", str(path), *args, "--json"])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_test_rows_are_the_held_out_30_percent_of_the_leads() -> None:
    data = build(as_log(shop_log()), parse_time(CUTOFF), 30, seed=42)
    trained = set(data.fit.leads) | set(data.validation.leads)
    tested = set(data.test.leads)
    assert not trained & tested  # no lead is both fitted on and tested
    assert len(data.test.leads) == len(tested)  # one test row per lead, at the cutoff
    share = len(tested) / len(tested | trained)
    assert 0.22 < share < 0.38, share
    other = build(as_log(shop_log()), parse_time(CUTOFF), 30, seed=7)
    assert set(other.test.leads) != tested  # the seed draws the split


def test_eval_churn_report_draws_the_roc_and_reliability_curves(tmp_path: Path) -> None:
    report = tmp_path / "report"
    code, data = run(
        *churn_args(write(tmp_path / "e.csv", shop_log()), "--json", "--report", str(report))
    )
    assert code == 0, data
    assert data["report"] == [str(report / "roc.png"), str(report / "reliability.png")]
    for png in ("roc.png", "reliability.png"):
        content = (report / png).read_bytes()
        assert content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 5000
