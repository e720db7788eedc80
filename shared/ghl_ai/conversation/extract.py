"""Rule-based extraction of qualification facts from one inbound lead message.

:func:`extract` reads a single SMS and returns an :class:`~ghl_ai.conversation.model.Extraction`:
the lead's intent, the qualification answers it carries, and three flags (asked for a person,
asked whether it is a bot, vague). Value shapes, as in ``model.py``:

==============  ===================================================================
budget          ``{"min": int | None, "max": int | None}`` in US dollars
area            ``str``: canonical spelling of a known area, else as written; several
                areas are joined with ", " in the order the lead gave them
timeline        ``int``: days from ``today`` (ASAP → 30, "3 months" → 90)
pre_approval    ``"yes" | "no" | "in_progress" | "cash"``
bedrooms        ``int``: minimum bedrooms ("3 or 4 bedrooms" → 3)
property_type   ``"single_family" | "condo" | "townhouse" | "multi_family" | "land" |
                "manufactured"``
must_haves      ``list[str]``: short lower-case features in the order given ("pool", "big yard")
address         ``str``: the street address as written (with unit, city, state, ZIP if given)
motivation      ``"relocating" | "downsizing" | "upsizing" | "financial" | "divorce" |
                "inherited" | "retiring" | "investment" | "other"``
condition       ``"move_in_ready" | "good" | "needs_work" | "fixer_upper"``
price           ``int``: the seller's price expectation in US dollars
==============  ===================================================================

Confidence: ~0.9 for explicit matches, 0.6-0.7 for inferred ones (bare answers read through
``expecting``, ZIP codes or unknown place names as areas). ``qualification.merge`` drops answers
below 0.5, so nothing here goes lower than that. Standard library only (plus the pydantic models),
regexes compiled at import: this runs in a Lambda on every inbound message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from ghl_ai.conversation.model import Answer, Extraction, FieldName, Intent

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


def _as_int(word: str) -> int:
    word = word.strip().lower()
    if word.isdigit():
        return int(word)
    for key in ("couple", "few", "several"):
        if key in word:
            return _NUMBER_WORDS[key]
    return _NUMBER_WORDS[word]


def _answer(value: object, confidence: float) -> Answer:
    return Answer(value=value, confidence=confidence, source="rules")


def _negated(text: str, start: int) -> bool:
    """A "no"/"not"/"don't want" just before ``start``."""
    return bool(_NEGATION.search(text[max(0, start - 24) : start]))


_NEGATION = re.compile(
    r"\b(?:no|not|don'?t|dont|never|without|isn'?t|aren'?t)\b(?:\s+(?:want|need|a|an|any|"
    r"interested|in|looking|for|really|the)\b)*\s*$"
)

# ----------------------------------------------------------------------------- text prep

_CHAR_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})
_PHONE = re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")


def _prepare(text: str) -> str:
    """Same-length normalisation (so positions stay valid): typographic quotes and dashes,
    phone numbers blanked out."""
    text = text.translate(_CHAR_MAP)
    return _PHONE.sub(lambda m: " " * len(m.group()), text)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


# ----------------------------------------------------------------------------- address

_STREET_SUFFIX = (
    r"st|street|ave|avenue|av|rd|road|dr|drive|ln|lane|blvd|boulevard|ct|court|cir|circle|way|"
    r"pl|place|trl|trail|pkwy|parkway|hwy|highway|ter|terrace|loop|cv|cove|pass|path|bend|xing|"
    r"square|row|run|crossing|hollow|holw"
)
_STOPWORDS = {
    "the", "on", "a", "an", "of", "to", "in", "my", "our", "is", "are", "we", "and", "or",
    "for", "with", "at", "by", "it", "its", "so", "but", "bed", "beds", "bath", "baths",
    "kids", "car", "months", "weeks", "years", "days", "bedroom", "bedrooms",
}  # fmt: skip
_ADDRESS = re.compile(
    r"(?<![\w$#.,/-])(?P<number>\d{1,6}[a-z]?)\s+"
    r"(?P<name>(?:(?:[nsew]\.?|north|south|east|west)\s+)?(?:[a-z0-9'.-]+\s+){0,3})"
    rf"(?P<suffix>{_STREET_SUFFIX})\b\.?"
    r"(?P<unit>\s*,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[\w-]+)?",
    re.IGNORECASE,
)
_CITY_AFTER_COMMA = re.compile(r"\s*,\s*(?P<city>[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,2})")
_STATE_ZIP = re.compile(r"(?:\s*,?\s*(?:TX|Texas|[A-Z]{2})\b)?(?:\s*,?\s*\d{5}(?:-\d{4})?\b)?")
_BARE_ADDRESS = re.compile(
    r"^\s*(?:(?:it'?s|its|the (?:house|home|address|property) is|address is)\s+(?:at\s+)?)?"
    r"(?P<addr>\d{1,6}\s+[a-z][a-z0-9 .'#-]*?)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def _address(
    text: str, areas: Sequence[str], expecting: FieldName | None
) -> tuple[Answer | None, tuple[int, int] | None]:
    """The seller's street address "123 Oak St[, Apt 2][, City][ TX][ 78704]" and its span."""
    for match in _ADDRESS.finditer(text):
        words = match.group("name").lower().split()
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
    r"^\W*(?P<word>buy|buying|sell|selling|both|rent|renting|lease|leasing|invest|investing)\b"
    r"(?:\s+(?:actually|please|lol|for sure|probably|i think))?\W*$"
)
_BARE_INTENTS: dict[str, Intent] = {
    "buy": "buy", "buyi": "buy", "sell": "sell", "both": "both", "rent": "rent", "leas": "rent",
    "inve": "invest",
}  # fmt: skip
_BOTH_WORD = re.compile(r"^\W*both\b|\b(?:do|doing|want|need|looking to do)\s+both\b")
_NOT_ACTION = re.compile(r"\b(?:instead of|not|no longer|don'?t want to)\s+(?:\w+\s+)?(?=\w+ing\b)")
_SELL = re.compile(
    r"\bsell(?:ing)?\b|\blist(?:ing)?\s+(?:my|our|the|it|in|this)\b|\bput\s+(?:\w+\s+){0,2}on the"
    r" market\b"
)
_BUY = re.compile(
    r"\bbuy(?:ing)?\b|\bpurchas(?:e|ing)\b|\b(?:first[- ]time|home|cash)\s+(?:home\s*)?buyers?\b|"
    r"\bi'?m a buyer\b|\b(?:looking|lookin|searching|shopping|hunting)\s+(?:for|at|in)\b"
    r"(?!\s+(?:a |an )?(?:agent|realtor|investment|investor|rental|place to (?:rent|lease)))|"
    r"\bpre-?\s?approv\w*|\bpreapprov\w*|\bhouse hunting\b|\bin the market for\b|"
    r"\b(?:our|a|my)\s+(?:\$?\d+k?\s+)?budget\b|\bspend\b|"
    r"\b(?:want|need)\s+(?:a|an)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:home|house|condo|town\s?(?:house|home))\b(?!\s+office)"
)
_BUY_WEAK = re.compile(
    r"\bstill available\b|\bsee (?:it|the house|the home|homes|houses)\b|\btour\b|\bshowing\b|"
    r"\blistings?\b|\bdo you have (?:any|anything)\b"
)
_RENT = re.compile(
    r"\b(?:looking|want(?:ing)?|need|like|going|decided|plan(?:ning)?|trying|hoping)\s+to\s+"
    r"(?:\w+\s+)?(?:rent|lease)\b|\bfor rent\b|\bplace to (?:rent|lease)\b|\bhelp with rentals\b|"
    r"\b(?:rent|lease)\s+(?:a|an|for now|instead|month)\b|\brenting (?:for now|instead)\b|"
    r"\bapartment\b.*\brent\b|\brent(?:al)?s?\?"
)
_INVEST = re.compile(
    r"\binvest(?:ment|ing|or)?s?\b|\brental propert(?:y|ies)\b|\bincome propert(?:y|ies)\b|"
    r"\bcash[- ]?flow\w*|\bflip(?:ping)?\b|\bairbnb\b"
)


def _intent(low: str) -> tuple[Intent | None, float]:
    """buy / sell / both / rent / invest from explicit phrases; (None, 0) when not stated."""
    bare = _INTENT_BARE.match(low)
    if bare:
        return _BARE_INTENTS[bare.group("word")[:4]], SURE
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


_MONEY = re.compile(
    r"(?<![\w#/.$])(?P<dollar>\$\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<suffix>k|m|mm|mil|million|thousand|grand)\b)?(?:ish\b)?"
    r"(?![\d,]|\.\d|/\d)",
    re.IGNORECASE,
)
_HUNDREDS = re.compile(r"\bin the (?:low |mid |high |upper |lower )?\$?(\d{1,2})00s\b")
_NOT_MONEY_AFTER = re.compile(
    r"^\s*-?\s*(?:\+\s*)?(?:bed|bd|br|bath|ba\b|bedroom|room|month|mo\b|week|wk|year|yr|day|car|"
    r"kid|child|acre|sq|ft|foot|feet|stor|min\b|minute|hour|hr|am\b|pm\b|st\b|nd\b|rd\b|th\b|%|"
    r"percent|unit|people|dog|cat|or \d+\s*(?:bed|br|bd)|/\d)",
    re.IGNORECASE,
)
_MONTHLY_AFTER = re.compile(r"^\s*(?:/\s*mo\b|/\s*month|a month|per month|monthly|a mo\b)")
_MONEY_CUE_BEFORE = re.compile(
    r"(?:under|up to|upto|max(?:imum)?|budget(?: is| of)?|around|about|approx\.?|approximately|"
    r"between|at least|no more than|less than|below|over|above|spend|afford|for|get|worth|asking|"
    r"list(?:ed)? (?:it )?(?:for|at)|like|is|min(?:imum)?|from|and|to)\s*(?:about |around |"
    r"like )?\$?\s*$"
)
_MONEY_CUE_AFTER = re.compile(r"^\s*(?:k\b|tops|max|budget|ceiling|or less|or under|firm|ish)")
_MIN_CUE = re.compile(
    r"(?:at least|minimum|min|no less than|starting at|(?<!no )more than|over|above|from)"
    r"\s*\$?\s*$"
)
_PRICE_CUE_BEFORE = re.compile(
    r"\b(?:get|list(?:ed|ing)?(?: it)?(?: for| at)?|worth|asking|sell(?:ing)?(?: it)? for|"
    r"price(?! range)(?: is| of)?|offers?|net|walk away with)\b[^,.;]{0,14}$"
)
#: What the lead hopes or wants to get, right before the amount: a sale price when the lead
#: sells (or sells and buys), a budget otherwise ("hoping for 600k", "we'd like around 650").
_HOPE_CUE_BEFORE = re.compile(
    r"\b(?:hop(?:e|ing)|hopefully|want(?:ing|ed)?|(?:would|'d)\s+like|like to|need(?:ing)?|"
    r"expect(?:ing)?|looking|thinking|aiming|ideally)"
    r"(?:\s+(?:to\s+(?:get|see|net|ask|list(?:\s+it)?|sell(?:\s+it)?)(?:\s+(?:for|at))?|for|at))?"
    r"(?:\s+(?:at least|around|about|close to|something like|like|roughly|maybe|over|north of))?"
    r"\s*$"
)
_PRICE_CUE_AFTER = re.compile(
    r"^[^,.;]{0,4}\b(?:for (?:it|ours|the (?:house|home|place)|my (?:house|home|place)|our "
    r"(?:house|home|place))|firm|obo|or best offer|would make us happy)\b"
)
_BUDGET_CUE = re.compile(
    r"\b(?:budget|spend|afford|approv\w*|qualif\w*|lender|looking|next one|buy\w*|under|up to|"
    r"range)\b"
)
_RANGE_TO_SCALED = re.compile(
    r"^\s*(?:-|to|and)\s*\$?\d[\d,.]*\s?(?P<suffix>k|m|mm|mil|million|thousand|grand)\b"
)
_RANGE_GAP = re.compile(r"^\s*(?:-|to|and|or)\s*$")


def _amounts(low: str, expecting: FieldName | None) -> list[_Amount]:
    """Dollar amounts with their bound (min/max), after dropping numbers that are bedrooms,
    durations, years, house numbers, ZIPs, ordinals..."""
    found: list[_Amount] = []
    money_context = expecting in ("budget", "price")
    for match in _MONEY.finditer(low):
        num_text = match.group("num").replace(",", "")
        raw = float(num_text)
        dollar = bool(match.group("dollar"))
        suffix = (match.group("suffix") or "").lower()
        after = low[match.end() : match.end() + 24]
        before = low[max(0, match.start() - 28) : match.start()]
        if not suffix and not dollar and _NOT_MONEY_AFTER.match(after):
            continue
        scaled_range = _RANGE_TO_SCALED.match(after)
        if scaled_range and not suffix:
            suffix = scaled_range.group("suffix")  # "400-500k", "1.2 to 1.5M"
        monthly = bool(_MONTHLY_AFTER.match(after))
        plain_digits = not suffix and not dollar and "," not in match.group("num")
        if plain_digits and "." not in num_text and len(num_text) == 4 and 1900 <= raw <= 2100:
            continue  # a year
        if plain_digits and len(num_text) == 5:
            continue  # a ZIP code
        if suffix in ("k", "thousand", "grand"):
            value = raw * 1_000
        elif suffix in ("m", "mm", "mil", "million"):
            value = raw * 1_000_000
        elif raw < 10_000 and not monthly:
            value = raw * 1_000  # "450" in a budget/price context means thousands
        else:
            value = raw
        explicit = dollar or bool(suffix) or "," in match.group("num") or raw >= 10_000
        cue = bool(_MONEY_CUE_BEFORE.search(before) or _MONEY_CUE_AFTER.match(after))
        if not explicit and not money_context and not cue:
            continue
        if not explicit and raw < 50 and not monthly:
            continue  # "3", "12": not a price in thousands
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
    """ "400-500k", "between 400 and 500", "350 to 375": the first is the min, the second the
    max, and both play the same part (budget or price)."""
    for first, second in pairwise(found):
        gap = low[first.end : second.start]
        if not _RANGE_GAP.match(gap):
            continue
        if gap.strip() == "and" and "between" not in low[max(0, first.start - 12) : first.start]:
            continue
        if gap.strip() == "or" and not (first.explicit and second.explicit):
            continue
        first.bound, second.bound = "min", "max"
        first.price_cue = second.price_cue = first.price_cue or second.price_cue
        second.partner = first


def _money(
    low: str, expecting: FieldName | None, intent: Intent | None, lead_intent: Intent | None
) -> tuple[Answer | None, Answer | None, bool]:
    """(budget, price, price_was_cued). Budget ``{"min", "max"}``; price int. ``intent`` is the
    message's, ``lead_intent`` the one known before it: a seller's hoped-for amount is its price
    whatever we asked last, a buyer's its budget."""
    sells = intent in ("sell", "both") or (intent is None and lead_intent in ("sell", "both"))
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
    for amount in _amounts(low, expecting):
        window = low[max(0, amount.start - 30) : amount.end + 20]
        if amount.price_cue or (amount.hope_cue and sells and expecting != "budget"):
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
    r"urgent(?:ly)?|(?:right|like|move|moving|buy|buying|sell|selling|ready)\s+(?:right\s+)?now"
    r"|(?:sell|move|moving|buy|close|out|sold)\w*\s+(?:\w+\s+)?(?:fast|quick(?:ly)?))\b"
)
_DURATION = re.compile(
    rf"\b(?P<n>\d+|{_NUM_WORD}|an?|a couple(?: of)?|couple(?: of)?|a few|few|several)"
    rf"(?:\s*(?:-|to|or)\s*(?P<n2>\d+|{_NUM_WORD}))?\s*(?P<unit>day|week|wk|month|mo|year|yr)s?\b"
)
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "month": 30, "mo": 30, "year": 365, "yr": 365}
_DURATION_PAST_BEFORE = re.compile(
    r"(?:\b(?:for|been|owned|lived|last|past)\s+(?:the\s+)?(?:last\s+|past\s+)?|\d\s*k?\s*)$"
)
_NEXT_YEAR = re.compile(r"\b(?:next|within (?:the|a)|this coming|in a|in one)\s+year\b")
_YEAR_END = re.compile(
    r"\b(?:end of (?:the )?year|year[- ]end|end of \d{4}|(?:by|before) (?:the )?new year)\b"
)
_NEXT_MONTH = re.compile(r"\b(?:next|within a|within the)\s+month\b")
_SEASON = re.compile(
    r"(?:\b(?:this|next|by|in|the|until|before|around|prob|probably|early|late|mid)\s+)?"
    r"\b(?P<season>spring|summer|fall|autumn|winter)\b"
)
_SEASON_START = {"spring": (3, 20), "summer": (6, 21), "fall": (9, 22), "autumn": (9, 22)}
_SEASON_START["winter"] = (12, 21)
_MONTH_ABBREVIATIONS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTHS = {m: i for i, m in enumerate(_MONTH_ABBREVIATIONS.split("|"), 1)}
_MONTH = re.compile(
    r"\b(?P<cue>(?:by|in|until|before|after|early|late|mid|end of|beginning of|around|next)\s+)?"
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
    r"(?:\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<year>\d{4}))?"
)
_PAST_CONTEXT = re.compile(
    r"\b(?:passed|died|ago|last|bought|since|renovated|remodeled|was|were|did|built|moved in)\b"
)


def _next_date(today: date, month: int, day: int) -> date:
    target = date(today.year, month, day)
    return target if target > today else date(today.year + 1, month, day)


def _timeline(low: str, today: date, expecting: FieldName | None) -> Answer | None:
    """Days until the lead wants to move: the first time expression in the message."""
    candidates: list[tuple[int, int, float]] = []  # (position, days, confidence)
    for match in _ASAP.finditer(low):
        if not _negated(low, match.start()):
            candidates.append((match.start(), 30, SURE))
    if expecting == "timeline" and re.fullmatch(r"\W*(?:now|right now|soon as possible)\W*", low):
        candidates.append((0, 30, SURE))
    for match in _DURATION.finditer(low):
        if _DURATION_PAST_BEFORE.search(low[max(0, match.start() - 22) : match.start()]):
            continue
        if re.match(r"\s+ago\b", low[match.end() :]):
            continue
        count = _as_int(match.group("n2") or match.group("n"))
        candidates.append((match.start(), count * _UNIT_DAYS[match.group("unit")], SURE))
    for pattern, days in (
        (_NEXT_YEAR, 365),
        (_YEAR_END, max(7, (date(today.year, 12, 31) - today).days)),
        (_NEXT_MONTH, 30),
    ):
        candidates.extend((m.start(), days, SURE) for m in pattern.finditer(low))
    for match in _SEASON.finditer(low):
        if _PAST_CONTEXT.search(low[max(0, match.start() - 25) : match.start("season")]):
            continue
        season = match.group("season")
        if season == "fall" and match.group() == "fall" and low.strip(" .!?") != "fall":
            continue  # "fall" as a verb
        month, day = _SEASON_START[season]
        candidates.append((match.start(), (_next_date(today, month, day) - today).days, LIKELY))
    for match in _MONTH.finditer(low):
        word = match.group("month")
        if word == "may" and not (match.group("cue") or match.group("day")):
            continue  # the verb
        if word in ("mar", "jun", "jul", "sep", "dec") and not match.group("cue"):
            continue
        if _PAST_CONTEXT.search(low[max(0, match.start() - 25) : match.start("month")]):
            continue
        if match.group("year") and int(match.group("year")) < today.year:
            continue
        month = _MONTHS[word[:3]]
        day = int(match.group("day")) if match.group("day") else 1
        try:
            target = _next_date(today, month, day)
        except ValueError:
            target = _next_date(today, month, 1)
        candidates.append((match.start(), (target - today).days, LIKELY))
    if not candidates:
        return None
    _, days, confidence = min(candidates, key=lambda c: c[0])
    return _answer(days, confidence)


# ----------------------------------------------------------------------------- pre-approval

_CASH = re.compile(r"\bcash\b(?![- ]?(?:flow|out|back|offer from))")
_PRE_NO = re.compile(
    r"\bnot\s+(?:yet\s+)?(?:been\s+)?pre-?\s?approved\b|\bnot\s+preapproved\b|"
    r"\b(?:need|have|going) to get (?:pre-?\s?approved|preapproved|a pre-?approval)\b|"
    r"\bno pre-?\s?approval\b|\bhaven'?t\s+(?:been\s+|gotten\s+|got\s+)?pre-?\s?approved\b"
)
_PRE_PROGRESS = re.compile(
    r"\b(?:talking|speaking|working|meeting)\s+(?:to|with)\s+(?:a|our|my|the)?\s*(?:lender|bank|"
    r"loan officer|mortgage)\w*|\bin (?:the )?process\b|\bappl(?:ied|ying) for\b|"
    r"\bgetting (?:pre-?\s?approved|preapproved)\b|"
    r"\bwaiting (?:on|for) (?:the )?(?:lender|approval|bank|pre-?approval)\b|"
    r"\bpre-?\s?qualified\b|\bprequalified\b"
)
_PRE_WORKING = re.compile(r"\bworking on (?:it|that|getting)\b")
_PRE_YES = re.compile(
    r"\bpre-?\s?approved\b|\bpreapproved\b|\b(?:pre-?\s?)?approval letter\b|\bpreapproval letter\b|"
    r"\b(?:got|have) (?:our|my|the|a) (?:pre-?\s?)?approval\b|\bgot (?:our|my) preapproval\b|"
    r"\b(?:lender|bank|mortgage company)\s+(?:already\s+)?approved\s+(?:us|me)\b"
)
_BARE_YES = re.compile(
    r"^\W*(?:yes|yep|yup|yeah|ya|yea|yess+|sure|correct|absolutely|definitely|we are|i am|"
    r"already|of course)\b"
)
_BARE_NO = re.compile(r"^\W*(?:no|nope|nah|not yet|negative|not really|not at the moment)\b")


def _pre_approval(low: str, expecting: FieldName | None) -> Answer | None:
    """yes / no / in_progress / cash."""
    asked = expecting == "pre_approval"
    if _CASH.search(low):
        return _answer("cash", SURE)
    if _PRE_NO.search(low):
        return _answer("no", SURE)
    if _PRE_PROGRESS.search(low):
        return _answer("in_progress", SURE)
    if _PRE_WORKING.search(low) and (asked or re.search(r"\b(?:lender|bank|approv)", low)):
        return _answer("in_progress", LIKELY)
    match = _PRE_YES.search(low)
    if match and not _negated(low, match.start()):
        return _answer("yes", SURE)
    if asked and _BARE_NO.search(low):
        return _answer("no", INFERRED + 0.05)
    if asked and _BARE_YES.search(low):
        return _answer("yes", INFERRED + 0.05)
    return None


# ----------------------------------------------------------------------------- bedrooms

_BEDS = re.compile(
    rf"\b(?P<n>\d{{1,2}}|{_NUM_WORD})(?:\s*(?:or|-|to)\s*(?:\d{{1,2}}|{_NUM_WORD}))?\s*\+?\s*-?\s*"
    r"(?:bed(?:room)?s?|bdrms?|bdr|bds?|brs?)\b"
)
_BARE_NUMBER = re.compile(rf"\b(?P<n>\d{{1,2}}|{_NUM_WORD})\b")


def _bedrooms(low: str, expecting: FieldName | None) -> Answer | None:
    """Minimum bedrooms: "3 bed", "3br", "three bedrooms", "3 or 4 bedrooms" → 3."""
    match = _BEDS.search(low)
    if match:
        return _answer(_as_int(match.group("n")), SURE)
    if expecting == "bedrooms":
        bare = _BARE_NUMBER.search(low)
        if bare and 0 < _as_int(bare.group("n")) <= 12:
            return _answer(_as_int(bare.group("n")), INFERRED + 0.05)
    return None


# ----------------------------------------------------------------------------- property type

_PROPERTY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("townhouse", re.compile(r"\b(?:town\s?houses?|town\s?homes?|row\s?houses?)\b")),
    (
        "multi_family",
        re.compile(
            r"\b(?:duplex|triplex|fourplex|four-plex|quadplex|multi-?\s?family|multifamily|"
            r"multi-unit|\d-unit)(?:es|s)?\b"
        ),
    ),
    (
        "manufactured",
        re.compile(r"\b(?:mobile homes?|manufactured(?: homes?)?|modular homes?|trailers?)\b"),
    ),
    ("condo", re.compile(r"\b(?:condo(?:minium)?s?|apartments?|lofts?)\b")),
    (
        "single_family",
        re.compile(r"\b(?:single[- ]family|sfh|sfr|detached home|house only)\b"),
    ),
    (
        "land",
        re.compile(
            r"\b(?:land|vacant lots?|empty lots?|buildable lots?|lots? to build|a lot to build|"
            r"lots? for sale)\b"
        ),
    ),
)
_HOUSE_WANTED = re.compile(
    r"\b(?:buy(?:ing)?|want(?:ing)?|need(?:ing)?|looking (?:for|at)|searching for|find|bed"
    r"(?:room)?s?|br|bd|story|starter|for a)\s+(?:[\w-]+\s+){0,2}?(?P<word>houses?)\b"
)
_OWNED_BEFORE = re.compile(
    r"\b(?:my|our|sell(?:ing)?|outgrown|current|list(?:ing)?)\s+(?:\w+\s+)?$"
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

_MUST_HAVES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fenced yard", re.compile(r"\bfenced(?:[- ]in)?\s+(?:back\s?)?yard\b|\bfenced\b")),
    (
        "big yard",
        re.compile(
            r"\b(?:big|large|huge|bigger|spacious|nice[- ]sized?|good[- ]sized?)\s+(?:back\s?)?"
            r"yards?\b|\blots? of yard\b"
        ),
    ),
    ("yard", re.compile(r"\b(?:back\s?)?yards?\b(?!\s+work)")),
    ("pool", re.compile(r"\b(?:swimming\s+)?pool\b")),
    ("garage", re.compile(r"\bgarage\b")),
    ("office", re.compile(r"\b(?:home\s+)?office\b")),
    ("basement", re.compile(r"\bbasement\b")),
    ("view", re.compile(r"\bviews?\b(?!\s+(?:it|the|this|that|homes?|houses?|properties))")),
    (
        "single story",
        re.compile(r"\b(?:single|one|1)[- ]?(?:stor(?:y|ey)|level)\b|\branch[- ]style\b"),
    ),
    ("fireplace", re.compile(r"\bfire\s?place\b")),
    (
        "good schools",
        re.compile(r"\b(?:good|great|top|best)\s+school(?:s| district)\b|\bschools? matter\b"),
    ),
    ("no hoa", re.compile(r"\b(?:no|without(?: an)?)\s+hoa\b")),
    ("acreage", re.compile(r"\bacreage\b|\b\d+\+?\s*acres?\b")),
    ("waterfront", re.compile(r"\bwater\s?front\b|\blake\s?front\b")),
)


def _must_haves(low: str) -> Answer | None:
    """Features in the order the lead gave them; "big yard" wins over a plain "yard"."""
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for value, pattern in _MUST_HAVES:
        for match in pattern.finditer(low):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            if value != "no hoa" and _negated(low, match.start()):
                continue
            taken.append(match.span())
            if value not in (v for _, v in hits):
                hits.append((match.start(), value))
    if not hits:
        return None
    return _answer([v for _, v in sorted(hits)], LIKELY)


# ----------------------------------------------------------------------------- motivation

_MOTIVATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("divorce", re.compile(r"\bdivorc\w*|\bseparat(?:ed|ing|ion)\b|\bsplit(?:ting)? up\b")),
    (
        "inherited",
        re.compile(
            r"\binherit\w*|\bestate sale\b|\bprobate\b|\bpassed away\b|"
            r"\b(?:he|she|they|mom|dad|mother|father|grandma|grandpa)\s+(?:just\s+)?passed\b|"
            r"\b(?:mom|dad|mother|father|parent)s?(?:'s)? (?:died|passed)\b"
        ),
    ),
    (
        "financial",
        re.compile(
            r"\bcan'?t afford\b|\bcannot afford\b|\bbehind on\b|\bforeclos\w*|"
            r"\bmoney'?s?\s+(?:is\s+)?tight\b|\bfinancial\w*|\bcan'?t keep up\b|"
            r"\blost (?:my|his|her) job\b|\bmedical bills\b"
        ),
    ),
    ("retiring", re.compile(r"\bretir(?:e|ed|ing|ement)\b")),
    (
        "relocating",
        re.compile(
            r"\brelocat\w*|\bjob transfer\b|\btransferr?(?:ed|ing)\b|\bnew job\b|"
            r"\b(?:job|work|company|employer) (?:is )?(?:moving|sending|transferring) (?:me|us)\b|"
            r"\bfor (?:a |my |his |her |our |the )?(?:new )?(?:job|work)\b|\bjob offer\b"
        ),
    ),
    (
        "upsizing",
        re.compile(
            r"\bupsiz\w*|\bgrowing family\b|\bfamily is growing\b|\bmore (?:space|room)\b|"
            r"\bbigger (?:place|home|house)\b|\boutgr[eo]wn\b|\bbaby\b|\btwins\b|\bpregnant\b|"
            r"\bsomething bigger\b|\bbuy bigger\b"
        ),
    ),
    (
        "downsizing",
        re.compile(
            r"\bdownsiz\w*|\bempty[- ]nest\w*|\btoo big for (?:us|me)\b|\bkids (?:are )?"
            r"(?:grown|moved out|gone|out of the house)\b|\bsmaller (?:place|home|house)\b"
        ),
    ),
    (
        "investment",
        re.compile(
            r"\binvest(?:ment|ing|or)?s?\b|\brental propert(?:y|ies)\b|\bincome propert(?:y|ies)\b|"
            r"\bcash[- ]?flow\w*|\blandlord\b|\bflip(?:ping)?\b|\bairbnb\b"
        ),
    ),
    (
        "other",
        re.compile(
            r"\bchange of scenery\b|\bwant a change\b|\bcloser to (?:family|work|my family)\b|"
            r"\btesting the market\b|\bsee what (?:we|i) (?:could|would|can) get\b|\bcommute\b"
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
            r"\bfull (?:reno|renovation|rehab|gut)\b|\bgut job\b"
        ),
    ),
    (
        "needs_work",
        re.compile(
            r"\bneeds? (?:some |a little |a bit of |a lot of |minor |lots of )?"
            r"(?:work|tlc|updat\w*|repairs?|love|paint|new)\b|"
            r"\btlc\b|\bdated\b|\boutdated\b|\bcosmetic\b|\bhandyman special\b|\ba lot of work\b"
        ),
    ),
    (
        "move_in_ready",
        re.compile(
            r"\bmove[- ]?in[- ]ready\b|\bturn[- ]?key\b|"
            r"\b(?:updated|renovated|remodell?ed|redone)\b|\blike new\b|\bbrand new\b|"
            r"\b(?:great|excellent|perfect|mint) (?:shape|condition)\b|"
            r"\bready to move in\b"
        ),
    ),
    (
        "good",
        re.compile(
            r"\bgood (?:shape|condition)\b|\bpretty good\b|\bdecent (?:shape|condition)\b|"
            r"\bwell[- ](?:maintained|kept)\b|\bminor (?:stuff|things|issues)\b"
        ),
    ),
)
_BARE_GOOD = re.compile(r"^\W*(?:good|fine|decent|solid)\b")


def _condition(low: str, expecting: FieldName | None) -> Answer | None:
    """The seller's home condition; the worst category mentioned wins."""
    for value, pattern in _CONDITIONS:
        match = pattern.search(low)
        if match and not _negated(low, match.start()):
            return _answer(value, SURE if expecting == "condition" else LIKELY)
    if expecting == "condition" and _BARE_GOOD.search(low):
        return _answer("good", WEAK)
    return None


# ----------------------------------------------------------------------------- area

_PLACE_PHRASE = re.compile(
    r"\b(?:in|near|around|by|close to|nearby)\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|campus|district))*"
    r"(?:\s*(?:,|/|or|and|&)\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)*)"
)
_LOWER_PLACE_PHRASE = re.compile(
    r"\b(?:in|near|around|close to)\s+(?:the\s+)?(?P<place>[a-z][\w'.-]*(?:\s+[a-z][\w'.-]*)?)"
)
_NOT_PLACES = {
    "i", "the", "a", "my", "our", "your", "this", "that", "it", "we", "us", "they",
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
    "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
    "november", "dec", "december", "spring", "summer", "fall", "autumn", "winter", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "about", "person",
    "zillow", "realtor", "redfin", "jorge", "texas", "tx", "asap", "idk",
}  # fmt: skip
_PLACE_BLOCKED_BEFORE = re.compile(r"\b(?:job|work|from|moving to|relocat\w*|office)\s*$")
_ZIP = re.compile(r"(?<![\d$,.#-])\b(?P<zip>7\d{4}|[0-68-9]\d{4})\b(?![\d,k])")
_DIRECTION = re.compile(
    r"\b(?:in|on|near)\s+(?:the\s+)?(?P<place>(?:north|south|east|west|central)\s?(?:side|end)|"
    r"(?:north|south|east|west)(?:west|east)?\s+side)\b|\b(?P<downtown>downtown)\b"
)
_AREA_FILLER = re.compile(
    r"^\W*(?:(?:somewhere|anywhere|probably|prob|maybe|i think|ideally|preferably|like|"
    r"in|near|around|the|close to|by)\b\s*)*",
    re.IGNORECASE,
)


def _area(text: str, low: str, areas: Sequence[str], expecting: FieldName | None) -> Answer | None:
    """Known areas (canonical spelling), else "in/near/around X" places and ZIP codes."""
    hits: list[tuple[int, str, float]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str, confidence: float) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        hits.append((start, value, confidence))

    for area in sorted(areas, key=len, reverse=True):
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in area.lower().split()) + r"\b"
        for match in re.finditer(pattern, low):
            if not re.search(r"\bfrom\s+$", low[max(0, match.start() - 6) : match.start()]):
                add(match.start(), match.end(), area, SURE)
    for match in _PLACE_PHRASE.finditer(text):
        if _PLACE_BLOCKED_BEFORE.search(low[max(0, match.start() - 16) : match.start()]):
            continue
        for part in re.split(r"\s*(?:,|/|\bor\b|\band\b|&)\s*", match.group("place")):
            name = part.strip(" .,'")
            if not name or name.lower() in _NOT_PLACES or name.isdigit() or len(name) < 2:
                continue
            start = text.find(name, match.start())
            add(start, start + len(name), _known(name, areas) or name, INFERRED)
    for match in _LOWER_PLACE_PHRASE.finditer(low):
        place = match.group("place")
        words = place.split()
        for size in (2, 1):
            name = " ".join(words[:size])
            known = _known(name, areas)
            if known:
                add(match.start("place"), match.start("place") + len(name), known, LIKELY)
                break
        else:
            if expecting == "area" and words and words[0] not in _NOT_PLACES:
                start, end = match.span("place")
                add(start, end, text[start:end], INFERRED)
    for match in _DIRECTION.finditer(low):
        place = match.group("place") or match.group("downtown")
        start = match.start("place") if match.group("place") else match.start("downtown")
        add(start, start + len(place), place, INFERRED)
    for match in _ZIP.finditer(low):
        add(match.start(), match.end(), match.group("zip"), WEAK)
    if not hits and expecting == "area":
        rest = _AREA_FILLER.sub("", text).strip(" .!?")
        plain = not re.search(r"\d", rest) and not _is_vague(rest.lower())
        if rest and len(rest.split()) <= 3 and plain:
            hits.append((0, _known(rest, areas) or rest, INFERRED))
    if not hits:
        return None
    hits.sort()
    values: list[str] = []
    for _, value, _ in hits:
        if value.lower() not in (v.lower() for v in values):
            values.append(value)
    return _answer(", ".join(values), min(c for _, _, c in hits))


def _known(name: str, areas: Sequence[str]) -> str | None:
    """The canonical spelling of a known area, tolerating small typos ("pflugervile")."""
    lowered = {a.lower(): a for a in areas}
    if name.lower() in lowered:
        return lowered[name.lower()]
    if not lowered:
        return None
    import difflib  # only for the rare typo: keeps ~10 ms off the Lambda's cold start

    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.85)
    return lowered[close[0]] if close else None


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
    r"\bhave (?:him|her|someone|somebody|\w+) (?:call|text|reach out|contact)\b"
)
_HANDOFF_NAMED = re.compile(r"\b(?:talk|speak)\s+(?:to|with)\s+(?P<name>[A-Z][a-z]+)\b")
_NOT_A_PERSON = {"lender", "bank", "wife", "husband", "spouse", "partner", "family", "mom", "dad"}
_HANDOFF_NEGATED = re.compile(r"\b(?:don'?t|do not|stop|never|no need to)\s+(?:\w+\s+)?call\b")
_BOT = re.compile(
    r"\b(?:are|r)\s+(?:you|u)\s+(?:a\s+|an\s+)?(?:bot|robot|ai|a\.i\.|machine|computer|automated|"
    r"real|human|person|chat\s?bot)\b|"
    r"\bis\s+(?:this|that)\s+(?:a\s+|an\s+)?(?:bot|robot|ai|a\.i\.|automated|automatic|machine|"
    r"computer|real|person|human|chat\s?bot|chatgpt|assistant|auto)\b|"
    r"\b(?:am i|are we)\s+(?:talking|texting|chatting|speaking)\s+(?:(?:to|with)\s+)?"
    r"(?:a\s+|an\s+)?(?:bot|robot|ai|machine|computer|real|human|person|actual)\b|"
    r"\bis\s+this\s+\w+\s+or\s+(?:a\s+|an\s+)?(?:bot|robot|ai|assistant|computer|machine)\b|"
    r"\b(?:bot|robot|ai)\s*\?"
)
_NONCOMMITTAL = re.compile(
    r"\b(?:idk|i don'?t know|dunno|not sure|unsure|no idea|maybe|no rush|just (?:looking|browsing)"
    r"|browsing|depends|whenever|we'?ll see|not really|hard to say|who knows|no clue)\b"
)
_FILLER_WORDS = {
    "ok", "okay", "k", "kk", "sure", "yeah", "yes", "yep", "yup", "ya", "no", "nope", "nah",
    "maybe", "idk", "lol", "lmao", "haha", "hahaha", "hmm", "hm", "hmmm", "um", "uh", "thanks",
    "thank", "you", "ty", "thx", "cool", "great", "nice", "sounds", "good", "alright", "hi",
    "hello", "hey", "yea", "perfect", "awesome", "got", "it", "will", "do", "fine",
    "so", "much", "very", "again", "a", "lot", "for", "the", "info",
}  # fmt: skip


def _handoff(text: str, low: str) -> bool:
    """The lead asked for a person / a call."""
    if _HANDOFF_NEGATED.search(low):
        return False
    if _HANDOFF.search(low):
        return True
    named = _HANDOFF_NAMED.search(text)
    return bool(named and named.group("name").lower() not in _NOT_A_PERSON)


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


def extract(
    text: str,
    *,
    today: date,
    expecting: FieldName | None = None,
    areas: Sequence[str] = (),
    lead_intent: Intent | None = None,
) -> Extraction:
    """What one inbound message tells us.

    ``expecting`` is the field our previous message asked about: it lets bare answers count
    ("3" → bedrooms, "yep" → pre-approved, "450" → $450,000). ``areas`` are the market's known
    neighbourhoods and cities, matched case-insensitively and returned in their given spelling.
    ``lead_intent`` is the intent known from earlier messages: a seller's "hoping for 600k" is
    its price expectation, a buyer's its budget. The returned intent is this message's alone.
    Value shapes are listed in this module's docstring.
    """
    prepared = _prepare(text or "")
    address, address_span = _address(prepared, areas, expecting)
    masked = _blank(prepared, [address_span]) if address_span else prepared
    low = masked.lower()

    intent, intent_confidence = _intent(low)
    answers: dict[FieldName, Answer] = {}
    if address and (expecting == "address" or intent not in ("buy", "rent", "invest")):
        answers["address"] = address  # a buyer's "the listing at 12 Elm St" is not its home
    budget, price, price_cued = _money(low, expecting, intent, lead_intent)
    if budget:
        answers["budget"] = budget
        if intent is None and budget.value["max"] is not None and budget.value["max"] < 10_000:
            intent, intent_confidence = "rent", WEAK_INTENT  # a monthly budget
    if price:
        answers["price"] = price
        if price_cued and expecting is None and intent in (None, "buy"):
            # A sale price stated unprompted: a seller (who may also be buying).
            intent, intent_confidence = ("both", LIKELY) if intent else ("sell", WEAK_INTENT)
    seller_only = intent == "sell"
    found: dict[FieldName, Answer | None] = {
        "timeline": _timeline(low, today, expecting),
        "pre_approval": _pre_approval(low, expecting),
        "bedrooms": None if seller_only else _bedrooms(low, expecting),
        "property_type": None if seller_only else _property_type(low, expecting),
        "must_haves": None if seller_only else _must_haves(low),
        "motivation": _motivation(low),
        "condition": _condition(low, expecting),
        "area": _area(masked, low, areas, expecting),
    }
    answers.update({name: answer for name, answer in found.items() if answer is not None})
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
    )
