"""Texting compliance: carrier opt-out / opt-in keywords and quiet hours.

* Opt-out: a message that is one of the carrier keywords, alone or with punctuation, in English
  (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) or Spanish (ALTO, PARAR, DETENER, CANCELAR,
  BAJA), or an unambiguous "stop texting me" / "ya no me escriba" / "deme de baja". The lead then
  gets no AI message, ever, until it opts back in. ALTO is the Spanish keyword US carriers ask
  Spanish-language programs to honour (CTIA short-code guidance, alongside AYUDA for help);
  the others are what Spanish speakers write when they mean it (para / detén / cancela /
  darse de baja). Accents and case do not matter ("Bája", "alto!").
* Opt-in: START or UNSTOP, or in Spanish INICIO, INICIAR, COMENZAR or REANUDAR; YES / SI / SÍ
  from a lead who opted out.
* Which language a keyword is in (:func:`opt_out_language`, :func:`opt_in_language`) decides
  the language of the confirmation.
* Quiet hours: proactive messages (we write first) only between ``start`` and ``end`` o'clock in
  the lead's time zone, else the location's; replies to a lead who just wrote are immediate.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # standard library only at run time, like sms.py
    from ghl_ai.conversation.model import Language

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
SPANISH_OPT_OUT_WORDS = frozenset({"ALTO", "PARAR", "DETENER", "CANCELAR", "BAJA"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
SPANISH_OPT_IN_WORDS = frozenset({"INICIO", "INICIAR", "COMENZAR", "REANUDAR"})
_KEYWORD = re.compile(r"^\W*([^\W\d_]+)\W*$")
_STOP_PHRASE = re.compile(
    r"^\W*(please\s+)?(stop|quit)\s+(texting|messaging|contacting|txting)\b", re.IGNORECASE
)
# Accents already stripped: "ya no me escriba(n) mas", "no me mandes mas mensajes", "deja de
# escribirme", "dejen de mandarme mensajes", "deme de baja", "quiero darme de baja".
_SPANISH_STOP_PHRASE = re.compile(
    r"^\W*(?:por\s+favor,?\s+)?(?:"
    r"(?:ya\s+)?no\s+me\s+(?:escrib|mand|envi|text)\w*\s+mas\b"
    r"|(?:deja|deje|dejen|dejar)\s+de\s+(?:escribir|mandar|enviar|textear)me\b"
    r"|(?:quiero\s+)?(?:deme|dame|denme|darme)\s+de\s+baja\b"
    r")",
    re.IGNORECASE,
)


def _plain(text: str) -> str:
    """Without accents: "Bája" reads as "Baja", "sí" as "si"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _keyword(text: str) -> str | None:
    match = _KEYWORD.match(_plain(text.strip()))
    return match.group(1).upper() if match else None


def opt_out_language(text: str) -> Language | None:
    """The language of an opt-out message ("en" / "es"), or None when it is not one."""
    word = _keyword(text)
    if word in OPT_OUT_WORDS or _STOP_PHRASE.match(text):
        return "en"
    if word in SPANISH_OPT_OUT_WORDS or _SPANISH_STOP_PHRASE.match(_plain(text)):
        return "es"
    return None


def is_opt_out(text: str) -> bool:
    return opt_out_language(text) is not None


def carrier_confirms(text: str) -> bool:
    """An English carrier keyword (STOP ...): the carrier / GHL confirms the opt-out itself.
    Other opt-outs (ALTO, "stop texting me", ...) are confirmed by us."""
    return _keyword(text) in OPT_OUT_WORDS


def opt_in_language(text: str, *, opted_out: bool) -> Language | None:
    """The language of an opt-in message, or None when it is not one. YES / SÍ count only
    from a lead who opted out (otherwise they answer a question)."""
    word = _keyword(text)
    if word in OPT_IN_WORDS or (opted_out and word == "YES"):
        return "en"
    if word in SPANISH_OPT_IN_WORDS or (opted_out and word == "SI"):
        return "es"
    return None


def is_opt_in(text: str, *, opted_out: bool) -> bool:
    return opt_in_language(text, opted_out=opted_out) is not None


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
