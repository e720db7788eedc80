"""The model layer: trained artifacts, their card (``manifest.json``) and the numpy-only
inference code the model-serving functions share. Built by ``make models``; see README."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ghl_models.churn import ChurnModel
from ghl_models.inference import ARTIFACTS, Model, load
from ghl_models.recommend import CollaborativeModel

MANIFEST = Path(__file__).resolve().parent / "manifest.json"

__all__ = [
    "ARTIFACTS",
    "MANIFEST",
    "ChurnModel",
    "CollaborativeModel",
    "Model",
    "churn_models",
    "load",
    "manifest",
    "model_for",
    "recommender_for",
    "served",
]


def manifest() -> dict[str, Any]:
    with MANIFEST.open() as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@lru_cache(maxsize=64)
def served(name: str) -> Model:
    """The layer's model ``name``, loaded once per container."""
    return load(name)


def model_for(name: str, location_id: str) -> str:
    """The model a location is served: its own (``<name>--<locationId>``, trained on its
    events by ``ghl-ai train ... --location``) when the layer ships one, else ``name``."""
    own = f"{name}--{location_id}"
    return own if any(ARTIFACTS.glob(f"{own}.*")) else name


CHURN_HORIZONS = (7, 14, 30)


@lru_cache(maxsize=64)
def _churn(name: str) -> ChurnModel:
    with (ARTIFACTS / f"{name}.json").open() as fh:
        return ChurnModel(json.load(fh))


def churn_models(location_id: str) -> dict[int, ChurnModel]:
    """The 7-, 14- and 30-day churn models a location is served (each its own
    ``churn_<H>d--<locationId>`` once retrained, else the layer's), loaded once per container."""
    return {h: _churn(model_for(f"churn_{h}d", location_id)) for h in CHURN_HORIZONS}


@lru_cache(maxsize=64)
def _collaborative(artifact: str) -> CollaborativeModel:
    return CollaborativeModel.load(ARTIFACTS / artifact)


def recommender_for(location_id: str) -> tuple[CollaborativeModel, dict[str, Any]] | None:
    """The collaborative recommender a location is served (its own ``recommend--<location>``
    once retrained, else the layer's ``recommend``) with its manifest card (``version``,
    ``blend``), loaded once per container; None when the layer ships none."""
    cards = manifest()["models"]
    card = cards.get(model_for("recommend", location_id)) or cards.get("recommend")
    if not card or not (ARTIFACTS / str(card["artifact"])).is_file():
        return None
    return _collaborative(str(card["artifact"])), card
