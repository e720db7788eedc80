from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ghl_ai.conversation.compliance import is_opt_in, is_opt_out, next_allowed, zone


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "unsubscribe",
        "CANCEL",
        "End",
        "quit!",
        "stop texting me",
    ],
)
def test_carrier_opt_out_words_opt_out(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't stop looking for us",
        "can we cancel the showing on friday?",
        "the end of the month works",
        "I quit my job and we're relocating",
        "stop by the house anytime",
    ],
)
def test_the_words_inside_a_sentence_do_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


def test_start_and_unstop_opt_back_in_and_yes_only_after_an_opt_out() -> None:
    assert is_opt_in("START", opted_out=True)
    assert is_opt_in("unstop", opted_out=False)
    assert is_opt_in("Yes", opted_out=True)
    assert not is_opt_in("Yes", opted_out=False)
    assert not is_opt_in("start looking in march", opted_out=True)


CHICAGO = ZoneInfo("America/Chicago")


def test_inside_the_window_a_proactive_message_may_go_now() -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
    assert next_allowed(now, CHICAGO, 8, 21) == now


def test_late_at_night_it_waits_for_eight_the_next_morning_local_time() -> None:
    now = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 22:30 on the 23rd in Chicago
    opens = next_allowed(now, CHICAGO, 8, 21)
    assert opens == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 08:00 CST on the 24th
    assert opens.astimezone(CHICAGO).hour == 8


def test_early_in_the_morning_it_waits_for_eight_the_same_day() -> None:
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 05:00 in Chicago
    assert next_allowed(now, CHICAGO, 8, 21) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_the_window_follows_daylight_saving_time() -> None:
    # 2026-03-08: US clocks spring forward. 01:00 CST → the opening is 08:00 CDT (13:00 UTC).
    now = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert next_allowed(now, CHICAGO, 8, 21) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_an_unknown_time_zone_falls_back_to_the_locations() -> None:
    assert zone("Mars/Olympus_Mons", "America/Chicago") == CHICAGO
    assert zone(None, "America/Denver") == ZoneInfo("America/Denver")
