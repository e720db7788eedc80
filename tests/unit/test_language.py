"""Language detection per message: English, Spanish (Spanglish when the Spanish carries the
sentence), or None for messages too short to tell; checked on hand-written cases and on the
``language`` tags of the bilingual labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghl_ai.conversation.language import detect, fold

BILINGUAL = Path(__file__).resolve().parent.parent / "data" / "lead_messages_bilingual.jsonl"


@pytest.mark.parametrize(
    "text",
    [
        "Hola, buenas tardes. Queremos comprar una casa en Fontana",
        "busco casa de 3 recamaras",  # no accents
        "¿Cuánto vale mi casa?",
        "no tenemos prisa, tal vez el próximo año",
        "ya estamos pre-aprobados con el banco",
        "me puede llamar mañana por favor",
        "QUEREMOS VENDER LA CASA",  # shouting
        # Spanglish: Spanish grammar, English nouns
        "busco una house con pool y backyard grande",
        "queremos algo con 3 bedrooms en Rancho, nada muy caro",
        "estamos pre-approved para 500k",
    ],
)
def test_spanish(text: str) -> None:
    assert detect(text) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "Hi, we're looking to buy a 3 bed house in Fontana",
        "what would my place sell for? not selling yet",
        "just browsing for now, no rush",
        # English grammar with Spanish words and Spanish place names
        "Looking for a casita in Rancho Cucamonga",
        "We love San Bernardino and Loma Linda, something near Los Angeles too",
        "moving from LA, need a place in El Monte or Alta Loma",
        "is this a bot?",
        "can you call me",
    ],
)
def test_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", ["", None, "ok", "3", "450k", "👍", "Sí", "Hola", "Fontana", "?"])
def test_short_or_number_only_messages_are_not_clear(text: str | None) -> None:
    assert detect(text) is None


def test_fold_keeps_length_and_drops_accents() -> None:
    text = "Recámaras, baños, año, ¿qué?"
    assert fold(text) == "Recamaras, banos, ano, ¿que?"
    assert len(fold(text)) == len(text)


def test_most_of_the_bilingual_set_is_told_apart() -> None:
    rows = [json.loads(line) for line in BILINGUAL.read_text().splitlines() if line.strip()]
    tagged = [r for r in rows if r.get("language") in ("en", "es")]
    detected = [detect(r["text"]) for r in tagged]
    wrong = sum(d is not None and d != r["language"] for d, r in zip(detected, tagged, strict=True))
    unclear = sum(d is None for d in detected)
    # Never the wrong language; "not clear" only for a few short answers ("3", "sí", "ok").
    assert wrong <= len(tagged) * 0.02, wrong
    assert unclear <= len(tagged) * 0.16, unclear
