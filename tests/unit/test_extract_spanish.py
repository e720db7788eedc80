"""The rule-based extractor on Spanish and Spanglish messages: the same fields as in English,
numbers in Spanish conventions ("450 mil" is 450,000, not 450 million), accents optional, and
the traps (today's rent, a ranch, "se vende", a small house called "casita")."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.model import Extraction, FieldName

TODAY = date(2026, 12, 1)
AREAS = (
    "Rancho Cucamonga", "Fontana", "Ontario", "Upland", "Chino Hills", "Riverside", "Rialto",
    "San Bernardino", "Moreno Valley", "Jurupa Valley", "Corona", "Eastvale",
)  # fmt: skip


def run(text: str, expecting: FieldName | None = None) -> Extraction:
    return extract(text, today=TODAY, expecting=expecting, areas=AREAS)


def value(text: str, name: FieldName, expecting: FieldName | None = None) -> Any:
    answer = run(text, expecting).answers.get(name)
    return None if answer is None else answer.value


def days_to(month: int, day: int) -> int:
    target = date(TODAY.year, month, day)
    if target <= TODAY:
        target = date(TODAY.year + 1, month, day)
    return (target - TODAY).days


# ----------------------------------------------------------------------------- intent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("queremos comprar una casa", "buy"),
        ("busco casa en Fontana", "buy"),
        ("buscamos algo de 3 recámaras", "buy"),
        ("estamos buscando nuestra primera casa", "buy"),
        ("quiero vender mi casa", "sell"),
        ("necesitamos vender y comprar otra más grande", "both"),
        ("queremos rentar una casa", "rent"),
        ("busco departamento en renta", "rent"),
        ("me interesa invertir en propiedades", "invest"),
        ("comprar", "buy"),
        ("vender", "sell"),
        ("ambos", "both"),
        # Spanglish
        ("we want to comprar una casa", "buy"),
        ("queremos vender la house", "sell"),
    ],
)
def test_intent(text: str, expected: str) -> None:
    result = run(text)
    assert result.intent == expected
    assert result.intent_confidence >= 0.6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pagamos 2500 de renta y ya no queremos rentar", None),  # tired of renting: not rent
        ("vi que se vende la casa de la calle Pine", None),  # "se vende": a listing, not a seller
        ("no queremos vender todavía", None),
        ("busco un agente para vender mi casa", "sell"),  # looking for an agent, not a home
    ],
)
def test_intent_traps(text: str, expected: str | None) -> None:
    assert run(text).intent == expected


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expecting", "expected"),
    [
        ("hasta 450 mil", None, {"min": None, "max": 450000}),
        ("tenemos un presupuesto de 450 mil dólares", None, {"min": None, "max": 450000}),
        ("medio millón", "budget", {"min": None, "max": 500000}),
        ("un millón doscientos", "budget", {"min": None, "max": 1200000}),
        ("un millón doscientos mil", "budget", {"min": None, "max": 1200000}),
        ("1.2 millones", "budget", {"min": None, "max": 1200000}),
        ("1 millón 200 mil", "budget", {"min": None, "max": 1200000}),
        ("entre 400 y 500 mil", None, {"min": 400000, "max": 500000}),
        ("de 400 a 500 mil", "budget", {"min": 400000, "max": 500000}),
        ("quinientos mil", "budget", {"min": None, "max": 500000}),
        ("cuatrocientos cincuenta mil máximo", None, {"min": None, "max": 450000}),
        ("seiscientos cincuenta", "budget", {"min": None, "max": 650000}),
        ("al menos 300 mil", "budget", {"min": 300000, "max": None}),
        ("menos de 600 mil", None, {"min": None, "max": 600000}),
        ("como 700 mil", "budget", {"min": None, "max": 700000}),
        ("un millón y medio", "budget", {"min": None, "max": 1500000}),
    ],
)
def test_budget_in_spanish_conventions(
    text: str, expecting: FieldName | None, expected: dict[str, int | None]
) -> None:
    assert value(text, "budget", expecting) == expected


def test_mil_is_a_thousand_in_spanish_and_a_million_in_english_shorthand() -> None:
    assert value("hasta 450 mil", "budget") == {"min": None, "max": 450000}
    assert value("we can do 1.5 mil", "budget") == {"min": None, "max": 1500000}


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("pagamos 2500 de renta", None),
        ("pagamos 2500 de renta", "budget"),
        ("la cuota de HOA es 200 al mes", "budget"),
        ("tenemos 30 mil para el enganche", None),
        ("ganamos 120 mil al año", None),
        ("vivimos en el 1234 de la calle Pine", "budget"),
        ("mi número es 909 555 0142", "budget"),
        ("la casa es de 2 mil pies cuadrados", "budget"),
        ("código postal 92336", "budget"),
    ],
)
def test_spanish_numbers_that_are_not_a_budget(text: str, expecting: FieldName | None) -> None:
    result = run(text, expecting)
    assert "budget" not in result.answers, result.answers
    assert "price" not in result.answers, result.answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("queremos sacar unos 650 mil por la casa", 650000),
        ("quiero venderla en 700 mil", 700000),
        ("el precio que queremos es 600 mil", 600000),
    ],
)
def test_price(text: str, expected: int) -> None:
    result = extract(text, today=TODAY, areas=AREAS, lead_intent="sell")
    assert result.answers["price"].value == expected


# ----------------------------------------------------------------------------- rooms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 recámaras", 3),
        ("tres recamaras", 3),
        ("casa de 4 cuartos", 4),
        ("mínimo 3 habitaciones", 3),
        ("3 o 4 recámaras", 3),
        ("cinco dormitorios", 5),
    ],
)
def test_bedrooms(text: str, expected: int) -> None:
    assert value(text, "bedrooms") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 baños", 2),
        ("dos baños y medio", 2.5),
        ("2 y medio baños", 2.5),
        ("baño y medio", 1.5),
        ("2.5 banos", 2.5),
        ("tres baños completos", 3),
        ("3 recámaras y 2 baños", 2),
    ],
)
def test_bathrooms(text: str, expected: float) -> None:
    assert value(text, "bathrooms") == expected


def test_bare_answers_read_through_the_question() -> None:
    assert value("tres", "bedrooms", "bedrooms") == 3
    assert value("dos y medio", "bathrooms", "bathrooms") == 2.5
    assert value("sí", "pre_approval", "pre_approval") == "yes"
    assert value("todavía no", "pre_approval", "pre_approval") == "no"
    assert value("450 mil", "budget", "budget") == {"min": None, "max": 450000}
    assert value("cuarto de lavado", "bedrooms") is None  # a laundry room


# ----------------------------------------------------------------------------- timeline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("en tres meses", 90),
        ("en 6 meses", 180),
        ("lo antes posible", 30),
        ("lo más pronto posible", 30),
        ("cuanto antes", 30),
        ("el próximo verano", days_to(6, 21)),
        ("el próximo año", 365),
        ("el año que viene", 365),
        ("para marzo", days_to(3, 1)),
        ("de 3 a 6 meses", 180),
        ("en un par de meses", 60),
        ("a fin de año", 30),
    ],
)
def test_timeline(text: str, expected: int) -> None:
    assert value(text, "timeline", "timeline") == expected


@pytest.mark.parametrize(
    "text",
    ["vivimos ahí hace 10 años", "la casa tiene 20 años", "llevamos 5 años rentando"],
)
def test_past_durations_are_not_a_timeline(text: str) -> None:
    assert value(text, "timeline") is None


# ----------------------------------------------------------------------------- pre-approval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ya estamos pre-aprobados", "yes"),
        ("estamos preaprobados por 500 mil", "yes"),
        ("tenemos la carta de pre-aprobación", "yes"),
        ("aprobados con FHA", "yes"),
        ("el lender dice que calificamos", "yes"),
        ("estamos pre-calificados", "in_progress"),
        ("estamos hablando con un prestamista", "in_progress"),
        ("no estamos pre-aprobados todavía", "no"),
        ("necesitamos pre-aprobarnos primero", "no"),
        ("vamos a pagar de contado", "cash"),
        ("en efectivo", "cash"),
    ],
)
def test_pre_approval(text: str, expected: str) -> None:
    assert value(text, "pre_approval") == expected


# ----------------------------------------------------------------------------- type, must-haves


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("una casa sola", "single_family"),
        ("un condominio", "condo"),
        ("busco departamento", "condo"),
        ("casa móvil", "manufactured"),
        ("un dúplex para rentar", "multi_family"),
        ("queremos comprar un terreno para construir", "land"),
    ],
)
def test_property_type(text: str, expected: str) -> None:
    assert value(text, "property_type") == expected


def test_casa_alone_is_a_home_not_a_type() -> None:
    assert value("buscamos una casa en Fontana", "property_type") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("con alberca", ["pool"]),
        ("que tenga piscina", ["pool"]),
        ("de un piso", ["single story"]),
        ("una casa de una sola planta", ["single story"]),
        ("con cochera para 2 carros", ["garage"]),
        ("patio grande para los niños", ["big yard"]),
        ("con casita atrás para mi mamá", ["adu"]),
        ("estacionamiento para RV", ["rv parking"]),
        ("espacio para la traila", ["rv parking"]),
        ("buenas escuelas", ["good schools"]),
        ("un buen distrito escolar", ["good schools"]),
        ("con terreno", ["acreage"]),
        ("medio acre", ["acreage"]),
        ("sin HOA", ["no hoa"]),
        ("alberca, cochera y patio grande", ["pool", "garage", "big yard"]),
    ],
)
def test_must_haves(text: str, expected: list[str]) -> None:
    assert value(text, "must_haves") == expected


@pytest.mark.parametrize(
    "text",
    [
        "no necesitamos alberca",
        "sin alberca por favor",
        "buscamos una casita en Fontana",  # a small house, not an ADU
    ],
)
def test_must_have_traps(text: str) -> None:
    assert value(text, "must_haves") is None


# ----------------------------------------------------------------------------- readiness


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nomás estoy viendo", "browsing"),
        ("solo estamos viendo qué hay", "browsing"),
        ("nada más mirando", "browsing"),
        ("sin prisa", "unhurried"),
        ("no tenemos prisa, tal vez el próximo año", "unhurried"),
        ("más adelante", "unhurried"),
        ("¿cuánto vale mi casa?", "value_curious"),
        ("quiero saber cuánto me darían por mi casa, no pienso vender aún", "value_curious"),
    ],
)
def test_readiness(text: str, expected: str) -> None:
    result = run(text)
    assert result.answers["readiness"].value == expected
    assert not result.vague


def test_the_price_of_a_listing_is_not_curiosity_about_ones_own_home() -> None:
    assert value("¿cuánto cuesta la casa de Fontana?", "readiness") is None


# ----------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("en Rancho", "Rancho Cucamonga"),
        ("cerca de Moval", "Moreno Valley"),
        ("en Fontana o Rialto", "Fontana, Rialto"),
        ("por el área de Riverside", "Riverside"),
        ("en san berdoo", "San Bernardino"),
        ("en Rancho Cucamunga", "Rancho Cucamonga"),
    ],
)
def test_areas(text: str, expected: str) -> None:
    assert value(text, "area") == expected


def test_a_ranch_and_where_the_lead_is_from_are_not_areas() -> None:
    assert value("buscamos un rancho con terreno", "area") is None
    assert value("somos de Riverside", "area") is None
    assert value("nos mudamos en enero", "area") is None


# ----------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    "text",
    [
        "¿me puede llamar?",
        "llámame mañana",
        "quiero hablar con una persona",
        "prefiero hablar por teléfono",
        "que me llame el agente",
    ],
)
def test_handoff(text: str) -> None:
    result = run(text)
    assert result.handoff_requested
    assert not result.vague


@pytest.mark.parametrize("text", ["no me llame por favor", "tengo que hablar con mi esposo"])
def test_not_a_handoff(text: str) -> None:
    assert not run(text).handoff_requested


@pytest.mark.parametrize(
    "text",
    ["¿eres un robot?", "es usted una persona real?", "estoy hablando con una máquina?"],
)
def test_asked_if_bot(text: str) -> None:
    assert run(text).asked_if_bot


@pytest.mark.parametrize(("text", "expecting"), [("no sé", "budget"), ("tal vez", None)])
def test_vague(text: str, expecting: FieldName | None) -> None:
    result = run(text, expecting)
    assert result.vague
    assert result.answers == {}


# ----------------------------------------------------------------------------- whole messages


def test_a_spanish_buyer_message_with_many_facts() -> None:
    result = run(
        "Hola, buenas tardes. Mi esposo y yo queremos comprar casa en Fontana, 3 recámaras, "
        "2 baños, con alberca, hasta 450 mil. Ya estamos pre-aprobados, en unos 3 meses"
    )
    values = {k: a.value for k, a in result.answers.items()}
    assert values == {
        "area": "Fontana",
        "bedrooms": 3,
        "bathrooms": 2,
        "must_haves": ["pool"],
        "budget": {"min": None, "max": 450000},
        "pre_approval": "yes",
        "timeline": 90,
    }
    assert result.intent == "buy"
    assert result.language == "es"


def test_accents_are_optional() -> None:
    with_accents = run("3 recámaras, 2 baños, más o menos 500 mil, lo más pronto posible")
    without = run("3 recamaras, 2 banos, mas o menos 500 mil, lo mas pronto posible")
    assert {k: a.value for k, a in with_accents.answers.items()} == {
        k: a.value for k, a in without.answers.items()
    }
    assert with_accents.answers["bathrooms"].value == 2
    assert with_accents.answers["timeline"].value == 30


def test_dots_as_thousands_separators_and_spanish_dates() -> None:
    assert value("hasta 1.200.000 dólares", "budget") == {"min": None, "max": 1200000}
    assert value("el 15 de enero", "timeline", "timeline") == days_to(1, 15)
    assert value("a principios del próximo año", "timeline", "timeline") == 365


def test_spelling_changes_of_the_imperative_and_this_is_automatic() -> None:
    assert run("mejor márqueme en la tarde").handoff_requested
    assert run("¿es esto automático?").asked_if_bot
