"""Rule-based extraction of qualification facts from one inbound lead message, in English or
Spanish (and the mix of both many leads write).

:func:`extract` reads a single SMS and returns an :class:`~ghl_ai.conversation.model.Extraction`:
the lead's intent, the qualification answers it carries, three flags (asked for a person,
asked whether it is a bot, vague) and the message's language. Value shapes, as in ``model.py``:

==============  ===================================================================
budget          ``{"min": int | None, "max": int | None}`` in US dollars
area            ``str``: canonical spelling of a known area (also through an alias or a
                misspelling: ``places.py``), else as written; several areas are joined
                with ", " in the order the lead gave them
timeline        ``int``: days from ``today`` (ASAP → 30, "3 months" → 90)
pre_approval    ``"yes" | "no" | "in_progress" | "cash"``
bedrooms        ``int``: minimum bedrooms ("3 or 4 bedrooms" → 3, "3 recámaras" → 3)
bathrooms       ``float``: minimum bathrooms, halves allowed ("2.5 ba", "dos baños y medio")
property_type   ``"single_family" | "condo" | "townhouse" | "multi_family" | "land" |
                "manufactured"``
must_haves      ``list[str]``: short lower-case features in the order given ("pool", "big yard",
                "single story", "rv parking", "adu", "good schools", "acreage", ...)
address         ``str``: the street address as written (with unit, city, state, ZIP if given)
motivation      ``"relocating" | "downsizing" | "upsizing" | "financial" | "divorce" |
                "inherited" | "retiring" | "investment" | "other"``
condition       ``"move_in_ready" | "good" | "needs_work" | "fixer_upper"``
price           ``int``: the seller's price expectation in US dollars
readiness       ``"browsing" | "unhurried" | "value_curious"``
==============  ===================================================================

Numbers are read the way leads write them: spelled out in either language ("seven hundred
grand", "cuatrocientos cincuenta mil", "medio millón", "un millón doscientos") and in Spanish
conventions ("450 mil" is 450,000), and in the context of the question we asked (a bare "6"
after a budget question is 600,000). Street numbers, ZIP codes, years, square feet, phone
numbers, HOA fees, down payments, incomes and monthly payments never become a budget or a
price (a monthly amount is a budget only for a renter).

Confidence: ~0.9 for explicit matches, 0.6-0.7 for inferred ones (bare answers read through
``expecting``, ZIP codes, misspelled or unknown place names as areas). ``qualification.merge``
drops answers below 0.5, so nothing here goes lower than that. Standard library only (plus the
pydantic models), regexes compiled at import: this runs in a Lambda on every inbound message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from types import MappingProxyType

from ghl_ai.conversation.language import detect, fold
from ghl_ai.conversation.model import Answer, Extraction, FieldName, Intent, Language
from ghl_ai.conversation.places import Gazetteer, gazetteer

__all__ = ["extract"]

SURE = 0.9
LIKELY = 0.8
INFERRED = 0.65
WEAK = 0.6
#: Intent confidence for a guess: below 0.6 it only fills an unknown intent, never overrides one.
WEAK_INTENT = 0.5

_NUM_WORD = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_NUMBER_WORDS = {word: i for i, word in enumerate(_NUM_WORD.split("|"), 1)}
_NUMBER_WORDS |= {"a": 1, "an": 1, "couple": 2, "few": 3, "several": 4}
_NUMBER_WORDS |= {"un": 1, "una": 1, "par": 2, "unos": 3, "unas": 3, "algunos": 3, "pocos": 3}
_NO_ALIASES: Mapping[str, str] = MappingProxyType({})


def _as_int(word: str) -> int:
    word = word.strip().lower()
    if word.isdigit():
        return int(word)
    for key in ("couple", "few", "several", "par", "unos", "unas", "algunos", "pocos"):
        if key in word.split() or word == key:
            return _NUMBER_WORDS[key]
    return _NUMBER_WORDS[word.split()[0]]


def _words(text: str) -> list[str]:
    return text.split()


def _answer(value: object, confidence: float) -> Answer:
    return Answer(value=value, confidence=confidence, source="rules")


def _negated(text: str, start: int) -> bool:
    """A "no"/"not"/"don't want"/"sin"/"no queremos" just before ``start``."""
    return bool(_NEGATION.search(text[max(0, start - 28) : start]))


_NEGATION = re.compile(
    r"\b(?:no|not|don'?t|dont|never|without|isn'?t|aren'?t|sin|ni|nada de|tampoco)\b"
    r"(?:\s+(?:want|need|a|an|any|interested|in|looking|for|really|the|queremos|quiero|"
    r"necesitamos|necesito|ocupamos|ocupo|nos|me|interesa|importa|hace|falta|buscamos|busco|"
    r"una|un|la|el|tiene|que|tener|requiere|necesaria|necesario)\b)*\s*$"
)

# ----------------------------------------------------------------------------- text prep

_CHAR_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})
_PHONE = re.compile(
    r"(?:\+?1[-. ]?)?\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b|(?<![\d$,.])\b\d{10,11}\b(?![\d,.])|"
    r"(?<![\d$,.-])\b\d{3}[-.]\d{4}\b(?![\d-])"
)
#: "8350 Haven" (a house number before a street name without its suffix): not an amount.
_HOUSE_NUMBER = re.compile(
    r"(?<![\w$#.,/-])(?P<number>\d{3,6})\s+(?:[NSEW]\.?\s+)?(?P<word>[A-Z][a-z]{2,})\b"
)
_NOT_A_STREET = frozenset(
    _words(
        """
    bed beds bedroom bedrooms bath baths bathroom bathrooms car cars story stories acre acres
    month months year years week weeks day days max tops dollars sq square feet foot full half
    min minutes units people kids grand thousand million mil or to and recamaras recamara
    cuartos habitaciones banos bano meses anos semanas dias dolares pies mas hasta maximo for
    in at on with budget cash down per the range ish a an k obo firm
    """
    )
)


def _prepare(text: str) -> str:
    """Composed Unicode, typographic quotes and dashes, phone numbers blanked out. After
    this step every transformation keeps the length, so positions stay valid."""
    text = unicodedata.normalize("NFC", text).translate(_CHAR_MAP)
    return _PHONE.sub(lambda m: " " * len(m.group()), text)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _house_numbers(text: str, places: Gazetteer) -> str:
    """Blank the numbers that stand before a street name ("we're at 8350 Haven")."""
    spans = []
    for match in _HOUSE_NUMBER.finditer(text):
        word = fold(match.group("word").lower())
        if word in _NOT_A_STREET or _MONTH.fullmatch(word) or places.canonical(word):
            continue
        spans.append(match.span("number"))
    return _blank(text, spans) if spans else text


# ----------------------------------------------------------------------------- numbers in words

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "diez": 10, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
}  # fmt: skip
_SPANISH_HUNDREDS = {
    "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300, "cuatrocientos": 400,
    "quinientos": 500, "seiscientos": 600, "setecientos": 700, "ochocientos": 800,
    "novecientos": 900,
}  # fmt: skip
_SPANISH_HUNDREDS |= {k[:-2] + "as": v for k, v in _SPANISH_HUNDREDS.items() if k.endswith("os")}
_NUMBER_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*")
_RUN_GAP = re.compile(r"^[ \t-]*$")


@dataclass
class _Token:
    start: int
    end: int
    word: str
    kind: str  # digit unit teen tens hundreds hundred thousand million and half a point
    value: float = 0.0


def _number_tokens(low: str, language: Language | None) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _NUMBER_TOKEN.finditer(low):
        word = match.group()
        kind, value = "", 0.0
        if word[0].isdigit():
            if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", word):
                kind, value = "digit", float(word.replace(",", ""))
            elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", word):
                kind, value = "dotted", float(word.replace(".", ""))  # "1.200.000"
            elif re.fullmatch(r"\d+,\d{1,2}", word):
                kind, value = "decimal_comma", float(word.replace(",", "."))
        elif word in _UNITS:
            kind, value = "unit", _UNITS[word]
        elif word in _TEENS or (word == "once" and language == "es"):
            kind, value = "teen", _TEENS.get(word, 11)
        elif word in _TENS:
            kind, value = "tens", _TENS[word]
        elif word in _SPANISH_HUNDREDS:
            kind, value = "hundreds", _SPANISH_HUNDREDS[word]
        elif word == "hundred":
            kind = "hundred"
        elif word in ("thousand", "mil"):
            kind = "thousand"
        elif word in ("million", "millions", "millon", "millones"):
            kind = "million"
        elif word in ("and", "y"):
            kind = "and"
        elif word in ("half", "medio", "media"):
            kind = "half"
        elif word in ("a", "an", "un", "una"):
            kind = "a"
        elif word in ("point", "punto"):
            kind = "point"
        if kind:
            tokens.append(_Token(match.start(), match.end(), word, kind, value))
        else:
            tokens.append(_Token(match.start(), match.end(), word, "word"))
    return tokens


def _parse_number(
    tokens: list[_Token], i: int, low: str, language: Language | None
) -> tuple[float, bool, int] | None:
    """One number phrase starting at ``tokens[i]``: (value, has a thousand/million word, index
    after it), or None when no number starts there."""
    total = 0.0
    current: float | None = None
    last = ""
    magnitude = False
    million = False
    after_million = False
    j = i
    n = len(tokens)

    def next_kind(k: int) -> str:
        if k + 1 < n and _RUN_GAP.match(low[tokens[k].end : tokens[k + 1].start]):
            return tokens[k + 1].kind
        return ""

    while j < n:
        tok = tokens[j]
        if j > i and not _RUN_GAP.match(low[tokens[j - 1].end : tok.start]):
            break
        kind = tok.kind
        if kind in ("digit", "decimal_comma", "dotted"):
            if current is not None or last in ("digit", "unit", "teen", "tens", "hundreds"):
                break
            if kind == "decimal_comma" and next_kind(j) != "million":
                break
            current = tok.value
            magnitude = magnitude or kind == "dotted"
        elif kind == "unit":
            if current is None:
                current = tok.value
            elif last in ("tens", "hundred", "hundreds", "and_tens") and current % 10 == 0:
                current += tok.value
            else:
                break
        elif kind in ("teen", "tens"):
            if current is None:
                current = tok.value
            elif last in ("hundred", "hundreds") and current % 100 == 0:
                current += tok.value
            elif last == "unit" and not magnitude and total == 0 and current < 10:
                current = current * 100 + tok.value  # "four fifteen" = 415, "six fifty" = 650
            else:
                break
        elif kind == "hundreds":
            if current is not None:
                break
            current = tok.value
        elif kind == "hundred":
            if current is None and last != "a":
                break
            if current is not None and (current >= 100 or current != int(current)):
                break
            current = (current or 1) * 100
        elif kind in ("thousand", "million"):
            word_is_mil = tok.word == "mil"
            bare_mil = word_is_mil and language == "es" and last in ("", "thousand_done")
            if current is None and last not in ("a", "half") and not bare_mil:
                break  # "mil quinientos" (1,500) is Spanish; "thousand" alone is a word
            is_million = kind == "million"
            if word_is_mil:
                # "450 mil" is 450,000; "1.5 mil", an English "2 mil" or "a mil" a million.
                fraction = current is not None and current != int(current) and current < 10
                small = current is not None and current < 10 and language != "es"
                spoken = current is None and last in ("a", "half") and language != "es"
                is_million = fraction or small or spoken
                if current is None and last == "a" and language == "es":
                    break
            base = 0.5 if last == "half" else (current if current is not None else 1)
            if is_million:
                total += base * 1_000_000
                million = True
                after_million = True
            else:
                total += base * 1_000
                after_million = False
            current = None
            magnitude = True
            last = "thousand_done"
            j += 1
            continue
        elif kind == "and":
            following = next_kind(j)
            if following == "half" or (
                following == "a" and j + 2 < n and tokens[j + 2].kind == "half"
            ):
                pass
            elif following == "unit" and last == "tens":
                last = "and_tens"
                j += 1
                continue
            elif last in ("hundred",) and following in ("unit", "teen", "tens"):
                j += 1
                continue
            else:
                break
        elif kind == "half":
            if last in ("and", "a_after_and"):
                if current is not None:
                    current += 0.5
                elif after_million:
                    total += 500_000
                elif magnitude:
                    total += 500
                else:
                    break
                last = "half_done"
                j += 1
                continue
            if current is None and last == "" and next_kind(j) in ("a", "million", "thousand"):
                last = "half"
                j += 1
                if j < n and tokens[j].kind == "a":
                    j += 1
                continue
            break
        elif kind == "a":
            following = next_kind(j)
            if last == "and" and following == "half":
                last = "a_after_and"
                j += 1
                continue
            if current is None and last == "" and following in ("hundred", "thousand", "million"):
                last = "a"
                j += 1
                continue
            break
        elif kind == "point":
            if current is None or next_kind(j) != "unit" or current != int(current):
                break
            current += tokens[j + 1].value / 10
            last = "digit"
            j += 2
            continue
        else:
            break
        last = kind
        j += 1
    # A run must start with a number ("a", "half" and "and" alone are words).
    if (
        last in ("", "a", "half", "and", "and_tens", "a_after_and")
        and current is None
        and not total
    ):
        return None
    if current is not None and after_million:
        # "un millón doscientos" = 1,200,000; "a million two" = 1,200,000.
        total += current * (100_000 if current < 10 and language != "es" else 1_000)
        current = None
    total += current or 0
    while j > i and tokens[j - 1].kind in ("and", "a"):
        j -= 1  # a trailing "and" / "a" belongs to the words after the number
    if j == i:
        return None
    return total, magnitude or million, j


def _format_number(value: float, magnitude: bool) -> str:
    if value == int(value):
        return f"{int(value):,}" if magnitude else str(int(value))
    return f"{value:.2f}".rstrip("0")


_RANGE_JOIN = re.compile(r"^\s*(?:-|to|and|or|y|a|o|hasta)\s*$")


def _spell_numbers(low: str, language: Language | None) -> str:
    """Number words and Spanish magnitudes as digits: "seven hundred grand" → "700 grand",
    "cuatrocientos cincuenta mil" → "450,000", "450 mil" → "450,000", "tres recámaras" →
    "3 recamaras", "two and a half baths" → "2.5 baths", "entre 400 y 500 mil" → "entre
    400,000 y 500,000". The result is not aligned with ``low``: only the fields that read
    numbers use it."""
    if not re.search(r"\d|[a-z]{3,}", low):
        return low
    tokens = _number_tokens(low, language)
    pieces: list[tuple[int, int, float, bool]] = []  # start, end, value, magnitude
    i = 0
    while i < len(tokens):
        if tokens[i].kind == "word":
            i += 1
            continue
        parsed = _parse_number(tokens, i, low, language)
        if parsed is None:
            i += 1
            continue
        value, magnitude, j = parsed
        single = j == i + 1 and tokens[i].kind == "digit"
        if not single:
            pieces.append((tokens[i].start, tokens[j - 1].end, value, magnitude))
        else:
            pieces.append((tokens[i].start, tokens[i].end, value, False))
        i = j
    if not pieces:
        return low
    # "400 y 500 mil", "de 400 a 500 mil": the first end of a range shares the second's scale.
    for k, (first, second) in enumerate(pairwise(pieces)):
        if first[3] or not second[3] or not _RANGE_JOIN.match(low[first[1] : second[0]]):
            continue
        scale = 1_000_000 if second[2] >= 1_000_000 and first[2] < 100 else 1_000
        if first[2] * scale <= second[2] * 1.0001 or scale == 1_000_000:
            pieces[k] = (first[0], first[1], first[2] * scale, True)
    out: list[str] = []
    position = 0
    for start, end, value, magnitude in pieces:
        original = low[start:end]
        replaced = _format_number(value, magnitude)
        if original == replaced or (not magnitude and re.fullmatch(r"[\d.,]+", original)):
            continue
        out.append(low[position:start])
        out.append(replaced)
        position = end
    out.append(low[position:])
    return "".join(out)


# ----------------------------------------------------------------------------- address

_STREET_SUFFIX = (
    r"st|street|ave|avenue|av|rd|road|dr|drive|ln|lane|blvd|boulevard|ct|court|cir|circle|way|"
    r"pl|place|trl|trail|pkwy|parkway|hwy|highway|ter|terrace|loop|cv|cove|pass|path|bend|xing|"
    r"square|row|run|crossing|hollow|holw|route|rte"
)
_STOPWORDS = {
    "the", "on", "a", "an", "of", "to", "in", "my", "our", "is", "are", "we", "and", "or",
    "for", "with", "at", "by", "it", "its", "so", "but", "bed", "beds", "bath", "baths",
    "kids", "car", "months", "weeks", "years", "days", "bedroom", "bedrooms", "de", "en", "la",
    "el", "mi", "con", "y", "recamaras", "cuartos", "banos", "meses", "anos",
}  # fmt: skip
_ADDRESS = re.compile(
    r"(?<![\w$#.,/-])(?P<number>\d{1,6}[a-z]?)\s+"
    r"(?P<name>(?:(?:[nsew]\.?|north|south|east|west)\s+)?(?:[a-z0-9'.-]+\s+){0,3})"
    rf"(?P<suffix>{_STREET_SUFFIX})\b\.?"
    r"(?P<unit>\s*,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[\w-]+)?",
    re.IGNORECASE,
)
_CITY_AFTER_COMMA = re.compile(r"\s*,\s*(?P<city>[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,2})")
_STATE_ZIP = re.compile(
    r"(?:\s*,?\s*(?:TX|Texas|CA|California|[A-Z]{2})\b)?(?:\s*,?\s*\d{5}(?:-\d{4})?\b)?"
)
_BARE_ADDRESS = re.compile(
    r"^\s*(?:(?:it'?s|its|the (?:house|home|address|property) is|address is|es|la direcci[oó]n"
    r" es|mi casa (?:est[aá] en|es))\s+(?:at\s+|en\s+)?)?"
    r"(?P<addr>\d{1,6}\s+[a-z][a-z0-9 .'#-]*?)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def _address(
    text: str, areas: Sequence[str], expecting: FieldName | None
) -> tuple[Answer | None, tuple[int, int] | None]:
    """The seller's street address "123 Oak St[, Apt 2][, City][ TX][ 78704]" and its span."""
    for match in _ADDRESS.finditer(text):
        words = fold(match.group("name").lower()).split()
        if any(w in _STOPWORDS for w in words):
            continue
        end = match.end()
        end = _address_city_end(text, end, areas)
        tail = _STATE_ZIP.match(text, end)
        if tail and tail.group().strip():
            end = tail.end()
        value = text[match.start() : end].strip().rstrip(",.")
        return _answer(value, SURE), (match.start(), match.start() + len(value))
    if expecting == "address":
        bare = _BARE_ADDRESS.match(text)
        if bare:
            addr = bare.group("addr").strip()
            start = bare.start("addr")
            return _answer(addr, INFERRED), (start, start + len(addr))
    return None, None


def _address_city_end(text: str, end: int, areas: Sequence[str]) -> int:
    """Extend an address over a following city: a known area (with or without a comma) or
    capitalised words after a comma."""
    rest = text[end:]
    for area in sorted(areas, key=len, reverse=True):
        known = re.match(rf"\s*,?\s*{re.escape(area)}\b", rest, re.IGNORECASE)
        if known:
            return end + known.end()
    city = _CITY_AFTER_COMMA.match(rest)
    if city and city.group("city").split()[0].lower() not in _STOPWORDS:
        return end + city.end()
    return end


# ----------------------------------------------------------------------------- intent

_INTENT_BARE = re.compile(
    r"^\W*(?P<word>buy|buying|sell|selling|both|rent|renting|lease|leasing|invest|investing|"
    r"comprar|compra|vender|venta|ambos|ambas|las dos|los dos|rentar|renta|alquilar|invertir)\b"
    r"(?:\s+(?:actually|please|lol|for sure|probably|i think|por favor|creo|cosas))?\W*$"
)
_BARE_INTENTS: dict[str, Intent] = {
    "buy": "buy", "buyi": "buy", "sell": "sell", "both": "both", "rent": "rent", "leas": "rent",
    "inve": "invest", "comp": "buy", "vend": "sell", "vent": "sell", "ambo": "both",
    "amba": "both", "las ": "both", "los ": "both", "alqu": "rent",
}  # fmt: skip
_BOTH_WORD = re.compile(
    r"^\W*both\b|\b(?:do|doing|want|need|looking to do)\s+both\b|^\W*(?:ambos|ambas|las dos "
    r"cosas)\b|\bvender\s+(?:\w+\s+){0,3}?y\s+(?:\w+\s+){0,2}?comprar\b|"
    r"\bcomprar\s+(?:\w+\s+){0,3}?y\s+(?:\w+\s+){0,2}?vender\b"
)
_NOT_ACTION = re.compile(
    r"\b(?:instead of|not|no longer|don'?t want to)\s+(?:\w+\s+)?(?=\w+ing\b)|"
    r"\b(?:no|ya no|todavia no|aun no|en vez de|en lugar de)\s+(?:\w+\s+){0,2}?"
    r"(?=(?:vender|comprar|rentar|vendiendo|comprando|rentando|vendemos|vendo)\b)"
)
_SELL = re.compile(
    r"\bsell(?:ing)?\b|\blist(?:ing)?\s+(?:my|our|the|it|in|this)\b|\bput\s+(?:\w+\s+){0,2}on the"
    r" market\b|"
    r"(?<!se )\bvend(?:er|erla|erlo|o|emos|iendo|amos|eriamos|eria)\b|"
    r"\bponer\s+(?:\w+\s+){0,3}?(?:a la|en)\s+venta\b|\blistar\s+(?:mi|nuestra|la)\b"
)
_BUY = re.compile(
    r"\bbuy(?:ing)?\b|\bpurchas(?:e|ing)\b|\b(?:first[- ]time|home|cash)\s+(?:home\s*)?buyers?\b|"
    r"\bi'?m a buyer\b|"
    r"\b(?:looking|lookin|searching|shopping|hunting)\s+(?:for|at|in|around|near)\b"
    r"(?!\s+(?:a |an )?(?:agent|realtor|investment|investor|rental|place to (?:rent|lease)))|"
    r"\bhouse hunting\b|\bin the market for\b|\bgastar\b|"
    r"\b(?:make|making|put in|submit|write|writing)\s+(?:an?\s+)?(?:\w+\s+)?offer\b|"
    r"\bcash offer\b|"
    r"\b(?:our|a|my)\s+(?:\$?\d+k?\s+)?budget\b|\bspend\b|"
    r"\b(?:want|need)\s+(?:a|an)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:home|house|condo|town\s?(?:house|home))\b(?!\s+office)|"
    r"\bcompr(?:ar|arla|arlo|ando|aremos|ariamos|aria)\b|"
    r"\bbusc(?:o|amos|ando|ar)\b(?!\s+(?:un |una |a )?(?:agente|realtor|corredor|persona|"
    r"alguien|comprador|rentar|alquilar|renta|inversion))|"
    r"\b(?:primera|nuestra|mi)\s+(?:primera\s+)?casa propia\b|\bprimera casa\b|"
    r"\bcompradore?s?\b|\bnuestro presupuesto\b|"
    r"\b(?:queremos|quiero|necesitamos|necesito|quisieramos)\s+(?:una|un)\s+(?:\w+\s+){0,2}?"
    r"(?:casa|condo|condominio|townhouse|hogar)\b"
)
_BUY_WEAK = re.compile(
    r"\bstill available\b|\bsee (?:it|the house|the home|homes|houses)\b|\btour\b|\bshowing\b|"
    r"\blistings?\b|\bdo you have (?:any|anything)\b|\bsigue disponible\b|"
    r"^\W*anything (?:in|near|around|under)\b|\bany (?:homes|houses|listings)\b|"
    r"\btodavia (?:esta )?disponible\b|\bver (?:la|esa|esta) casa\b|\bcita para ver\b|"
    r"\b(?:tiene|tienen|hay) (?:algo|casas|alguna casa)\b|\bme interesa (?:la|esa|esta) casa\b|"
    r"\bdown payment\b|\benganche\b"
)
_RENT = re.compile(
    r"\b(?:looking|want(?:ing)?|need|like|going|decided|plan(?:ning)?|trying|hoping)\s+to\s+"
    r"(?:\w+\s+)?(?:rent|lease)\b|\bfor rent\b|\bplace to (?:rent|lease)\b|\bhelp with rentals\b|"
    r"\b(?:rent|lease)\s+(?:a|an|for now|instead|month)\b|\brenting (?:for now|instead)\b|"
    r"\bapartment\b.*\brent\b|\brent(?:al)?s?\?|"
    r"\b(?:quiero|queremos|busco|buscamos|buscando|necesito|necesitamos|prefiero|preferimos|"
    r"pensamos|planeamos|vamos a)\s+(?:\w+\s+)?(?:rentar|alquilar)\b|"
    r"\b(?:casa|algo|departamento|depa|apartamento|cuarto|lugar)\s+(?:\w+\s+)?(?:en|de|para)\s+"
    r"(?:renta|rentar|alquiler|alquilar)\b"
)
_INVEST = re.compile(
    r"\binvest(?:ment|ing|or)?s?\b|\brental propert(?:y|ies)\b|\bincome propert(?:y|ies)\b|"
    r"\bcash[- ]?flow\w*|\bflip(?:ping)?\b|\bairbnb\b|\binver(?:tir|sion|siones|sionista)\w*|"
    r"\bcomprar\s+(?:\w+\s+){0,4}?para rentarl[ao]s?\b"
)


def _intent(low: str) -> tuple[Intent | None, float]:
    """buy / sell / both / rent / invest from explicit phrases; (None, 0) when not stated."""
    bare = _INTENT_BARE.match(low)
    if bare:
        return _BARE_INTENTS.get(bare.group("word")[:4], "rent"), SURE
    if _BOTH_WORD.search(low):
        return "both", SURE
    cleaned = _NOT_ACTION.sub(" ~", low)
    cleaned = re.sub(r"~\w+", " ", cleaned)
    sell = bool(_SELL.search(cleaned))
    buy = bool(_BUY.search(cleaned))
    if sell and buy:
        return "both", LIKELY
    if _INVEST.search(cleaned) and not sell:
        return "invest", LIKELY
    if _RENT.search(cleaned) and not sell:
        return "rent", LIKELY
    if sell:
        return "sell", LIKELY
    if buy:
        return "buy", LIKELY
    if _BUY_WEAK.search(cleaned):
        return "buy", WEAK_INTENT
    return None, 0.0


# ----------------------------------------------------------------------------- money


@dataclass
class _Amount:
    start: int
    end: int
    value: int
    explicit: bool  # $, k/m suffix, commas or a large number: money without any context
    monthly: bool
    bound: str | None = None  # "min" | "max" (from the words around it or a range)
    role: str | None = None  # "budget" | "price"
    price_cue: bool = False
    hope_cue: bool = False  # "hoping for", "want", "we'd like": a price if the lead sells
    partner: _Amount | None = None  # the first amount of the range this one closes


_SCALE = r"k|m|mm|mil|million|millones|millon|thousand|grand"
_MONEY = re.compile(
    r"(?<![\w#/.$])(?P<dollar>\$\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?:\s?(?P<suffix>{_SCALE})\b)?(?:ish\b)?"
    r"(?!\d|,\d|\.\d|/\d)",
    re.IGNORECASE,
)
_HUNDREDS = re.compile(r"\bin the (?:low |mid |high |upper |lower )?\$?(\d{1,2})00s\b")
#: Units after a number that make it anything but money.
_NOT_MONEY_AFTER = re.compile(
    r"^\s*-?\s*(?:\+\s*)?(?:bed|bd|br|bath|ba\b|bedroom|room|month|mo\b|week|wk|year|yr|day|car|"
    r"kid|child|acre|sq|ft|foot|feet|stor|min\b|minute|hour|hr|am\b|pm\b|st\b|nd\b|rd\b|th\b|%|"
    r"percent|unit|people|dog|cat|or \d+\s*(?:bed|br|bd)|/\d|s\b|'s\b|"
    r"rec\b|recs\b|recamara|cuarto|habitacion|dormitorio|bano|mes\b|meses|semana|ano\b|anos\b|"
    r"dia\b|dias\b|pie\b|pies\b|metro|carro|nino|hijo|personas|perro|piso|planta|unidad|"
    r"minuto|hora|millas|miles\b|credit|score|de credito|puntos|points|sf\b|sqft|square|"
    r"(?:sq\.? ?ft\.? )?lot\b|lote\b|"
    r"(?:de la |del )?(?:calle|avenida|av\b|ave\b|blvd|boulevard|street|road|drive|lane|way\b|"
    r"court|circle|camino)\b)",
    re.IGNORECASE,
)
#: Amounts that are something else than what a home costs: down payments, savings, incomes,
#: fees, taxes, equity, what is owed.
_NOT_PRICE_AFTER = re.compile(
    r"^\s*(?:(?:for |as |of |de |para )?(?:the |a |el |la )?down(?:\s*payment)?\b|"
    r"(?:de |para (?:el )?)?enganche\b|(?:in |de )?(?:savings|ahorros?)\b|saved\b|ahorrad|"
    r"(?:a|per|each|every|al|por) (?:year|yr|ano)\b|/\s*(?:yr|year|ano)\b|annual|anual|"
    r"(?:in |de |of )?(?:hoa|equity|taxes|tax|closing costs?|deposit|deposito|income|"
    r"salary|ingresos?)\b|left on|owed|on the (?:mortgage|loan)|de deuda)",
    re.IGNORECASE,
)
#: Fees talked about before an amount ("HOA can't be more than 250", "la cuota del HOA no
#: puede pasar de 200").
_FEE_BEFORE = re.compile(
    r"\b(?:hoa|cuota|mantenimiento|mello[- ]roos|insurance|seguro|property tax(?:es)?|impuestos)"
    r"\b[^,.;\d]{0,26}$"
)
_NOT_PRICE_BEFORE = re.compile(
    r"(?:\bhoa\b|\bhoa (?:fee|fees|dues)\b|\bcuota\b|\bmantenimiento\b|\bdown payment\b|"
    r"\benganche\b|\bincome\b|\bsalary\b|\bingresos?\b|\b(?:we|i) (?:make|earn)\b|\bmaking\b|"
    r"\bganamos\b|\bgano\b|\bcredit(?: score)?\b|\bscore\b|\btax(?:es)?\b|\bimpuestos\b|"
    r"\bowe\b|\bdebemos\b|\bdebo\b|\b(?:we|i) pay\b|\b(?:we'?re|i'?m|currently|now) paying\b|"
    r"\bpay(?:ing)? (?:right now|currently|now)\b|\bpagamos\b|\bpago\b|\bpagando\b|"
    r"\brent is\b|\brenta es\b|\bmortgage(?: payment)? is\b|\b(?:our|my) (?:rent|mortgage|"
    r"payment)\b|\bnuestra renta\b|\bel pago\b|\bdeposit\b|\bsaved\b|\bahorrado\b|"
    r"\bequity\b|\b(?:house |street |address )?(?:number|numero|no\.|apt\.?|unit|suite|ste|"
    r"lot|space|zip(?: code)?|codigo postal)\b|#)"
    r"[^,.;\d]{0,10}$",
    re.IGNORECASE,
)
#: "bought for 480", "compramos en 2015 por 380", "we sold our last house for 530": the lead's
#: own history, not a price or a budget ("the neighbor sold for 610k" is a comparable, though).
_PAST_PRICE_BEFORE = re.compile(
    r"(?:\b(?:bought|purchased|paid|got it|compramos|compre|pagamos|vendimos|vendi)|"
    r"\b(?:we|i|we'?ve|i'?ve|we'?d|i'?d)\s+(?:\w+\s+)?sold|\bsold (?:our|my)\b)"
    r"\b[^,.;]{0,26}?\b(?:for|at|por|en)\s*(?:about |around |like |unos |como )?\$?\s*$"
)
_MONTHLY_AFTER = re.compile(
    r"^\s*(?:/\s*mo\b|/\s*month|/\s*mes\b|a month|per month|monthly|a mo\b|per mo\b|"
    r"(?:al|por|cada|x) mes\b|mensual(?:es)?|(?:in|de|of|for|en) (?:rent|renta|alquiler)\b)"
)
_MONEY_CUE_BEFORE = re.compile(
    r"(?:under|up to|upto|max(?:imum)?|budget(?: is| of)?|around|about|approx\.?|approximately|"
    r"between|at least|no more than|less than|below|over|above|spend|afford|for|get|worth|asking|"
    r"list(?:ed)? (?:it )?(?:for|at)|like|is|min(?:imum)?|from|and|to|"
    r"hasta|maximo|minimo|presupuesto(?: es| de)?|como|unos|alrededor de|entre|menos de|mas de|"
    r"arriba de|por|gastar|pagar|calificamos para|aprobad[oa]s? (?:por|para|hasta)|y|"
    r"mas o menos|cerca de)\s*(?:about |around |like |unos |como |de )?\$?\s*$"
)
_MONEY_CUE_AFTER = re.compile(
    r"^\s*(?:k\b|tops|max|budget|ceiling|or less|or under|firm|ish|maximo|como maximo|"
    r"mas o menos|dolares|dollars)"
)
_MIN_CUE = re.compile(
    r"(?:at least|minimum|min|no less than|starting at|(?<!no )more than|over|above|from|"
    r"al menos|por lo menos|minimo|(?<!no )mas de|arriba de|desde|a partir de)"
    r"\s*\$?\s*$"
)
_PRICE_CUE_BEFORE = re.compile(
    r"\b(?:get|list(?:ed|ing)?(?: it)?(?: for| at)?|worth|asking|sell(?:ing)?(?: it)? for|"
    r"price(?! range)(?: is| of)?|offers?|net|walk away with|"
    r"vender(?:la|lo)?(?: en| por)|venderla|pedir|pedimos|pido|sacar|sacarle|vale|valdria|"
    r"precio(?! de compra)(?: de| es)?|listar(?:la|lo)?(?: en| por)?|ofrecen|ofrecieron|"
    r"nos dan|nos darian|me dan)\b(?![^,.;]*\b(?:hasta|up to|under|below|max|menos de|no mas de|"
    r"range|rango|tops)\b)[^,.;]{0,14}$"
)
#: What the lead hopes or wants to get, right before the amount: a sale price when the lead
#: sells (or sells and buys), a budget otherwise ("hoping for 600k", "we'd like around 650").
_HOPE_CUE_BEFORE = re.compile(
    r"\b(?:hop(?:e|ing)|hopefully|want(?:ing|ed)?|(?:would|'d)\s+like|like to|need(?:ing)?|"
    r"expect(?:ing)?|looking|thinking|aiming|ideally|espero|esperamos|quisiera|quisieramos|"
    r"queremos|quiero|nos gustaria|me gustaria|pensamos|pensando|ojala)"
    r"(?:\s+(?:to\s+(?:get|see|net|ask|list(?:\s+it)?|sell(?:\s+it)?)(?:\s+(?:for|at))?|for|at|"
    r"en|por|sacar|pedir|unos|como))?"
    r"(?:\s+(?:at least|around|about|close to|something like|like|roughly|maybe|over|north of|"
    r"unos|como|alrededor de|al menos))?"
    r"\s*$"
)
_PRICE_CUE_AFTER = re.compile(
    r"^[^,.;]{0,4}\b(?:for (?:it|ours|the (?:house|home|place)|my (?:house|home|place)|our "
    r"(?:house|home|place))|firm|obo|or best offer|would make us happy|por (?:ella|la casa|"
    r"mi casa|nuestra casa))\b"
)
_BUDGET_CUE = re.compile(
    r"\b(?:budget|spend|afford|approv\w*|qualif\w*|lender|looking|next (?:one|1)|buy\w*|under|"
    r"up to|"
    r"range|presupuesto|gastar|aprobad\w*|calific\w*|prestamista|busc\w*|compr\w*|hasta|rango|"
    r"menos de)\b"
)
_RANGE_TO_SCALED = re.compile(rf"^\s*(?:-|to|and|y|a)\s*\$?\d[\d,.]*\s?(?P<suffix>{_SCALE})\b")
_RANGE_GAP = re.compile(r"^\s*(?:-|to|and|or|y|a|o|hasta)\s*$")
#: A bare short answer to "what's your budget?" / "what price?": "6", "6.5", "1.2", "6-7".
_BARE_SHORT_AMOUNT = re.compile(
    r"\W*(?:(?:like|around|about|maybe|prob(?:ably)?|um+|uh+|approx\.?|como|unos|mas o menos|"
    r"alrededor de|hasta|max|up to|under|menos de|i'?d say|i think|creo que)\s+)*"
    r"\$?(?P<a>\d(?:\.\d{1,2})?)(?:\s*(?:-|to|a|or|o)\s*\$?(?P<b>\d(?:\.\d{1,2})?))?"
    r"\s*(?:ish|tops|max|maybe|or so|mas o menos|\?)*\W*"
)


#: "we can afford 2,800 a month", "podemos pagar 3 mil al mes": a mortgage payment.
_PAYMENT_WORDS = re.compile(r"\b(?:afford|pay|paying|payment|pagar|pago|pagos|mortgage|hipoteca)\b")


def _short_scale(raw: float) -> int:
    """A one-digit budget is hundreds of thousands, or millions from 1 to 2 ("6" → 600,000,
    "6.5" → 650,000, "1.2" → 1,200,000)."""
    return round(raw * (1_000_000 if raw < 2 else 100_000))


def _amounts(low: str, expecting: FieldName | None, renter: bool) -> list[_Amount]:
    """Dollar amounts with their bound (min/max), after dropping numbers that are bedrooms,
    durations, years, house numbers, ZIPs, ordinals, fees, incomes..."""
    found: list[_Amount] = []
    money_context = expecting in ("budget", "price")
    if money_context:
        short = _BARE_SHORT_AMOUNT.fullmatch(low)
        if short:
            first = _short_scale(float(short.group("a")))
            amount = _Amount(short.start("a"), short.end("a"), first, False, False)
            found.append(amount)
            if short.group("b"):
                second = _Amount(short.start("b"), short.end("b"), 0, False, False)
                second.value = _short_scale(float(short.group("b")))
                if float(short.group("b")) >= 2 > float(short.group("a")):
                    second.value = round(float(short.group("b")) * 1_000_000)
                amount.bound, second.bound = "min", "max"
                second.partner = amount
                found.append(second)
            return found
    for match in _MONEY.finditer(low):
        num_text = match.group("num").replace(",", "")
        raw = float(num_text)
        dollar = bool(match.group("dollar"))
        suffix = (match.group("suffix") or "").lower()
        after = low[match.end() : match.end() + 24]
        before = low[max(0, match.start() - 28) : match.start()]
        if not dollar and _NOT_MONEY_AFTER.match(after):
            continue
        if _NOT_PRICE_AFTER.match(after) or _NOT_PRICE_BEFORE.search(before):
            continue
        if _FEE_BEFORE.search(low[max(0, match.start() - 34) : match.start()]):
            continue
        if _PAST_PRICE_BEFORE.search(low[max(0, match.start() - 40) : match.start()]):
            continue
        scaled_range = _RANGE_TO_SCALED.match(after)
        if scaled_range and not suffix:
            suffix = scaled_range.group("suffix").lower()  # "400-500k", "1.2 to 1.5M"
        monthly = bool(_MONTHLY_AFTER.match(after))
        plain_digits = not suffix and not dollar and "," not in match.group("num")
        if plain_digits and "." not in num_text and len(num_text) == 4 and 1900 <= raw <= 2100:
            continue  # a year
        if plain_digits and len(num_text) == 5:
            continue  # a ZIP code
        if suffix in ("k", "thousand", "grand"):
            value = raw * 1_000
        elif suffix in ("m", "mm", "mil", "million", "millones", "millon"):
            value = raw * 1_000_000
        elif plain_digits and renter and 300 <= raw < 20_000:
            value, monthly = raw, True  # a renter's "2500" is a month's rent
        elif raw < 10_000 and not monthly:
            value = raw * 1_000  # "450" in a budget/price context means thousands
        else:
            value = raw
        explicit = dollar or bool(suffix) or "," in match.group("num") or raw >= 10_000
        cue = bool(
            _MONEY_CUE_BEFORE.search(before)
            or _MONEY_CUE_AFTER.match(after)
            or _PRICE_CUE_AFTER.match(low[match.end() :])
        )
        if not explicit and not money_context and not cue:
            continue
        if not explicit and raw < 50 and not monthly:
            continue  # "3", "12": not a price in thousands
        if not monthly and value < 20_000:
            if not renter:
                continue  # "5,000": a deposit, a fee, anything but a home's price
            monthly = True
        amount = _Amount(match.start(), match.end(), round(value), explicit, monthly)
        amount.price_cue = bool(
            _PRICE_CUE_BEFORE.search(before) or _PRICE_CUE_AFTER.match(low[match.end() :])
        )
        amount.hope_cue = bool(_HOPE_CUE_BEFORE.search(before))
        if _MIN_CUE.search(before):
            amount.bound = "min"
        found.append(amount)
    _pair_ranges(found, low)
    return found


def _pair_ranges(found: list[_Amount], low: str) -> None:
    """ "400-500k", "between 400 and 500", "350 to 375", "entre 400 y 500 mil": the first is
    the min, the second the max, and both play the same part (budget or price)."""
    for first, second in pairwise(found):
        gap = low[first.end : second.start]
        if not _RANGE_GAP.match(gap):
            continue
        word = gap.strip()
        before = low[max(0, first.start - 12) : first.start]
        if word in ("and", "y") and not re.search(r"\b(?:between|entre)\b", before):
            continue
        if word == "a" and not re.search(r"\b(?:de|desde|entre)\s*\$?\s*$", before):
            continue
        if word in ("or", "o") and not (first.explicit and second.explicit):
            continue
        first.bound, second.bound = "min", "max"
        first.price_cue = second.price_cue = first.price_cue or second.price_cue
        second.partner = first


def _money(
    low: str, expecting: FieldName | None, intent: Intent | None, lead_intent: Intent | None
) -> tuple[Answer | None, Answer | None, bool]:
    """(budget, price, price_was_cued). Budget ``{"min", "max"}``; price int. ``intent`` is the
    message's, ``lead_intent`` the one known before it: a seller's hoped-for amount is its price
    whatever we asked last, a buyer's its budget. A monthly amount is only a renter's budget."""
    sells = intent in ("sell", "both") or (intent is None and lead_intent in ("sell", "both"))
    renter = intent == "rent" or (intent is None and lead_intent == "rent")
    owner_or_buyer = (intent or lead_intent) in ("buy", "sell", "both", "invest")
    budget_amounts: list[_Amount] = []
    price_amounts: list[_Amount] = []
    hundreds = _HUNDREDS.search(low)
    if hundreds:
        base = int(hundreds.group(1)) * 100_000
        span = (hundreds.start(), hundreds.end())
        low = _blank(low, [span])
        budget_amounts.extend(
            [
                _Amount(span[0], span[1], base, True, False, "min"),
                _Amount(span[0], span[1], base + 100_000, True, False, "max"),
            ]
        )
    payment = bool(_PAYMENT_WORDS.search(low))
    for amount in _amounts(low, expecting, renter):
        cap = expecting == "budget" and not owner_or_buyer and not payment
        if amount.monthly and not (renter or cap):
            continue  # a payment, a current rent: not what the home costs
        window = low[max(0, amount.start - 30) : amount.end + 20]
        if amount.monthly:
            amount.role = "budget"
        elif amount.price_cue or (amount.hope_cue and sells and expecting != "budget"):
            amount.role = "price"
        elif _BUDGET_CUE.search(window) and expecting != "price":
            amount.role = "budget"
        elif expecting in ("price", "budget"):
            amount.role = expecting
        elif (intent or lead_intent) == "sell":
            amount.role = "price"
        else:
            amount.role = "budget"
        if amount.partner is not None:
            amount.role = amount.partner.role  # both ends of a range play the same part
        (price_amounts if amount.role == "price" else budget_amounts).append(amount)

    budget = None
    if budget_amounts:
        low_bound = next((a for a in budget_amounts if a.bound == "min"), None)
        high_bound = next((a for a in budget_amounts if a.bound != "min"), None)
        value = {
            "min": low_bound.value if low_bound else None,
            "max": high_bound.value if high_bound else None,
        }
        # "$450k" is a budget; a bare "450" only is one because of the question or a cue.
        explicit = any(a.explicit for a in budget_amounts)
        budget = _answer(value, SURE if explicit else INFERRED)
    price = None
    cued = False
    if price_amounts:
        cued_amounts = [a for a in price_amounts if a.price_cue]
        chosen = cued_amounts[-1] if cued_amounts else price_amounts[-1]
        cued = bool(cued_amounts)
        price = _answer(chosen.value, SURE if chosen.explicit else INFERRED)
    return budget, price, cued


# ----------------------------------------------------------------------------- timeline

_ASAP = re.compile(
    r"\b(?:asap|a\.s\.a\.p|as soon as (?:possible|we can|i can)|right away|immediately|"
    r"urgent(?:ly)?|(?:move|moving|buy|buying|sell|selling|ready)\s+(?:right\s+)?now"
    r"|(?:sell|move|moving|buy|close|out|sold)\w*\s+(?:\w+\s+)?(?:fast|quick(?:ly)?)|"
    r"(?:vender|vendo|venderla|mudarnos|mudarme|comprar|salir)\w*\s+(?:\w+\s+){0,2}?"
    r"(?:rapido|pronto|ya)|"
    r"lo (?:mas )?(?:antes|pronto|rapido) posible|cuanto antes|de inmediato|inmediatamente|"
    r"urgente(?:mente)?|ya mismo|ahora mismo|lo mas pronto|lo antes que se pueda)\b"
)
_DURATION = re.compile(
    rf"\b(?P<n>\d+(?:\.\d+)?|{_NUM_WORD}|an?|a couple(?: of)?|couple(?: of)?|a few|few|several|"
    r"un par de|par de|unos cuantos|unas cuantas|unos|unas|algunos|pocos|un|una)"
    rf"(?:\s*(?:-|to|or|a|o)\s*(?P<n2>\d+(?:\.\d+)?|{_NUM_WORD}))?\s*"
    r"(?P<unit>day|week|wk|month|mo|year|yr|mes|semana|ano|dia)(?:s|es)?\b"
)
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "month": 30, "mo": 30, "year": 365, "yr": 365}
_UNIT_DAYS |= {"mes": 30, "semana": 7, "ano": 365, "dia": 1}
_DURATION_PAST_BEFORE = re.compile(
    r"(?:\b(?:for|been|owned|lived|last|past)\s+(?:the\s+)?(?:last\s+|past\s+)?|\d\s*k?\s*|"
    r"\b(?:hace|llevamos|llevo|tenemos|tengo|vivimos|vivo|durante|tiene|tienen|ultimos?|"
    r"pasados?|desde hace)\s+(?:mas de\s+|como\s+|unos\s+)?)$"
)
_DURATION_PAST_AFTER = re.compile(r"^\s*(?:ago\b|-?\s*old\b|de antiguedad|de edad|atras\b)")
_NEXT_YEAR = re.compile(
    r"\b(?:next|within (?:the|a)|this coming|in a|in one)\s+year\b|"
    r"\b(?:el|para el|en el|del|a principios del|a finales del)\s+(?:proximo|siguiente|otro)\s+"
    r"ano\b|\bel ano (?:que viene|entrante)"
    r"\b|\bdentro de un ano\b"
)
_YEAR_END = re.compile(
    r"\b(?:end of (?:the )?year|year[- ]end|end of \d{4}|(?:by|before) (?:the )?new year|"
    r"(?:fin|finales|final) del? ano|fin de ano)\b"
)
_NEXT_MONTH = re.compile(
    r"\b(?:next|within a|within the)\s+month\b|\bel (?:proximo|siguiente) mes\b|"
    r"\bel mes (?:que viene|entrante)\b"
)
_SEASON = re.compile(
    r"(?:\b(?:this|next|by|in|the|until|before|around|prob|probably|early|late|mid|el|la|este|"
    r"esta|proximo|proxima|para el|para la|en el|en la|antes del?|a principios de|a finales de|"
    r"para)\s+)?"
    r"\b(?P<season>spring|summer|fall|autumn|winter|primavera|verano|otono|invierno)\b"
)
_SEASON_START = {"spring": (3, 20), "summer": (6, 21), "fall": (9, 22), "autumn": (9, 22)}
_SEASON_START |= {"winter": (12, 21), "primavera": (3, 20), "verano": (6, 21)}
_SEASON_START |= {"otono": (9, 22), "invierno": (12, 21)}
_MONTH_ABBREVIATIONS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTHS = {m: i for i, m in enumerate(_MONTH_ABBREVIATIONS.split("|"), 1)}
_SPANISH_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
}  # fmt: skip
_MONTH = re.compile(
    r"\b(?P<cue>(?:by|in|until|before|after|early|late|mid|end of|beginning of|around|next|"
    r"para|en|antes de|despues de|a principios de|a finales de|a mediados de|hasta|"
    r"a fines de)\s+)?(?:el\s+)?(?:(?P<day_es>\d{1,2})\s+de\s+)?"
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|"
    r"junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)\b\.?"
    r"(?:\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b)?(?:,?\s+(?:de\s+)?(?P<year>\d{4}))?"
)
_PAST_CONTEXT = re.compile(
    r"\b(?:passed|died|ago|last|bought|since|renovated|remodeled|was|were|did|built|moved in|"
    r"hace|pasado|pasada|compramos|compre|desde|fue|fueron|remodelamos|nos mudamos|murio|"
    r"fallecio|era)\b"
)
_SEASON_PAST_AFTER = re.compile(r"^\s*(?:pasad[oa]|anterior)\b")


def _next_date(today: date, month: int, day: int) -> date:
    target = date(today.year, month, day)
    return target if target > today else date(today.year + 1, month, day)


def _timeline(low: str, today: date, expecting: FieldName | None) -> Answer | None:
    """Days until the lead wants to move: the first time expression in the message."""
    candidates: list[tuple[int, int, float]] = []  # (position, days, confidence)
    for match in _ASAP.finditer(low):
        if not _negated(low, match.start()):
            candidates.append((match.start(), 30, SURE))
    if expecting == "timeline":
        # Answering "when?": "right now" is urgency; elsewhere it means "currently".
        now = re.search(r"^\W*(?:now|right now|like now|soon as possible)\b", low)
        if now or re.fullmatch(r"\W*(?:ya|ahorita|ahora|ahora mismo|ya mismo)\W*", low):
            candidates.append((0, 30, SURE))
    for match in _DURATION.finditer(low):
        if _DURATION_PAST_BEFORE.search(low[max(0, match.start() - 22) : match.start()]):
            continue
        if _DURATION_PAST_AFTER.match(low[match.end() :]):
            continue
        count = _count(match.group("n2") or match.group("n"))
        candidates.append((match.start(), round(count * _UNIT_DAYS[match.group("unit")]), SURE))
    for pattern, days in (
        (_NEXT_YEAR, 365),
        (_YEAR_END, max(7, (date(today.year, 12, 31) - today).days)),
        (_NEXT_MONTH, 30),
    ):
        candidates.extend((m.start(), days, SURE) for m in pattern.finditer(low))
    for match in _SEASON.finditer(low):
        if _PAST_CONTEXT.search(low[max(0, match.start() - 25) : match.start("season")]):
            continue
        if _SEASON_PAST_AFTER.match(low[match.end() :]):
            continue
        season = match.group("season")
        if season == "fall" and match.group() == "fall" and low.strip(" .!?") != "fall":
            continue  # "fall" as a verb
        month, day = _SEASON_START[season]
        candidates.append((match.start(), (_next_date(today, month, day) - today).days, LIKELY))
    for match in _MONTH.finditer(low):
        word = match.group("month")
        cue = match.group("cue")
        if word == "may" and not (cue or match.group("day")):
            continue  # the verb
        if word in ("mar", "jun", "jul", "sep", "dec") and not cue:
            continue
        if _PAST_CONTEXT.search(low[max(0, match.start() - 25) : match.start("month")]):
            continue
        if match.group("year") and int(match.group("year")) < today.year:
            continue
        month = _SPANISH_MONTHS.get(word) or _MONTHS[word[:3]]
        day = int(match.group("day") or match.group("day_es") or 1)
        try:
            target = _next_date(today, month, day)
        except ValueError:
            target = _next_date(today, month, 1)
        candidates.append((match.start(), (target - today).days, LIKELY))
    if not candidates:
        return None
    _, days, confidence = min(candidates, key=lambda c: c[0])
    return _answer(days, confidence)


def _count(word: str) -> float:
    word = word.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return _as_int(word)


# ----------------------------------------------------------------------------- pre-approval

_CASH = re.compile(
    r"\bcash\b(?![- ]?(?:flow|out|back|offer from))|\b(?:de|al) contado\b|\ben efectivo\b"
)
_PRE_NO = re.compile(
    r"\bnot\s+(?:yet\s+)?(?:been\s+)?pre-?\s?(?:approved|qualified)\b|\bnot\s+preapproved\b|"
    r"\b(?:need|have|going|gotta|got|still need) to get\s+(?:us\s+)?(?:pre-?\s?approved|"
    r"preapproved|a pre-?approval|pre-?\s?qualified|prequalified|qualified|approved|a loan|"
    r"financing|a lender)\b|"
    r"\bno pre-?\s?approval\b|\bhaven'?t\s+(?:been\s+|gotten\s+|got\s+)?pre-?\s?approved\b|"
    r"\bhaven'?t\s+(?:talked|spoken|gone|reached out|been)\s+to\s+(?:a|any|the)?\s*"
    r"(?:lender|bank|loan officer)\b|\bno (?:lender|pre-?approval|loan) yet\b|"
    r"\bnot (?:yet )?(?:qualified|approved)\b|\bnever (?:applied|talked to a lender)\b|"
    r"\b(?:still )?(?:need|have|got) to (?:talk|speak) (?:to|with) (?:a|the|our|my) (?:lender|bank|"
    r"loan officer)\b|"
    r"\b(?:we'?ll|we will|i'?ll|i will|going to|gonna|plan to|planning to)\s+apply\b|"
    r"\b(?:working on|fixing|fix|repairing|rebuilding) (?:my|our) credit\b|"
    r"\b(?:need|have) to (?:be|get) (?:pre-?\s?approved|preapproved|approved)\b|"
    r"\b(?:we|i)\s+(?:aren'?t|are not|'?m not|am not|haven'?t|have not)\s+(?:been\s+)?yet\b|"
    r"\bnunca (?:he|hemos) (?:aplicado|hablado con)\b|"
    r"\bno\s+(?:estamos|estoy|tenemos|tengo|somos)\s+(?:todavia\s+|aun\s+)?"
    r"(?:pre-?\s?aprobad|pre-?\s?calificad|aprobad|calificad|la pre|carta)|"
    r"\b(?:todavia|aun) no\s+(?:estamos\s+|tenemos\s+|nos han\s+)?(?:pre-?\s?aprobad|aprobad|"
    r"calificad|pre-?\s?calificad|(?:el |un |ningun )?prestamo|credito|financiamiento|la pre|"
    r"(?:la )?carta)|\bno tenemos (?:todavia |aun )?(?:prestamo|financiamiento)\b|"
    r"\b(?:necesitamos|necesito|tenemos que|tengo que|hay que|ocupamos)\s+(?:\w+\s+)?"
    r"(?:pre-?\s?aprobar|pre-?\s?calificar|sacar la pre|la pre-?\s?aprobacion|calificar|"
    r"aprobar|hablar con (?:un|el) (?:banco|prestamista|lender))|"
    r"\bsin (?:pre-?\s?aprobacion|prestamo)\b|"
    r"\bno\s+hemos\s+hablado\s+con\s+(?:un|el|ningun|nuestro)?\s*(?:banco|prestamista|lender)"
)
_PRE_PROGRESS = re.compile(
    r"\b(?:talking|speaking|working|meeting)\s+(?:to|with)\s+(?:a|our|my|the)?\s*(?:lender|bank|"
    r"loan officer|mortgage)\w*|\bin (?:the )?process\b|\bappl(?:ied|ying) for\b|"
    r"\bgetting (?:pre-?\s?approved|preapproved)\b|"
    r"\bwaiting (?:on|for) (?:the )?(?:lender|approval|bank|pre-?approval)\b|"
    r"\bpre-?\s?qualified\b|\bprequalified\b|\bwaiting to hear back\b|\bunderwriting\b|"
    r"\b(?:submitted|sent|turned in|filled out|filling out|gave)\s+(?:\w+\s+)?(?:docs|documents|"
    r"paperwork|application|papers)\b|"
    r"\b(?:llenando|llenamos|mandamos|entregamos|enviamos|enviando)\s+(?:los |las |la |el )?"
    r"(?:papeles|documentos|solicitud|aplicacion|papeleria)\b|"
    r"\b(?:hablando|trabajando)\s+con\s+(?:un|una|el|la|nuestro|nuestra|mi)?\s*(?:lender|banco|"
    r"prestamista|loan officer|agente de prestamos)|\ben (?:el )?proceso\b|"
    r"\b(?:aplicamos|aplique|applicamos)\b|\besperando (?:la|el) (?:aprobacion|respuesta)|"
    r"\bpre-?\s?calificad[oa]s?\b|\bprecalificad[oa]s?\b"
)
#: Pre-qualified for an amount or a loan ("ya nos pre-calificaron para un préstamo VA de 650
#: mil"): the lender has named a figure, as good as approved here.
_PRE_QUALIFIED_FOR = re.compile(
    r"\b(?:pre-?\s?qualified|prequalified|pre-?\s?calific\w*|precalific\w*)\s+(?:\w+\s+){0,5}?"
    r"(?:for|para|por|hasta|up to)\s+(?:\w+\s+){0,5}?\$?\d"
)
_PRE_WORKING = re.compile(r"\bworking on (?:it|that|getting)\b|\ben eso estamos\b")
_PRE_YES = re.compile(
    r"\bpre-?\s?approved\b|\bpreapproved\b|\b(?:pre-?\s?)?approval letter\b|\bpreapproval letter\b|"
    r"\b(?:got|have) (?:our|my|the|a) (?:pre-?\s?)?approval\b|\bgot (?:our|my) preapproval\b|"
    r"\b(?:lender|bank|mortgage company)\s+(?:already\s+)?approved\s+(?:us|me)\b|"
    r"\b(?:fha|va|conventional|usda|calhfa|jumbo|home ?loan|loan)\s+(?:loan\s+)?"
    r"(?:pre-?\s?)?approved\b|\bapproved\s+(?:for\s+)?(?:an?\s+)?(?:fha|va|conventional|usda|"
    r"calhfa|jumbo|loan|mortgage)\b|"
    r"\b(?:lender|loan officer|bank|broker|lo|mortgage (?:guy|lady|broker))\s+(?:says|said|"
    r"told us|told me|confirmed)\s+(?:that\s+)?(?:we|i)\s+(?:qualify|are qualified|can get "
    r"approved|are approved|got approved|(?:are|am) good)\b|"
    r"(?<!if )(?<!whether )\b(?:we|i)\s+(?:already\s+)?(?:qualify|qualified|got approved|"
    r"are approved|am approved|were approved|have been approved)\b(?!\s+(?:yet|or not))|"
    r"\bpre-?\s?aprobad[oa]s?\b|\bpreaprobad[oa]s?\b|\baprobad[oa]s?\s+(?:con|para|por|hasta)\b|"
    r"\bcarta de (?:pre-?\s?)?aprobacion\b|\b(?:nos|me) (?:pre-?\s?)?aprobaron\b|"
    r"(?<!si )\b(?:ya\s+)?(?:calificamos|califico)\b|\bya (?:estamos )?calificad[oa]s\b|"
    r"\bya tenemos (?:el|la) (?:prestamo|pre-?\s?aprobacion|aprobacion)\b|"
    r"\b(?:already|ya|got|been|were|was|we'?re|i'?m|are|am)\s+(?:pre-?\s?)?approved\b"
)
_BARE_YES = re.compile(
    r"^\W*(?:yes|yep|yup|yeah|ya|yea|yess+|sure|correct|absolutely|definitely|we are|i am|"
    r"already|of course|si|claro|asi es|correcto|por supuesto|efectivamente|ya estamos)\b"
)
_BARE_NO = re.compile(
    r"^\W*(?:no|nope|nah|not yet|negative|not really|not at the moment|todavia no|aun no|"
    r"nel|para nada)\b"
)


def _pre_approval(low: str, expecting: FieldName | None) -> Answer | None:
    """yes / no / in_progress / cash."""
    asked = expecting == "pre_approval"
    if _CASH.search(low):
        return _answer("cash", SURE)
    if _PRE_NO.search(low):
        return _answer("no", SURE)
    if _PRE_QUALIFIED_FOR.search(low):
        return _answer("yes", LIKELY)
    if _PRE_PROGRESS.search(low):
        return _answer("in_progress", SURE)
    if _PRE_WORKING.search(low) and (
        asked or re.search(r"\b(?:lender|bank|approv|banco|prestamista|aprob)", low)
    ):
        return _answer("in_progress", LIKELY)
    match = _PRE_YES.search(low)
    if match and not _negated(low, match.start()):
        return _answer("yes", SURE)
    if asked and _BARE_NO.search(low):
        return _answer("no", INFERRED + 0.05)
    if asked and _BARE_YES.search(low):
        return _answer("yes", INFERRED + 0.05)
    return None


# ----------------------------------------------------------------------------- bedrooms, baths

_BED_WORDS = (
    r"(?:bed(?:room)?s?|bdrms?|bdr|bds?|brs?|recamaras?|recs?|cuartos?|habitacion(?:es)?|"
    r"dormitorios?)"
)
_BEDS = re.compile(
    rf"\b(?P<n>\d{{1,2}}|{_NUM_WORD})(?:\s*(?:or|-|to|o|a|y)\s*(?:\d{{1,2}}|{_NUM_WORD}))?"
    rf"\s*\+?\s*-?\s*{_BED_WORDS}\b|\b(?P<one>una)\s+(?:recamara|habitacion)\b"
)
#: "3/2", "4/2.5": bedrooms / bathrooms, as agents write them (not a date or a fraction).
_BEDS_BATHS = re.compile(
    r"(?<![\w/$.,-])(?P<beds>[1-7])\s*/\s*(?P<baths>[1-6](?:\.5)?)(?![\w/.,]|\s*(?:acre|ac\b|"
    r"mile|pm|am|at\b|a las|de\b|del\b|th\b))"
)
_DATE_BEFORE = re.compile(
    r"\b(?:on|by|before|after|until|till|the|el|para el|date|fecha|del|around|this|next|"
    r"since|from)\s*$"
)
_BARE_NUMBER = re.compile(rf"\b(?P<n>\d{{1,2}}|{_NUM_WORD})\b")
_BATH_WORD = r"(?:bath(?:room)?s?|ba|bths?|banos?)"
_BATHS = re.compile(
    rf"(?<![\d.])\b(?P<n>\d(?:\.\d)?)(?:\s*(?:or|-|to|o|a)\s*\d(?:\.\d)?)?\s*"
    rf"(?P<full>full\s+|completos?\s+)?-?\s*{_BATH_WORD}\b"
    r"(?:\s+(?:completos?\s+)?(?P<and_half>y medio|and a half|y uno medio))?|"
    rf"(?<![\d.])\b(?P<n1>\d)\s+1/2\s*{_BATH_WORD}\b"
)
_FULL_AND_HALF = re.compile(
    r"\b(?P<n>\d)\s+full(?:\s+bath(?:room)?s?)?\s*(?:and|\+|&|y|,|plus)\s*(?:a|one|1|un|una)?\s*"
    r"half(?:\s*-?\s*(?:bath(?:room)?s?|ba))?\b|"
    r"\b(?P<n2>\d)\s+banos?\s+completos?\s*(?:y|,|\+)\s*(?:un|1)?\s*medio\s*bano\b"
)
_BATH_AND_HALF = re.compile(
    r"\bbano y medio\b|\b(?:a|one|1) and a half bath|\ba (?:bath(?:room)?) and a half\b"
)
_ONE_BATH = re.compile(
    r"\b(?:un|one)\s+(?:solo\s+)?(?:bano|bath(?:room)?)\b(?!\s+(?:extra|mas|adicional|grande|"
    r"principal|de visitas|for guests|downstairs|abajo|arriba|upstairs|in the|en la|y medio))"
)
_BARE_BATHS = re.compile(r"(?<![\d.])\b(?P<n>\d(?:\.5)?)\b(?![\d.])")


def _bedrooms(low: str, expecting: FieldName | None) -> Answer | None:
    """Minimum bedrooms: "3 bed", "3br", "three bedrooms", "3 or 4 bedrooms" → 3,
    "3 recámaras", "4/3"."""
    match = _BEDS.search(low)
    if match:
        return _answer(1 if match.group("one") else _as_int(match.group("n")), SURE)
    pair = _beds_baths(low)
    if pair:
        return _answer(pair[0], LIKELY)
    if expecting == "bedrooms":
        bare = _BARE_NUMBER.search(low)
        if bare and 0 < _as_int(bare.group("n")) <= 12:
            return _answer(_as_int(bare.group("n")), INFERRED + 0.05)
    return None


def _beds_baths(low: str) -> tuple[int, float] | None:
    for match in _BEDS_BATHS.finditer(low):
        beds, baths = int(match.group("beds")), float(match.group("baths"))
        if beds < 2 or baths > beds + 1 or _DATE_BEFORE.search(low[: match.start()]):
            continue
        return beds, baths
    return None


def _bathrooms(low: str, expecting: FieldName | None) -> Answer | None:
    """Minimum bathrooms, halves allowed: "2.5 ba", "two and a half baths" (2.5), "3 full
    baths" (3), "2 full and a half bath" (2.5), "3bd/2ba", "4/3", "dos baños y medio" (2.5)."""
    both = _FULL_AND_HALF.search(low)
    if both:
        return _answer(int(both.group("n") or both.group("n2")) + 0.5, SURE)
    match = _BATHS.search(low)
    if match:
        if match.group("n1"):
            return _answer(int(match.group("n1")) + 0.5, SURE)
        value = float(match.group("n")) + (0.5 if match.group("and_half") else 0.0)
        if 0 < value <= 10:
            return _answer(value, SURE)
    if _BATH_AND_HALF.search(low):
        return _answer(1.5, SURE)
    if _ONE_BATH.search(low):
        return _answer(1.0, LIKELY)
    pair = _beds_baths(low)
    if pair:
        return _answer(pair[1], LIKELY)
    if expecting == "bathrooms":
        bare = _BARE_BATHS.search(low)
        if bare and 0 < float(bare.group("n")) <= 8:
            return _answer(float(bare.group("n")), INFERRED + 0.05)
    return None


# ----------------------------------------------------------------------------- property type

_PROPERTY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "townhouse",
        re.compile(r"\b(?:town\s?houses?|town\s?homes?|row\s?houses?|casas? adosadas?)\b"),
    ),
    (
        "multi_family",
        re.compile(
            r"\b(?:duplex|triplex|fourplex|four-plex|\d-?plex|quadplex|multi-?\s?family|multifamily|"
            r"multi-unit|\d-unit|multifamiliar)(?:es|s)?\b"
        ),
    ),
    (
        "manufactured",
        re.compile(
            r"\b(?:mobile homes?|manufactured(?: homes?)?|modular homes?|trailers?|casas? "
            r"movil(?:es)?|casas? prefabricadas?|trailas?|trailers?)\b"
        ),
    ),
    (
        "condo",
        re.compile(
            r"\b(?:condo(?:minium)?s?|apartments?|lofts?|condominios?|departamentos?|"
            r"apartamentos?|depas?)\b"
        ),
    ),
    (
        "single_family",
        re.compile(
            r"\b(?:single[- ]family|sfh|sfr|detached home|house only|casas? solas?|"
            r"casas? independientes?|unifamiliar)\b"
        ),
    ),
    (
        "land",
        re.compile(
            r"\b(?:land|vacant lots?|empty lots?|buildable lots?|lots? to build|a lot to build|"
            r"lots? for sale|(?:un|el|comprar|solo|lote de)\s+terreno(?!\s+(?:grande|amplio))|"
            r"terreno\s+(?:para construir|baldio|vacio))\b"
        ),
    ),
)
_HOUSE_WANTED = re.compile(
    r"\b(?:buy(?:ing)?|want(?:ing)?|need(?:ing)?|looking (?:for|at)|searching for|find|bed"
    r"(?:room)?s?|br|bd|story|starter|for a)\s+(?:[\w-]+\s+){0,2}?(?P<word>houses?)\b"
)
_OWNED_BEFORE = re.compile(
    r"\b(?:my|our|sell(?:ing)?|outgrown|current|list(?:ing)?|mi|nuestra|nuestro|vender|"
    r"vendiendo)\s+(?:\w+\s+)?$"
)
#: "room for our trailer", "estacionamiento para la traila": a vehicle, not a home.
_VEHICLE_BEFORE = re.compile(
    r"\b(?:for|para|park|parking|estacionar|guardar|boat|horse|utility)\s+(?:\w+\s+)?$"
)
_EXPECTED_TYPE = re.compile(r"\b(?:house|home|single)\b")


def _property_type(low: str, expecting: FieldName | None) -> Answer | None:
    """The first property type the lead wants (not the one it owns or rules out)."""
    hits: list[tuple[int, str, float]] = []
    for value, pattern in _PROPERTY_PATTERNS:
        for match in pattern.finditer(low):
            before = low[max(0, match.start() - 24) : match.start()]
            if _OWNED_BEFORE.search(before) or _negated(low, match.start()):
                continue
            if value == "manufactured" and _VEHICLE_BEFORE.search(before):
                continue
            if value == "land" and re.search(r"\bcon\s+(?:un\s+)?$", before):
                continue
            hits.append((match.start(), value, SURE))
    for match in _HOUSE_WANTED.finditer(low):
        if not _negated(low, match.start("word")):
            hits.append((match.start("word"), "single_family", LIKELY))
    if not hits and expecting == "property_type":
        for match in _EXPECTED_TYPE.finditer(low):
            if not _negated(low, match.start()):
                hits.append((match.start(), "single_family", INFERRED))
    if not hits:
        return None
    _, value, confidence = min(hits)
    return _answer(value, confidence)


# ----------------------------------------------------------------------------- must-haves

_YARD = r"(?:back\s?yards?|yards?|patio|yarda|traspatio)"
_MUST_HAVES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fenced yard",
        re.compile(
            r"\bfenced(?:[- ]in)?\s+(?:back\s?)?yard\b|\bfenced\b|"
            r"\b(?:patio|yarda)\s+(?:cercad[oa]|bardead[oa]|con barda|con cerca)\b"
        ),
    ),
    (
        "big yard",
        re.compile(
            r"\b(?:big|large|huge|bigger|spacious|nice[- ]sized?|good[- ]sized?)\s+(?:back\s?)?"
            r"yards?\b|\blots? of yard\b|"
            r"\b(?:patio|yarda|traspatio)s?\s+(?:bien |muy |mas )?(?:grandes?|amplios?|amplias?|"
            r"enormes?)\b|\b(?:buen|gran|mucho)\s+(?:patio|yarda|traspatio)\b"
        ),
    ),
    ("yard", re.compile(r"\b(?:back\s?)?yards?\b(?!\s+work)|\b(?:yarda|traspatio)\b")),
    ("pool", re.compile(r"\b(?:swimming\s+)?pool\b|\balberca\b|\bpiscina\b")),
    ("garage", re.compile(r"\bgarage\b|\bgaraje\b|\bcochera\b")),
    ("office", re.compile(r"\b(?:home\s+)?office\b|\boficina\b")),
    ("basement", re.compile(r"\bbasement\b|\bsotano\b")),
    (
        "view",
        re.compile(
            r"\bviews?\b(?!\s+(?:it|the|this|that|homes?|houses?|properties))|"
            r"\bcon (?:buena |una )?vista\b"
        ),
    ),
    (
        "single story",
        re.compile(
            r"\b(?:single|one|1)[- ]?(?:stor(?:y|ey)|level)\b|\branch[- ]style\b|"
            r"\b(?:de|en)\s+(?:un|1)\s+(?:solo\s+)?(?:piso|nivel)\b|\bun solo (?:piso|nivel)\b|"
            r"\b(?:de\s+)?(?:una|1)\s+(?:sola\s+)?planta\b|\bsolo un piso\b|\bsingle[- ]?story\b|"
            r"\bno (?:stairs|escaleras)\b|\bsin escaleras\b"
        ),
    ),
    ("fireplace", re.compile(r"\bfire\s?place\b|\bchimenea\b")),
    (
        "rv parking",
        re.compile(
            r"\brvs?\b|\b(?:parking|room|space|spot|access|garage)\s+(?:for\s+)?(?:an?\s+|my\s+|"
            r"our\s+|the\s+)?(?:motor\s?homes?|boats?|campers?|toy haulers?|trailers?)\b|"
            r"\b(?:estacionamiento|espacio|lugar|cochera|entrada)\s+(?:para|pa)\s+(?:el\s+|la\s+|"
            r"un\s+|una\s+|mi\s+|nuestro\s+|nuestra\s+|los\s+|las\s+)?(?:rv|motorhome|trailas?|"
            r"trailers?|camper|botes?|lanchas?|casa rodante)\b|\bmotorhome\b|\bcasa rodante\b"
        ),
    ),
    (
        "adu",
        re.compile(
            r"\b(?:j?adus?)\b|\bcasitas?\b|\bgranny\s+(?:flat|unit|suite|house)\b|"
            r"\bguest\s*(?:house|home|quarters|suite|unit)\b|"
            r"\b(?:mother[- ]in[- ]law|in[- ]law)\s+(?:unit|suite|quarters|apartment|apt|house|"
            r"space)\b|\baccessory dwelling\b|\bback\s*house\b|\bnext\s?gen\b|"
            r"\bmulti[- ]?gen(?:erational)?\b|\bcuarto (?:independiente|separado|aparte)\b|"
            r"\bcasa (?:atras|de huespedes|para (?:mis|mi) (?:suegros|papas|padres|suegra|mama))\b"
        ),
    ),
    (
        "good schools",
        re.compile(
            r"\b(?:good|great|top|best|excellent|strong|highly rated|top[- ]rated|blue ribbon|"
            r"better)\s+(?:school(?:s| district)?|elementary|high school)\b|"
            r"\bschools? (?:matter|are (?:important|a priority|key|a must|everything))\b|"
            r"\bschool district\b|\bbuen(?:as|os)?\s+escuelas?\b|"
            r"\bbuen\s+distrito(?:\s+escolar)?\b|"
            r"\bdistrito escolar\b|\bescuelas? buenas?\b|\blas mejores escuelas\b|"
            r"\bescuelas\s+(?:de\s+)?(?:calidad|buen nivel)\b|\bbuen(?:as|os)? (?:colegios?)\b|"
            r"\b(?:for|because of) the schools\b|\bpor las escuelas\b"
        ),
    ),
    (
        "no hoa",
        re.compile(
            r"\b(?:no|without(?: an)?|sin)\s+(?:cuota\s+de\s+)?hoa\b|\b(?:no|don'?t) (?:want|need|"
            r"queremos|quiero|deseamos) (?:an? |una? |el |la )?hoa\b"
        ),
    ),
    (
        "acreage",
        re.compile(
            r"\bacreage\b|\b\d+(?:\.\d+)?\+?\s*-?\s*acres?\b|\bhalf[- ](?:an?[- ])?acre\b|"
            r"\b(?:an?|one|1|un|una)\s+acre\b|\bacre lot\b|\bquarter[- ]acre\b|\b1/2\s*acre\b|"
            r"\bmedi[oa]\s+acre\b|\bacres\b|\bacre\b|"
            r"\b(?:con|mucho|buen|suficiente|harto)\s+(?:\w+\s+)?terreno\b|\bterreno\s+grande\b|"
            r"\bde terreno\b|\bland with\b|\bsome land\b|\blots? of land\b"
        ),
    ),
    ("waterfront", re.compile(r"\bwater\s?front\b|\blake\s?front\b")),
)
#: "Etiwanda schools", "Chaffey district", "Chino Valley Unified", "escuelas de Etiwanda":
#: a named school district is a must-have about schools, not a place.
_NAMED_SCHOOLS = re.compile(
    r"\b(?P<name>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})\s+(?i:schools?|school district|unified"
    r"(?: school district)?|usd|district|elementary|middle school|high school|high)\b|"
    r"\b(?i:escuelas?|distrito(?: escolar)?)\s+(?i:de\s+)?(?P<es_name>[A-Z][\w'-]+)"
)
_NOT_SCHOOL_NAMES = frozenset(
    _words(
        "the good great top best public private charter local our my near i a any some new "
        "nice better excellent blue buenas buenos"
    )
)
#: "una casita" sought as the home itself is a small house, not a back-yard unit.
_CASITA_AS_HOME = re.compile(r"\b(?:una|la|mi|nuestra|esta|esa|bonita|pequena)\s+$")
_CASITA_BEHIND = re.compile(
    r"^\s*(?:atras|en el patio|en la parte de atras|in the back|out back|para rentar|"
    r"para (?:mi|mis|la|el)\b|for (?:my|the|our|rent))"
)
_CASITA_WITH = re.compile(r"\b(?:con|y|with|and|plus|tenga|tiene|tengan|\+|&)\s+(?:una\s+)?$")


#: A word every must-have pattern above (and a named school district) contains: most messages
#: have none, and this one search spares them the fifteen patterns.
_MUST_HAVE_WORDS = re.compile(
    r"yard|patio|pool|alberca|piscina|gara|cochera|office|oficina|basement|sotano|view|vista|"
    r"stor(?:y|ey)|level|ranch|piso|nivel|planta|stairs|escaleras|fire\s?place|chimenea|\brvs?\b|"
    r"motor|boat|camper|hauler|trailer|traila|bote|lancha|rodante|\bj?adu|casita|granny|guest|"
    r"in[- ]law|accessory|back\s*house|next\s?gen|multi|cuarto|casa (?:atras|de huesp|para)|"
    r"school|escuela|distrito|colegio|hoa|acre|terreno|land|water\s?front|lake\s?front|fenced|"
    r"cercad|bardead|barda|cerca|unified|usd|district|elementary|high"
)


def _must_haves(text: str, low: str, language: Language | None) -> Answer | None:
    """Features in the order the lead gave them; "big yard" wins over a plain "yard"."""
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    if not _MUST_HAVE_WORDS.search(low):
        return None
    for value, pattern in _MUST_HAVES:
        for match in pattern.finditer(low):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            if value != "no hoa" and _negated(low, match.start()):
                continue
            before = low[max(0, match.start() - 24) : match.start()]
            if value == "yard" and match.group() == "patio" and language != "es":
                continue  # an English "patio" is a patio
            if value == "adu" and match.group().startswith("casita"):
                behind = _CASITA_BEHIND.match(low[match.end() :])
                if (
                    not behind
                    and _CASITA_AS_HOME.search(before)
                    and not _CASITA_WITH.search(before[: before.rstrip().rfind(" ") + 1])
                ):
                    continue
            taken.append(match.span())
            if value not in (v for _, v in hits):
                hits.append((match.start(), value))
    if "good schools" not in (v for _, v in hits):
        for match in _NAMED_SCHOOLS.finditer(text):
            name = (match.group("name") or match.group("es_name") or "").split()
            if name and name[0].lower() not in _NOT_SCHOOL_NAMES:
                hits.append((match.start(), "good schools"))
                break
    if not hits:
        return None
    return _answer([v for _, v in sorted(hits)], LIKELY)


# ----------------------------------------------------------------------------- motivation

_MOTIVATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "divorce",
        re.compile(
            r"\bdivorc\w*|\bseparat(?:ed|ing|ion)\b|\bsplit(?:ting)? up\b|\bdivorci\w*|"
            r"\bnos (?:estamos )?separ\w*|\bseparad[oa]s\b"
        ),
    ),
    (
        "inherited",
        re.compile(
            r"\binherit\w*|\bestate sale\b|\bprobate\b|\bpassed away\b|"
            r"\b(?:he|she|they|mom|dad|mother|father|grandma|grandpa)\s+(?:just\s+)?passed\b|"
            r"\b(?:mom|dad|mother|father|parent)s?(?:'s)? (?:died|passed)\b|"
            r"\bheren\w*|\bhered(?:amos|e|o|ada|ado|aron)\b|\bfalleci\w*|\bsucesion\b|"
            r"\b(?:mama|papa|madre|padre|abuel[oa]|suegr[oa]) (?:murio|fallecio)\b"
        ),
    ),
    (
        "financial",
        re.compile(
            r"\bcan'?t afford\b|\bcannot afford\b|\bbehind on\b|\bforeclos\w*|"
            r"\bmoney'?s?\s+(?:is\s+)?tight\b|\bfinancial\w*|\bcan'?t keep up\b|"
            r"\blost (?:my|his|her) job\b|\bmedical bills\b|"
            r"\bno (?:podemos|puedo|alcanzamos a) (?:pagar|con)\b|\batrasad[oa]s?\b|"
            r"\bejecucion hipotecaria\b|\bproblemas (?:economicos|financieros|de dinero)\b|"
            r"\bperd(?:i|io|imos) (?:mi|el|su) trabajo\b"
        ),
    ),
    ("retiring", re.compile(r"\bretir(?:e|ed|ing|ement)\b|\bjubil\w*|\bretirarnos\b")),
    (
        "relocating",
        re.compile(
            r"\brelocat\w*|\bjob transfer\b|\btransferr?(?:ed|ing)\b|\bnew job\b|"
            r"\b(?:job|work|company|employer) (?:is )?(?:moving|sending|transferring) (?:me|us)\b|"
            r"\bfor (?:a |my |his |her |our |the )?(?:new )?(?:job|work)\b|\bjob offer\b|"
            r"\bpor (?:el |mi |su |un )?(?:nuevo )?trabajo\b|\b(?:nuevo trabajo|trabajo nuevo)\b|"
            r"\b(?:me|nos|lo|la) transfirieron\b|\btraslado\b|\breubic\w*"
        ),
    ),
    (
        "upsizing",
        re.compile(
            r"\bupsiz\w*|\bgrowing family\b|\bfamily is growing\b|\bmore (?:space|room)\b|"
            r"\bbigger (?:place|home|house)\b|\boutgr[eo]wn\b|\bbaby\b|\btwins\b|\bpregnant\b|"
            r"\bsomething bigger\b|\bbuy bigger\b|"
            r"\bmas (?:grande|espacio|amplia)\b|\bla familia (?:esta )?creciendo\b|\bbebe\b|"
            r"\bembarazada\b|\bya no cabemos\b"
        ),
    ),
    (
        "downsizing",
        re.compile(
            r"\bdownsiz\w*|\bempty[- ]nest\w*|\btoo big for (?:us|me)\b|\bkids (?:are )?"
            r"(?:grown|moved out|gone|out of the house)\b|\bsmaller (?:place|home|house)\b|"
            r"\bmas (?:pequena|chica|chiquita)\b|\blos hijos ya se (?:fueron|casaron)\b|"
            r"\bnido vacio\b|\bmuy grande para (?:nosotros|mi)\b"
        ),
    ),
    (
        "investment",
        re.compile(
            r"\binvest(?:ment|ing|or)?s?\b|\brental propert(?:y|ies)\b|\bincome propert(?:y|ies)\b|"
            r"\bcash[- ]?flow\w*|\blandlord\b|\bflip(?:ping)?\b|\bairbnb\b|"
            r"\binver(?:sion|tir|sionista)\w*"
        ),
    ),
    (
        "other",
        re.compile(
            r"\bchange of scenery\b|\bwant a change\b|\bcloser to (?:family|work|my family)\b|"
            r"\btesting the market\b|\bsee what (?:we|i) (?:could|would|can) get\b|\bcommute\b|"
            r"\bmas cerca de (?:la |mi )?(?:familia|trabajo)\b|\bcambio de aires\b"
        ),
    ),
)


def _motivation(low: str) -> Answer | None:
    """Why the lead is moving; the first category (in the order above) that matches."""
    for value, pattern in _MOTIVATIONS:
        match = pattern.search(low)
        if match and not _negated(low, match.start()):
            return _answer(value, LIKELY)
    return None


# ----------------------------------------------------------------------------- condition

_CONDITIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fixer_upper",
        re.compile(
            r"\bfixer(?:[- ]upper)?\b|\bmajor (?:repairs?|work|issues|damage)\b|\bas[- ]is\b|"
            r"\btear\s?down\b|\bfoundation (?:issues|problems)\b|\bneeds everything\b|"
            r"\bfull (?:reno|renovation|rehab|gut)\b|\bgut job\b|"
            r"\bnecesita (?:mucho trabajo|muchas reparaciones|todo)\b|\bpara remodelar\b|"
            r"\btal (?:y )?como esta\b|\bproblemas de (?:cimientos|fundacion)\b"
        ),
    ),
    (
        "needs_work",
        re.compile(
            r"\bneeds? (?:some |a little |a bit of |a lot of |minor |lots of )?"
            r"(?:work|tlc|updat\w*|repairs?|love|paint|new)\b|"
            r"\btlc\b|\bdated\b|\boutdated\b|\bcosmetic\b|\bhandyman special\b|\ba lot of work\b|"
            r"\bnecesita (?:un poco de |algo de |algunos |algunas |unos |unas )?(?:trabajo|"
            r"reparaciones|arreglos|pintura|mantenimiento|actualiz\w*|remodel\w*|amor)\b"
        ),
    ),
    (
        "move_in_ready",
        re.compile(
            r"\bmove[- ]?in[- ]ready\b|\bturn[- ]?key\b|"
            r"\b(?:updated|renovated|remodell?ed|redone)\b|\blike new\b|\bbrand new\b|"
            r"\b(?:great|excellent|perfect|mint) (?:shape|condition)\b|"
            r"\bready to move in\b|\blist[ao] para (?:mudarse|vivir|entrar)\b|"
            r"\b(?:remodelad|renovad|actualizad)[ao]\b|\bcomo nueva\b|"
            r"\ben (?:excelentes|perfectas) condiciones\b"
        ),
    ),
    (
        "good",
        re.compile(
            r"\bgood (?:shape|condition)\b|\bpretty good\b|\bdecent (?:shape|condition)\b|"
            r"\bwell[- ](?:maintained|kept)\b|\bminor (?:stuff|things|issues)\b|"
            r"\ben buen(?:as)? (?:estado|condiciones?)\b|\bbien cuidad[ao]\b"
        ),
    ),
)
_BARE_GOOD = re.compile(r"^\W*(?:good|fine|decent|solid|bien|buena|buen estado)\b")


def _condition(low: str, expecting: FieldName | None) -> Answer | None:
    """The seller's home condition; the worst category mentioned wins."""
    for value, pattern in _CONDITIONS:
        match = pattern.search(low)
        if match and not _negated(low, match.start()):
            return _answer(value, SURE if expecting == "condition" else LIKELY)
    if expecting == "condition" and _BARE_GOOD.search(low):
        return _answer("good", WEAK)
    return None


# ----------------------------------------------------------------------------- readiness

_HOME = r"(?:home|house|place|property|condo|townhouse|townhome)"
_VALUE_CURIOUS = re.compile(
    rf"\bwhat(?:'s| is| would| could| will| might)?\s+(?:my|our)\s+{_HOME}\s+(?:be\s+)?"
    r"(?:worth|sell for|go for|get|appraise|list for)|"
    rf"\bhow much (?:is|would|could|can|will|might) (?:my|our) {_HOME}\s+(?:be\s+)?"
    r"(?:worth|sell|go|get|list)|"
    rf"\bhow much (?:could|would|can|will|might) (?:i|we) (?:get|sell|list) (?:for )?"
    r"(?:my|our|it)\b|"
    rf"\bwhat (?:i|we) (?:could|would|can|might) (?:get|sell) (?:for )?(?:my|our)\b|"
    r"\bwhat (?:could|would|can|might|should) (?:i|we) (?:list|sell|get|ask)\s+(?:for\s+)?"
    r"(?:my|our|it)\b|"
    rf"\b(?:my|our) {_HOME}'?s? (?:value|worth)\b|\bvalue (?:of )?(?:my|our) {_HOME}\b|"
    rf"\b(?:what|how much) (?:my|our) {_HOME} (?:is|would be|might be|could be)\s+worth\b|"
    rf"\b(?:what|how much) (?:my|our) {_HOME} (?:would|could|might|will) (?:sell|go) for\b|"
    r"\bhome valuation\b|\bmarket analysis\b|"
    r"\b(?:home |house |property )?values? (?:in|on|around) (?:my|our) (?:neighbou?rhood|street|"
    r"area|block)\b|\bwhat (?:homes|houses) (?:on|in|around) (?:my|our) (?:street|neighbou?rhood|"
    r"block) (?:are|have been) (?:going|selling) for\b|\b(?:home|house|place) like (?:mine|ours)\b|"
    r"\bcasa como la (?:mia|nuestra)\b|"
    r"\bcuanto (?:vale|valdria|podria valer|puede valer|costaria)\s+(?:mi|nuestra|la nuestra)\b|"
    r"\bcuanto (?:me|nos) (?:darian|dan|pagarian|pagan|ofrecerian) por (?:mi|nuestra)\b|"
    r"\bcuanto (?:podria|podriamos|puedo|podemos|sacaria|sacariamos)\s+(?:sacar|vender|pedir)?\s*"
    r"(?:por|de)?\s*(?:mi|nuestra|la)\b|"
    r"\b(?:valor|precio) de (?:mi|nuestra) casa\b|\bque valor tiene (?:mi|nuestra)\b|"
    r"\ben cuanto (?:se )?(?:venderia|podria vender|podemos vender|puedo vender)\b"
)
_BROWSING = re.compile(
    r"\bjust (?:looking|browsing|checking|seeing|curious|window shopping|starting to look|"
    r"started looking|poking around|looking around)\b|\b(?:only|mostly) (?:looking|browsing)\b|"
    r"\bbrowsing\b|\bwindow shopping\b|"
    r"\bsee(?:ing)? what(?:'s| is)? (?:out there|available|on the market)\b|"
    r"\bcheck(?:ing)? out (?:the market|what'?s out there|what'?s available|listings)\b|"
    r"\bgetting a feel for (?:the market|prices|things)\b|\bkeeping an eye on\b|"
    r"\b(?:watching|following|keeping up with) the market\b|"
    r"\bnot (?:really )?(?:ready|serious) (?:yet|to buy|to move)\b|\bnot actively looking\b|"
    r"\b(?:early|very early) stages?\b|\bpoking around\b|"
    r"\b(?:nomas|nada mas|solo|solamente)\s+(?:estoy|estamos|ando|andamos)?\s*(?:viendo|mirando|"
    r"checando|chequeando|curioseando|echando un ojo)\b|"
    r"\b(?:estoy|estamos|ando|andamos)\s+(?:nomas\s+|solo\s+)?(?:viendo|checando|mirando)\s+"
    r"(?:que hay|opciones|precios|lo que hay)\b|\bviendo (?:que hay|lo que hay)\b|"
    r"\bpor curiosidad\b|\btodavia no estamos listos\b|\bno estamos listos todavia\b|"
    r"\bapenas (?:empezando|comenzando|estamos empezando) a (?:ver|buscar)\b"
)
_UNHURRIED = re.compile(
    r"\bno (?:rush|hurry)\b|\bnot in (?:a|any) (?:rush|hurry)\b|\bin no (?:rush|hurry)\b|"
    r"\bno (?:real |set )?(?:timeline|time ?frame|deadline)\b|\btaking (?:our|my) time\b|"
    r"\bwhenever the right (?:one|1|place|house|home)\b|\bdown the (?:road|line)\b|"
    r"\beventually\b|\bsome ?day\b|\bnot (?:any ?time|anytime) soon\b|\bnot for a while\b|"
    r"\b(?:a|one|1) (?:year|yr) or (?:two|2)\b|\bcouple (?:of )?years\b|"
    r"\b(?:maybe|probably|possibly|might be|perhaps|likely)\s+(?:not\s+)?(?:until\s+)?"
    r"(?:next year|in a year|a year (?:from now|out)|(?:in )?(?:a )?couple (?:of )?years|"
    r"\d+ years?|(?:early |late )?next year)\b|"
    r"\bsin (?:prisa|apuro|presion|prisas)\b|\bno (?:hay|tenemos|tengo) (?:prisa|apuro)\b|"
    r"\bno (?:estamos|estoy) (?:con|de) prisa\b|\bcon calma\b|\bmas adelante\b|"
    r"\ba largo plazo\b|\balgun dia\b|\beventualmente\b|\bno (?:es|hay) urgen\w*|"
    r"\b(?:tal vez|quizas?|a lo mejor|probablemente|posiblemente)\s+(?:hasta\s+)?"
    r"(?:el (?:proximo|otro|siguiente) ano|el ano que viene|en un ano|(?:en )?un par de anos|"
    r"el ano entrante|en \d+ anos)\b|\ben (?:un )?par de anos\b"
)


def _readiness(low: str) -> Answer | None:
    """How ready the lead is: curious about its home's value (without selling), only
    browsing, or in no hurry. The first that applies, in that order."""
    for value, pattern in (
        ("value_curious", _VALUE_CURIOUS),
        ("browsing", _BROWSING),
        ("unhurried", _UNHURRIED),
    ):
        match = pattern.search(low)
        if match and not _negated(low, match.start()):
            return _answer(value, LIKELY)
    return None


# ----------------------------------------------------------------------------- area

_PLACE_PHRASE = re.compile(
    r"\b(?i:in|near|around|by|close to|nearby|en|cerca de|alrededor de|por el [aá]rea de|"
    r"por la zona de|rumbo a|el [aá]rea de|la zona de)\s+(?:(?i:the|el|la)\s+)?"
    r"(?P<place>[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|campus))*"
    r"(?:\s*(?:,|/|or|and|&|o|y)\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)*)"
)
_LOWER_PLACE_PHRASE = re.compile(
    r"\b(?P<prep>in|near|around|close to|en|cerca de|por)\s+(?:the\s+|el\s+|la\s+)?"
    r"(?P<place>[a-z][\w'.-]*(?:\s+[a-z][\w'.-]*)?)"
)
_NOT_PLACES = {
    "i", "the", "a", "my", "our", "your", "this", "that", "it", "we", "us", "they",
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
    "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
    "november", "dec", "december", "spring", "summer", "fall", "autumn", "winter", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "about", "person",
    "zillow", "realtor", "redfin", "jorge", "texas", "tx", "asap", "idk",
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "setiembre", "octubre", "noviembre", "diciembre", "primavera", "verano", "otono", "otoño",
    "invierno", "lunes", "martes", "miercoles", "miércoles", "jueves", "viernes", "sabado",
    "sábado", "domingo", "fha", "va", "usda", "efectivo", "contado", "renta", "casa", "dios",
    "serio", "proceso", "eso", "esto", "espanol", "español", "english", "ingles", "inglés",
    "cash", "escrow", "ca", "california", "mi", "su", "tu", "un", "una", "el", "la", "los",
    "las", "nuestra", "nuestro", "cuanto", "persona",
}  # fmt: skip
_PLACE_BLOCKED_BEFORE = re.compile(
    r"\b(?:sold (?:our|my|the) (?:\w+ )?(?:place|house|home|condo)|vendimos (?:la|nuestra) casa|"
    r"job|work|from|moving to|relocat\w*|office|trabajo|trabajamos|trabajo en|desde|"
    r"somos de|soy de|venimos de|vengo de|nos mudamos de)\s*$"
)
_ZIP = re.compile(r"(?<![\d$,.#-])\b(?P<zip>7\d{4}|[0-68-9]\d{4})\b(?![\d,k])")
_DIRECTION = re.compile(
    r"\b(?:in|on|near)\s+(?:the\s+)?(?P<place>(?:north|south|east|west|central)\s?(?:side|end)|"
    r"(?:north|south|east|west)(?:west|east)?\s+side)\b|\b(?P<downtown>downtown)\b"
)
_AREA_FILLER = re.compile(
    r"^\W*(?:(?:somewhere|anywhere|probably|prob|maybe|i think|ideally|preferably|like|"
    r"in|near|around|the|close to|by|en|cerca de|por|el|la|tal vez|creo que|de preferencia|"
    r"preferiblemente|algo en)\b\s*)*",
    re.IGNORECASE,
)
#: A known area right before "schools" / "district" names the school district ("Etiwanda
#: schools"), and "escuelas de Etiwanda" likewise.
_SCHOOL_AFTER = re.compile(
    r"^\s*(?:schools?|school district|unified|usd|district|elementary|middle|high school|high)\b"
)
_NAMED_DISTRICT_AFTER = re.compile(
    r"^\s+(?:[A-Z][\w'-]+\s+){1,2}(?i:schools?|school district|unified|usd|district|elementary|"
    r"high school)\b"
)
_SCHOOL_BEFORE = re.compile(r"\b(?:escuelas?|distrito(?: escolar)?)\s+(?:de\s+)?$")
_MOVING_FROM = re.compile(
    r"\b(?:from|desde|somos de|soy de|venimos de|vengo de|nos mudamos de)\s+$"
)


def _area(text: str, low: str, places: Gazetteer, expecting: FieldName | None) -> Answer | None:
    """Known areas (canonical spelling, through aliases and misspellings too), else
    "in/near/around X" (and "en / cerca de X") places and ZIP codes."""
    hits: list[tuple[int, str, float, bool]] = []  # start, value, confidence, known
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str, confidence: float, known: bool = False) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        hits.append((start, value, confidence, known))

    for place in places.find(low, whole_answer=expecting == "area", original=text):
        before = low[max(0, place.start - 16) : place.start]
        if _MOVING_FROM.search(before) or _SCHOOL_BEFORE.search(before):
            taken.append((place.start, place.end))
            continue
        if _SCHOOL_AFTER.match(low[place.end :]) or _NAMED_DISTRICT_AFTER.match(text[place.end :]):
            taken.append((place.start, place.end))
            continue
        confidence = {"name": SURE, "alias": LIKELY + 0.05}.get(place.how, INFERRED + 0.05)
        add(place.start, place.end, place.canonical, confidence, known=True)
    for match in _PLACE_PHRASE.finditer(text):
        if _PLACE_BLOCKED_BEFORE.search(low[max(0, match.start() - 16) : match.start()]):
            continue
        parts = re.split(r"\s*(?:,|/|\bor\b|\band\b|&|\bo\b|\by\b)\s*", match.group("place"))
        names = [p.strip(" .,'") for p in parts]
        names = [n for n in names if n and n.lower() not in _NOT_PLACES and len(n) > 1]
        # Places listed with a known one ("Leander or Liberty Hill") are places too.
        listed = any(places.canonical(n) for n in names)
        for name in names:
            start = text.find(name, match.start())
            if name.isdigit() or _SCHOOL_AFTER.match(low[start + len(name) :]):
                continue
            known = places.canonical(name)
            add(start, start + len(name), known or name, INFERRED, known=listed)
    for match in _LOWER_PLACE_PHRASE.finditer(low):
        place_text = match.group("place")
        words = place_text.split()
        for size in (2, 1):
            name = " ".join(words[:size])
            known = places.canonical(name) if len(words) >= size else None
            if known:
                start = match.start("place")
                add(start, start + len(name), known, LIKELY, known=True)
                break
        else:
            english = match.group("prep") in ("in", "near", "around", "close to")
            if expecting == "area" and english and words and words[0] not in _NOT_PLACES:
                start, end = match.span("place")
                add(start, end, text[start:end], INFERRED)
    for match in _DIRECTION.finditer(low):
        place_name = match.group("place") or match.group("downtown")
        start = match.start("place") if match.group("place") else match.start("downtown")
        add(start, start + len(place_name), place_name, INFERRED)
    for match in _ZIP.finditer(low):
        add(match.start(), match.end(), match.group("zip"), WEAK)
    if any(h[3] for h in hits):
        # Beside a known area, a ZIP or an unknown word ("by UCR", "the foothills") adds nothing.
        hits = [h for h in hits if h[3]]
    if not hits and expecting == "area":
        rest = _AREA_FILLER.sub("", text).strip(" .!?")
        plain = not re.search(r"\d", rest) and not _is_vague(fold(rest.lower()))
        if rest and len(rest.split()) <= 3 and plain and rest.lower() not in _NOT_PLACES:
            hits.append((0, places.canonical(rest) or rest, INFERRED, False))
    if not hits:
        return None
    hits.sort()
    values: list[str] = []
    for _, value, _, _ in hits:
        if value.lower() not in (v.lower() for v in values):
            values.append(value)
    return _answer(", ".join(values), min(h[2] for h in hits))


# ----------------------------------------------------------------------------- flags

_HANDOFF = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|the|your|some)?\s*(?:real|actual|live)?\s*"
    r"(?:person|human|agent|realtor|someone|somebody|anyone|rep|representative|you)\b|"
    r"\b(?:want|need|like|prefer|get me|rather have)\s+(?:a|an)\s+(?:real|actual|live)\s+"
    r"(?:person|human|agent)\b|"
    r"\bcall (?:me|us)\b|\bgive (?:me|us) a (?:call|ring)\b|"
    r"\b(?:rather|prefer to)\s+(?:talk|speak|chat|discuss)\b|\b(?:on|by|over) the phone\b|"
    r"\bby phone\b|\bphone call\b|"
    r"\b(?:agent|realtor|person|someone|somebody)\s+(?:to\s+)?(?:reach out|call|contact)\b|"
    r"\bhave (?:him|her|someone|somebody|\w+) (?:call|text|reach out|contact)\b|"
    r"\b(?:me|nos)\s+(?:puede|puedes|pueden|podria|podrias|podrian|quiere|quieres)\s+"
    r"(?:llamar|marcar|hablar)\b|\bll[aá]m(?:ame|eme|enme|anos|enos)\b|"
    r"\bm[aá]rc(?:ame|anos)\b|\bm[aá]rqu(?:eme|enme|enos)\b|"
    r"\bque (?:me|nos) (?:llame|llamen|marque|marquen)\b|"
    r"\b(?:hablar|platicar)\s+con\s+(?:una persona|un humano|alguien|un agente|el agente|"
    r"un asesor|una persona real|un ser humano|usted|ustedes|un representante)\b|"
    r"\b(?:prefiero|preferimos|quiero|queremos|necesito)\s+(?:hablar|platicar)\s+(?:por "
    r"telefono|en persona)\b|\bpor telefono\b|\buna llamada\b|\bllamada telefonica\b|"
    r"\b(?:quiero|queremos|necesito|prefiero)\s+(?:una persona|un humano|alguien real)\b"
)
_HANDOFF_NAMED = re.compile(
    r"\b(?:talk|speak|hablar|platicar)\s+(?:to|with|con)\s+(?P<name>[A-Z][a-z]+)\b"
)
_NOT_A_PERSON = {
    "lender", "bank", "wife", "husband", "spouse", "partner", "family", "mom", "dad",
    "esposo", "esposa", "marido", "mujer", "familia", "banco", "prestamista", "mi", "el",
    "la", "los", "mis", "nuestro", "nuestra", "mama", "papa",
}  # fmt: skip
_HANDOFF_NEGATED = re.compile(
    r"\b(?:don'?t|do not|stop|never|no need to)\s+(?:\w+\s+)?call\b|"
    r"\bno\s+(?:me\s+|nos\s+)?(?:llam|marqu)\w*"
)
_BOT = re.compile(
    r"\b(?:are|r)\s+(?:you|u)\s+(?:a\s+|an\s+)?(?:bot|robot|ai|a\.i\.|machine|computer|automated|"
    r"real|human|person|chat\s?bot)\b|"
    r"\bis\s+(?:this|that)\s+(?:a\s+|an\s+)?(?:bot|robot|ai|a\.i\.|automated|automatic|machine|"
    r"computer|real|person|human|chat\s?bot|chatgpt|assistant|auto)\b|"
    r"\b(?:am i|are we)\s+(?:talking|texting|chatting|speaking)\s+(?:(?:to|with)\s+)?"
    r"(?:a\s+|an\s+)?(?:bot|robot|ai|machine|computer|real|human|person|actual)\b|"
    r"\bis\s+this\s+\w+\s+or\s+(?:a\s+|an\s+)?(?:bot|robot|ai|assistant|computer|machine)\b|"
    r"\b(?:bot|robot|ai)\s*\?|"
    r"\b(?:eres|es|son|sera|seras)\s+(?:usted\s+|tu\s+|esto\s+|este mensaje\s+)?(?:un\s+|una\s+)?"
    r"(?:robot|bot|maquina|"
    r"computadora|ia|inteligencia artificial|persona real|humano|humana|persona|automatico|"
    r"automatizado|contestadora|grabacion|real)\b|"
    r"\b(?:estoy|estamos)\s+(?:hablando|escribiendo|platicando|chateando)\s+con\s+(?:un\s+|una\s+)?"
    r"(?:robot|bot|maquina|computadora|ia|persona|humano|persona real)\b|"
    r"\bes (?:un )?mensaje automatico\b"
)
_NONCOMMITTAL = re.compile(
    r"\b(?:idk|i don'?t know|dunno|not sure|unsure|no idea|maybe|depends|whenever|we'?ll see|"
    r"not really|hard to say|who knows|no clue|no se|no lo se|tal vez|quizas?|a lo mejor|"
    r"puede ser|depende|ni idea|quien sabe|no estoy segur[oa]|no estamos seguros|veremos|"
    r"ya veremos|no sabemos|todavia no sabemos|no sabria)\b"
)
_FILLER_WORDS = {
    "ok", "okay", "k", "kk", "sure", "yeah", "yes", "yep", "yup", "ya", "no", "nope", "nah",
    "maybe", "idk", "lol", "lmao", "haha", "hahaha", "hmm", "hm", "hmmm", "um", "uh", "thanks",
    "thank", "you", "ty", "thx", "cool", "great", "nice", "sounds", "good", "alright", "hi",
    "hello", "hey", "yea", "perfect", "awesome", "got", "it", "will", "do", "fine",
    "so", "much", "very", "again", "a", "lot", "for", "the", "info",
    "si", "gracias", "muchas", "bueno", "buena", "buenas", "claro", "vale", "sale", "va",
    "jaja", "jajaja", "ja", "aja", "mmm", "pues", "hola", "oh", "ah", "perfecto", "excelente",
    "listo", "de", "nada", "muy", "bien", "okey", "orale", "dale", "igualmente",
}  # fmt: skip


def _handoff(text: str, low: str) -> bool:
    """The lead asked for a person / a call."""
    if _HANDOFF_NEGATED.search(low):
        return False
    if _HANDOFF.search(low):
        return True
    named = _HANDOFF_NAMED.search(text)
    return bool(named and fold(named.group("name").lower()) not in _NOT_A_PERSON)


def asks_if_bot(text: str) -> bool:
    """Does the text ask whether the lead talks to a bot, an AI or a real person?"""
    return bool(_BOT.search(fold(_prepare(text).lower())))


def _is_vague(low: str) -> bool:
    words = re.findall(r"[a-z']+", low)
    if not words:
        return True  # emoji, punctuation
    if "?" in low and len(words) > 3:
        return False  # a real question is not an evasive answer
    if _NONCOMMITTAL.search(low):
        return True
    return all(w in _FILLER_WORDS for w in words)


# ----------------------------------------------------------------------------- entry point

_APPROVED_FOR = re.compile(r"approv|qualif|aprob|calific")
_SOUGHT: frozenset[FieldName] = frozenset(
    {"area", "bedrooms", "bathrooms", "must_haves", "property_type", "budget"}
)
_HOMES = re.compile(
    r"\b(?:homes|houses|listings|casas|propiedades|start(?:ing)? to look|empezando a buscar)\b"
)


def extract(
    text: str,
    *,
    today: date,
    expecting: FieldName | None = None,
    areas: Sequence[str] = (),
    lead_intent: Intent | None = None,
    aliases: Mapping[str, str] = _NO_ALIASES,
) -> Extraction:
    """What one inbound message tells us.

    ``expecting`` is the field our previous message asked about: it lets bare answers count
    ("3" → bedrooms, "yep" → pre-approved, "450" or "6" → $450,000 / $600,000). ``areas`` are
    the market's known neighbourhoods and cities, matched case-insensitively (also through the
    default aliases of ``places.DEFAULT_ALIASES`` and misspellings) and returned in their given
    spelling; ``aliases`` are the location's own (alias → canonical name). ``lead_intent`` is
    the intent known from earlier messages: a seller's "hoping for 600k" is its price
    expectation, a buyer's its budget, a renter's "2500" a month's rent. The returned intent
    is this message's alone. Value shapes are listed in this module's docstring.
    """
    prepared = _prepare(text or "")
    language = detect(prepared)
    places = gazetteer(tuple(areas), tuple(sorted(aliases.items())))
    address, address_span = _address(prepared, areas, expecting)
    masked = _blank(prepared, [address_span]) if address_span else prepared
    low = fold(masked.lower())
    numbers = _spell_numbers(fold(_house_numbers(masked, places).lower()), language)

    intent, intent_confidence = _intent(numbers)
    answers: dict[FieldName, Answer] = {}
    if address and (expecting == "address" or intent not in ("buy", "rent", "invest")):
        answers["address"] = address  # a buyer's "the listing at 12 Elm St" is not its home
    budget, price, price_cued = _money(numbers, expecting, intent, lead_intent)
    if budget:
        answers["budget"] = budget
        if intent is None and budget.value["max"] is not None and budget.value["max"] < 10_000:
            intent, intent_confidence = "rent", WEAK_INTENT  # a monthly budget
    if price:
        answers["price"] = price
        if price_cued and expecting is None and intent in (None, "buy"):
            # A sale price stated unprompted: a seller (who may also be buying).
            intent, intent_confidence = ("both", LIKELY) if intent else ("sell", WEAK_INTENT)
    if intent is None and budget and _APPROVED_FOR.search(numbers):
        intent, intent_confidence = "buy", LIKELY  # approved / qualified for an amount
    readiness = _readiness(numbers)
    if readiness and readiness.value == "value_curious" and intent is None:
        intent, intent_confidence = "sell", WEAK_INTENT  # a homeowner, maybe a seller later
    seller_only = intent == "sell"
    found: dict[FieldName, Answer | None] = {
        "timeline": _timeline(numbers, today, expecting),
        "pre_approval": _pre_approval(numbers, expecting),
        "bedrooms": None if seller_only else _bedrooms(numbers, expecting),
        "bathrooms": None if seller_only else _bathrooms(numbers, expecting),
        "property_type": None if seller_only else _property_type(numbers, expecting),
        "must_haves": None if seller_only else _must_haves(masked, numbers, language),
        "motivation": _motivation(low),
        "condition": _condition(low, expecting),
        "area": _area(masked, low, places, expecting),
        "readiness": readiness,
    }
    answers.update({name: answer for name, answer in found.items() if answer is not None})
    browsing = intent is None and readiness is not None and readiness.value == "browsing"
    if browsing and (_SOUGHT.intersection(answers) or _HOMES.search(numbers)):
        # Browsing homes, an area, a size: a buyer not ready yet ("just looking" alone is not).
        intent, intent_confidence = "buy", WEAK_INTENT
    handoff = _handoff(masked, low)
    bot = bool(_BOT.search(low))
    vague = not answers and intent is None and not handoff and not bot and _is_vague(low)
    return Extraction(
        intent=intent,
        intent_confidence=intent_confidence if intent else 0.0,
        answers=answers,
        handoff_requested=handoff,
        asked_if_bot=bot,
        vague=vague,
        language=language,
    )
