"""The content match, its reasons and concerns, and the hybrid ranking with both cold starts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ghl_ai.listings.models import Listing
from ghl_ai.recommend.content import Preferences, match
from ghl_ai.recommend.index import CatalogueIndex, must_have_name
from ghl_ai.recommend.ranker import COLLABORATIVE_REASON, Ranker
from ghl_models.recommend import CollaborativeModel, ItemNeighbours

FONTANA = (34.0922, -117.4350)
ONTARIO = (34.0633, -117.6509)
UPLAND = (34.0975, -117.6484)


def home(key: str, price: float, city: str = "Fontana", **extra: object) -> Listing:
    lat, lon = {"Fontana": FONTANA, "Ontario": ONTARIO, "Upland": UPLAND}[city]
    values: dict[str, object] = {
        "beds": 4,
        "baths": 3.0,
        "property_sub_type": "Single Family Residence",
        "living_area": 2100.0,
        "lot_sqft": 6500.0,
        "year_built": 2004,
        "hoa_monthly": 0.0,
        "latitude": lat,
        "longitude": lon,
        "address": f"{key[-3:]} Main St",
        "modified_at": datetime(2026, 11, 20, tzinfo=UTC),
    }
    values.update(extra)
    return Listing(key, str(values.pop("status", "Active")), price, city=city, **values)  # type: ignore[arg-type]


BUYER = Preferences(
    budget_max=700_000, areas=("Fontana",), beds_min=4, must_haves=("pool",), intent="buy"
)


def test_reasons_and_concerns_name_the_factors_that_scored_highest_and_lowest() -> None:
    fits = home("L-FIT", 685_000, pool=True, remarks="Sparkling pool, single story.")
    over = home("L-OVER", 745_000, hoa_monthly=450.0, remarks="Tile roof.")
    index = CatalogueIndex.build([fits, over], year=2026)
    result = match(index, BUYER)

    assert result.segment == "family"  # 4 beds asked: beds weigh as much as price and area
    reasons, concerns, factors = result.explain(index.row["L-FIT"])
    assert factors["price"] == 1.0 and factors["location"] == 1.0 and factors["beds"] == 1.0
    assert factors["must_haves"] == 1.0
    assert reasons == ["$15k under budget", "in Fontana, as asked", "4 beds as asked"]
    assert concerns == []

    reasons, concerns, factors = result.explain(index.row["L-OVER"])
    assert factors["price"] < 0.5 and factors["must_haves"] == 0.0
    # The biggest shortfalls by weight: the must-have (2.0 x 1.0) and the price (2.5 x 0.64).
    assert concerns == ["no pool mentioned", "$45k over budget"]
    assert result.total[index.row["L-FIT"]] > result.total[index.row["L-OVER"]]


def test_hoa_is_named_as_a_concern_and_no_hoa_as_a_reason_for_a_first_home_buyer() -> None:
    condo = home("L-HOA", 480_000, hoa_monthly=450.0, property_sub_type="Condominium")
    house = home("L-NOHOA", 490_000)
    index = CatalogueIndex.build([condo, house], year=2026)
    prefs = Preferences(budget_max=500_000, areas=("Fontana",))
    result = match(index, prefs)
    assert result.segment == "first_home"
    _, concerns, _ = result.explain(index.row["L-HOA"])
    assert "HOA $450/mo" in concerns
    reasons, _, _ = result.explain(index.row["L-NOHOA"])
    assert reasons[0] == "$10k under budget"
    assert result.total[index.row["L-NOHOA"]] > result.total[index.row["L-HOA"]]


def test_revealed_preferences_alone_find_homes_like_the_ones_it_views() -> None:
    viewed = [home(f"L-V{i}", 600_000 + 10_000 * i, "Ontario", beds=3) for i in range(3)]
    similar = home("L-SIM", 615_000, "Ontario", beds=3)
    pricey_far = home("L-FAR", 1_150_000, "Fontana", beds=5)
    index = CatalogueIndex.build([*viewed, similar, pricey_far], year=2026)
    ranker = Ranker(index, model=None)
    prefs = Preferences(history={"L-V0": 3.0, "L-V1": 1.0, "L-V2": 1.0})

    recs, _ = ranker.rank(prefs, k=5)

    assert [r.listing.listing_key for r in recs] == ["L-SIM", "L-FAR"]  # viewed ones left out
    top = recs[0]
    assert any("miles from where you search most" in r for r in top.reasons)
    assert any(r.startswith("priced like the homes you look at") for r in top.reasons)
    assert any("above the homes you look at" in c for c in recs[1].concerns)


def _model(item_ids: list[str], pairs: dict[tuple[str, str], float]) -> CollaborativeModel:
    """An item-item model with the given neighbour weights."""
    n = len(item_ids)
    rows: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (a, b), w in pairs.items():
        rows[item_ids.index(a)].append((item_ids.index(b), w))
    indptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    indices = np.asarray([j for r in rows for j, _ in r], dtype=np.int32)
    data = np.asarray([w for r in rows for _, w in r], dtype=np.float32)
    return CollaborativeModel(np.asarray(item_ids), "none", ItemNeighbours(data, indices, indptr))


def _market() -> tuple[CatalogueIndex, CollaborativeModel]:
    listings = [
        home("L-A", 690_000),  # liked together with L-SAVED by other leads
        home("L-B", 695_000),
        home("L-SAVED", 680_000),
        home("L-NEW", 684_000, pool=True),  # new on the market: the model has never seen it
    ]
    model = _model(["L-A", "L-B", "L-SAVED"], {("L-SAVED", "L-A"): 0.9, ("L-SAVED", "L-B"): 0.1})
    return CatalogueIndex.build(listings, year=2026), model


def test_collaborative_signal_reorders_warm_listings_and_says_so() -> None:
    index, model = _market()
    ranker = Ranker(index, model, blend=0.5)
    prefs = Preferences(budget_max=700_000, areas=("Fontana",), history={"L-SAVED": 3.0})
    recs, _ = ranker.rank(prefs, k=3)
    keys = [r.listing.listing_key for r in recs]
    assert keys.index("L-A") < keys.index("L-B")
    first = next(r for r in recs if r.listing.listing_key == "L-A")
    assert first.collaborative == pytest.approx(1.0)
    assert first.reasons[0] == COLLABORATIVE_REASON


def test_cold_start_listing_is_ranked_on_its_content() -> None:
    index, model = _market()
    ranker = Ranker(index, model, blend=0.5)
    prefs = Preferences(
        budget_max=700_000, areas=("Fontana",), must_haves=("pool",), history={"L-SAVED": 3.0}
    )
    recs, _ = ranker.rank(prefs, k=3)
    new = next(r for r in recs if r.listing.listing_key == "L-NEW")
    assert new.collaborative is None
    assert recs[0].listing.listing_key == "L-NEW"  # the only one with the pool it asked for
    assert "has a pool" in new.reasons


def test_cold_start_lead_with_stated_preferences_only_is_ranked_on_content() -> None:
    index, model = _market()
    prefs = Preferences(budget_max=700_000, areas=("Fontana",), must_haves=("pool",))
    hybrid, _ = Ranker(index, model, blend=0.5).rank(prefs, k=4)
    content_only, _ = Ranker(index, None).rank(prefs, k=4)
    assert [r.listing.listing_key for r in hybrid] == [r.listing.listing_key for r in content_only]
    assert all(r.collaborative is None for r in hybrid)
    assert hybrid[0].listing.listing_key == "L-NEW"


def test_only_active_listings_are_ranked_and_coming_soon_only_when_allowed() -> None:
    listings = [
        home("L-ACTIVE", 650_000),
        home("L-PENDING", 690_000, status="Pending", pool=True),
        home("L-CLOSED", 690_000, status="Closed", pool=True),
        home("L-SOON", 690_000, status="Coming Soon", pool=True),
    ]
    prefs = Preferences(budget_max=700_000, areas=("Fontana",), must_haves=("pool",))
    recs, _ = Ranker(CatalogueIndex.build(listings, year=2026), None).rank(prefs, k=10)
    assert [r.listing.listing_key for r in recs] == ["L-ACTIVE"]
    index = CatalogueIndex.build(listings, include_coming_soon=True, year=2026)
    recs, _ = Ranker(index, None).rank(prefs, k=10)
    assert [r.listing.listing_key for r in recs] == ["L-SOON", "L-ACTIVE"]


def test_excluded_listings_are_never_ranked() -> None:
    index, _ = _market()
    recs, _ = Ranker(index, None).rank(BUYER, k=10, exclude={"L-NEW", "L-A"})
    assert {r.listing.listing_key for r in recs} == {"L-B", "L-SAVED"}


def test_must_haves_are_read_from_the_remarks_and_structured_fields() -> None:
    listings = [
        home("L-1", 600_000, remarks="Single-story home with RV parking and a casita."),
        home("L-2", 600_000, remarks="Two story. No pool.", pool=False),
        home("L-3", 600_000, lot_sqft=30_000.0),
    ]
    index = CatalogueIndex.build(listings, year=2026)
    assert must_have_name("Swimming Pool") == "pool" and must_have_name("casita") == "adu"
    assert index.feature("single story").tolist() == [True, False, False]
    assert index.feature("rv parking").tolist() == [True, False, False]
    assert index.feature("adu").tolist() == [True, False, False]
    assert index.feature("pool").tolist() == [False, False, False]
    assert index.feature("acreage").tolist() == [False, False, True]


def test_listings_far_over_budget_are_left_out_unless_the_lead_looks_at_homes_that_pricey() -> None:
    listings = [
        home("L-IN", 690_000),
        home("L-STRETCH", 760_000),  # 8.6% over: shown, with the concern
        home("L-FAR-OVER", 850_000),  # 21% over: not shown
        home("L-PRICEY-1", 860_000),
        home("L-PRICEY-2", 870_000),
    ]
    index = CatalogueIndex.build(listings, year=2026)
    said = Preferences(budget_max=700_000, areas=("Fontana",))
    shown = {r.listing.listing_key for r in Ranker(index, None).rank(said, k=10)[0]}
    assert shown == {"L-IN", "L-STRETCH"}

    looks_higher = Preferences(
        budget_max=700_000, areas=("Fontana",), history={"L-PRICEY-1": 3.0, "L-PRICEY-2": 3.0}
    )
    recs = Ranker(index, None).rank(looks_higher, k=10)[0]
    far = next(r for r in recs if r.listing.listing_key == "L-FAR-OVER")
    assert "$150k over budget" in far.concerns
