"""The collaborative recommender: implicit feedback (leads × listings) → a model chosen by
measured quality → an artifact served by ``ghl_models.recommend`` (numpy only).

1. **Matrix.** (lead, item, weight) triples → a CSR lead × item matrix: duplicate pairs summed,
   pairs with a non-positive total (a save withdrawn) dropped, then scaled (``log1p`` by
   default: ten views of a listing are not ten times one; ``ghl_models.recommend.scale``, the
   function serving runs too).
2. **Candidates** (:data:`DEFAULT_GRID`), each exported the way it is served:
   * **EASE** (Steck 2019): ``B = I − P·diag(1/diag(P))``, ``P = (XᵀX + λI)⁻¹``, closed form, a
     λ grid. It needs one dense items × items float64 matrix, so only up to
     :data:`EASE_MAX_ITEMS` items (15,000² × 8 B = 1.8 GB); above that it is skipped and the
     reason recorded. Pruned to the top-N positive weights per row.
   * **item-kNN**: cosine similarity with shrinkage, ``xᵢ·xⱼ / (‖xᵢ‖‖xⱼ‖ + shrink)``, top-k
     neighbours per item.
   * **RP3beta** (Paudel et al. 2017): the two-step random walk item → lead → item on the
     α-powered, row-normalised matrices, each destination divided by its popularity^β, top-k
     per row.
   * **ALS** for implicit feedback (Hu, Koren & Volinsky 2008): confidence ``1 + α·r``,
     preference 1 on observed pairs, λ-regularised; each half step is a few conjugate-gradient
     steps warm-started from the previous factors (as ``implicit`` does), over row chunks.
     Exported as the item factors; leads are folded in at serving.
   Item-item products are computed in chunks of item rows whose size is bounded up front
   (:data:`CHUNK_ENTRIES` entries of the product at most), so memory stays bounded at 50,000
   items; ALS works over chunks of :data:`ALS_CHUNK_NNZ` interactions.
3. **Selection** (:func:`train_collaborative`): a seeded per-lead validation split inside the
   training data (:func:`split_per_lead`); every candidate is fitted on the rest, exported and
   scored on the validation leads (at most ``max_validation_leads``, a seeded sample) by
   nDCG@k; the best is refitted on all the training data. Every candidate's validation metrics
   and any skip reason are recorded.
4. **Ranking** (:func:`top_k`): a lead's items by score, excluding what it already interacted
   with; ties (a lead whose neighbours cover fewer than k items) go to the more popular item.

Everything random takes the seed; the same data and seed give the same model and metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from ghl_models import metrics
from ghl_models.recommend import CollaborativeModel, ItemFactors, ItemNeighbours, scale

#: Neighbours kept per item in the exported item-item form (EASE, RP3beta): 50,000 items ×
#: 100 = 5 M entries, 40 MB.
NEIGHBOURS = 100
#: EASE's dense items × items float64 matrix: 15,000² × 8 B = 1.8 GB, the most we allow.
EASE_MAX_ITEMS = 15_000
#: The most entries one chunk of an item × item product may hold (~100 MB as CSR).
CHUNK_ENTRIES = 8_000_000
#: Interactions per chunk of an ALS half step (its gathered factors: 262,144 × f float32).
ALS_CHUNK_NNZ = 1 << 18
#: Score entries per chunk of leads when ranking (a few float64 copies of it are live).
SCORE_CHUNK_ENTRIES = 2_000_000
VALIDATION_SHARE = 0.2
MAX_VALIDATION_LEADS = 5000


# -- the matrix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interactions:
    """A lead × item matrix of implicit feedback: CSR, float32 scaled values, sorted indices,
    no explicit zeros; with its row and column ids."""

    matrix: sp.csr_matrix
    lead_ids: np.ndarray
    item_ids: np.ndarray
    scaling: str

    @property
    def n_leads(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def n_interactions(self) -> int:
        return int(self.matrix.nnz)


def interactions(
    leads: Sequence[str] | np.ndarray,
    items: Sequence[str] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    scaling: str = "log1p",
) -> Interactions:
    """The matrix of (lead, item, weight) triples given by ids (rows and columns sorted by
    id)."""
    lead_ids, rows = np.unique(np.asarray(leads).astype(str), return_inverse=True)
    item_ids, cols = np.unique(np.asarray(items).astype(str), return_inverse=True)
    return from_codes(rows, cols, weights, lead_ids, item_ids, scaling=scaling)


def from_codes(
    rows: np.ndarray,
    cols: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    lead_ids: np.ndarray,
    item_ids: np.ndarray,
    *,
    scaling: str = "log1p",
) -> Interactions:
    """The matrix of triples given by row and column index (duplicates summed, non-positive
    totals dropped, then scaled)."""
    shape = (len(lead_ids), len(item_ids))
    summed = sp.coo_matrix(
        (np.asarray(weights, dtype=np.float64), (np.asarray(rows), np.asarray(cols))), shape
    ).tocsr()
    summed.sum_duplicates()
    summed.data[summed.data <= 0] = 0.0
    summed.eliminate_zeros()
    matrix = sp.csr_matrix(
        (scale(summed.data, scaling), summed.indices.astype(np.int32), summed.indptr), shape
    )
    return Interactions(matrix, np.asarray(lead_ids), np.asarray(item_ids), scaling)


def _masked(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    result = matrix.copy()
    result.data = np.where(keep, result.data, 0).astype(result.dtype)
    result.eliminate_zeros()
    return result


def split_per_lead(
    matrix: sp.csr_matrix, share: float, seed: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per lead, a seeded random ``share`` of its items held out (rounded, at least one for a
    lead with two or more, never all); leads with one item stay whole. (kept, held out)."""
    n = np.diff(matrix.indptr)
    held = np.where(n >= 2, np.clip(np.floor(share * n + 0.5), 1, n - 1), 0)
    row = np.repeat(np.arange(matrix.shape[0]), n)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(matrix.nnz), row))  # a random order within each row
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[row]
    out = rank < held[row]
    return _masked(matrix, ~out), _masked(matrix, out)


def popularity(matrix: sp.csr_matrix) -> np.ndarray:
    """Leads per item (float64): the most-popular baseline and the ranking's tie-break."""
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)


# -- item-item models ------------------------------------------------------------------------


def _row_chunks(bound: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges whose summed ``bound`` stays within ``budget`` (a row over it
    alone)."""
    cum = np.cumsum(bound, dtype=np.float64)
    start, n = 0, bound.size
    while start < n:
        base = cum[start - 1] if start else 0.0
        stop = max(int(np.searchsorted(cum, base + budget, side="right")), start + 1)
        yield start, min(stop, n)
        start = stop


def _products(
    left: sp.csr_matrix, right: sp.csr_matrix, budget: int
) -> Iterator[tuple[int, sp.csr_matrix]]:
    """``left @ right`` (items × items) in chunks of rows, each within ``budget`` entries: a
    row's entries are bounded by the summed row lengths of ``right`` it reaches."""
    pattern = left.copy()
    pattern.data = np.ones_like(pattern.data, dtype=np.float64)
    bound = np.minimum(pattern @ np.diff(right.indptr).astype(np.float64), right.shape[1])
    for start, stop in _row_chunks(bound, budget):
        yield start, sp.csr_matrix(left[start:stop] @ right)


def _top_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first; ties go to the earlier one."""
    if values.size > k:
        kth = np.partition(values, values.size - k)[values.size - k]
        above = np.flatnonzero(values > kth)
        chosen = np.concatenate([above, np.flatnonzero(values == kth)[: k - above.size]])
    else:
        chosen = np.arange(values.size)
    return chosen[np.lexsort((chosen, -values[chosen]))]


def _rows_of(block: sp.csr_matrix, start: int) -> np.ndarray:
    """The row number of every stored entry of a block that starts at row ``start``."""
    return start + np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))


def neighbour_rows(
    blocks: Iterator[tuple[int, sp.csr_matrix]], n_items: int, k: int
) -> ItemNeighbours:
    """The top-``k`` positive off-diagonal entries of every row, from row blocks (start row,
    CSR block), as the served CSR arrays."""
    data: list[np.ndarray] = []
    index: list[np.ndarray] = []
    counts = np.zeros(n_items, dtype=np.int64)
    for start, block in blocks:
        block.sort_indices()
        block.data[(block.indices == _rows_of(block, start)) | ~(block.data > 0)] = 0
        block.eliminate_zeros()
        for r in range(block.shape[0]):
            lo, hi = block.indptr[r], block.indptr[r + 1]
            pos = _top_positions(block.data[lo:hi], k)
            data.append(block.data[lo:hi][pos])
            index.append(block.indices[lo:hi][pos])
            counts[start + r] = pos.size
    return ItemNeighbours(
        data=np.concatenate(data or [np.empty(0)]).astype(np.float32),
        indices=np.concatenate(index or [np.empty(0)]).astype(np.int32),
        indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )


def item_knn(
    x: sp.csr_matrix, k: int, shrink: float, chunk_entries: int = CHUNK_ENTRIES
) -> ItemNeighbours:
    """Cosine item-kNN with shrinkage, top-``k`` neighbours per item."""
    xt = sp.csr_matrix(x.T)
    norms = np.sqrt(np.asarray(xt.multiply(xt).sum(axis=1)).ravel())

    def blocks() -> Iterator[tuple[int, sp.csr_matrix]]:
        for start, block in _products(xt, x, chunk_entries):
            block.data /= norms[_rows_of(block, start)] * norms[block.indices] + shrink + 1e-12
            yield start, block

    return neighbour_rows(blocks(), x.shape[1], k)


def _l1_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(m.sum(axis=1)).ravel()
    out = m.copy()
    out.data /= np.repeat(np.where(sums > 0, sums, 1.0), np.diff(m.indptr)).astype(out.dtype)
    return out


def rp3beta(
    x: sp.csr_matrix,
    alpha: float,
    beta: float,
    k: int = NEIGHBOURS,
    chunk_entries: int = CHUNK_ENTRIES,
) -> ItemNeighbours:
    """RP3beta: ``W = P_iu · P_ui`` (α-powered, row-normalised transitions), column j divided
    by popularity(j)^β, top-``k`` per row."""
    p_ui = _l1_rows(x.power(alpha))
    xt = sp.csr_matrix(x.T)
    p_iu = _l1_rows(xt.power(alpha))
    penalty = np.power(np.maximum(np.diff(xt.indptr), 1).astype(np.float64), -beta)

    def blocks() -> Iterator[tuple[int, sp.csr_matrix]]:
        for start, block in _products(p_iu, p_ui, chunk_entries):
            block.data *= penalty[block.indices].astype(block.dtype)
            yield start, block

    return neighbour_rows(blocks(), x.shape[1], k)


def _inverse_spd(a: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite matrix, computed in its own buffer
    (Cholesky, LAPACK potrf + potri). Only the lower triangle of the result is valid."""
    chol, info = lapack.dpotrf(a.T, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        raise ValueError(f"EASE: the Gram matrix is not positive definite (potrf {info})")
    inverse, info = lapack.dpotri(chol, lower=0, overwrite_c=1)
    if info != 0:
        raise ValueError(f"EASE: inversion failed (potri {info})")
    result: np.ndarray = inverse.T
    return result


def ease(
    x: sp.csr_matrix,
    regularization: float,
    k: int = NEIGHBOURS,
    chunk_entries: int = CHUNK_ENTRIES,
) -> ItemNeighbours:
    """EASE, pruned to each row's top-``k`` positive weights."""
    n = x.shape[1]
    if n > EASE_MAX_ITEMS:
        raise ValueError(f"EASE needs a dense {n:,}² matrix: more than {EASE_MAX_ITEMS:,} items")
    gram = np.zeros((n, n))
    for start, block in _products(sp.csr_matrix(x.T), x, chunk_entries):
        gram[start : start + block.shape[0]] = block.toarray()
    gram[np.diag_indices(n)] += regularization
    p = _inverse_spd(gram)
    diagonal = np.diag(p).copy()
    step = max(1, chunk_entries // max(n, 1) // 4)

    def blocks() -> Iterator[tuple[int, sp.csr_matrix]]:
        for start in range(0, n, step):
            stop = min(n, start + step)
            # full rows of the symmetric P from its valid lower triangle
            rows = np.tril(p[start:stop], k=start) + np.triu(p[:, start:stop].T, k=start + 1)
            yield start, sp.csr_matrix(-rows / diagonal[None, :])

    return neighbour_rows(blocks(), n, k)


# -- ALS -------------------------------------------------------------------------------------


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _conjugate_gradient(
    sub: sp.csr_matrix, x: np.ndarray, y: np.ndarray, gram: np.ndarray, steps: int
) -> None:
    """``steps`` conjugate-gradient steps, in place, for the rows ``x`` of one chunk: each
    solves ``(YᵀY + λI + Yᵀ(Cᵤ − I)Y) xᵤ = Yᵀ Cᵤ 1`` (``sub`` holds ``c − 1``)."""
    rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    gathered = y[sub.indices]

    def weighted(values: np.ndarray) -> np.ndarray:
        result: np.ndarray = sp.csr_matrix((values, sub.indices, sub.indptr), sub.shape) @ y
        return result

    def apply(v: np.ndarray) -> np.ndarray:
        result: np.ndarray = v @ gram + weighted(sub.data * _rowdot(v[rows], gathered))
        return result

    r = weighted(1.0 + sub.data) - apply(x)
    p = r.copy()
    rs = _rowdot(r, r)
    for _ in range(steps):
        ap = apply(p)
        pap = _rowdot(p, ap)
        a = np.divide(rs, pap, out=np.zeros_like(rs), where=pap > 0)
        x += a[:, None] * p
        r -= a[:, None] * ap
        rs_new = _rowdot(r, r)
        p = r + np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)[:, None] * p
        rs = rs_new


def _least_squares_cg(
    confidence: sp.csr_matrix, x: np.ndarray, y: np.ndarray, regularization: float, steps: int
) -> None:
    """One ALS half step in place: every row of ``x`` moves towards its least-squares solution
    given ``y``, by ``steps`` conjugate-gradient steps warm-started from where it is, over
    chunks of :data:`ALS_CHUNK_NNZ` interactions."""
    gram = (y.T @ y + regularization * np.eye(y.shape[1])).astype(np.float32)
    for start, stop in _row_chunks(np.diff(confidence.indptr), ALS_CHUNK_NNZ):
        _conjugate_gradient(confidence[start:stop], x[start:stop], y, gram, steps)


def als(
    x: sp.csr_matrix,
    factors: int,
    regularization: float,
    alpha: float,
    iterations: int = 12,
    seed: int = 42,
    cg_steps: int = 3,
) -> ItemFactors:
    """Implicit-feedback ALS; returns the item factors (leads are folded in at serving)."""
    rng = np.random.default_rng(seed)
    users = (rng.standard_normal((x.shape[0], factors)) * 0.01).astype(np.float32)
    items = (rng.standard_normal((x.shape[1], factors)) * 0.01).astype(np.float32)
    by_lead = sp.csr_matrix((x.data * np.float32(alpha), x.indices, x.indptr), x.shape)
    by_item = sp.csr_matrix(by_lead.T)
    for _ in range(iterations):
        _least_squares_cg(by_lead, users, items, regularization, cg_steps)
        _least_squares_cg(by_item, items, users, regularization, cg_steps)
    return ItemFactors(items, regularization, alpha)


# -- candidates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One model family with its hyper-parameters."""

    family: str  # "ease" | "item_knn" | "rp3beta" | "als"
    params: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.family}({','.join(f'{k}={v:g}' for k, v in self.params.items())})"


DEFAULT_GRID: tuple[Candidate, ...] = (
    Candidate("ease", {"lambda": 50.0}),
    Candidate("ease", {"lambda": 200.0}),
    Candidate("ease", {"lambda": 800.0}),
    Candidate("item_knn", {"k": 30, "shrink": 10.0}),
    Candidate("item_knn", {"k": 100, "shrink": 10.0}),
    Candidate("rp3beta", {"alpha": 1.0, "beta": 0.3}),
    Candidate("rp3beta", {"alpha": 1.0, "beta": 0.6}),
    Candidate("als", {"factors": 64, "lambda": 1.0, "alpha": 5.0}),
    Candidate("als", {"factors": 64, "lambda": 1.0, "alpha": 20.0}),
)


def skip_reason(candidate: Candidate, n_items: int) -> str | None:
    if candidate.family == "ease" and n_items > EASE_MAX_ITEMS:
        return (
            f"{n_items:,} items: EASE inverts a dense items × items matrix, allowed up to "
            f"{EASE_MAX_ITEMS:,} items ({EASE_MAX_ITEMS**2 * 8 / 1e9:.1f} GB)"
        )
    return None


def fit(
    candidate: Candidate,
    data: Interactions,
    *,
    seed: int = 42,
    neighbours: int = NEIGHBOURS,
) -> CollaborativeModel:
    """The candidate fitted on ``data`` and exported as it is served (item-item rows keep at
    most ``neighbours`` entries; item-kNN its own ``k`` when smaller)."""
    x, p = data.matrix, candidate.params
    part: ItemNeighbours | ItemFactors
    if candidate.family == "ease":
        part = ease(x, p["lambda"], neighbours)
    elif candidate.family == "item_knn":
        part = item_knn(x, min(int(p["k"]), neighbours), p["shrink"])
    elif candidate.family == "rp3beta":
        part = rp3beta(x, p["alpha"], p["beta"], neighbours)
    elif candidate.family == "als":
        part = als(x, int(p["factors"]), p["lambda"], p["alpha"], seed=seed)
    else:
        raise ValueError(f"unknown model family {candidate.family!r}")
    meta = {"name": candidate.name, "family": candidate.family, "params": dict(p)}
    return CollaborativeModel(data.item_ids, data.scaling, part, meta)


def save(model: CollaborativeModel, path: Path) -> Path:
    """Write the ``.npz`` artifact ``CollaborativeModel.load`` reads (uncompressed)."""
    arrays: dict[str, Any] = {
        "kind": np.array(model.kind),
        "item_ids": np.asarray(model.item_ids).astype(str),
        "scaling": np.array(model.scaling),
        "meta": np.array(json.dumps(model.meta, sort_keys=True)),
    }
    if isinstance(model.part, ItemNeighbours):
        arrays |= {
            "data": model.part.data,
            "indices": model.part.indices,
            "indptr": model.part.indptr,
        }
    else:
        arrays |= {
            "item_factors": model.part.factors,
            "regularization": np.array(model.part.regularization),
            "alpha": np.array(model.part.alpha),
        }
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


# -- scoring and ranking ---------------------------------------------------------------------


def lead_scores(model: CollaborativeModel, history: sp.csr_matrix) -> np.ndarray:
    """Dense scores (leads × items, float32) of many leads at once, from their scaled history
    rows: the same numbers ``model.scores`` gives one lead (a test proves it)."""
    part = model.part
    if isinstance(part, ItemNeighbours):
        w = sp.csr_matrix((part.data, part.indices, part.indptr), (model.n_items,) * 2)
        return np.asarray((history @ w).toarray(), dtype=np.float32)
    folded = np.zeros((history.shape[0], part.factors.shape[1]), dtype=np.float32)
    for i in range(history.shape[0]):
        lo, hi = history.indptr[i], history.indptr[i + 1]
        folded[i] = part.fold_in(history.indices[lo:hi].astype(np.int64), history.data[lo:hi])
    result: np.ndarray = folded @ part.factors.T
    return result


def top_k(
    scores: np.ndarray, k: int, exclude: sp.csr_matrix | None, tie_break: np.ndarray
) -> np.ndarray:
    """Per row, the ``k`` best items (largest score first; ties to the larger ``tie_break``,
    then the lower index), never an excluded one; -1 where fewer than ``k`` remain."""
    m, n = scores.shape
    s = np.array(scores, dtype=np.float64)
    if exclude is not None:
        s[np.repeat(np.arange(m), np.diff(exclude.indptr)), exclude.indices] = -np.inf
    k = min(k, n)
    tie = np.empty(n)
    tie[np.lexsort((-np.arange(n), tie_break))] = np.arange(n) / n  # distinct, in [0, 1)
    kth = np.partition(s, n - k, axis=1)[:, n - k, None]
    key = np.where(s > kth, 2.0, np.where(s == kth, tie[None, :], -1.0))
    chosen = np.argpartition(-key, k - 1, axis=1)[:, :k]
    chosen_scores = np.take_along_axis(s, chosen, axis=1)
    order = np.lexsort((-tie[chosen], -chosen_scores), axis=1)
    chosen = np.take_along_axis(chosen, order, axis=1)
    chosen[np.take_along_axis(chosen_scores, order, axis=1) == -np.inf] = -1
    return chosen


def hit_matrix(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """``recommended[i, r]`` is one of row ``i``'s relevant items (bool, same shape)."""
    n = np.int64(relevant.shape[1])
    rows = np.repeat(np.arange(relevant.shape[0], dtype=np.int64), np.diff(relevant.indptr))
    wanted = rows * n + relevant.indices
    codes = np.arange(recommended.shape[0], dtype=np.int64)[:, None] * n + recommended
    return np.isin(codes, wanted) & (recommended >= 0)


Scorer = Callable[[sp.csr_matrix], np.ndarray]


def ranking_quality(
    scorer: Scorer,
    history: sp.csr_matrix,
    held_out: sp.csr_matrix,
    k: int,
    tie_break: np.ndarray,
    *,
    exclude_history: bool = True,
) -> dict[str, float]:
    """precision/recall/nDCG@k of a scorer for leads (rows) that each rank the items of
    ``held_out``'s columns — without the ones in their ``history`` unless told otherwise (the
    cold-start protocol ranks items no history can hold) — against their ``held_out`` items,
    in chunks of leads."""
    step = max(1, SCORE_CHUNK_ENTRIES // max(held_out.shape[1], 1))
    hits = []
    for start in range(0, history.shape[0], step):
        rows = history[start : start + step]
        exclude = rows if exclude_history else None
        ranked = top_k(scorer(rows), k, exclude, tie_break)
        hits.append(hit_matrix(ranked, held_out[start : start + step]))
    found = np.concatenate(hits) if hits else np.zeros((0, k), dtype=bool)
    return metrics.ranking_metrics(found, np.diff(held_out.indptr), k)


def model_scorer(model: CollaborativeModel) -> Scorer:
    return lambda rows: lead_scores(model, rows)


def popular_scorer(counts: np.ndarray) -> Scorer:
    return lambda rows: np.broadcast_to(counts, (rows.shape[0], counts.size))


# -- selection -------------------------------------------------------------------------------


@dataclass
class Trained:
    """The chosen candidate refitted on all the training data, and how every candidate did."""

    model: CollaborativeModel
    chosen: Candidate
    candidates: list[dict[str, Any]]
    validation: dict[str, Any]
    seconds: float


def _validation_rows(held: sp.csr_matrix, limit: int, seed: int) -> np.ndarray:
    """The leads with validation items (a seeded sample of ``limit`` when there are more)."""
    leads = np.flatnonzero(np.diff(held.indptr) > 0)
    if leads.size > limit:
        leads = np.sort(np.random.default_rng(seed).choice(leads, limit, replace=False))
    return leads


def train_collaborative(
    data: Interactions,
    *,
    k: int = 10,
    seed: int = 42,
    grid: Sequence[Candidate] = DEFAULT_GRID,
    neighbours: int = NEIGHBOURS,
    validation_share: float = VALIDATION_SHARE,
    max_validation_leads: int = MAX_VALIDATION_LEADS,
    progress: Callable[[str], None] = lambda _: None,
) -> Trained:
    """Choose among ``grid`` by validation nDCG@k (see the module docstring) and refit the
    best on all of ``data``."""
    started = time.perf_counter()
    kept, held = split_per_lead(data.matrix, validation_share, seed)
    fit_data = Interactions(kept, data.lead_ids, data.item_ids, data.scaling)
    leads = _validation_rows(held, max_validation_leads, seed)
    if leads.size == 0:
        raise ValueError("no lead has two interactions: nothing to validate the models on")
    history, truth = kept[leads], held[leads]
    counts = popularity(kept)
    key = f"ndcg@{k}"
    records: list[dict[str, Any]] = []
    best: tuple[float, Candidate] | None = None
    for candidate in grid:
        record: dict[str, Any] = {"name": candidate.name, "family": candidate.family}
        record |= {"params": dict(candidate.params), "validation": None, "skipped": None}
        reason = skip_reason(candidate, data.n_items)
        if reason is not None:
            records.append(record | {"skipped": reason})
            continue
        progress(f"validating {candidate.name}")
        begin = time.perf_counter()
        model = fit(candidate, fit_data, seed=seed, neighbours=neighbours)
        record["fit_seconds"] = round(time.perf_counter() - begin, 3)
        quality = ranking_quality(model_scorer(model), history, truth, k, counts)
        records.append(record | {"validation": quality})
        if best is None or quality[key] > best[0]:
            best = (quality[key], candidate)
    if best is None:
        raise ValueError("every candidate was skipped")
    chosen = best[1]
    progress(f"refitting {chosen.name} on all the training data")
    model = fit(chosen, data, seed=seed, neighbours=neighbours)
    validation = {
        "share": validation_share,
        "leads": int(leads.size),
        "held_out": int(truth.nnz),
        "metric": key,
        "popular": ranking_quality(popular_scorer(counts), history, truth, k, counts),
    }
    return Trained(model, chosen, records, validation, round(time.perf_counter() - started, 3))
