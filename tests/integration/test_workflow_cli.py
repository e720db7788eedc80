"""``ghl-ai workflows runs|cancel|report`` against the template's runs table (moto): a lead's
runs, cancelling one (the lock is released), and the A/B report checked by hand."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ghl_ai.adapters.dynamo import WorkflowRunStore, iso
from ghl_ai.workflows.experiments import two_proportion_test, wilson_interval
from ghl_ai_cli.main import app
from tests.conftest import LOCATION_ID, Stack

runner = CliRunner()
START = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
CONTACT = "cli-contact-1"


def store(stack: Stack) -> WorkflowRunStore:
    return WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"])


def new_run(
    workflow: str,
    start_id: str,
    *,
    contact: str = CONTACT,
    location: str = LOCATION_ID,
    started: datetime = START,
    step: str = "first",
    due: datetime | None = None,
) -> dict[str, Any]:
    """A run as WorkflowEngine.start writes it."""
    return {
        "runId": f"{workflow}:{start_id}",
        "locationId": location,
        "contactId": contact,
        "workflow": workflow,
        "status": "active",
        "stepId": step,
        "seq": 0,
        "trigger": "test",
        "context": {},
        "startedAt": iso(started),
        "updatedAt": iso(started),
        "dueAt": (due or started).timestamp(),
        "dueBucket": WorkflowRunStore.DUE,
        "history": [],
    }


def seed(stack: Stack, run: dict[str, Any], *, lock: bool = False, **changes: Any) -> None:
    """Create the run, then move it on by one ``advance`` (as a step would)."""
    runs = store(stack)
    assert runs.create(run, lock=lock)
    if changes:
        assert runs.advance(run, 0, {"seq": 1, **changes})


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["workflows", *args])


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- runs --------------------------------------------------------------------------------------


def test_runs_lists_the_leads_runs_newest_first_with_their_last_steps(stack: Stack) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    history = [
        {
            "seq": i,
            "step": f"s{i}",
            "type": "send_sms",
            "at": START.timestamp() + i,
            "outcome": "ok",
        }
        for i in range(7)
    ]
    seed(
        stack,
        new_run("speed_to_lead", "old"),
        status="done",
        endReason="goal: replied",
        endedAt=iso(START + timedelta(hours=2)),
        dueAt=None,
        dueBucket=None,
    )
    later = START + timedelta(days=1)
    seed(
        stack,
        new_run("long_term_nurture", "new", started=later),
        lock=True,
        stepId="wait_day_5",
        dueAt=(later + timedelta(days=3)).timestamp(),
        history=history,
        variants={"nurture_opener": {"variant": "question", "at": later.timestamp()}},
    )
    seed(stack, new_run("speed_to_lead", "someone-else", contact="another-contact"))

    body = as_json(invoke("runs", CONTACT, "--location", LOCATION_ID, "--table", table, "--json"))

    assert (body["locationId"], body["contactId"]) == (LOCATION_ID, CONTACT)
    newest, oldest = body["runs"]
    assert newest == {
        "runId": "long_term_nurture:new",
        "workflow": "long_term_nurture",
        "status": "active",
        "step": "wait_day_5",
        "nextDueAt": "2026-11-06T17:00:00Z",
        "startedAt": "2026-11-03T17:00:00Z",
        "endedAt": None,
        "endReason": None,
        "variants": {"nurture_opener": {"variant": "question", "at": "2026-11-03T17:00:00Z"}},
        "history": [
            {
                "seq": i,
                "step": f"s{i}",
                "type": "send_sms",
                "at": f"2026-11-02T17:00:0{i}Z",
                "outcome": "ok",
            }
            for i in range(2, 7)
        ],
    }
    assert (oldest["runId"], oldest["status"], oldest["nextDueAt"]) == (
        "speed_to_lead:old",
        "done",
        None,
    )
    assert (oldest["endedAt"], oldest["endReason"]) == ("2026-11-02T19:00:00Z", "goal: replied")

    human = invoke("runs", CONTACT, "--location", LOCATION_ID, "--table", table, "--history", "1")
    assert human.exit_code == 0, human.output
    assert "long_term_nurture:new  active at step wait_day_5" in human.stdout
    assert "#6 s6 (send_sms)" in human.stdout and "#5 s5" not in human.stdout
    assert "ended 2026-11-02T19:00:00Z (goal: replied)" in human.stdout


def test_runs_reads_the_location_and_table_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHL_LOCATION_ID", LOCATION_ID)
    monkeypatch.setenv("RUNS_TABLE", stack.resources.tables["WorkflowRunsTable"])
    seed(stack, new_run("speed_to_lead", "x"))

    assert [r["runId"] for r in as_json(invoke("runs", CONTACT, "--json"))["runs"]] == [
        "speed_to_lead:x"
    ]
    assert as_json(invoke("runs", "nobody", "--json"))["runs"] == []


@pytest.mark.parametrize(
    ("variable", "message"),
    [("GHL_LOCATION_ID", "--location (or GHL_LOCATION_ID) is required"), ("RUNS_TABLE", "--table")],
)
def test_runs_without_a_location_or_table_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    monkeypatch.setenv("GHL_LOCATION_ID", LOCATION_ID)
    monkeypatch.setenv("RUNS_TABLE", "runs")
    monkeypatch.delenv(variable)

    result = invoke("runs", CONTACT)

    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


# -- cancel ------------------------------------------------------------------------------------


def test_cancel_ends_an_active_run_and_releases_its_lock(stack: Stack) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    runs = store(stack)
    seed(stack, new_run("long_term_nurture", "one"), lock=True, stepId="wait_day_5")
    # The lock holds: the workflow cannot start twice for the lead.
    assert not runs.create(new_run("long_term_nurture", "two"), lock=True)

    body = as_json(
        invoke(
            *("cancel", "long_term_nurture:one", "--contact", CONTACT),
            *("--location", LOCATION_ID, "--table", table, "--json"),
        )
    )

    assert body["cancelled"] is True
    stored = runs.get(LOCATION_ID, CONTACT, "long_term_nurture:one")
    assert stored is not None
    assert (stored["status"], stored["endReason"], stored["seq"]) == (
        "cancelled",
        "cancelled by an operator",
        2,
    )
    assert "dueAt" not in stored and "dueBucket" not in stored and stored["endedAt"]
    assert (body["run"]["status"], body["run"]["endReason"]) == (
        "cancelled",
        "cancelled by an operator",
    )
    # The lock is gone: a new run of the same workflow starts.
    assert runs.create(new_run("long_term_nurture", "two"), lock=True)

    again = invoke(
        *("cancel", "long_term_nurture:one", "--contact", CONTACT),
        *("--location", LOCATION_ID, "--table", table),
    )
    assert again.exit_code == 1
    assert "already ended (cancelled: cancelled by an operator)" in again.output


def test_cancel_ends_a_paused_run_with_the_reason_given(stack: Stack) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    seed(stack, new_run("hot_lead_alert", "p"), lock=True, status="paused", dueBucket=None)

    result = invoke(
        *("cancel", "hot_lead_alert:p", "--contact", CONTACT, "--location", LOCATION_ID),
        *("--table", table, "--reason", "agent asked"),
    )

    assert result.exit_code == 0, result.output
    assert "cancelled hot_lead_alert:p" in result.stdout
    stored = store(stack).get(LOCATION_ID, CONTACT, "hot_lead_alert:p")
    assert stored is not None and (stored["status"], stored["endReason"]) == (
        "cancelled",
        "agent asked",
    )
    assert store(stack).create(new_run("hot_lead_alert", "q"), lock=True)


def test_cancel_an_unknown_run_or_without_the_contact_is_exit_2(stack: Stack) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    seed(stack, new_run("speed_to_lead", "real"))

    where = ("--location", LOCATION_ID, "--table", table)
    unknown = invoke("cancel", "speed_to_lead:nope", "--contact", CONTACT, *where)
    other_lead = invoke("cancel", "speed_to_lead:real", "--contact", "someone", *where)
    no_contact = invoke("cancel", "speed_to_lead:real", "--location", LOCATION_ID, "--table", table)

    for result in (unknown, other_lead):
        assert result.exit_code == 2
        assert "no run 'speed_to_lead:" in result.output and "Traceback" not in result.output
    assert no_contact.exit_code == 2 and "--contact is required" in no_contact.output
    stored = store(stack).get(LOCATION_ID, CONTACT, "speed_to_lead:real")
    assert stored is not None and stored["status"] == "active"


def test_cancel_on_a_missing_table_is_a_one_line_error(stack: Stack) -> None:
    result = invoke(
        "cancel", "x:y", "--contact", CONTACT, "--location", LOCATION_ID, "--table", "no-such"
    )
    assert result.exit_code == 2
    assert "DynamoDB table no-such: ResourceNotFoundException" in result.output
    assert "Traceback" not in result.output


# -- report ------------------------------------------------------------------------------------

EXPERIMENT = ("custom_nurture", "opener_test")


def seed_experiment(
    stack: Stack, variant: str, index: int, ended_after_hours: float | None, reason: str = ""
) -> None:
    """One run assigned ``variant`` an hour after it started; ended that many hours after the
    assignment with ``reason`` (None: still running)."""
    assigned = START + timedelta(hours=1 + index)
    changes: dict[str, Any] = {
        "variants": {EXPERIMENT[1]: {"variant": variant, "at": assigned.timestamp()}}
    }
    if ended_after_hours is not None:
        changes |= {
            "status": "cancelled" if reason == "goal: replied" else "done",
            "endReason": reason,
            "endedAt": iso(assigned + timedelta(hours=ended_after_hours)),
        }
    run = new_run(EXPERIMENT[0], f"{variant}{index}", contact=f"lead-{variant}-{index}")
    seed(stack, run, lock=True, **changes)


def seed_report_runs(stack: Stack) -> None:
    # a: 40 trials; 12 replied within 48 h (one at exactly 48 h), 1 replied after 60 h (not a
    # success), 3 booked an appointment, 24 still running or ended without a goal.
    for i in range(12):
        seed_experiment(stack, "a", i, 48 if i == 0 else 1 + i * 3, "goal: replied")
    seed_experiment(stack, "a", 12, 60, "goal: replied")
    for i in range(13, 16):
        seed_experiment(stack, "a", i, 100, "goal: appointment_booked")
    for i in range(16, 40):
        seed_experiment(stack, "a", i, 200 if i % 2 else None, "the last step")
    # b: 40 trials; 20 replied within 48 h, 8 booked, 12 without a goal.
    for i in range(20):
        seed_experiment(stack, "b", i, 0.5 + i, "goal: replied")
    for i in range(20, 28):
        seed_experiment(stack, "b", i, 30, "goal: appointment_booked")
    for i in range(28, 40):
        seed_experiment(stack, "b", i, None)
    # Not counted: runs without a variant; with --location, another location's runs.
    seed(stack, new_run(EXPERIMENT[0], "plain", contact="lead-plain"))
    for i in range(5):
        other = new_run(EXPERIMENT[0], f"o{i}", contact=f"other-{i}", location="other-location")
        variants = {EXPERIMENT[1]: {"variant": "b", "at": START.timestamp()}}
        seed(stack, other, variants=variants, endReason="goal: replied", endedAt=iso(START))


def test_report_counts_replies_within_the_window_and_matches_the_hand_computation(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_report_runs(stack)
    table = stack.resources.tables["WorkflowRunsTable"]

    body = as_json(invoke("report", "--location", LOCATION_ID, "--table", table, "--json"))

    assert body["hours"] == 48
    (entry,) = body["experiments"]
    assert (entry["experiment"], entry["workflow"]) == ("opener_test", "custom_nurture")
    assert (entry["control"], entry["variants"]) == ("a", ["a", "b"])
    replied = entry["outcomes"]["replied"]
    a, b = replied["variants"]["a"], replied["variants"]["b"]
    assert (a["n"], a["successes"], a["rate"]) == (40, 12, 0.3)
    assert (b["n"], b["successes"], b["rate"]) == (40, 20, 0.5)
    # By hand (z = 1.96): 12/40 → centre (0.3 + z²/80) / (1 + z²/40) = 0.31752, half-width
    # z / (1 + z²/40) × √(0.21/40 + z²/6400) = 0.13678.
    assert a["wilson"] == pytest.approx([0.18075, 0.45430], abs=5e-5)
    assert b["wilson"] == pytest.approx([0.35200, 0.64800], abs=5e-5)
    assert a["wilson"] == list(wilson_interval(12, 40))
    assert b["wilson"] == list(wilson_interval(20, 40))
    # Pooled 32/80 = 0.4, se = √(0.4 × 0.6 × 2/40) = 0.10954, z = 0.2 / se = 1.82574.
    versus = replied["vs_control"]["b"]
    assert versus["z"] == pytest.approx(0.2 / math.sqrt(0.012))
    assert versus["p"] == pytest.approx(math.erfc(1.8257418583505538 / math.sqrt(2)))
    assert versus["p"] == pytest.approx(0.06789, abs=5e-6)
    assert (versus["z"], versus["p"]) == two_proportion_test(20, 40, 12, 40)
    assert versus["difference"] == pytest.approx(0.2)
    assert (versus["result"], replied["outcome"]) == ("no significant difference", "no difference")

    booked = entry["outcomes"]["appointment_booked"]
    assert [(v["n"], v["successes"]) for v in booked["variants"].values()] == [(40, 3), (40, 8)]
    assert booked["variants"]["a"]["wilson"] == list(wilson_interval(3, 40))
    assert (booked["vs_control"]["b"]["z"], booked["vs_control"]["b"]["p"]) == two_proportion_test(
        8, 40, 3, 40
    )
    # Three successes in a: fewer than 5, so nobody calls it.
    assert booked["outcome"] == "too small"
    assert booked["verdict"].startswith("too small to call: a needs")

    # A wider window takes in a's late reply; without a location, the other location's runs.
    monkeypatch.delenv("GHL_LOCATION_ID", raising=False)
    wide = as_json(invoke("report", "--table", table, "--hours", "72", "--json"))
    variants = wide["experiments"][0]["outcomes"]["replied"]["variants"]
    assert (variants["a"]["successes"], variants["b"]["n"], variants["b"]["successes"]) == (
        13,
        45,
        25,
    )

    human = invoke("report", "--location", LOCATION_ID, "--table", table)
    assert human.exit_code == 0, human.output
    assert "opener_test (custom_nurture), control a" in human.stdout
    assert "no significant difference" in human.stdout and "too small to call" in human.stdout


def test_a_builtin_experiments_control_is_its_first_defined_variant(stack: Stack) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    variants = {"nurture_opener": {"variant": "listings", "at": START.timestamp()}}
    seed(stack, new_run("long_term_nurture", "l"), variants=variants)

    (entry,) = as_json(invoke("report", "--table", table, "--json"))["experiments"]

    # Nobody got "question" yet: it is still the control, with no trials.
    assert (entry["control"], entry["variants"]) == ("question", ["question", "listings"])
    replied = entry["outcomes"]["replied"]
    assert replied["variants"]["question"]["n"] == 0 and replied["outcome"] == "too small"


def test_report_on_an_empty_table_or_without_one_is_no_experiments(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = stack.resources.tables["WorkflowRunsTable"]
    assert as_json(invoke("report", "--table", table, "--json"))["experiments"] == []

    monkeypatch.delenv("RUNS_TABLE", raising=False)
    body = as_json(invoke("report", "--json"))
    assert (body["hours"], body["experiments"]) == (48, [])
    assert as_json(invoke("report", "--json", "--table", ""))["experiments"] == []
