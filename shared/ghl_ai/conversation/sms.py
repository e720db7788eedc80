"""Making a reply fit for a text message: plain text (no markdown), no emojis unless the tenant
allows them, at most 320 characters (two SMS segments) cut at a sentence or word boundary, and a
first message that says who is writing and how to opt out.

Both brains run their replies through :func:`sms_safe`; the first message to a lead also goes
through :func:`with_intro`, in the lead's language ("Hola, le escribe Jorge de Sunbelt Realty.
... Responda ALTO para no recibir más mensajes."). Standard library only: the intake Lambda
may import this module.

**Segments.** A text of GSM-7 characters travels in segments of 160 (153 each when split); one
character outside it (á, í, ó, ú, an emoji, a curly quote) makes the whole text UCS-2: 70 a
segment, 67 each when split. Spanish needs those accents, so a Spanish reply of 200 characters
costs three segments where an English one of the same length costs two: :func:`segments`
counts them, and the Spanish templates are written short for it (``wording.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghl_ai.conversation.model import Language, Persona

OPT_OUT_NOTICE = "Reply STOP to opt out."
#: The opt-out notice of a first message, per language. ALTO is the Spanish keyword carriers
#: ask Spanish-language programs to honour; the engine honours it (``compliance.py``).
OPT_OUT_NOTICES: dict[str, str] = {
    "en": OPT_OUT_NOTICE,
    "es": "Responda ALTO para no recibir más mensajes.",
}
SMS_LIMIT = 320

#: GSM 03.38: the basic set, and the extension set (each of those costs two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_ELLIPSIS = "..."
# Typography the model likes but GSM-7 does not have (one such character makes the whole text
# UCS-2, i.e. 70-character segments instead of 160).
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2032": "'",
        "\u2033": '"',
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u2026": "...",
        "\u2022": " ",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\u2060": "",
        "\ufeff": "",
    }
)
# Emoji and pictographs: the emoji blocks, dingbats and miscellaneous symbols, arrows-like
# pictographs, regional indicators (flags), skin tones, keycaps, variation selector 16 and the
# zero-width joiner that glues emoji sequences together.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"
    "\U0001fc00-\U0001fffd"
    "\u2300-\u23ff"
    "\u2460-\u24ff"
    "\u25a0-\u25ff"
    "\u2600-\u27bf"
    "\u2900-\u297f"
    "\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299"
    "\ufe0e\ufe0f\u20e3\u200d"
    "\U000e0020-\U000e007f"
    "]+"
)
# Text emoticons standing alone: :) :-) ;) :D :P <3 ...
_EMOTICON = re.compile(r"(?<!\S)(?:[:;=]-?[()DPp3*]|<3|\^_\^|xD|XD)(?!\S)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u25aa\u25cf\u2013]|\d{1,2}[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_UNDERSCORE_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,!?;:])(?=\s|$)")
_REPEATED_PUNCT = re.compile(r"([,;:])(?:\s*[,;:])+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Ave|Rd|Blvd|Ln|Jr|Sr|Inc|Co|vs|approx|No|Apt|Ste|Mt|Ft)|"
    r"\b(?:e\.g|i\.e|a\.m|p\.m)|\b[A-Z])\.$"
)
_OPT_OUT_SENTENCE = re.compile(
    r"\s*\(?\b(?:reply|text|send)\s+\"?STOP\"?\b[^.!?]*[.!?]?\)?", re.IGNORECASE
)
_GREETING = re.compile(
    r"^(?P<greeting>(?:hi|hello|hey|howdy|good\s+(?:morning|afternoon|evening))\b"
    r"[^.!?,\n]{0,30}?)(?P<punct>[!,.])\s+(?=\S)",
    re.IGNORECASE,
)
_SPANISH_OPT_OUT_SENTENCE = re.compile(
    r"\s*\(?(?:\bpara\s+(?:no\s+recibir|dejar\s+de\s+recibir|cancelar|darse\s+de\s+baja)"
    r"[^.!?,]*,\s*)?\b(?:responda|responde|conteste|contesta|env[ií]e|env[ií]a|escriba|"
    r"escribe|mande|manda|reply|text)\s+\"?(?:ALTO|STOP|BAJA)\"?\b[^.!?]*[.!?]?\)?",
    re.IGNORECASE,
)
_SPANISH_GREETING = re.compile(
    r"^(?P<greeting>¡?(?:hola|buen(?:os|as)?\s+(?:d[ií]as?|tardes|noches)|buenas)\b"
    r"[^.!?,\n]{0,30}?)(?P<punct>[!,.])\s+(?=\S)",
    re.IGNORECASE,
)


def sms_safe(text: str, *, allow_emojis: bool = False, limit: int = SMS_LIMIT) -> str:
    """Plain, short text for one SMS thread message.

    Collapses whitespace and line breaks, strips markdown (bold, italics, bullets, headings,
    links, code marks), removes emoji and pictographs unless ``allow_emojis``, normalises
    typography to plain ASCII punctuation and trims to ``limit`` characters: whole sentences
    when possible (keeping a closing question), else whole words followed by "...".
    Empty only when the input had nothing but markup, emoji or whitespace.
    """
    if not text:
        return ""
    text = _plain(text.translate(_TYPOGRAPHY))
    if not allow_emojis:
        text = _EMOTICON.sub(" ", _EMOJI.sub(" ", text))
    text = _tidy(text)
    if not re.search(r"\w", text):
        return ""
    return _trim(text, limit)


def with_intro(
    reply: str,
    persona: Persona,
    allow_emojis: bool | None = None,
    *,
    limit: int = SMS_LIMIT,
    language: Language = "en",
) -> str:
    """The first message to a lead: says who is writing ("This is {agent} with {brokerage}",
    "Le escribe {agent} de {brokerage}") unless the reply already names both the agent and the
    brokerage, and ends with the opt-out notice of ``language`` (:data:`OPT_OUT_NOTICES`).
    Stays within ``limit`` by shortening the reply, never the introduction or the notice.
    Idempotent: an introduced message is left as it is.

    Naming the agent alone is not an introduction: "I'll have Jorge call you" says neither who
    is writing nor for which brokerage."""
    emojis = persona.allow_emojis if allow_emojis is None else allow_emojis
    spanish = language == "es"
    notice = OPT_OUT_NOTICES["es" if spanish else "en"]
    opt_out = _SPANISH_OPT_OUT_SENTENCE if spanish else _OPT_OUT_SENTENCE
    body = sms_safe(opt_out.sub(" ", reply or ""), allow_emojis=emojis, limit=limit)
    agent = persona.agent_name.strip()
    brokerage = persona.brokerage.strip()
    named = all(
        re.search(rf"(?<!\w){re.escape(name)}(?!\w)", body, re.IGNORECASE)
        for name in (agent, brokerage)
        if name
    )
    prefix = ""
    if not named:
        link = "de" if spanish else "with"
        who = f"{agent} {link} {brokerage}".strip() if agent else brokerage
        greeting = (_SPANISH_GREETING if spanish else _GREETING).match(body)
        if greeting and spanish:
            prefix = f"¡{greeting['greeting'].lstrip('¡')}! Le escribe {who}."
        elif greeting:
            prefix = f"{greeting['greeting']}! This is {who}."
        elif spanish:
            prefix = f"Hola, le escribe {who}."
        else:
            prefix = f"Hi, this is {who}."
        if greeting:
            body = capitalised(body[greeting.end() :])
    fixed = len(prefix) + len(notice) + (2 if prefix else 1)
    body = sms_safe(body, allow_emojis=emojis, limit=max(limit - fixed, 0)) if body else ""
    return " ".join(part for part in (prefix, body, notice) if part)


def segments(text: str) -> int:
    """The SMS segments ``text`` is sent in: GSM-7 when every character is in the GSM sets
    (160 septets, 153 each when split; an extension character takes two), else UCS-2 (70
    UTF-16 code units, 67 each when split; an emoji outside the BMP takes two)."""
    if not text:
        return 0
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    return 1 if units <= single else -(-units // part)


def capitalised(text: str) -> str:
    """The first letter upper-cased, after an opening "¿" or "¡" ("¿para ...?" → "¿Para ...?")."""
    lead = len(text) - len(text.lstrip("¿¡"))
    return text[:lead] + text[lead : lead + 1].upper() + text[lead + 1 :]


# -- helpers ---------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Markdown to plain text, one line per source line (joined later)."""
    text = _LINK.sub(r"\1 (\2)", text)
    text = text.replace("`", "")
    lines: list[str] = []
    for raw in text.replace("\r", "\n").split("\n"):
        line = _QUOTE.sub("", raw)
        listed = bool(_HEADING.match(line) or _BULLET.match(line))
        line = _BULLET.sub("", _HEADING.sub("", line))
        if re.fullmatch(r"\s*(?:[-*_=]\s*){3,}", line):  # horizontal rule
            continue
        line = _BOLD.sub(r"\2", line)
        line = _ITALIC.sub(r"\1", line)
        line = _UNDERSCORE_ITALIC.sub(r"\1", line)
        line = line.replace("**", "").replace("__", "").strip()
        line = re.sub(r"^#+\s*", "", line)
        if not line:
            continue
        if listed and line[-1] not in ".!?:;,":
            line += "."  # list items and headings become sentences
        lines.append(line)
    return " ".join(lines)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.lstrip(".,;:!? ").strip() or text


def _sentences(text: str) -> list[str]:
    pieces = _SENTENCE_END.split(text)
    merged: list[str] = []
    for piece in pieces:
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [p for p in (s.strip() for s in merged) if p]


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    sentences = _sentences(text)
    closing = sentences[-1] if len(sentences) > 1 and sentences[-1].endswith("?") else None
    if closing is not None and len(closing) <= limit:
        # The question the reply ends with matters most: keep it, with what fits before it.
        kept = _fitting(sentences[:-1], limit - len(closing) - 1)
        return " ".join([*kept, closing])
    kept = _fitting(sentences, limit)
    if kept and len(" ".join(kept)) >= limit // 2:
        return " ".join(kept)
    return _cut_words(text, limit)


def _fitting(sentences: list[str], limit: int) -> list[str]:
    """The leading sentences whose joined length is at most ``limit``."""
    kept: list[str] = []
    size = -1
    for sentence in sentences:
        if size + 1 + len(sentence) > limit:
            break
        kept.append(sentence)
        size += 1 + len(sentence)
    return kept


def _cut_words(text: str, limit: int) -> str:
    """At most ``limit`` characters ending in "...", cut between words."""
    room = limit - len(_ELLIPSIS)
    if room <= 0:
        return text[:limit]
    cut = text[: room + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:room]
    cut = cut.rstrip(" ,;:-([{\"'")
    if not cut:
        return text[:room] + _ELLIPSIS
    return cut + _ELLIPSIS
