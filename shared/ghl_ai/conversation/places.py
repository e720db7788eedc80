"""The market's place names as locals write them: aliases, short names and misspellings, each
returned in its canonical spelling.

A location configures its areas (``MARKET_AREAS`` / ``marketAreas``) and may add its own aliases
(``MARKET_AREA_ALIASES`` / ``marketAreaAliases``, ``alias=Canonical;alias2=Canonical2``). On top
of those, :data:`DEFAULT_ALIASES` holds the nicknames of a market's cities, keyed by the
canonical name: an alias only applies when its canonical name is one of the location's areas, so
"Rancho" means Rancho Cucamonga only to an agent who works Rancho Cucamonga.

Misspellings ("Rancho Cucamunga", "Riversid", "Moreno Vally") are caught by fuzzy matching
(``difflib``) with a similarity floor, on words that share the name's first letter and are not
ordinary words, so "contrario" never becomes Ontario. Some aliases are ordinary words or
surnames ("Rancho", "Moreno"): they count only after a place word ("in", "near", "en", "cerca
de") or as the whole answer to "where?".

Standard library only (``difflib`` imported on the first possible misspelling); a location's
matcher is built once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from ghl_ai.conversation.language import fold

__all__ = [
    "DEFAULT_ALIASES",
    "Gazetteer",
    "PlaceMatch",
    "gazetteer",
    "parse_aliases",
]


def _words(text: str) -> list[str]:
    return text.split()


#: Nicknames and short names of a market's places, by canonical name (the spelling the agent
#: configures in its areas). Lower case. Aliases marked with a leading "~" are ordinary words or
#: surnames as well: they need a place word before them (or to be the whole answer).
DEFAULT_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    # Inland Empire (San Bernardino and Riverside counties)
    "Rancho Cucamonga": ("rancho cuca", "rc", "r.c.", "cucamonga", "~rancho", "rancho c"),
    "Moreno Valley": ("moval", "mo val", "mo-val", "~moreno"),
    "San Bernardino": ("san berdoo", "berdoo", "san bernadino", "san bernardo", "sb"),
    "Jurupa Valley": ("jurupa",),
    "Chino Hills": ("chino hls",),
    "Eastvale": ("east vale",),
    "Loma Linda": ("lomalinda",),
    "Alta Loma": ("altaloma",),
    "Victoria Gardens": ("the gardens", "vic gardens"),
    "Temecula": ("temecula valley", "old town temecula"),
    "Riverside": ("riverside city", "rside"),
    "Ontario": ("ontario ranch",),
    "Menifee": ("menifee lakes",),
}

#: Words that are never a place, whatever a fuzzy match says (English and Spanish).
_ORDINARY: Final = frozenset(
    _words(
        """
    about above after again against almost along already also although always among another
    anything around because before behind being below beside better between beyond bigger
    budget called cannot coming condition contrario corner could cuando cuanto despues donde
    during either enough entire estamos estoy everything family fantastic finance further
    garage garden gardens hello highest highway however inside interest interested itself
    kitchen larger little looking making maybe maybe moment months moving nothing number
    ofrece orange other others outside people perhaps person please pretty quite rather really
    reason recently renting riverbed selling should single something somewhere soon started
    still story street suburb suburbs sure their there these thing things those though through
    together tomorrow toward under until upper valley value village vista wanted whatever
    where whether which while within without working would yourself ranch ranches rancho
    rancheros moreno morena highlands highland hills chino chinos corona coronado ontario
    lender lenders leader leaders lending listing listings realtor realtors offer offers
    escrow closing mortgage mortgages mother father brother sister husband daughter renter
    renters rental rentals retired remodel remodeled upgraded updated country county colony
    colonia contado credito cuartos escuelas familia ciudad centro casita casitas alberca
    cochera terreno recamaras habitaciones banos meses semanas ahorita todavia buscamos
    queremos quiero tenemos estamos tardes noches gracias hermano hermana esposo esposa
    """
    )
)
_PLACE_CUE: Final = re.compile(
    r"\b(?:in|near|around|by|close to|to|the|en|cerca de|por|alrededor de|rumbo a|area de|"
    r"zona de|lado de|anywhere in|somewhere in|algo en)\s+$"
)
_JOINED: Final = re.compile(r"^\s*(?:,|or|and|o|y|/|&)\s*$")
#: Short words a multi-word place name is never misspelled with.
_GLUE: Final = frozenset(
    _words(
        "in on at to of the a an and or near by for from with en de del la el los las y o por "
        "con para cerca al is are we i my our mi su"
    )
)
_TOKEN: Final = re.compile(r"[a-z0-9][a-z0-9.'-]*")
FUZZY_FLOOR: Final = 0.85


@dataclass(frozen=True)
class PlaceMatch:
    """A place found in a message: where, its canonical name, and how it was recognised."""

    start: int
    end: int
    canonical: str
    #: "name" (the canonical spelling), "alias" or "fuzzy" (a misspelling).
    how: str


def parse_aliases(text: str | None) -> tuple[tuple[str, str], ...]:
    """``"alias=Canonical;alias2=Canonical2"`` → ``(("alias", "Canonical"), ...)``; entries
    without both sides are skipped."""
    pairs: list[tuple[str, str]] = []
    for entry in (text or "").split(";"):
        alias, _, canonical = entry.partition("=")
        if alias.strip() and canonical.strip():
            pairs.append((alias.strip(), canonical.strip()))
    return tuple(pairs)


class Gazetteer:
    """One location's place names: its areas, the default aliases of those areas and the
    location's own aliases. Matching is case-insensitive; text given to :meth:`find` must be
    lower case (and may be accent-folded)."""

    def __init__(self, areas: Sequence[str], aliases: Iterable[tuple[str, str]] = ()) -> None:
        self.areas = tuple(dict.fromkeys(a.strip() for a in areas if a.strip()))
        by_lower = {_key(a): a for a in self.areas}
        #: every lower-case spelling → (canonical, needs a place word before it, how)
        self._names: dict[str, tuple[str, bool, str]] = {}
        for lower, canonical in by_lower.items():
            self._names[lower] = (canonical, False, "name")
        for canonical, spellings in DEFAULT_ALIASES.items():
            known = by_lower.get(_key(canonical))
            if known is None:
                continue
            for spelling in spellings:
                cued = spelling.startswith("~")
                self._names.setdefault(_key(spelling.lstrip("~")), (known, cued, "alias"))
        for alias, canonical in aliases:
            # A location's own alias may name a place outside its areas list: it is still
            # that location's spelling of the place.
            target = by_lower.get(_key(canonical), canonical.strip())
            self._names[_key(alias)] = (target, False, "alias")
        longest_first = sorted(self._names, key=len, reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![\w.])(?:"
                + "|".join(r"\s+".join(re.escape(w) for w in s.split()) for s in longest_first)
                + r")(?![\w])"
            )
            if longest_first
            else None
        )
        # Fuzzy candidates by first letter: (name without spaces, canonical, its words).
        self._fuzzy: dict[str, list[tuple[str, str, int]]] = {}
        for lower, canonical in by_lower.items():
            entry = (lower.replace(" ", ""), canonical, len(lower.split()))
            self._fuzzy.setdefault(lower[0], []).append(entry)
        self._longest = max((len(k.split()) for k in by_lower), default=0)
        #: Names that begin a longer name ("Chino" of "Chino Hills").
        self._prefixes = {
            c for k, c in by_lower.items() for other in by_lower if other.startswith(k + " ")
        }
        self._memo: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self._names)

    def find(
        self, low: str, *, whole_answer: bool = False, original: str | None = None
    ) -> list[PlaceMatch]:
        """Every place named in ``low`` (lower case, accent-folded): exact names and aliases,
        then misspellings. ``whole_answer``: the message answers "where?", so an alias that is
        also an ordinary word needs no place word before it. ``original`` (the same text in its
        own case) lets a capitalised word be read as a misspelt name; otherwise a misspelling
        only counts after a place word ("in", "near", "en"), next to another place, at the start
        of the message or as the whole answer."""
        found: list[PlaceMatch] = []
        if self._pattern is not None:
            for match in self._pattern.finditer(low):
                spelling = re.sub(r"\s+", " ", match.group())
                canonical, cued, how = self._names[spelling]
                if cued and not (whole_answer or self._cued(low, match.start(), found)):
                    continue
                found.append(PlaceMatch(match.start(), match.end(), canonical, how))
        if not self._fuzzy:
            return found
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(low)]
        # "chino hils": the exact "chino" gives way to a longer name misspelt around it.
        for exact in [m for m in found if m.canonical in self._prefixes]:
            i = next(k for k, t in enumerate(tokens) if t[0] == exact.start)
            words = len(exact.canonical.split())
            longer = self._misspelt_at(tokens, i, min_words=words + 1)
            if longer is not None:
                found = [m for m in found if not (longer.start <= m.start < longer.end)]
                found.append(longer)
        taken = [(m.start, m.end) for m in found]
        for i, (start, _, word) in enumerate(tokens):
            if word[0] not in self._fuzzy or any(s <= start < e for s, e in taken):
                continue
            capitalised = original is not None and original[start : start + 1].isupper()
            first = not low[:start].strip(" \t.,!?¿¡-")  # the message begins with it
            if not (whole_answer or capitalised or first or self._cued(low, start, found)):
                continue
            place = self._misspelt_at(tokens, i, taken=taken)
            if place is not None:
                found.append(place)
                taken.append((place.start, place.end))
        found.sort(key=lambda m: m.start)
        return found

    @staticmethod
    def _cued(low: str, start: int, found: list[PlaceMatch]) -> bool:
        """A place word right before ``start``, or another place joined by "or" / "and"."""
        if _PLACE_CUE.search(low[max(0, start - 24) : start]):
            return True
        return any(_JOINED.match(low[m.end : start]) for m in found if m.end <= start)

    def canonical(self, name: str) -> str | None:
        """The canonical spelling of one place name as written (name, alias or misspelling)."""
        low = _key(name)
        if low in self._names:
            return self._names[low][0]
        if low in self._memo:
            return self._memo[low]
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(low)]
        place = self._misspelt_at(tokens, 0, exact_size=len(tokens)) if tokens else None
        if len(self._memo) > 4096:
            self._memo.clear()
        self._memo[low] = place.canonical if place else None
        return self._memo[low]

    def _misspelt_at(
        self,
        tokens: list[tuple[int, int, str]],
        i: int,
        *,
        min_words: int = 1,
        exact_size: int | None = None,
        taken: Sequence[tuple[int, int]] = (),
    ) -> PlaceMatch | None:
        """A name misspelt by the run of one to three words starting at ``tokens[i]`` (the
        longest run that matches), with at least ``min_words`` words in the name."""
        candidates = self._fuzzy.get(tokens[i][2][0], [])
        sizes = (exact_size,) if exact_size else range(min(self._longest, len(tokens) - i), 0, -1)
        for size in sizes:
            window = tokens[i : i + size]
            if len(window) < size:
                continue
            start, end = window[0][0], window[-1][1]
            if any(s < end and start < e for s, e in taken):
                continue
            words = [w for _, _, w in window]
            if any(w in _GLUE or w[0].isdigit() for w in words):
                continue
            if size == 1 and (len(words[0]) < 5 or words[0] in _ORDINARY):
                continue
            # A run of n words may misspell a name of n or more words ("ranchocucamonga").
            usable = [(sp, c) for sp, c, n in candidates if n >= max(size, min_words)]
            best = _closest("".join(words), usable) if usable else None
            if best:
                return PlaceMatch(start, end, best, "fuzzy")
        return None


def _key(name: str) -> str:
    """A name as matched: lower case, accents folded, single spaces."""
    return " ".join(fold(name.lower()).split())


def _closest(word: str, candidates: list[tuple[str, str]]) -> str | None:
    """The candidate most like ``word`` above the floor (same first letter, similar length)."""
    import difflib  # only for a possible misspelling: keeps it off the Lambda's cold start

    best: tuple[float, str] | None = None
    for spelling, canonical in candidates:
        if spelling[0] != word[0] or abs(len(spelling) - len(word)) > max(2, len(spelling) // 5):
            continue
        matcher = difflib.SequenceMatcher(None, word, spelling)
        if matcher.real_quick_ratio() < FUZZY_FLOOR or matcher.quick_ratio() < FUZZY_FLOOR:
            continue
        ratio = matcher.ratio()
        if ratio >= FUZZY_FLOOR and (best is None or ratio > best[0]):
            best = (ratio, canonical)
    return best[1] if best else None


@lru_cache(maxsize=64)
def gazetteer(areas: tuple[str, ...], aliases: tuple[tuple[str, str], ...] = ()) -> Gazetteer:
    """The (cached) matcher for one location's areas and aliases."""
    return Gazetteer(areas, aliases)
