from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ghl_ai.conversation.compliance import is_opt_in, is_opt_out, next_allowed, zone
from ghl_ai.conversation.model import Persona
from ghl_ai.conversation.sms import OPT_OUT_NOTICE, with_intro

PERSONA = Persona(agent_name="Jorge", brokerage="Sunbelt Realty", market_area="Austin")


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


# -- the first message identifies the sender ------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "Of course. I'll have Jorge give you a call shortly.",
        "Jorge will reach out shortly to set up a time to talk.",
        "Jorge asked me to follow up. When are you hoping to move?",
        "Sunbelt Realty is happy to help. When are you hoping to move?",
    ],
)
def test_naming_the_agent_or_the_brokerage_alone_is_not_an_introduction(reply: str) -> None:
    out = with_intro(reply, PERSONA)
    assert out.startswith("Hi, this is Jorge with Sunbelt Realty. ")
    assert out.endswith(OPT_OUT_NOTICE)


@pytest.mark.parametrize(
    "reply",
    [
        "I'm an AI assistant helping Jorge with Sunbelt Realty. He can call you anytime.",
        "Hi Sam, this is Jorge's assistant at Sunbelt Realty. When are you hoping to move?",
    ],
)
def test_a_reply_naming_the_agent_and_the_brokerage_needs_no_second_introduction(
    reply: str,
) -> None:
    assert with_intro(reply, PERSONA) == f"{reply} {OPT_OUT_NOTICE}"


@pytest.mark.parametrize(
    "reply",
    [
        "Of course. I'll have Jorge give you a call shortly.",
        "Hi Sam, thanks for reaching out! When are you hoping to move?",
        "You're opted back in. Reply STOP at any time to opt out.",
        "Welcome aboard, happy to help. " * 15 + "When do you move?",
    ],
)
def test_introducing_twice_changes_nothing(reply: str) -> None:
    # The brains introduce a first message and the engine makes sure of it: both may run.
    once = with_intro(reply, PERSONA)
    assert with_intro(once, PERSONA) == once
    assert once.count("STOP") == 1
