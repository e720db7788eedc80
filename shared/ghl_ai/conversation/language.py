"""Which language a lead's message is written in: English, Spanish, or not clear.

:func:`detect` weighs the words it knows of each language: grammar words (articles,
prepositions, pronouns, common verbs) count fully, real-estate nouns half, because it is the
grammar that carries a sentence ("busco house con pool" is Spanish with English nouns, "looking
for a casa in Fontana" English with a Spanish one). Spanish punctuation and accents on ordinary
words add to Spanish. Words both languages share ("a", "no", "me", "son", "real") and words of
place names ("San", "Loma", "Rancho", "Los Angeles") count for neither. A message with fewer
than two known words ("ok", "sí", "3", "👍") is not clear: ``None``.

Standard library only, word lists as frozensets: it runs in a Lambda on every message.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ghl_ai.conversation.model import Language

__all__ = ["detect", "fold"]


def _words(text: str) -> list[str]:
    return text.split()


def _fold_table() -> dict[int, int]:
    """Latin letters with accents (é, ñ, ü ...) to their base letter, one character for one,
    so positions in a folded string match the original's."""
    table: dict[int, int] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = ord(base)
    return table


_FOLD: Final = _fold_table()


def fold(text: str) -> str:
    """``text`` with accents removed, same length ("recámaras" → "recamaras")."""
    return text.translate(_FOLD)


# Folded, lower case. Grammar words and common verbs weigh 1, domain words 0.5.
_SPANISH: Final = frozenset(
    _words(
        """
    de la el los las que y en un una unos unas por para con mi mis su sus tu tus es esta
    estan estamos estoy estaba soy somos tengo tenemos tiene tienen quiero queremos quisiera
    quisieramos busco buscamos buscando necesito necesitamos pero mas muy tambien como cuanto
    cuanta cuantos cuando donde porque pues hola gracias buenas buenos tardes noches del al lo
    le les nos hay algo alguien ahora entre hasta desde todavia aun nomas ahorita eso se sin
    esto ese esa este estos estas mejor cerca usted ustedes nosotros yo ella ellos puede puedes
    podemos podria pueden favor seria sera estar tener hacer saber vale cual cuales aqui alla
    ahi tal vez bien bueno claro poco mucho muchos muchas otra otro estamos vivimos
    queria gustaria interesa llamar llame llamame hablar mudarnos mudar comprar vender rentar
    alquilar eres fue han hemos ir vamos va dijo creo pienso pensamos planeamos prefiero
    preferimos mismo misma si ni quien sabe todo toda todos nada
    """
    )
)
_SPANISH_DOMAIN: Final = frozenset(
    _words(
        """
    casa casas recamaras recamara cuartos cuarto habitaciones habitacion banos bano mil millon
    millones dolares precio esposo esposa familia hijos ninos trabajo alberca piscina cochera
    patio escuelas escuela meses mes semanas ano anos proximo proxima verano invierno primavera
    otono persona contado efectivo credito prestamo dinero presupuesto piso planta terreno
    dormitorios departamento condominio propiedad vivienda hogar zona barrio renta compra venta
    grande amplio pequena pequeno prisa viendo mirando pre-aprobados preaprobados aprobados
    calificados pre-calificados enganche pagos mensual mensuales robot maquina ya
    """
    )
)
_ENGLISH: Final = frozenset(
    _words(
        """
    the and to of is are we i my our for with looking want need have has be been in on at it
    this that you your can do does would will just what how much when where some something
    around about under up so but not don't dont im i'm we're were get got like an any there out
    maybe next if or was they us all would could should them their from by than then also
    really still please thanks thank hi hello hey yes yeah yep sure know think looking buy sell
    selling buying rent renting move moving see call talk tell let which who why because only
    here want wants wanted going gonna wanna into over after before while its it's am did any
    soon now much more most very already yet idk between somewhere anywhere ideally sounds
    good great okay
    """
    )
)
_ENGLISH_DOMAIN: Final = frozenset(
    _words(
        """
    house houses home homes bedrooms bedroom beds bed bath baths bathroom bathrooms budget
    pre-approved approved preapproved lender loan price worth area near close year years month
    months weeks week rush person pool garage yard backyard schools school story single family
    wife husband kids cash first time available tour listing market place condo townhouse
    payment offer parking spring summer fall winter walking distance quiet quieter
    """
    )
)
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z'-]*")
#: A capitalised Spanish article / preposition before a capitalised word is part of a place
#: name ("Los Angeles", "El Monte", "Del Mar"), not Spanish grammar.
_PLACE_ARTICLE: Final = re.compile(r"\b(?:Los|Las|El|La|Del|De)\s+[A-Z]")
_SPANISH_MARKS: Final = re.compile(r"[¿¡ñÑ]")
_ACCENTED_WORD: Final = re.compile(r"\b[a-zñ]*[áéíóú][a-zñ]*\b")


def _scores(text: str) -> tuple[float, float, int]:
    """(Spanish weight, English weight, known words)."""
    cleaned = _PLACE_ARTICLE.sub(lambda m: " " * (len(m.group()) - 1) + m.group()[-1], text)
    shouting = cleaned.isupper()
    spanish = english = 0.0
    known = 0
    for token in _WORD.findall(fold(cleaned)):
        if not shouting and token.isupper() and len(token) <= 3:
            continue  # "LA", "RC", "ADU", "FHA": names and acronyms, not words
        word = token.lower().strip("'-")
        if word in _SPANISH:
            spanish += 1.0
        elif word in _SPANISH_DOMAIN:
            spanish += 0.5
        elif word in _ENGLISH:
            english += 1.0
        elif word in _ENGLISH_DOMAIN:
            english += 0.5
        else:
            continue
        known += 1
    # "¿", "¡", "ñ" and accents on lower-case words are Spanish writing.
    spanish += min(1.5, 0.75 * len(_SPANISH_MARKS.findall(text)))
    spanish += min(1.0, 0.5 * len(_ACCENTED_WORD.findall(text)))
    return spanish, english, known


def detect(text: str | None) -> Language | None:
    """English ("en") or Spanish ("es") when the message's language is clear, else None.

    Mixed messages go to the language with more weight (Spanish on a tie: the lead reads
    Spanish); a message with fewer than two known words gives None.
    """
    if not text:
        return None
    spanish, english, known = _scores(text)
    if known < 2 or max(spanish, english) < 1.5:
        return None
    return "es" if spanish >= english else "en"
