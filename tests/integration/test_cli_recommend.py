"""``ghl-ai train recommend`` (the blend chosen on validation, the card, reproducible) and
``ghl-ai recommend CONTACT_ID`` (an operator's view of a lead's matches)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ghl_ai.adapters.dynamo import LeadStore
from ghl_ai.leads.models import LeadChanges, LeadKey
from ghl_ai_cli.main import app
from ghl_models.recommend import CollaborativeModel
from local import demo_catalogue
from tests.conftest import LOCATION_ID, Stack

runner = CliRunner()


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogue") / "listings.json"
    records = demo_catalogue.records(datetime(2026, 11, 30, tzinfo=UTC), n=120)
    path.write_text(json.dumps({"value": records}))
    return path


def train(catalogue: Path, output: Path) -> dict[str, Any]:
    result = runner.invoke(
        app,
        [
            *("train", "recommend", "--listings", str(catalogue), "--leads", "400"),
            *("--seed", "7", "--output", str(output), "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_training_picks_the_blend_with_the_best_validation_score_and_is_reproducible(
    catalogue: Path, tmp_path: Path
) -> None:
    first = train(catalogue, tmp_path / "a")
    card = first["model"]
    curve = card["metrics"]["blend_validation"]
    assert set(curve) == {str(round(0.1 * i, 1)) for i in range(11)}
    assert curve[str(card["blend"])] == max(curve.values())
    test = card["metrics"]["test"]
    assert set(test) == {"hybrid", "content_only", "collaborative_only", "popular"}
    assert test["hybrid"]["ndcg@10"] > test["popular"]["ndcg@10"]
    assert card["chosen"] in card["metrics"]["candidates"]
    cold = card["metrics"]["cold_listings"]
    assert cold["listings"] == 24 and cold["hybrid"]["ndcg@10"] > cold["random"]["ndcg@10"]

    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    entry = manifest["models"]["recommend"]
    artifact = tmp_path / "a" / "artifacts" / entry["artifact"]
    assert entry["blend"] == card["blend"] and entry["sha256"] == sha(artifact)
    model = CollaborativeModel.load(artifact)
    assert model.n_items > 50 and model.kind in ("item_item", "factors")

    again = train(catalogue, tmp_path / "b")["model"]
    assert sha(tmp_path / "b" / "artifacts" / "recommend.npz") == sha(artifact)
    assert again["metrics"] == card["metrics"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_training_on_too_small_a_catalogue_says_so(tmp_path: Path) -> None:
    small = tmp_path / "few.json"
    records = demo_catalogue.records(datetime(2026, 11, 30, tzinfo=UTC), n=12)[:5]
    small.write_text(json.dumps({"value": records}))
    result = runner.invoke(app, ["train", "recommend", "--listings", str(small)])
    assert result.exit_code == 2
    assert "at least 20 listings" in result.output and "Traceback" not in result.output


def test_an_operator_sees_a_leads_matches_with_reasons(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_catalogue.load(
        stack.dynamodb, stack.resources.tables["ListingsTable"], LOCATION_ID, datetime.now(UTC)
    )
    answers = {
        "budget": {"value": {"min": None, "max": 700_000}, "confidence": 0.9, "source": "rules"},
        "area": {"value": "Fontana", "confidence": 0.9, "source": "rules"},
    }
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(LOCATION_ID, "c-ops"), LeadChanges(set={"answers": answers, "intent": "buy"})
    )
    for name in ("LeadsTable", "EventsTable", "ListingsTable"):
        variable = {"LeadsTable": "LEADS_TABLE", "EventsTable": "EVENTS_TABLE"}.get(
            name, "LISTINGS_TABLE"
        )
        monkeypatch.setenv(variable, stack.resources.tables[name])

    result = runner.invoke(app, ["recommend", "c-ops", "--location", LOCATION_ID, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert len(body["recommendations"]) == 5
    assert all(r["city"] == "Fontana" for r in body["recommendations"][:3])
    assert all(r["price"] <= 770_000 for r in body["recommendations"])
    assert "in Fontana, as asked" in body["recommendations"][0]["reasons"]

    human = runner.invoke(app, ["recommend", "c-ops", "--location", LOCATION_ID, "--k", "2"])
    assert human.exit_code == 0
    lines = human.stdout.splitlines()
    assert lines[1].startswith("1) ") and "Fontana" in lines[1]
    assert lines[2].startswith("   + ") and "in Fontana, as asked" in lines[2]
    missing = runner.invoke(app, ["recommend", "c-nobody", "--location", LOCATION_ID])
    assert missing.exit_code == 2 and "no lead c-nobody" in missing.output
