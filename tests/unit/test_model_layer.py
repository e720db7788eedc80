"""The model layer: numpy inference gives scikit-learn's probabilities, the manifest describes
the artifacts that ship, training is reproducible, and serving never loads the training stack."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ghl_ai.behaviour.features import NAMES, catalogue_hash, model_input
from ghl_ai.churn.activity import FEATURES
from ghl_ai_cli import synthetic
from ghl_ai_cli.datasets import Rows
from ghl_ai_cli.registry import install
from ghl_ai_cli.training import (
    Fitted,
    calibrated,
    candidates,
    export,
    scores,
    train_lead_score,
)
from ghl_models import ARTIFACTS, load, manifest
from ghl_models.churn import BGNBD_FEATURE, ChurnModel
from ghl_models.inference import Model

ROOT = Path(__file__).resolve().parents[2]
END = datetime(2026, 6, 30, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def small_log() -> synthetic.EventLog:  # type: ignore[name-defined]
    return synthetic.generate(synthetic.Config(leads=700, days=150, seed=7, end=END))


@pytest.fixture(scope="module")
def design(small_log) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    from ghl_ai_cli.datasets import rows_at

    streams = small_log.streams()
    parts = [
        rows_at(streams, END - d * 86400, 30, synthetic.CONVERSION_TYPES) for d in (90, 75, 60, 45)
    ]
    rows = Rows.concat(parts)
    return model_input(rows.x), rows.y


@pytest.mark.parametrize("kind", ["logistic_c1", "gbm"])
@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_numpy_inference_equals_scikit_learn(design, kind: str, method: str) -> None:  # type: ignore[no-untyped-def]
    x, y = design
    half = x.shape[0] // 2
    model = candidates(seed=3)[kind].fit(x[:half], y[:half])
    cal = calibrated(model, x[half:], y[half:], method)
    fitted = Fitted(kind, model, cal, method, validation={})
    spec = json.loads(json.dumps(export(fitted, np.median(x, axis=0), "test")))  # via JSON

    ours = Model(spec).probability(x)
    theirs = cal.predict_proba(x)[:, 1]

    assert spec["kind"] == ("gbm" if kind == "gbm" else "logistic")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    assert len(np.unique(theirs)) > 3  # a model that says something


def test_gbm_trees_send_missing_values_where_scikit_learn_does(design) -> None:  # type: ignore[no-untyped-def]
    x, y = design
    model = candidates(seed=3)["gbm"].fit(x, y)
    cal = calibrated(model, x, y, "sigmoid")
    spec = export(Fitted("gbm", model, cal, "sigmoid", {}), np.median(x, axis=0), "t")
    holes = x[:200].copy()
    holes[np.random.default_rng(0).random(holes.shape) < 0.2] = np.nan

    np.testing.assert_allclose(
        Model(spec).probability(holes), cal.predict_proba(holes)[:, 1], atol=1e-9
    )


def test_the_manifest_describes_the_artifacts_that_ship() -> None:
    card = manifest()
    files = sorted(p.name for p in ARTIFACTS.iterdir() if p.suffix in (".json", ".npz"))
    assert files and sorted(m["artifact"] for m in card["models"].values()) == files
    for key in ("training_data", "seed", "metrics", "libraries", "created"):
        assert all(key in entry for entry in card["models"].values()), key
    for name, entry in card["models"].items():
        path = ARTIFACTS / entry["artifact"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        if name.split("--")[0] == "recommend":
            continue
        if name.startswith("churn_"):
            churn = ChurnModel(json.loads(path.read_text()))
            assert churn.version == entry["version"] and churn.name == name
            assert entry["features"] == churn.model.features == [*FEATURES, BGNBD_FEATURE]
            assert entry["training_data"]["held_out"]["rows"] > 0
            continue
        model = load(path.stem)
        assert model.name == name.split("--")[0]
        assert model.version == entry["version"]
        assert entry["features"] == model.features == list(NAMES)
        assert entry["catalogue_hash"] == model.catalogue_hash == catalogue_hash()
        data = entry["training_data"]
        assert data["held_out"]["rows"] > 0 and len(data["date_range"]) == 2
        held, base = entry["metrics"]["held_out"], entry["metrics"]["baseline"]
        assert 0.5 < held["auc"] <= 1 and held["auc"] > base["auc"]
        assert set(entry["libraries"]) >= {"numpy", "scikit-learn"}


def test_the_shipped_recommender_knows_the_demo_catalogue_and_beats_its_baselines() -> None:
    from ghl_models import recommender_for
    from local.demo_data import LISTINGS

    found = recommender_for("any-location")
    assert found is not None
    model, entry = found
    assert set(LISTINGS) <= set(model.item_ids.tolist())
    assert 0.0 <= entry["blend"] <= 1.0
    test = entry["metrics"]["test"]
    assert test["hybrid"]["ndcg@10"] > test["popular"]["ndcg@10"]
    assert test["hybrid"]["ndcg@10"] >= test["content_only"]["ndcg@10"]
    curve = entry["metrics"]["blend_validation"]
    assert curve[str(entry["blend"])] == max(curve.values())  # the blend is the best measured
    cold = entry["metrics"]["cold_listings"]  # new listings, ranked on their content
    assert cold["hybrid"]["ndcg@10"] > cold["feature_popular"]["ndcg@10"]
    assert cold["hybrid"]["ndcg@10"] > cold["random"]["ndcg@10"]
    assert set(entry["libraries"]) >= {"numpy", "scipy"}


def test_training_twice_from_a_seed_gives_byte_identical_artifacts(
    small_log, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    digests = []
    for run in ("a", "b"):
        result = train_lead_score(
            small_log,
            conversion=synthetic.CONVERSION_TYPES,
            step_days=10,
            warmup_days=30,
            seed=11,
            source="synthetic",
        )
        install(result, tmp_path / run, None, small_log, synthetic.CONVERSION_TYPES, 30)
        digests.append((tmp_path / run / "artifacts" / "lead_score.json").read_bytes())
    assert digests[0] == digests[1]
    manifests = [json.loads((tmp_path / r / "manifest.json").read_text()) for r in ("a", "b")]
    for m in manifests:
        m["models"]["lead_score"].pop("created")
    assert manifests[0] == manifests[1]


def test_the_pipeline_reports_held_out_metrics_beside_the_baseline(small_log) -> None:  # type: ignore[no-untyped-def]
    result = train_lead_score(
        small_log,
        conversion=synthetic.CONVERSION_TYPES,
        step_days=10,
        warmup_days=30,
        seed=11,
        source="synthetic",
    )
    card = result.card
    assert card["chosen"] in {"logistic_c0.1", "logistic_c1", "gbm"}
    assert card["metrics"]["baseline"]["name"] == "recency_frequency"
    assert set(card["metrics"]["candidates"]) == {"logistic_c0.1", "logistic_c1", "gbm"}
    # the held-out rows come from later cutoffs than every training row
    td = card["training_data"]
    assert td["train"]["cutoffs"][1] < td["validation"]["cutoffs"][0]
    assert td["validation"]["cutoffs"][1] < td["held_out"]["cutoffs"][0]
    # the served model reproduces the pipeline's held-out numbers
    rows = result.held_out
    p = Model(result.spec).probability(model_input(rows.x))
    assert scores(rows.y, p)["log_loss"] == pytest.approx(result.fitted.test["log_loss"], abs=1e-9)


@pytest.mark.parametrize(
    ("modules", "heavy"),
    [
        # the model-serving path: the layer and the ScoringFunction
        (
            "functions.scoring.app, ghl_models.inference, ghl_models.metrics",
            ("sklearn", "pandas", "scipy", "anthropic", "matplotlib"),
        ),
        # the churn functions: the score function with the layer, the sweep without numpy work
        (
            "functions.churn_score.app, ghl_models.churn",
            ("sklearn", "pandas", "scipy", "anthropic", "matplotlib"),
        ),
        # (the sweep has only the shared layer: no numpy there)
        ("functions.churn_sweep.app", ("numpy", "ghl_models", "sklearn", "pandas", "anthropic")),
        # the intake never needs numpy either
        ("functions.intake.app", ("numpy", "sklearn", "pandas", "anthropic")),
    ],
)
def test_serving_paths_never_import_the_training_stack(modules: str, heavy: tuple) -> None:
    code = (
        "import sys; sys.path[:0] = ['shared', 'layers/models', '.'];"
        f"import {modules};"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == ""
