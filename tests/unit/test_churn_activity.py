"""What the churn model knows of a lead: its activity summary never reads past the cutoff, is
sufficient (made once, it gives the features a full re-read would, however much later), survives
the lead record in DynamoDB, and the tiers and reasons say in plain words what the numbers say."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from ghl_ai.adapters.dynamo import from_item, to_item
from ghl_ai.behaviour.features import DAY, KINDS, EventStream, StreamBuilder
from ghl_ai.churn.activity import (
    INDEX,
    NEVER_DAYS,
    RECENT_DAYS,
    Activity,
    features,
    matrix,
)
from ghl_ai.churn.risk import ACTIONABLE, TIERS, phrase, tier_of

#: Midnight UTC, so that "day d" below is a calendar day of the summary.
T0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
#: Event types a lead can produce: the catalogue's and one it does not name (a shop's purchase).
TYPES = (*KINDS, "purchase")

Event = tuple[float, str, float | None]  # (days after T0, type, value)


def stream(events: Sequence[Event]) -> EventStream:
    builder = StreamBuilder()
    for day, kind, value in events:
        builder.add(T0 + day * DAY, kind, value=value)
    return builder.build()


def at(day: float) -> float:
    return T0 + day * DAY


def random_events(rng: np.random.Generator, n: int, start: float, end: float) -> list[Event]:
    days = rng.uniform(start, end, n)
    kinds = rng.choice(TYPES, n)
    values = [float(rng.uniform(1, 90)) if rng.random() < 0.3 else None for _ in range(n)]
    return [(float(d), str(k), v) for d, k, v in zip(days, kinds, values, strict=True)]


def visits(days: Sequence[float]) -> list[Event]:
    return [(d, "property_view", None) for d in days]


# -- no feature uses events after the cutoff ---------------------------------------------------


def test_events_after_the_cutoff_never_change_the_summary_or_the_features() -> None:
    rng = np.random.default_rng(11)
    changed_later = 0
    for _ in range(150):
        cutoff = float(rng.uniform(20, 200))
        before = random_events(rng, int(rng.integers(1, 40)), 0, cutoff)
        after = random_events(rng, int(rng.integers(1, 40)), cutoff + 1e-3, cutoff + 120)
        # The same history, then: other events after the cutoff, moved and retyped ones, more.
        altered = [(d + rng.uniform(0, 30), str(rng.choice(TYPES)), 999.0) for d, _, _ in after]
        altered += random_events(rng, 25, cutoff + 1e-3, cutoff + 1)  # a burst right after it
        original, other = stream(before + after), stream(before + altered)
        bare = stream(before)
        t = at(cutoff)

        summary = Activity.of(original, t)
        assert summary == Activity.of(other, t) == Activity.of(bare, t)
        np.testing.assert_array_equal(features(summary, t), features(Activity.of(other, t), t))
        # Later on the two histories do differ: the cutoff, not a blind spot, kept them equal.
        later = t + 121 * DAY
        changed_later += not np.array_equal(
            features(Activity.of(original, later), later),
            features(Activity.of(other, later), later),
        )
    assert changed_later > 140


def test_an_event_exactly_at_the_cutoff_counts_and_one_a_second_later_does_not() -> None:
    s = stream(
        [*visits([0, 3]), (10.0, "property_save", None), (10 + 1 / DAY, "tour_request", None)]
    )
    summary = Activity.of(s, at(10))
    assert summary is not None
    assert summary.count == 3 and summary.last == at(10)
    assert summary.last_of["high_intent"] == at(10)  # the save, not the tour a second later
    assert Activity.of(s, at(-1)) is None  # no event by then: not in the population


# -- the summary is sufficient -----------------------------------------------------------------

#: Days between the summary and the scoring: within a day, across the 30- and 90-day windows
#: (the summary's ``recent`` days roll out of them) and past the "never" cap.
LATER = (0.0, 1 / DAY, 0.4, 1.0, 29.5, 30.0, 31.0, 89.6, 90.0, 91.0, 140.0, NEVER_DAYS + 10)


def test_the_summary_gives_the_features_a_full_reread_would_however_much_later() -> None:
    rng = np.random.default_rng(5)
    checked = rolled = 0
    for _ in range(200):
        end = float(rng.uniform(5, 300))
        events = random_events(rng, int(rng.integers(1, 80)), 0, end)
        s = stream(events)
        made = at(float(rng.uniform(min(d for d, _, _ in events), end + 120)))
        incremental = Activity.of(s, made)
        assert incremental is not None
        stored = Activity.from_state(incremental.as_state())  # what the sweep reads
        following = s.t[s.t > made]
        for gap in LATER:
            t = made + gap * DAY
            if following.size and t >= following[0]:
                break  # an event in (made, t]: the rescore remakes the summary
            batch = Activity.of(s, t)
            assert batch is not None
            np.testing.assert_array_equal(features(incremental, t), features(batch, t))
            np.testing.assert_array_equal(features(stored, t), features(batch, t))
            x_inc, counts_inc = matrix([stored], t)
            x_bat, counts_bat = matrix([batch], t)
            np.testing.assert_array_equal(x_inc, x_bat)
            np.testing.assert_array_equal(counts_inc, counts_bat)  # BG/NBD's (x, t_x, T) too
            checked += 1
            rolled += gap > RECENT_DAYS
    assert checked > 1200 and rolled > 200  # many after recent days rolled out of the window


def test_the_recent_window_rolls_the_same_way_for_a_summary_made_long_ago() -> None:
    # Active days 0-10 (two events on day 10), summarised on day 10, scored on day 95.
    s = stream([*visits(range(11)), (10.5, "property_save", None)])
    old, now = Activity.of(s, at(10.6)), at(95.6)
    fresh = Activity.of(s, now)
    assert old is not None and fresh is not None
    # The summaries differ (the fresh one keeps only days after 95 - 90 = day 5) ...
    assert sorted(old.recent) != sorted(fresh.recent)
    assert len(fresh.recent) == 5 and len(old.recent) == 11
    # ... but say the same: 6 events on the 5 active days 6-10 in the last 90 days, none in 30.
    row = features(old, now)
    np.testing.assert_array_equal(row, features(fresh, now))
    assert row[INDEX["events_90d_log"]] == pytest.approx(np.log1p(6))
    assert row[INDEX["active_days_90d_log"]] == pytest.approx(np.log1p(5))
    assert row[INDEX["events_30d_log"]] == row[INDEX["active_days_30d_log"]] == 0.0
    assert row[INDEX["events_before_90d_log"]] == pytest.approx(np.log1p(12 - 6))
    assert row[INDEX["recency_days_log"]] == pytest.approx(np.log1p(95.6 - 10.5))


def test_a_summary_is_never_read_before_it_was_made() -> None:
    s = stream(visits([0, 2, 4, 6]))
    summary = Activity.of(s, at(6))
    assert summary is not None
    # Asked for an earlier time, it answers for the time it was made (never "the future").
    np.testing.assert_array_equal(features(summary, at(3)), features(summary, at(6)))


# -- the lead record's ``activity`` attribute in DynamoDB ---------------------------------------


def test_the_summary_round_trips_through_a_dynamodb_item() -> None:
    rng = np.random.default_rng(2)
    summaries = []
    for _ in range(40):
        events = random_events(rng, int(rng.integers(1, 60)), 0, 150)
        summaries.append(Activity.of(stream(events), at(float(rng.uniform(150, 200)))))
    # Values that are not short decimals, and a lead that never engaged (only our texts).
    summaries.append(Activity.of(stream([(1.0, "purchase", 1 / 3), (2.5, "purchase", 0.1)]), at(9)))
    never = Activity.of(stream([(0.25, "message_out", None), (3.0, "lead_created", None)]), at(7))
    assert never is not None and never.last is None and never.recent == {}
    summaries.append(never)

    for summary in summaries:
        assert summary is not None
        item = to_item({"locationId": "loc", "contactId": "c1", "activity": summary.as_state()})
        back = Activity.from_state(from_item(item)["activity"])
        assert back == summary
        later = summary.at + 17.25 * DAY
        np.testing.assert_array_equal(features(back, later), features(summary, later))


# -- tiers -------------------------------------------------------------------------------------


def test_tiers_start_at_their_thresholds() -> None:
    assert [(name, lower) for name, lower in TIERS] == [
        ("low", 0.0),
        ("medium", 0.3),
        ("high", 0.5),
        ("critical", 0.7),
    ]
    below = lambda x: float(np.nextafter(x, 0.0))  # noqa: E731 - the float just under x
    cases = {
        0.0: "low",
        below(0.3): "low",
        0.3: "medium",
        below(0.5): "medium",
        0.5: "high",
        below(0.7): "high",
        0.7: "critical",
        1.0: "critical",
    }
    assert {p: tier_of(p) for p in cases} == cases
    assert {"high", "critical"} == ACTIONABLE


# -- reasons in plain words --------------------------------------------------------------------


def test_silence_is_said_against_the_leads_own_rhythm() -> None:
    # Active on days 0, 4, 8 and 12 (usually every 4 days), then nothing for 19 days.
    every_4 = Activity.of(stream(visits([0, 4, 8, 12])), at(12))
    assert every_4 is not None
    assert phrase("silence", every_4, at(31)) == "no activity for 19 days; usually every 4"
    assert phrase("silence", every_4, at(13)) == "no activity for 1 day; usually every 4"
    assert phrase("silence", every_4, at(12.5)) == "active today; usually every 4"

    daily = Activity.of(stream(visits([0, 1, 2, 3, 4, 5])), at(5))
    assert phrase("silence", daily, at(5.2)) == "active today; usually every day"  # type: ignore[arg-type]
    once = Activity.of(stream(visits([0.1, 0.3])), at(1))
    assert phrase("silence", once, at(5.1)) == "active on one day only, 5 days ago"  # type: ignore[arg-type]
    texted = Activity.of(stream([(0.0, "message_out", None)]), at(0))
    assert phrase("silence", texted, at(3)) == "has not engaged since arriving 3 days ago"  # type: ignore[arg-type]


def test_every_other_reason_reads_its_own_numbers() -> None:
    events: list[Event] = [
        (0.0, "lead_created", None),
        (1.0, "message_in", None),
        (5.0, "property_save", None),
        (6.0, "purchase", 1000.0),
        (7.0, "purchase", 250.0),
        *visits([11, 31, 33, 35, 36, 38, 39]),
    ]
    activity = Activity.of(stream(events), at(39))
    assert activity is not None
    now = at(42)
    assert phrase("replies", activity, now) == "no reply for 41 days"
    assert phrase("visits", activity, now) == "no website visit for 3 days"
    assert phrase("intent", activity, now) == "last saved, shared or asked about a home 37 days ago"
    # Active days 1, 5, 6, 7, 11 and 31, 33, 35, 36, 38, 39: 6 in the last 30 days (after day 12).
    assert (
        phrase("volume", activity, now) == "6 active days in the last 30 days, 5 in the 60 before"
    )
    assert phrase("tenure", activity, now) == "a lead for 42 days"
    assert phrase("value", activity, now) == "activity worth 1,250 in all"

    quiet = Activity.of(stream(visits([0])), at(0))
    assert quiet is not None
    assert phrase("replies", quiet, at(2)) == "has not replied yet"
    assert phrase("intent", quiet, at(2)) == "has not saved a home or asked for a tour"
    no_site = Activity.of(stream([(0.0, "message_in", None)]), at(0))
    assert phrase("visits", no_site, at(2)) == "no website visit yet"  # type: ignore[arg-type]


def test_recent_volume_is_counted_as_of_the_scoring_day() -> None:
    activity = Activity.of(stream(visits([0, 10, 50, 70, 85])), at(85))
    assert activity is not None
    assert activity.recent_counts(at(85), 30) == (2, 2)  # days 70 and 85
    # 29 days later the same summary has day 85 alone in the last 30 days, 50-85 in 90; a
    # day after that, day 85 is out of the 30 days (days 86-115) too.
    assert activity.recent_counts(at(114), 30) == (1, 1)
    assert activity.recent_counts(at(114), 90) == (3, 3)
    assert phrase("volume", activity, at(114)).endswith("in the last 30 days, 2 in the 60 before")
    assert activity.recent_counts(at(115), 30) == (0, 0)
    assert (
        phrase("volume", activity, at(115))
        == "0 active days in the last 30 days, 3 in the 60 before"
    )


def test_one_active_day_is_said_in_the_singular() -> None:
    activity = Activity.of(stream(visits([0, 10, 50, 70, 85])), at(85))
    assert activity is not None
    assert phrase("volume", activity, at(114)) == (
        "1 active day in the last 30 days, 2 in the 60 before"
    )
