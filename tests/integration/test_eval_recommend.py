"""``ghl-ai eval recommend``: its contract (flags, JSON keys for both protocols), determinism,
liberal reading of the CSVs, one-line errors, and the quality the synthetic clusters allow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ghl_ai_cli.main import app
from ghl_ai_cli.synthetic_browsing import (
    BrowsingConfig,
    generate,
    write_interactions,
    write_item_features,
)

runner = CliRunner()
METRICS = ("precision@10", "recall@10", "ndcg@10")


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("recommend")
    browsing = generate(BrowsingConfig(leads=700, listings=350, segments=18, seed=11))
    return (
        write_interactions(browsing, directory / "interactions.csv"),
        write_item_features(browsing, directory / "items.csv"),
    )


def evaluate(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["eval", "recommend", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


@pytest.fixture(scope="module")
def warm(csvs: tuple[Path, Path]) -> dict[str, Any]:
    return evaluate("--interactions", str(csvs[0]), "--seed", "42")


@pytest.fixture(scope="module")
def cold(csvs: tuple[Path, Path]) -> dict[str, Any]:
    inter, items = csvs
    return evaluate(
        "--interactions", str(inter), "--item-features", str(items), "--cold-start-items", "0.2"
    )


def test_warm_json_and_the_model_beats_most_popular(warm: dict[str, Any]) -> None:
    assert warm["protocol"] == "warm" and warm["k"] == 10 and warm["seed"] == 42
    for key in ("n_leads", "n_items", "n_interactions", "train_seconds", "chosen"):
        assert key in warm
    assert set(METRICS) <= set(warm["model"]) and warm["model"]["name"]
    assert set(METRICS) <= set(warm["baselines"]["popular"])
    evaluated = {c["family"] for c in warm["candidates"] if c["validation"]}
    assert {"ease", "item_knn", "rp3beta", "als"} <= evaluated
    assert warm["chosen"] in {c["name"] for c in warm["candidates"]}
    for metric in METRICS:
        assert warm["model"][metric] > 1.5 * warm["baselines"]["popular"][metric]


def test_cold_json_and_the_hybrid_beats_its_baselines(cold: dict[str, Any]) -> None:
    assert cold["protocol"] == "cold_items" and cold["cold_fraction"] == 0.2
    assert set(METRICS) <= set(cold["model"]) and cold["model"]["name"] == "hybrid"
    for name in ("random", "feature_popular"):
        assert set(METRICS) <= set(cold["baselines"][name])
    assert 0 <= cold["blend_weight"] <= 1 and cold["model"]["blend_weight"] == cold["blend_weight"]
    assert len(cold["candidates"]) == 11
    assert cold["n_cold_items"] == round(0.2 * cold["features"]["listings_with_features"])
    assert cold["features"]["columns"] == {
        "price": "numeric",
        "beds": "numeric",
        "city": "categorical",
        "tags": "multi",
    }
    for baseline in ("random", "feature_popular"):
        assert cold["model"]["ndcg@10"] > cold["baselines"][baseline]["ndcg@10"]


def test_the_same_seed_gives_the_same_numbers(
    csvs: tuple[Path, Path], warm: dict[str, Any], cold: dict[str, Any]
) -> None:
    inter, items = csvs
    assert without_times(evaluate("--interactions", str(inter))) == without_times(warm)
    again = evaluate(
        "--interactions", str(inter), "--item-features", str(items), "--cold-start-items", "0.2"
    )
    assert without_times(again) == without_times(cold)
    other = evaluate("--interactions", str(inter), "--seed", "7")
    assert other["model"]["ndcg@10"] != warm["model"]["ndcg@10"]


def test_k_names_the_metrics(csvs: tuple[Path, Path]) -> None:
    data = evaluate("--interactions", str(csvs[0]), "--k", "5")
    assert data["k"] == 5 and {"precision@5", "recall@5", "ndcg@5"} <= set(data["model"])
    assert "precision@5" in data["baselines"]["popular"]


def test_the_csv_is_read_liberally(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    rows = ["source,property_id,lead_id,timestamp"]  # no weight column, an extra one
    for lead in range(30):
        for item in range(lead % 5, lead % 5 + 4):
            rows.append(f"web,p{item},u{lead},{1767225600 + lead}")  # epoch seconds
    rows.append("web,p1,u1,2026-01-01T10:00:00Z")  # a duplicate pair: summed
    path.write_text("\n".join(rows) + "\n")
    data = evaluate("--interactions", str(path))
    assert data["n_rows"] == 121 and data["n_interactions"] == 120
    assert data["n_leads"] == 30 and data["n_items"] == 8


@pytest.mark.parametrize(
    ("write", "flags", "message"),
    [
        (None, [], "no such file"),
        ("lead_id,property_id\nu1,p1\n", [], "missing column(s) timestamp"),
        ("", [], "empty file"),
        ("lead_id,property_id,timestamp\n", [], "no interactions"),
        ("lead_id,property_id,timestamp\nu1,p1,yesterday\n", [], ":2: timestamp is not"),
        ("lead_id,property_id,timestamp,weight\nu1,p1,2026-01-01,x\n", [], ":2: weight is not"),
        ("ok", ["--k", "0"], "--k must be at least 1"),
        ("ok", ["--cold-start-items", "1", "--item-features", "F"], "within (0, 1)"),
        ("ok", ["--cold-start-items", "0", "--item-features", "F"], "within (0, 1)"),
        ("ok", ["--cold-start-items", "0.2"], "needs --item-features"),
        ("ok", ["--cold-start-items", "0.2", "--item-features", "missing.csv"], "no such file"),
    ],
)
def test_bad_input_is_one_clear_line(
    csvs: tuple[Path, Path], tmp_path: Path, write: str | None, flags: list[str], message: str
) -> None:
    path = tmp_path / "in.csv"
    if write == "ok":
        path = csvs[0]
    elif write is not None:
        path.write_text(write)
    flags = [
        str(csvs[1]) if f == "F" else str(tmp_path / f) if f.endswith(".csv") else f for f in flags
    ]
    result = runner.invoke(app, ["eval", "recommend", "--interactions", str(path), *flags])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
