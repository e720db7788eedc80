"""The behavioural features on streams small enough to compute by hand, and the rule that the
features at T never see an event after T."""

from __future__ import annotations

import numpy as np
import pytest

from ghl_ai.behaviour.features import (
    CATALOGUE,
    DAY,
    INDEX,
    NAMES,
    RECENCY_CAP_DAYS,
    StreamBuilder,
    catalogue_hash,
    compute,
    model_input,
)

T = 1_800_000_000.0  # the scoring time
H = 3600.0


def at(days_before: float, hours: float = 0.0) -> float:
    return T - days_before * DAY + hours * H


def features_of(builder: StreamBuilder, when: float = T) -> dict[str, float]:
    values, _ = compute(builder.build(), when)
    return dict(zip(NAMES, values.tolist(), strict=True))


def view(b: StreamBuilder, t: float, pid: str, price: float, beds: int, city: str, dwell: float):
    data = {"price": price, "beds": beds, "city": city, "dwellSeconds": dwell}
    b.add(t, "property_view", pid, None, data)


def test_the_catalogue_documents_at_least_40_features_and_its_hash_is_stable() -> None:
    assert len(CATALOGUE) >= 40
    assert len(set(NAMES)) == len(NAMES)
    assert all(f.meaning and f.unit and f.window for f in CATALOGUE)
    assert catalogue_hash() == catalogue_hash() and len(catalogue_hash()) == 64


def test_an_empty_history_is_all_zeros_but_the_recencies() -> None:
    f = features_of(StreamBuilder())

    assert f["days_since_last_event"] == RECENCY_CAP_DAYS
    assert f["days_since_last_reply"] == RECENCY_CAP_DAYS
    assert f["days_since_high_intent"] == RECENCY_CAP_DAYS
    assert f["days_since_tour_request"] == RECENCY_CAP_DAYS
    assert f["response_hours_median"] == 168
    defaults = {
        "days_since_last_event",
        "days_since_last_reply",
        "days_since_high_intent",
        "days_since_tour_request",
        "response_hours_median",
    }
    assert {v for k, v in f.items() if k not in defaults} == {0.0}


def test_a_week_of_browsing_computed_by_hand() -> None:
    b = StreamBuilder()
    # visit 1, 20 days ago: two views in Ontario
    view(b, at(20), "A", 500_000, 3, "Ontario", 30)
    view(b, at(20, 0.1), "B", 520_000, 3, "ontario", 50)
    # visit 2, 2.5 days ago (17.5 days away): three views, two of listing C, a save of C
    view(b, at(2.5), "C", 600_000, 4, "Rancho Cucamonga", 90)
    view(b, at(2.5, 0.2), "C", 600_000, 4, "Rancho Cucamonga", 120)
    view(b, at(2.5, 0.3), "D", 640_000, 5, "Rancho Cucamonga", 10)
    b.add(at(2.5, 0.35), "property_save", "C", None, {"price": 600_000, "beds": 4})
    # visit 3, today: a tour request
    b.add(at(0, -1), "tour_request", "C")

    f = features_of(b)

    assert f["days_since_last_event"] == pytest.approx(1 / 24)
    assert f["days_since_first_event"] == pytest.approx(20)
    assert f["events_7d"] == 5 and f["events_30d"] == 7 and f["events_1d"] == 1
    assert f["active_days_7d"] == 2  # the 24-hour periods before T: 2.5 days ago and today
    assert f["sessions_7d"] == 2 and f["sessions_30d"] == 3 and f["sessions_total"] == 3
    assert f["gap_before_last_session_days"] == pytest.approx(2.5 - 1 / 24 - 0.35 / 24, abs=1e-6)
    assert f["longest_gap_days_90d"] == pytest.approx(17.5 - 0.1 / 24, abs=1e-6)
    assert f["returned_after_absence"] == 0  # the latest gap was under 14 days
    assert f["property_views_7d"] == 3 and f["property_views_30d"] == 5
    assert f["distinct_properties_7d"] == 2 and f["distinct_properties_30d"] == 4
    assert f["max_views_one_property_30d"] == 2
    assert f["dwell_mean_seconds_30d"] == pytest.approx(60)
    assert f["dwell_total_minutes_30d"] == pytest.approx(5)
    assert f["long_views_30d"] == 2
    assert f["saves_30d"] == 1 and f["tour_requests_90d"] == 1 and f["tour_requests_7d"] == 1
    assert f["days_since_tour_request"] == pytest.approx(1 / 24)
    assert f["save_rate_30d"] == pytest.approx(1 / 6)
    assert f["tour_rate_90d"] == pytest.approx(1 / 6)
    assert f["days_since_high_intent"] == pytest.approx(1 / 24)
    # preferences over the 5 views and the save (prices in $1000s)
    prices = np.array([500, 520, 600, 600, 640, 600])
    assert f["price_median_viewed_30d"] == pytest.approx(np.median(prices))
    q1, q3 = np.percentile(prices, [25, 75])
    assert f["price_spread_viewed_30d"] == pytest.approx((q3 - q1) / np.median(prices))
    beds = np.array([3, 3, 4, 4, 5, 4])
    assert f["beds_mean_viewed_30d"] == pytest.approx(beds.mean())
    assert f["beds_std_viewed_30d"] == pytest.approx(beds.std())
    # the save has no city: 5 views, 3 in Rancho Cucamonga ("ontario" is the same city)
    assert f["distinct_cities_30d"] == 2
    assert f["top_city_share_30d"] == pytest.approx(3 / 5)


def test_the_context_names_the_city_and_listing_looked_at_most() -> None:
    b = StreamBuilder()
    for hour in range(3):
        view(b, at(2, hour * 0.1), "IE-1042", 615_000, 4, "rancho cucamonga", 40)
    view(b, at(2, 0.5), "IE-7", 500_000, 3, "Upland", 40)

    _, context = compute(b.build(), T)

    assert (context.top_city, context.top_property, context.top_property_views) == (
        "Rancho Cucamonga",
        "IE-1042",
        3,
    )


def test_coming_back_after_two_weeks_away_is_a_return() -> None:
    b = StreamBuilder()
    b.add(at(30), "page_view")
    b.add(at(2), "page_view")

    f = features_of(b)

    assert f["returned_after_absence"] == 1
    assert f["gap_before_last_session_days"] == pytest.approx(28)


def test_conversation_responsiveness_by_hand() -> None:
    b = StreamBuilder()
    b.add(at(10), "message_out")
    b.add(at(10, 2), "message_in")  # answered after 2 h
    b.add(at(5), "message_out")
    b.add(at(5, 6), "message_in")  # after 6 h
    b.add(at(2), "message_out")
    b.add(at(1), "message_out")  # two unanswered

    f = features_of(b)

    assert f["messages_in_30d"] == 2 and f["messages_out_30d"] == 4
    assert f["reply_ratio_30d"] == pytest.approx(0.5)
    assert f["response_hours_median"] == pytest.approx(4)
    assert f["days_since_last_reply"] == pytest.approx(5 - 6 / 24)
    assert f["unanswered_messages"] == 2
    # our own messages are not the lead's engagement
    assert f["days_since_last_event"] == pytest.approx(5 - 6 / 24)


def test_types_the_catalogue_does_not_name_still_count_as_engagement() -> None:
    b = StreamBuilder()
    b.add(at(1), "purchase", None, 25.0)
    b.add(at(40), "purchase", None, 10.0)

    f = features_of(b)

    assert f["events_30d"] == 1 and f["events_90d"] == 2
    assert f["value_sum_30d"] == 25 and f["value_sum_total"] == 35


def random_stream(seed: int, n: int = 300) -> StreamBuilder:
    rng = np.random.default_rng(seed)
    kinds = [
        "page_view",
        "property_view",
        "property_save",
        "search",
        "tour_request",
        "message_in",
        "message_out",
        "email_open",
        "valuation_request",
        "custom_thing",
    ]
    b = StreamBuilder()
    for _ in range(n):
        kind = str(rng.choice(kinds))
        data = {
            "price": float(rng.integers(300, 900)) * 1000,
            "beds": int(rng.integers(1, 6)),
            "city": str(rng.choice(["Ontario", "Upland", "Fontana"])),
            "dwellSeconds": float(rng.integers(1, 300)),
        }
        b.add(
            T - float(rng.uniform(-60, 120)) * DAY,
            kind,
            f"P{rng.integers(0, 20)}",
            float(rng.uniform(0, 50)),
            data,
        )
    return b


@pytest.mark.parametrize("seed", range(5))
def test_features_at_t_never_use_an_event_after_t(seed: int) -> None:
    """Adding any amount of future to a stream does not change its features at T."""
    full = random_stream(seed).build()
    keep = full.t <= T
    past = StreamBuilder()
    # the same past events, rebuilt without the future ones
    for i in np.flatnonzero(keep):
        kind = str(full.other_types[i])
        prop = full.props[full.prop[i]] if full.prop[i] >= 0 else None
        city = full.cities[full.city[i]] if full.city[i] >= 0 else None
        past.add(
            float(full.t[i]),
            kind,
            prop,
            float(full.value[i]),
            {
                "price": full.price[i],
                "beds": full.beds[i],
                "city": city,
                "dwellSeconds": full.dwell[i],
            },
        )
    assert keep.sum() < full.t.size  # the stream does have a future

    with_future, context_future = compute(full, T)
    only_past, context_past = compute(past.build(), T)

    np.testing.assert_array_equal(with_future, only_past)
    assert context_future == context_past


def test_model_input_logs_the_counts_and_keeps_the_rest() -> None:
    raw = np.zeros(len(CATALOGUE))
    raw[INDEX["events_7d"]] = np.e - 1
    raw[INDEX["top_city_share_30d"]] = 0.5

    x = model_input(raw)

    assert x[INDEX["events_7d"]] == pytest.approx(1.0)
    assert x[INDEX["top_city_share_30d"]] == 0.5
    assert raw[INDEX["events_7d"]] == pytest.approx(np.e - 1)  # the input is not changed
