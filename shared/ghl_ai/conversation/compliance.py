"""Texting compliance: carrier opt-out / opt-in keywords and quiet hours.

* Opt-out: a message that is one of the carrier keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL,
  END, QUIT), alone or with punctuation, or an unambiguous "stop texting me". The lead then
  gets no AI message, ever, until it opts back in.
* Opt-in: START or UNSTOP (or YES from a lead who opted out).
* Quiet hours: proactive messages (we write first) only between ``start`` and ``end`` o'clock in
  the lead's time zone, else the location's; replies to a lead who just wrote are immediate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
_KEYWORD = re.compile(r"^\W*([A-Za-z]+)\W*$")
_STOP_PHRASE = re.compile(
    r"^\W*(please\s+)?(stop|quit)\s+(texting|messaging|contacting|txting)\b", re.IGNORECASE
)


def _keyword(text: str) -> str | None:
    match = _KEYWORD.match(text.strip())
    return match.group(1).upper() if match else None


def is_opt_out(text: str) -> bool:
    return _keyword(text) in OPT_OUT_WORDS or bool(_STOP_PHRASE.match(text))


def is_opt_in(text: str, *, opted_out: bool) -> bool:
    word = _keyword(text)
    return word in OPT_IN_WORDS or (opted_out and word == "YES")


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_allowed(now: datetime, tz: ZoneInfo, start_hour: int, end_hour: int) -> datetime:
    """``now`` if it lies in the quiet-hours-safe window [start, end) of the zone ``tz``, else
    the window's next opening (aware, UTC)."""
    local = now.astimezone(tz)
    if start_hour <= local.hour < end_hour:
        return now
    opening = local.replace(hour=start_hour, minute=0, second=0, microsecond=0)
    if local.hour >= end_hour:
        opening = (opening + timedelta(days=1)).replace(hour=start_hour)
    # Rebuild through the zone so a DST change between now and the opening is honoured.
    opening = datetime(opening.year, opening.month, opening.day, start_hour, tzinfo=tz)
    return opening.astimezone(UTC)
