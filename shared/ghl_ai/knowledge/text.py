"""Words for retrieval, in English and Spanish: normalising, stop words, a light stemmer, a small
bilingual glossary, and whether a lead's message is a question.

Both sides of a search go through :func:`terms` (a chunk when it is indexed, a question when it
is asked), so whatever it does to a word it does to both. What it does, and why:

* lower-case and strip accents (``Cuánto`` = ``cuanto``, ``escolar`` = ``escolár``): leads
  type Spanish on English keyboards; thousands separators go (``$1,250`` = ``1250``) and
  shorthand amounts are written out (``750k`` = ``750 mil`` = ``750000``);
* drop the stop words of both languages (one list each, the function words a question is
  made of: "what", "the", "qué", "las", ...), so a match means a shared *content* word;
* light suffix stemming (plural ``s`` / ``es`` / ``ies``, a final ``e``), the same rule for both
  languages — ``fees`` = ``fee``, ``escuelas`` = ``escuela``, ``ciudades`` = ``ciudad``;
* a small real-estate glossary maps Spanish words to the English ones an agent's English
  documents use (``cuota`` → ``fee``, ``preparatoria`` → ``high school``), so a Spanish question
  can find an English passage and the other way round.

``python -m bench.retrieval`` measures each of these against the plain keyword baseline.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ENGLISH_STOP = """
a about above after again all also am an and any are aren as at be because been before being
below between both but by can cannot could couldn did didn do does doesn doing don down during
each few for from further get got had hadn has hasn have haven having he her here hers herself
him himself his how i if in into is isn it its itself just know let like ll me might more most
much must my myself need no nor not now of off on once only or other our ours ourselves out
over own please re s same she many should shouldn so some such t tell than thank thanks that the
their theirs them themselves then there these they this those through to too under until up
us ve very was wasn we were weren what whats when where which while who whom why will with
won would wouldn you your yours yourself yourselves hi hello hey ok okay
"""
_SPANISH_STOP = """
a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada como con contra cual
cuales cuando de del desde donde dos el ella ellas ello ellos en entre era eran eres es esa esas
ese eso esos esta estaba estan estar estas este esto estos estoy fue fueron ha hace hacia han
has hasta hay la las le les lo los mas me mi mis mucho muchos muy nada ni no nos nosotros nuestra
nuestro o os otra otro para pero poco por porque puede pueden puedo que quien quienes se sea ser
si sin sobre somos son soy su sus tambien te tiene tienen tengo ti tu tus un una uno unos usted
ustedes y ya yo da dan doy va van voy toca tocan cuanto cuanta cuantos cuantas
hola gracias favor saber quisiera gustaria podria decir dime
"""
STOP_WORDS = frozenset((_ENGLISH_STOP + _SPANISH_STOP).split())

#: Spanish (stemmed) → the English (stemmed) words an agent's documents use. Small on purpose:
#: the words of this business a Spanish-speaking lead asks about.
GLOSSARY: dict[str, tuple[str, ...]] = {
    "dues": ("fee",),  # the one English pair: HOA "dues" are its "fees"
    "cuota": ("fee",),
    "mensualidad": ("fee", "monthly"),
    "mensual": ("monthly",),
    "impuesto": ("tax",),
    "predial": ("property", "tax"),
    "escuela": ("school",),
    "escolar": ("school",),
    "preparatoria": ("high", "school"),
    "prepa": ("high", "school"),
    "secundaria": ("middle", "school"),
    "primaria": ("elementary", "school"),
    "distrito": ("district",),
    "colonia": ("neighborhood",),
    "vecindario": ("neighborhood",),
    "barrio": ("neighborhood",),
    "comunidad": ("community",),
    "asociacion": ("association", "hoa"),
    "reglamento": ("rule",),
    "regla": ("rule",),
    "mascota": ("pet",),
    "perro": ("dog",),
    "estacionamiento": ("parking",),
    "estacionar": ("parking",),
    "alberca": ("pool",),
    "piscina": ("pool",),
    "basura": ("trash",),
    "agua": ("water",),
    "enganche": ("down", "payment"),
    "prestamo": ("loan",),
    "hipoteca": ("mortgage",),
    "credito": ("credit",),
    "comprador": ("buyer",),
    "vendedor": ("seller",),
    "vender": ("sell",),
    "comprar": ("buy",),
    "casa": ("home",),
    "vivienda": ("home",),
    "tasa": ("rate",),
    "costo": ("cost",),
    "cuesta": ("cost",),
    "cuestan": ("cost",),
    "gasto": ("cost",),
    "cierre": ("closing",),
    "inspeccion": ("inspection",),
    "tasacion": ("appraisal",),
    "avaluo": ("appraisal",),
    "oferta": ("offer",),
    "alquiler": ("rent", "rental"),
    "renta": ("rent", "rental"),
    "seguro": ("insurance",),
    "terreno": ("lot",),
    "parque": ("park",),
    "sendero": ("trail",),
    "pie": ("square", "feet"),
    "cuadrado": ("square",),
    "recamara": ("bedroom",),
    "habitacion": ("bedroom",),
    "incendio": ("fire", "wildfire"),
    "inundacion": ("flood",),
    "terremoto": ("earthquake",),
    "servicio": ("service",),
    "luz": ("electricity",),
    "electricidad": ("electricity",),
    "tren": ("train", "metrolink"),
    "aeropuerto": ("airport",),
    "ruido": ("noise",),
    "trafico": ("traffic",),
    "camion": ("truck",),
    "troca": ("truck",),
    "lancha": ("boat",),
    "remolque": ("trailer",),
    "rodante": ("rv",),
    "pago": ("payment",),
    "dueno": ("owner",),
    "propietario": ("owner", "homeowner"),
    "exencion": ("exemption",),
    "ganancia": ("gain",),
    "venta": ("sale",),
    "precio": ("price",),
    "valor": ("value",),
    "constructor": ("builder",),
    "constructora": ("builder",),
    "garantia": ("warranty",),
    "nueva": ("new",),
    "nuevo": ("new",),
}

_ACCENTS = re.compile(r"[\u0300-\u036f]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_POSSESSIVE = re.compile(r"['’]s\b")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
#: Shorthand amounts leads type: 750k, $1.2m, 450 mil → the number the documents print.
_SHORTHAND = re.compile(r"\b(\d+(?:\.\d+)?)\s?(k|m|mil)\b")
_MULTIPLIERS = {"k": 1_000, "mil": 1_000, "m": 1_000_000}


def _expand(match: re.Match[str]) -> str:
    value = float(match.group(1)) * _MULTIPLIERS[match.group(2)]
    return f"{value:.0f}"


def fold(text: str) -> str:
    """Lower case, accents stripped (``ñ`` → ``n``), thousands separators and possessives gone."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = _ACCENTS.sub("", decomposed)
    return _SHORTHAND.sub(_expand, _POSSESSIVE.sub("", _THOUSANDS.sub("", plain)))


def words(text: str) -> list[str]:
    """The folded words and numbers of ``text``, in order, stop words included."""
    return _TOKEN.findall(fold(text))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light stemmer for English and Spanish: plurals (Harman's S-stemmer), a final ``e``,
    English ``-ing`` / ``-ed``: ``fees`` → ``fee``, ``rules`` → ``rul`` = ``rule``, ``taxes`` →
    ``tax``, ``ciudades`` → ``ciudad``, ``parking`` → ``park``. Numbers and short words are
    kept as they are."""
    if word[0].isdigit():
        return word
    if len(word) <= 3:
        # Short words stay, but an acronym's plural loses its s (RVs = RV, ADs = AD).
        vowels = any(c in "aeiouy" for c in word[:-1])
        return word[:-1] if len(word) == 3 and word.endswith("s") and not vowels else word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("us", "ss", "is")):
        # Harman's "es" → "e" and "s" → "" are both this one cut; the final e goes below.
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    # English -ing / -ed (parking = parked = park, closing = close): a stem of 4 letters at
    # least, a doubled final consonant undone (shopping → shop).
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if (word[-1] == word[-2] and word[-1] not in "aeiouls") or word.endswith("e"):
                word = word[:-1]
            break
    return word


@lru_cache(maxsize=1)
def _stemmed_glossary() -> dict[str, tuple[str, ...]]:
    return {stem(k): tuple(stem(w) for w in v) for k, v in GLOSSARY.items()}


def _glossed(term: str) -> tuple[str, ...]:
    return _stemmed_glossary().get(term, ())


def terms(text: str, *, stemming: bool = True, glossary: bool = True) -> list[str]:
    """The content terms of ``text`` for retrieval, in order: folded words without stop words,
    stemmed, each glossary word followed by its English terms."""
    out: list[str] = []
    for word in words(text):
        if word in STOP_WORDS or (len(word) == 1 and not word.isdigit()):
            continue
        term = stem(word) if stemming else word
        out.append(term)
        if glossary:
            out.extend(_glossed(stem(word)))
    return out


#: One content word of a question: its alternatives, each a tuple of terms — the word itself
#: and, for a glossary word, its English phrase (``preparatoria`` → ``(preparatoria,)`` or
#: ``(high, school)``). A passage matches the word when it matches one alternative.
TermGroup = tuple[tuple[str, ...], ...]


def term_groups(text: str, *, stemming: bool = True, glossary: bool = True) -> list[TermGroup]:
    """The question's content words as :data:`TermGroup` s, each word once, in order."""
    out: dict[str, TermGroup] = {}
    for word in words(text):
        if word in STOP_WORDS or (len(word) == 1 and not word.isdigit()):
            continue
        term = stem(word) if stemming else word
        alternatives: list[tuple[str, ...]] = [(term,)]
        glossed = _glossed(stem(word)) if glossary else ()
        if glossed:
            alternatives.append(glossed)
        out.setdefault(term, tuple(alternatives))
    return list(out.values())


# -- is it a question? ------------------------------------------------------------------------

_OPENERS = """
what whats which where when who whom whose why how is are was were do does did can could
will would should shall may might any anything
que cual cuales cuanto cuanta cuantos cuantas donde adonde cuando como quien quienes porque
hay tiene tienen es son esta estan puedo puede pueden sabe sabes conoce conoces
"""
_QUESTION_OPENERS = frozenset(_OPENERS.split())
_QUESTION_PHRASES = re.compile(
    r"\b(?:tell me (?:about|what|which|how|if)|do you know|i (?:want|would like|d like|need) to"
    r" know|i was wondering|wondering (?:if|what|which|how|about)|can you tell|could you tell|"
    r"any idea|curious (?:about|what|how|if|which)|"
    r"me (?:puede|puedes|podria|podrias) decir|quisiera saber|quiero saber|me gustaria saber|"
    r"me interesa saber|sabe usted|sabes si|por que)\b"
)


def opens_as_question(sentence: str) -> bool:
    """Does the sentence open with a question word, or ask to know ("do you know", "quisiera
    saber")? (No length floor: :func:`is_question` adds one.)"""
    folded = fold(sentence)
    if _QUESTION_PHRASES.search(folded):
        return True
    first = _TOKEN.findall(folded)[:1]
    return bool(first) and first[0] in _QUESTION_OPENERS


def is_question(text: str) -> bool:
    """Does the lead ask something (English or Spanish)? A ``?`` or ``¿`` anywhere, a sentence
    that opens with a question word (what / which / how much / is / does ..., qué / cuál /
    cuánto / dónde / hay ...), or a request to know ("do you know", "quisiera saber")."""
    if "?" in text or "¿" in text:
        return True
    folded = fold(text)
    if _QUESTION_PHRASES.search(folded):
        return True
    for sentence in re.split(r"[.!\n;]+", folded):
        first = _TOKEN.findall(sentence)[:1]
        if first and first[0] in _QUESTION_OPENERS and len(_TOKEN.findall(sentence)) >= 3:
            return True
    return False
