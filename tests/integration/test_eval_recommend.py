"""``ghl-ai eval recommend``: its contract (flags, JSON keys for both protocols), determinism,
liberal reading of the CSVs, one-line errors, and the quality the synthetic clusters allow —
for cold listings, only as far as their features carry the signal."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from ghl_ai_cli import collaborative
from ghl_ai_cli.main import app
from ghl_ai_cli.recommend_eval import (
    BLEND_GRID,
    HISTORY_GRID,
    RIDGE_GRID,
    ItemFeatures,
    encode_features,
    projection,
)
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


def evaluate_cold(interactions: Path, items: Path) -> dict[str, Any]:
    return evaluate(
        "--interactions", str(interactions), "--item-features", str(items),
        "--cold-start-items", "0.2",
    )  # fmt: skip


@pytest.fixture(scope="module")
def cold(csvs: tuple[Path, Path]) -> dict[str, Any]:
    return evaluate_cold(*csvs)


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
    assert cold["n_cold_items"] == round(0.2 * cold["features"]["listings_with_features"])
    assert cold["features"]["columns"] == {
        "price": "numeric",
        "beds": "numeric",
        "city": "categorical",
        "tags": "multi",
    }
    # the segments' listings share their features: a lead's taste carries over to new ones
    for baseline in ("random", "feature_popular"):
        for metric in METRICS:
            assert cold["model"][metric] > 1.5 * cold["baselines"][baseline][metric]


def test_the_cold_hybrid_is_chosen_on_validation_and_recorded(cold: dict[str, Any]) -> None:
    candidates = cold["candidates"]
    assert len(candidates) == len(RIDGE_GRID) * len(HISTORY_GRID) + len(BLEND_GRID) - 1
    best = max(candidates, key=lambda c: c["validation"]["ndcg@10"])
    assert cold["chosen"] == best["name"] and cold["model"]["params"] == best["params"]
    params = cold["model"]["params"]
    assert params["ridge"] in RIDGE_GRID and params["history"] in HISTORY_GRID
    assert params["weight"] in BLEND_GRID
    assert cold["blend_weight"] == cold["model"]["blend_weight"] == params["weight"]
    collaborative = cold["validation"]["collaborative"]
    assert cold["model"]["collaborative"] == collaborative["chosen"]
    assert collaborative["chosen"] in {c["name"] for c in collaborative["candidates"]}
    assert cold["validation"]["items"] > 0 and cold["validation"]["leads"] > 0


def test_the_cold_hybrid_wins_only_through_the_features(
    csvs: tuple[Path, Path], cold: dict[str, Any], tmp_path: Path
) -> None:
    """The same interactions, each listing given another listing's features: what the hybrid
    knows of a cold listing is noise now, so it must lose its lead (a hybrid that saw the test
    interactions would keep it)."""
    with csvs[1].open(newline="") as fh:
        header, *rows = list(csv.reader(fh))
    shuffled = [row[1:] for row in rows]
    random.Random(3).shuffle(shuffled)
    items = tmp_path / "shuffled.csv"
    with items.open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [header, *([r[0], *f] for r, f in zip(rows, shuffled, strict=True))]
        )
    noise = evaluate_cold(csvs[0], items)
    best_baseline = max(b["ndcg@10"] for b in noise["baselines"].values())
    assert noise["model"]["ndcg@10"] < 1.3 * best_baseline
    assert noise["model"]["ndcg@10"] < 0.5 * cold["model"]["ndcg@10"]


def test_numbers_are_a_thermometer_for_the_model_and_a_bin_for_the_baseline() -> None:
    ids = [f"p{i:02d}" for i in range(20)]
    features = ItemFeatures(ids, {"price": [str(i) for i in range(20)], "city": ["a", "b"] * 10})
    encoded = encode_features(features, np.array(ids))
    design, baseline = encoded.design.toarray(), encoded.indicator.toarray()
    assert encoded.kinds == {"price": "numeric", "city": "categorical"}
    # deciles of 0..19: listing i is in bin i // 2 and has "price >= b" for b = 0 … i // 2
    assert design.sum(axis=1).tolist() == [i // 2 + 1 + 1 for i in range(20)]
    price = design[:, 2:]  # the columns sort as city=a, city=b, price>=0 …
    assert all((price[i + 1] >= price[i]).all() for i in range(19))  # nested
    assert baseline.sum(axis=1).tolist() == [2] * 20  # a quintile and a city each


def test_the_projection_is_each_leads_ridge_regression() -> None:
    """The closed form for all leads at once equals a ridge fit per lead, by hand."""
    rng = np.random.default_rng(0)
    leads, items = rng.integers(0, 30, 400).astype(str), rng.integers(0, 40, 400).astype(str)
    data = collaborative.interactions(leads, items, np.ones(400))
    model = collaborative.fit(collaborative.Candidate("item_knn", {"k": 10, "shrink": 1.0}), data)
    features = np.hstack([rng.integers(0, 2, (data.n_items, 5)), np.ones((data.n_items, 1))])
    onto = projection(data.matrix, sp.csr_matrix(features), model)
    scored, own = onto.profiles(data.matrix)
    taste = (0.5 * scored + 0.5 * own) @ onto.ridge_inverse(0.3)
    gram = features.T @ features
    penalty = 0.3 * np.diag(gram)[:-1].mean() * np.diag([1.0] * 5 + [0.0])  # no intercept's
    scores = collaborative.lead_scores(model, data.matrix)
    for lead in range(data.n_leads):
        s, x = scores[lead], data.matrix[lead].toarray().ravel()
        target = 0.5 * s / np.abs(s).max() + 0.5 * x / x.max()
        expected = np.linalg.solve(gram + penalty, features.T @ target)
        assert np.allclose(taste[lead], expected, atol=1e-6)


def test_the_same_seed_gives_the_same_numbers(
    csvs: tuple[Path, Path], warm: dict[str, Any], cold: dict[str, Any]
) -> None:
    inter, items = csvs
    assert without_times(evaluate("--interactions", str(inter))) == without_times(warm)
    assert without_times(evaluate_cold(inter, items)) == without_times(cold)
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
