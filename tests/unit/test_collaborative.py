"""The collaborative recommender: each algorithm against an answer known by hand or by its
closed form, chunking that changes nothing, the pruned export, selection by validation, the
ranking metrics on hand-computed cases, and numpy serving equal to the training side."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from ghl_ai_cli import collaborative as cf
from ghl_ai_cli.synthetic_browsing import BrowsingConfig, generate
from ghl_models import metrics
from ghl_models.recommend import CollaborativeModel, ItemFactors

ROOT = Path(__file__).resolve().parents[2]


def dense(part: cf.ItemNeighbours, n: int) -> np.ndarray:
    return sp.csr_matrix((part.data, part.indices, part.indptr), (n, n)).toarray()


def random_matrix(seed: int, leads: int = 80, items: int = 30) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    x = sp.random(leads, items, density=0.15, random_state=seed, format="csr", dtype=np.float32)
    x.data[:] = np.log1p(rng.integers(1, 6, x.nnz))
    return x


@pytest.fixture(scope="module")
def browsing() -> cf.Interactions:
    b = generate(BrowsingConfig(leads=600, listings=300, segments=15, seed=5))
    return cf.from_codes(b.lead, b.item, b.weight, b.lead_ids, b.item_ids)


# -- the matrix and the split ----------------------------------------------------------------


def test_matrix_sums_duplicates_drops_non_positive_totals_and_scales() -> None:
    data = cf.interactions(
        ["a", "a", "a", "b", "b", "b"],
        ["p1", "p1", "p2", "p2", "p3", "p3"],
        [1, 2, 3, 1, 3, -3],  # b saved p3, then withdrew the save
        scaling="log1p",
    )
    assert list(data.lead_ids) == ["a", "b"] and list(data.item_ids) == ["p1", "p2", "p3"]
    expected = np.log1p([[3, 3, 0], [0, 1, 0]]).astype(np.float32)
    np.testing.assert_allclose(data.matrix.toarray(), expected)
    assert data.n_interactions == 3 and data.matrix.dtype == np.float32


def test_split_per_lead_holds_out_a_share_of_each_lead_and_is_seeded() -> None:
    x = sp.csr_matrix(np.triu(np.ones((9, 9), dtype=np.float32)))  # leads of 9, 8, ..., 1
    kept, held = cf.split_per_lead(x, 0.25, seed=3)
    n = np.diff(x.indptr)
    expected = np.where(n >= 2, np.clip(np.floor(0.25 * n + 0.5), 1, n - 1), 0)
    np.testing.assert_array_equal(np.diff(held.indptr), expected)
    assert (kept + held - x).nnz == 0 and kept.multiply(held).nnz == 0
    again, _ = cf.split_per_lead(x, 0.25, seed=3)
    other, _ = cf.split_per_lead(x, 0.25, seed=4)
    assert (again != kept).nnz == 0 and (other != kept).nnz > 0


# -- the algorithms --------------------------------------------------------------------------


def test_item_knn_is_the_shrunk_cosine_by_hand() -> None:
    # items' columns: [1,1,0], [1,1,1], [0,0,1]
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32))
    w = dense(cf.item_knn(x, k=2, shrink=1.0), 3)
    s01, s12 = 2 / (np.sqrt(2) * np.sqrt(3) + 1), 1 / (np.sqrt(3) + 1)
    np.testing.assert_allclose(w, [[0, s01, 0], [s01, 0, s12], [0, s12, 0]], rtol=1e-6)
    top1 = dense(cf.item_knn(x, k=1, shrink=1.0), 3)
    assert np.count_nonzero(top1[1]) == 1 and top1[1, 0] == pytest.approx(s01)


def test_rp3beta_is_the_penalised_two_step_walk_by_hand() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
    # P_iu P_ui = [[.5,.5,0],[.25,.5,.25],[0,.5,.5]]; popularity [1,2,1]; β = 1; no self-loop
    w = dense(cf.rp3beta(x, alpha=1.0, beta=1.0, k=3), 3)
    np.testing.assert_allclose(w, [[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], rtol=1e-6)


def test_ease_is_its_closed_form_pruned_to_the_positive_top_n() -> None:
    x = random_matrix(1)
    lam = 5.0
    p = np.linalg.inv((x.T @ x).toarray().astype(np.float64) + lam * np.eye(30))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(dense(cf.ease(x, lam, k=30), 30), np.maximum(b, 0), atol=1e-6)
    pruned = dense(cf.ease(x, lam, k=3), 30)
    for row, full in zip(pruned, np.maximum(b, 0), strict=True):
        assert np.count_nonzero(row) <= 3
        np.testing.assert_allclose(np.sort(row[row > 0]), np.sort(full)[-np.count_nonzero(row) :])


def test_ease_refuses_more_items_than_its_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cf, "EASE_MAX_ITEMS", 10)
    with pytest.raises(ValueError, match="more than 10 items"):
        cf.ease(random_matrix(1), 5.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda x, chunk: cf.item_knn(x, 4, 2.0, chunk_entries=chunk),
        lambda x, chunk: cf.rp3beta(x, 0.8, 0.4, 4, chunk_entries=chunk),
        lambda x, chunk: cf.ease(x, 10.0, 4, chunk_entries=chunk),
    ],
    ids=["item_knn", "rp3beta", "ease"],
)
def test_chunked_item_item_models_equal_the_unchunked(build) -> None:  # type: ignore[no-untyped-def]
    x = random_matrix(2)
    whole, chunked = build(x, 10**9), build(x, 7)
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name))


def test_an_als_half_step_with_enough_cg_steps_is_the_exact_least_squares() -> None:
    x = random_matrix(3)
    rng = np.random.default_rng(0)
    users = np.zeros((80, 4), dtype=np.float32)
    items = rng.standard_normal((30, 4)).astype(np.float32)
    confidence = sp.csr_matrix((x.data * 2.0, x.indices, x.indptr), x.shape)  # c − 1, α = 2
    cf._least_squares_cg(confidence, users, items, regularization=0.5, steps=8)
    part = ItemFactors(items, 0.5, 2.0)
    for u in range(80):
        lo, hi = x.indptr[u], x.indptr[u + 1]
        exact = part.fold_in(x.indices[lo:hi].astype(np.int64), x.data[lo:hi])
        np.testing.assert_allclose(users[u], exact, atol=1e-4)


def test_als_recommends_within_a_lead_s_own_block() -> None:
    block = np.ones((20, 10), dtype=np.float32)
    x = sp.csr_matrix(np.block([[block, 0 * block], [0 * block, block]]))
    part = cf.als(x, factors=4, regularization=0.1, alpha=5.0, iterations=10)
    model = CollaborativeModel(np.array([f"p{i}" for i in range(20)]), "none", part)
    scores = model.scores({"p0": 1.0, "p1": 1.0})
    assert scores[:10].min() > scores[10:].max()


# -- ranking and metrics ---------------------------------------------------------------------


def test_top_k_excludes_history_breaks_ties_by_popularity_and_pads() -> None:
    scores = np.array([[0.9, 0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [1, 1, 1, 1, 0]]))
    popular = np.array([5.0, 1.0, 2.0, 9.0, 3.0])
    ranked = cf.top_k(scores, 3, exclude, popular)
    np.testing.assert_array_equal(ranked, [[2, 3, 4], [4, -1, -1]])


def test_ranking_metrics_by_hand() -> None:
    ranked = np.array([[3, 1, 2], [0, 4, -1]])
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 0]]))
    hits = cf.hit_matrix(ranked, relevant)
    np.testing.assert_array_equal(hits, [[True, False, True], [True, False, False]])
    n_relevant = np.array([2, 4])
    np.testing.assert_allclose(metrics.precision_at_k(hits, 3), [2 / 3, 1 / 3])
    np.testing.assert_allclose(metrics.recall_at_k(hits, n_relevant, 3), [2 / 2, 1 / 4])
    ideal = [1 + 1 / np.log2(3), 1 + 1 / np.log2(3) + 1 / np.log2(4)]
    dcg = [1 + 1 / np.log2(4), 1.0]
    np.testing.assert_allclose(metrics.ndcg_at_k(hits, n_relevant, 3), np.divide(dcg, ideal))
    summary = metrics.ranking_metrics(hits, n_relevant, 3)
    assert set(summary) == {"precision@3", "recall@3", "ndcg@3"}
    assert summary["recall@3"] == pytest.approx(0.625)


# -- selection -------------------------------------------------------------------------------


GRID = (
    cf.Candidate("ease", {"lambda": 50.0}),
    cf.Candidate("item_knn", {"k": 50, "shrink": 10.0}),
    cf.Candidate("rp3beta", {"alpha": 1.0, "beta": 3.0}),  # only unpopular items: bad
    cf.Candidate("als", {"factors": 8, "lambda": 1.0, "alpha": 5.0}),
)


def test_selection_picks_the_best_validation_candidate(browsing: cf.Interactions) -> None:
    trained = cf.train_collaborative(browsing, k=10, seed=1, grid=GRID)
    ndcg = {c["name"]: c["validation"]["ndcg@10"] for c in trained.candidates}
    assert list(ndcg) == [c.name for c in GRID]
    assert trained.chosen.name == max(ndcg, key=lambda n: ndcg[n])
    assert trained.model.meta["name"] == trained.chosen.name
    assert max(ndcg.values()) > trained.validation["popular"]["ndcg@10"]
    assert ndcg["rp3beta(alpha=1,beta=3)"] < max(ndcg.values())


def test_selection_records_why_a_candidate_was_skipped(
    browsing: cf.Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cf, "EASE_MAX_ITEMS", 100)
    trained = cf.train_collaborative(browsing, k=10, seed=1, grid=GRID[:2])
    ease, knn = trained.candidates
    assert ease["validation"] is None and "allowed up to 100 items" in ease["skipped"]
    assert knn["skipped"] is None and trained.chosen.family == "item_knn"


def test_training_is_reproducible(browsing: cf.Interactions) -> None:
    grid = (GRID[1], GRID[3])
    first = cf.train_collaborative(browsing, seed=9, grid=grid)
    second = cf.train_collaborative(browsing, seed=9, grid=grid)
    strip = [{k: v for k, v in c.items() if k != "fit_seconds"} for c in first.candidates]
    assert strip == [{k: v for k, v in c.items() if k != "fit_seconds"} for c in second.candidates]
    for c in (GRID[1], GRID[3]):
        a, b = cf.fit(c, browsing, seed=9), cf.fit(c, browsing, seed=9)
        np.testing.assert_array_equal(
            cf.lead_scores(a, browsing.matrix[:50]), cf.lead_scores(b, browsing.matrix[:50])
        )


# -- serving ---------------------------------------------------------------------------------


def _histories(data: cf.Interactions, leads: range) -> list[dict[str, float]]:
    """Raw weights (the inverse of log1p) of the leads' rows, as serving receives them."""
    out = []
    for i in leads:
        row = data.matrix[i]
        out.append(
            {
                str(data.item_ids[j]): float(np.expm1(v))
                for j, v in zip(row.indices, row.data, strict=True)
            }
        )
    return out


@pytest.mark.parametrize("candidate", [GRID[0], GRID[1], GRID[3]], ids=["ease", "knn", "als"])
def test_numpy_serving_equals_the_training_side_and_scipy(
    browsing: cf.Interactions, candidate: cf.Candidate, tmp_path: Path
) -> None:
    trained = cf.fit(candidate, browsing, neighbours=20)
    served = CollaborativeModel.load(cf.save(trained, tmp_path / "model.npz"))
    assert served.kind == trained.kind and list(served.item_ids) == list(browsing.item_ids)
    rows = browsing.matrix[:40]
    batch = cf.lead_scores(trained, rows)
    if served.kind == "item_item":
        part = trained.part
        w = sp.csr_matrix((part.data, part.indices, part.indptr), (browsing.n_items,) * 2)
        np.testing.assert_allclose(batch, (rows @ w).toarray(), rtol=1e-5, atol=1e-6)
        assert max(np.diff(part.indptr)) <= 20
    for i, history in enumerate(_histories(browsing, range(40))):
        scores = served.scores(history | {"not-a-listing": 3.0})
        assert scores.dtype == np.float32 and scores.shape == (browsing.n_items,)
        np.testing.assert_allclose(scores, batch[i], rtol=1e-5, atol=1e-6)


def test_serving_a_lead_with_no_known_listing_scores_zero(browsing: cf.Interactions) -> None:
    model = cf.fit(GRID[1], browsing)
    assert not model.scores({"unknown": 2.0, str(browsing.item_ids[0]): 0.0}).any()


def test_serving_imports_numpy_only() -> None:
    code = (
        "import sys; sys.path[:0] = ['layers/models'];"
        "import ghl_models.recommend;"
        "print(','.join(m for m in ('scipy', 'sklearn', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
