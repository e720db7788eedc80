"""``ghl-ai train churn``: the 7/14/30-day models and their cards, reproducible from the seed; a
tenant's retrained models installed only when no worse on the same held-out rows."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ghl_ai.behaviour.features import DAY, StreamBuilder
from ghl_ai.churn.activity import Activity
from ghl_ai.churn.risk import ChurnPredictor
from ghl_ai_cli.churn import INPUTS
from ghl_ai_cli.main import app
from ghl_models.churn import ChurnModel, logit

runner = CliRunner()
HORIZONS = (7, 14, 30)
SYNTHETIC = ("--leads", "500", "--days", "150", "--seed", "1")
TENANT = "loc-tenant-1"


def train(*args: str) -> tuple[int, Any, str]:
    result = runner.invoke(app, ["train", "churn", *args, "--json"])
    out = result.stdout
    return result.exit_code, json.loads(out) if out.startswith("{") else None, result.stderr


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("layer")
    code, data, err = train("--output", str(directory), *SYNTHETIC)
    assert code == 0, err
    return directory, data


def load(path: Path) -> ChurnModel:
    return ChurnModel(json.loads(path.read_text()))


def test_train_churn_writes_the_three_models_with_their_cards(
    synthetic_run: tuple[Path, dict[str, Any]],
) -> None:
    directory, data = synthetic_run
    manifest = json.loads((directory / "manifest.json").read_text())["models"]

    assert [m["model"]["name"] for m in data["models"]] == [f"churn_{h}d" for h in HORIZONS]
    assert set(manifest) == {f"churn_{h}d" for h in HORIZONS}
    for horizon, result in zip(HORIZONS, data["models"], strict=True):
        name = f"churn_{horizon}d"
        artifact = directory / "artifacts" / f"{name}.json"
        assert result["installed"]["installed"] is True
        card = manifest[name]
        assert card["artifact"] == artifact.name
        assert card["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
        model = load(artifact)
        assert (model.horizon_days, model.version) == (horizon, card["version"])
        assert model.model.features == list(INPUTS) == card["features"]
        assert card["target"] == f"no engagement event within {horizon} days"
        # Held-out metrics beside both baselines', on the same held-out 30 % of the leads.
        held, baselines = card["metrics"]["held_out"], card["metrics"]["baselines"]
        assert set(baselines) == {"recency", "rfm_logistic"}
        for scores in (held, *baselines.values()):
            assert set(scores) == {"auc", "brier", "log_loss"}
            assert 0 <= scores["auc"] <= 1 and 0 <= scores["brier"] <= 1
        rows = card["training_data"]["held_out"]
        assert rows["rows"] > 100 and 0 < rows["churned"] < rows["rows"]
        assert held["log_loss"] < min(b["log_loss"] for b in baselines.values())
        assert sum(t["n"] for t in card["tiers"]) == rows["rows"]
        assert card == {
            **result["model"],
            **{k: card[k] for k in ("artifact", "sha256", "created")},
        }


def test_the_trained_models_serve_a_dormant_lead_a_higher_risk(
    synthetic_run: tuple[Path, dict[str, Any]],
) -> None:
    directory, _ = synthetic_run
    predictor = ChurnPredictor(
        {h: load(directory / "artifacts" / f"churn_{h}d.json") for h in HORIZONS}
    )
    now = datetime(2026, 11, 30, tzinfo=UTC).timestamp()

    def lead(days_ago: list[float]) -> Activity:
        builder = StreamBuilder()
        for d in days_ago:
            builder.add(now - d * DAY, "property_view")
        made = Activity.of(builder.build(), now - min(days_ago) * DAY)
        assert made is not None
        return made

    dormant, busy = predictor.predict(
        [lead([120, 110, 100, 90]), lead([20, 15, 10, 6, 4, 2, 1, 0.1])], now
    )
    assert dormant.d30 > busy.d30 and dormant.tier != "low" and busy.tier == "low"


def test_the_same_seed_gives_byte_identical_artifacts(
    synthetic_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    first, _ = synthetic_run

    code, _, err = train("--output", str(tmp_path), *SYNTHETIC)

    assert code == 0, err
    for horizon in HORIZONS:
        name = f"artifacts/churn_{horizon}d.json"
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


# -- a tenant's own models ---------------------------------------------------------------------


def tenant_csv(path: Path, leads: int, came_back: float = 0.0, seed: int = 8) -> Path:
    """150 days of leads active at one constant random rate (a Poisson process, every 15 days
    on average: a lead's past says nothing of whether it goes quiet), then a campaign on the
    last day that brings back the share ``came_back`` of them."""
    rnd = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)

    def row(lead: str, t: datetime) -> tuple[str, str, str, str]:
        return (lead, "purchase", t.strftime("%Y-%m-%dT%H:%M:%SZ"), "10")

    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("lead_id", "event_type", "timestamp", "value"))
        for lead in range(leads):
            t = start + timedelta(days=rnd.expovariate(1 / 15))
            while t < start + timedelta(days=150):
                writer.writerow(row(f"t{lead}", t))
                t += timedelta(days=rnd.expovariate(1 / 15))
            if rnd.random() < came_back:
                writer.writerow(row(f"t{lead}", start + timedelta(days=150.5)))
        # The log runs into the next day, so the last full day's labels are known.
        writer.writerow(row("late", start + timedelta(days=151.5)))
    return path


def constant_model(path: Path, horizon: int, p: float, name: str) -> None:
    """A served churn model that gives every lead the probability ``p``."""
    width = len(INPUTS)
    spec = {
        "name": name,
        "version": f"{name}-constant",
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
        "bgnbd": {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec))


def test_a_tenant_model_replaces_the_served_one_only_when_no_worse(tmp_path: Path) -> None:
    # Most of the tenant's leads came back on the last day (a campaign): a model fitted on the
    # months before expects them to go quiet as often as they used to.
    events = tenant_csv(tmp_path / "tenant.csv", leads=520, came_back=0.9)
    layer = tmp_path / "layer"
    artifacts = layer / "artifacts"
    tenant_args = (
        "--location",
        TENANT,
        "--events",
        str(events),
        "--output",
        str(layer),
        "--seed",
        "1",
    )
    # The location is served the layer's models, which here are far off (99.9 % churn).
    for h in HORIZONS:
        constant_model(artifacts / f"churn_{h}d.json", h, 0.999, f"churn_{h}d")

    code, first, err = train(*tenant_args)

    assert code == 0, err
    manifest = json.loads((layer / "manifest.json").read_text())["models"]
    for h, result in zip(HORIZONS, first["models"], strict=True):
        name = f"churn_{h}d--{TENANT}"
        decision = result["installed"]
        assert decision["installed"] is True, decision
        assert decision["held_out_log_loss"] <= decision["current_log_loss"]
        assert decision["message"] == f"installed {artifacts / f'{name}.json'}"
        assert load(artifacts / f"{name}.json").version == result["model"]["version"]
        assert manifest[name]["training_data"]["source"] == f"location:{TENANT}"
        assert load(artifacts / f"churn_{h}d.json").version == f"churn_{h}d-constant"  # kept

    # Now the location's own models predict exactly how often its held-out leads went quiet
    # after the campaign: the retrained models, which do not know of it, are not installed.
    kept = {}
    for h, result in zip(HORIZONS, first["models"], strict=True):
        rate = result["model"]["training_data"]["held_out"]["base_rate"]
        path = artifacts / f"churn_{h}d--{TENANT}.json"
        constant_model(path, h, rate, f"churn_{h}d--{TENANT}")
        kept[path] = path.read_bytes()

    code, second, err = train(*tenant_args)

    assert code == 0, err
    for h, result in zip(HORIZONS, second["models"], strict=True):
        decision = result["installed"]
        assert decision["installed"] is False, decision
        current, new = decision["current_log_loss"], decision["held_out_log_loss"]
        assert current < new
        assert decision["message"] == (
            f"kept churn_{h}d--{TENANT}.json: its held-out log loss {current:.4f} beats the "
            f"retrained model's {new:.4f}"
        )
    assert all(path.read_bytes() == content for path, content in kept.items())
    assert json.loads((layer / "manifest.json").read_text())["models"] == manifest


def test_a_tenant_with_too_few_leads_is_refused_in_one_line(tmp_path: Path) -> None:
    events = tenant_csv(tmp_path / "small.csv", leads=119)

    code, data, err = train(
        "--location", TENANT, "--events", str(events), "--output", str(tmp_path / "out")
    )

    assert code == 2 and data is None
    assert err.strip() == (
        "error: not enough history to retrain: 120 leads (need 500); the current models stay"
    )
    assert not (tmp_path / "out").exists()
