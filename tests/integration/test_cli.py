"""The ``ghl-ai`` command: its contracts (flags, JSON keys), its errors, and the retraining and
replay paths it gives the operator."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from functions.intake import app as intake_app
from ghl_ai.behaviour.features import NAMES, catalogue_hash
from ghl_ai_cli import synthetic
from ghl_ai_cli.main import app
from ghl_ai_cli.registry import install
from ghl_ai_cli.training import train_lead_score
from ghl_models import load
from local import devkeys
from local.apigw import ApiGateway
from tests.conftest import LOCATION_ID, Stack
from tests.support import events_of

runner = CliRunner()


def run(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, list(args))
    out = result.stdout
    try:
        return result.exit_code, json.loads(out)
    except ValueError:
        return result.exit_code, out + (result.stderr if result.stderr_bytes is not None else "")


def write_log(path: Path, log: synthetic.EventLog) -> Path:  # type: ignore[name-defined]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lead_id", "event_type", "timestamp", "value", "property_id"])
        for e in log.events:
            when = datetime.fromtimestamp(e.t, UTC).isoformat().replace("+00:00", "Z")
            writer.writerow(
                [e.lead, e.type, when, "" if e.value is None else e.value, e.property_id or ""]
            )
    return path


def signup_purchase_csv(path: Path) -> Path:
    """Like the contract checker's data: signups, then purchases for some leads."""
    rnd, t0 = random.Random(7), datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "event_type", "timestamp", "value"])
        for lead in range(400):
            t = t0 + timedelta(days=rnd.randrange(60))
            w.writerow([f"l{lead}", "signup", t.strftime("%Y-%m-%dT%H:%M:%SZ"), "10"])
            for _ in range(rnd.choice([0, 0, 1, 2, 4, 8])):
                t += timedelta(days=rnd.expovariate(1 / 20))
                w.writerow([f"l{lead}", "purchase", t.strftime("%Y-%m-%dT%H:%M:%SZ"), "25.5"])
    return path


def test_features_lists_the_catalogue_as_json() -> None:
    code, data = run("features", "--json")

    assert code == 0
    assert data["catalogue_hash"] == catalogue_hash()
    assert [f["name"] for f in data["features"]] == list(NAMES)
    assert all(f["meaning"] and f["unit"] and f["window"] for f in data["features"])


def test_features_prints_a_table_for_people() -> None:
    result = runner.invoke(app, ["features"])

    assert result.exit_code == 0
    assert "days_since_last_event" in result.stdout and "behavioural features" in result.stdout


def test_eval_scoring_keeps_the_contract_on_any_event_log(tmp_path: Path) -> None:
    events = signup_purchase_csv(tmp_path / "events.csv")

    code, data = run(
        "eval", "scoring", "--events", str(events), "--conversion-event", "purchase",
        "--cutoff", "2024-03-15", "--horizon-days", "30", "--seed", "42", "--json",
        "--report", str(tmp_path / "report"),
    )  # fmt: skip

    assert code == 0, data
    for key in ("auc", "brier", "log_loss", "calibration"):
        assert key in data["model"]
    assert data["baseline"]["name"] == "recency_frequency"
    assert {"auc", "brier"} <= set(data["baseline"])
    assert 0 <= data["model"]["auc"] <= 1 and 0 < data["base_rate"] < 1
    assert data["n_train"] > data["n_test"] > 0
    assert all(len(row) == 3 for row in data["model"]["calibration"])
    for png in ("roc.png", "reliability.png"):
        assert (tmp_path / "report" / png).read_bytes()[:4] == b"\x89PNG"


def test_eval_scoring_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    events = signup_purchase_csv(tmp_path / "events.csv")
    args = ("eval", "scoring", "--events", str(events), "--conversion-event", "purchase",
            "--cutoff", "2024-03-15", "--horizon-days", "30", "--json")  # fmt: skip

    first, second = run(*args, "--seed", "5")[1], run(*args, "--seed", "5")[1]

    assert first == second


def test_eval_scoring_beats_the_baseline_on_the_synthetic_data() -> None:
    code, data = run("eval", "scoring", "--seed", "42", "--json")

    assert code == 0, data
    assert data["model"]["auc"] > data["baseline"]["auc"] + 0.05
    assert data["model"]["brier"] <= data["baseline"]["brier"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("lead,kind\nx,y\n", "missing column"),
        ("lead_id,event_type,timestamp\nl1,view,not-a-date\n", ":2: timestamp is not ISO 8601"),
        ("lead_id,event_type,timestamp,value\nl1,view,2024-01-01,abc\n", ":2: value is not a"),
    ],
)
def test_eval_scoring_names_the_line_of_a_bad_csv(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)

    args = ["eval", "scoring", "--events", str(path), "--conversion-event", "buy"]
    result = runner.invoke(app, [*args, "--cutoff", "2024-02-01"])

    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_eval_scoring_says_when_nothing_converts(tmp_path: Path) -> None:
    events = signup_purchase_csv(tmp_path / "events.csv")

    args = ["eval", "scoring", "--events", str(events), "--conversion-event", "refund"]
    result = runner.invoke(app, [*args, "--cutoff", "2024-03-15"])

    assert result.exit_code == 2 and "no 'refund' event" in result.output


@pytest.fixture(scope="module")
def tenant_log() -> synthetic.EventLog:  # type: ignore[name-defined]
    end = datetime(2026, 10, 31, tzinfo=UTC).timestamp()
    return synthetic.generate(synthetic.Config(leads=900, days=170, seed=21, end=end))


def test_train_scoring_writes_an_artifact_and_its_card(tmp_path: Path) -> None:
    code, data = run(
        "train", "scoring", "--leads", "700", "--days", "150", "--seed", "3",
        "--output", str(tmp_path), "--json",
    )  # fmt: skip

    assert code == 0, data
    assert data["installed"]["installed"] is True
    model = load("lead_score", tmp_path / "artifacts")
    card = json.loads((tmp_path / "manifest.json").read_text())["models"]["lead_score"]
    assert card["version"] == model.version == data["model"]["version"]
    assert card["seed"] == 3 and card["training_data"]["source"] == "synthetic"


def test_a_tenant_with_too_few_outcomes_keeps_the_current_model(tmp_path: Path) -> None:
    events = signup_purchase_csv(tmp_path / "events.csv")

    result = runner.invoke(app, ["train", "scoring", "--location", "loc-1", "--events",
                                 str(events), "--output", str(tmp_path / "out")])  # fmt: skip

    assert result.exit_code == 2
    assert "not enough outcomes" in result.output
    assert not (tmp_path / "out").exists()


def test_a_tenant_model_is_installed_for_its_location_when_no_worse(
    tmp_path: Path,
    tenant_log: synthetic.EventLog,  # type: ignore[name-defined]
) -> None:
    events = write_log(tmp_path / "tenant.csv", tenant_log)

    code, data = run("train", "scoring", "--location", "loc-7", "--events", str(events),
                     "--output", str(tmp_path), "--json")  # fmt: skip

    assert code == 0, data
    decision = data["installed"]
    assert decision["model"] == "lead_score--loc-7"
    assert decision["installed"] is True
    assert (tmp_path / "artifacts" / "lead_score--loc-7.json").exists()
    card = json.loads((tmp_path / "manifest.json").read_text())["models"]["lead_score--loc-7"]
    assert card["training_data"]["source"] == "location:loc-7"


def test_a_retrained_model_that_is_worse_is_not_installed(
    tmp_path: Path,
    tenant_log: synthetic.EventLog,  # type: ignore[name-defined]
) -> None:
    result = train_lead_score(
        tenant_log, conversion=synthetic.CONVERSION_TYPES, seed=4, source="location:loc-9"
    )
    first = install(result, tmp_path, "loc-9", tenant_log, synthetic.CONVERSION_TYPES, 30)
    assert first["installed"]
    before = (tmp_path / "artifacts" / "lead_score--loc-9.json").read_bytes()
    # the same model, but broken: every probability 1 - p
    worse = train_lead_score(
        tenant_log, conversion=synthetic.CONVERSION_TYPES, seed=4, source="location:loc-9"
    )
    worse.spec["logistic"]["coef"] = [-c for c in worse.spec["logistic"]["coef"]]
    worse.fitted.test["log_loss"] = 9.9  # what the broken model scores on the held-out rows

    second = install(worse, tmp_path, "loc-9", tenant_log, synthetic.CONVERSION_TYPES, 30)

    assert second["installed"] is False and "kept" in second["message"]
    assert (tmp_path / "artifacts" / "lead_score--loc-9.json").read_bytes() == before


# -- events replay ---------------------------------------------------------------------------


@pytest.fixture
def api(stack: Stack) -> Iterator[str]:
    gateway = ApiGateway(intake_app.handler).start()
    try:
        yield gateway.url
    finally:
        gateway.stop()


def test_events_replay_posts_a_csv_once(stack: Stack, api: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    path = tmp_path / "log.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "event_type", "timestamp", "value", "property_id"])
        for i in range(150):
            when = (now - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            w.writerow(["c-replay", "property_view", when, "", f"IE-{i % 7}"])
        w.writerow(["c-replay", "property_view", "2019-01-01T00:00:00Z", "", "IE-1"])

    code, first = run("events", "replay", str(path), "--url", api, "--site-key",
                      devkeys.SITE_KEY, "--json")  # fmt: skip
    _, second = run("events", "replay", str(path), "--url", api, "--site-key",
                    devkeys.SITE_KEY, "--json")  # fmt: skip

    assert code == 0, first
    assert (first["sent"], first["accepted"], first["rejected"]) == (151, 150, 1)
    assert first["problems"][0]["line"] == 152 and first["problems"][0]["field"] == "timestamp"
    assert (second["accepted"], second["duplicates"]) == (0, 150)
    assert len(events_of(stack, LOCATION_ID, "c-replay")) == 150


def test_events_replay_refuses_a_wrong_site_key(stack: Stack, api: str, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"type": "page_view", "timestamp": datetime.now(UTC).isoformat(),
                                "eventId": "e1", "visitorId": "v1"}) + "\n")  # fmt: skip

    result = runner.invoke(app, ["events", "replay", str(path), "--url", api,
                                 "--site-key", "nope"])  # fmt: skip

    assert result.exit_code == 2 and "site key was refused" in result.output


def test_the_console_command_starts_cleanly() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for group in ("features", "train", "eval", "events"):
        assert group in result.stdout


def test_a_tenants_events_are_read_from_its_table_with_its_conversions(stack: Stack) -> None:
    from ghl_ai.adapters.dynamo import BehaviourEventStore
    from ghl_ai.leads.models import BehaviourEvent, LeadKey
    from ghl_ai_cli.registry import tenant_events

    store = BehaviourEventStore(stack.dynamodb, stack.resources.tables["EventsTable"])
    now = datetime.now(UTC)
    rows = [
        ("c1", "property_view", {}),
        ("c1", "opportunity_status", {"status": "won"}),
        ("c2", "opportunity_stage", {"stageId": "stage-under-contract"}),
        ("c3", "opportunity_stage", {"stageId": "stage-contacted"}),
        ("visitor:v9", "page_view", {}),
    ]
    for i, (contact, kind, data) in enumerate(rows):
        store.put(
            BehaviourEvent(LeadKey(LOCATION_ID, contact), kind, now, f"e{i}", "ghl", data=data)
        )
    store.put(BehaviourEvent(LeadKey("other-location", "c1"), "page_view", now, "x", "website"))

    log = tenant_events(
        stack.resources.tables["EventsTable"], LOCATION_ID, lambda _: None, ["stage-under-contract"]
    )

    assert sorted((e.lead, e.type) for e in log.events) == [
        ("c1", "opportunity_won"),
        ("c1", "property_view"),
        ("c2", "opportunity_stage_reached"),
        ("c3", "opportunity_stage"),
    ]
