"""Numpy-only serving of the collaborative recommender: a lead's interactions in, one score per
listing out. Trained and exported by ``ghl_ai_cli.collaborative`` (``ghl-ai eval recommend``
measures it); no scipy here — the model layer ships numpy only.

An artifact is one ``.npz`` file (``np.load(..., allow_pickle=False)``) holding:

* ``kind`` — ``"item_item"`` or ``"factors"``;
* ``item_ids`` — the listing ids (unicode), row ``i`` of the model is ``item_ids[i]``;
* ``scaling`` — how a lead's summed weight per listing becomes the matrix value the model was
  trained on: ``"none"`` (as is) or ``"log1p"`` (``log(1 + w)``, so ten views are not ten
  times one); the same function (:func:`scale`) runs in training and here;
* ``meta`` — JSON: the candidate's name and parameters (the card lives in the training report);
* ``item_item`` (EASE, item-kNN, RP3beta): the top-N neighbours of every item as CSR rows,
  ``data`` (float32), ``indices`` (int32), ``indptr`` (int64); a lead's score for item ``j``
  is ``Σ_i r_i · W[i, j]`` over the listings ``i`` it interacted with (``r = scale(w)``);
* ``factors`` (implicit ALS): ``item_factors`` (float32, items × f), ``regularization`` (λ) and
  ``alpha`` (confidence ``c = 1 + α·r``). A lead is folded in by the same weighted least
  squares ALS solves for its leads in training —
  ``x = (YᵀY + Yₕᵀ diag(c − 1) Yₕ + λI)⁻¹ Yₕᵀ c`` over its listings ``h`` — and scored
  ``Y x``.

Scores cover every item of the model, the ones the lead already interacted with too: the caller
decides what to exclude. A test proves they equal scipy's sparse product and the training side's
scores to 1e-5.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("item_item", "factors")
SCALINGS = ("none", "log1p")


def scale(weights: np.ndarray, scaling: str) -> np.ndarray:
    """A lead's summed interaction weights as the model's matrix values (float32)."""
    values = np.asarray(weights, dtype=np.float32)
    if scaling == "log1p":
        return np.log1p(values)
    if scaling == "none":
        return values
    raise ValueError(f"unknown scaling {scaling!r}: one of {', '.join(SCALINGS)}")


@dataclass(frozen=True)
class ItemNeighbours:
    """Every item's top-N neighbours as CSR rows (row ``i``: the items ``i`` points to)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray

    def scores(self, rows: np.ndarray, values: np.ndarray, n_items: int) -> np.ndarray:
        """``Σ_i values[i] · W[rows[i], :]`` as a dense vector (one bincount over the rows)."""
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(n_items, dtype=np.float32)
        # positions of every neighbour entry of the rows, without a Python loop
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = offsets + np.arange(total)
        weights = self.data[positions] * np.repeat(values, lengths)
        return np.bincount(self.indices[positions], weights, minlength=n_items).astype(np.float32)


@dataclass(frozen=True)
class ItemFactors:
    """Implicit-ALS item factors and what folding a lead in needs."""

    factors: np.ndarray
    regularization: float
    alpha: float
    gram: np.ndarray = field(init=False, repr=False)  # YᵀY + λI, once per container

    def __post_init__(self) -> None:
        y = self.factors.astype(np.float64)
        gram = y.T @ y + self.regularization * np.eye(y.shape[1])
        object.__setattr__(self, "gram", gram)

    def fold_in(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The lead's factor vector: the ALS least-squares solution given the item factors."""
        if rows.size == 0:
            return np.zeros(self.factors.shape[1], dtype=np.float32)
        y = self.factors[rows].astype(np.float64)
        extra = self.alpha * values.astype(np.float64)  # c − 1
        a = self.gram + (y * extra[:, None]).T @ y
        b = y.T @ (1.0 + extra)
        return np.linalg.solve(a, b).astype(np.float32)

    def scores(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.factors @ self.fold_in(rows, values)
        return result


@dataclass(frozen=True)
class CollaborativeModel:
    """A collaborative recommender as it is served (see the module docstring)."""

    item_ids: np.ndarray
    scaling: str
    part: ItemNeighbours | ItemFactors
    meta: dict[str, Any] = field(default_factory=dict)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.scaling not in SCALINGS:
            raise ValueError(f"unknown scaling {self.scaling!r}")
        object.__setattr__(self, "index", {str(item): i for i, item in enumerate(self.item_ids)})

    @property
    def kind(self) -> str:
        return "item_item" if isinstance(self.part, ItemNeighbours) else "factors"

    @property
    def n_items(self) -> int:
        return int(self.item_ids.size)

    @classmethod
    def load(cls, path: Path | str) -> CollaborativeModel:
        """Read an artifact written by ``ghl_ai_cli.collaborative.save``."""
        with np.load(path, allow_pickle=False) as npz:
            kind = str(npz["kind"])
            part: ItemNeighbours | ItemFactors
            if kind == "item_item":
                part = ItemNeighbours(npz["data"], npz["indices"], npz["indptr"])
            elif kind == "factors":
                part = ItemFactors(
                    npz["item_factors"], float(npz["regularization"]), float(npz["alpha"])
                )
            else:
                raise ValueError(f"{path}: unknown kind {kind!r}: one of {', '.join(KINDS)}")
            return cls(npz["item_ids"], str(npz["scaling"]), part, json.loads(str(npz["meta"])))

    def history_rows(self, history: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """The model rows and scaled values of a lead's interactions (unknown ids and
        non-positive weights left out)."""
        rows, weights = [], []
        for item, weight in history.items():
            row = self.index.get(item)
            if row is not None and weight > 0:
                rows.append(row)
                weights.append(weight)
        return np.asarray(rows, dtype=np.int64), scale(np.asarray(weights), self.scaling)

    def scores(self, history: Mapping[str, float]) -> np.ndarray:
        """Dense float32 scores over all the model's items for a lead whose interactions are
        ``history`` (listing id → summed weight)."""
        rows, values = self.history_rows(history)
        if isinstance(self.part, ItemNeighbours):
            return self.part.scores(rows, values, self.n_items)
        return self.part.scores(rows, values)
