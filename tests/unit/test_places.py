"""Place names as locals write them: default aliases for the configured market, the location's
own aliases, misspellings caught by fuzzy matching above a floor, and ordinary words never taken
for a place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ghl_ai.conversation.places import DEFAULT_ALIASES, Gazetteer, gazetteer, parse_aliases

IE = (
    "Rancho Cucamonga", "Fontana", "Ontario", "Upland", "Chino", "Chino Hills", "Eastvale",
    "Corona", "Riverside", "San Bernardino", "Redlands", "Rialto", "Jurupa Valley",
    "Moreno Valley", "Alta Loma", "Etiwanda", "Temecula", "Murrieta", "Menifee", "Loma Linda",
)  # fmt: skip


def names(text: str, areas: tuple[str, ...] = IE, whole_answer: bool = False) -> list[str]:
    return [m.canonical for m in gazetteer(areas).find(text.lower(), whole_answer=whole_answer)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anything in rc under 700?", ["Rancho Cucamonga"]),
        ("rancho cuca or upland", ["Rancho Cucamonga", "Upland"]),
        ("we like cucamonga", ["Rancho Cucamonga"]),
        ("something in moval", ["Moreno Valley"]),
        ("san berdoo is fine", ["San Bernardino"]),
        ("near berdoo", ["San Bernardino"]),
        ("jurupa maybe", ["Jurupa Valley"]),
        ("in rancho please", ["Rancho Cucamonga"]),
        ("cerca de moreno", ["Moreno Valley"]),
    ],
)
def test_default_aliases_of_the_market(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_an_alias_applies_only_when_its_canonical_name_is_one_of_the_areas() -> None:
    assert names("anything in rc?", areas=("Fontana", "Ontario")) == []
    assert names("moval", areas=("Austin",)) == []


@pytest.mark.parametrize(
    "text",
    [
        "we want a ranch style home",  # ranch, not Rancho
        "buscamos un rancho con terreno",  # a ranch property, not the city
        "my name is Maria Moreno",  # a surname
        "talk to your lender",  # not Leander, not Lender
        "al contrario",  # not Ontario
        "cotton and color",  # not Colton / Corona
        "the realtor said",  # not Rialto
    ],
)
def test_ordinary_words_and_surnames_are_not_places(text: str) -> None:
    assert names(text) == []


def test_an_ordinary_word_alias_counts_as_the_whole_answer_to_where() -> None:
    assert names("Rancho", whole_answer=True) == ["Rancho Cucamonga"]
    assert names("Rancho") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in rancho cucamunga", "Rancho Cucamonga"),
        ("near riversid", "Riverside"),
        ("en moreno vally", "Moreno Valley"),
        ("in temecla", "Temecula"),
        ("around murietta", "Murrieta"),
        ("in fontanna", "Fontana"),
        ("in chino hils", "Chino Hills"),
    ],
)
def test_misspellings_after_a_place_word_are_caught(text: str, expected: str) -> None:
    assert names(text) == [expected]


def test_a_misspelling_needs_a_place_word_a_capital_a_neighbour_or_to_open_the_message() -> None:
    gaz = gazetteer(IE)
    assert [m.canonical for m in gaz.find("3bd riversid")] == []
    original = "3bd Riversid"
    assert [m.canonical for m in gaz.find(original.lower(), original=original)] == ["Riverside"]
    assert names("fontana or riversid") == ["Fontana", "Riverside"]
    assert names("temecla or murietta, somewhere quiet") == ["Temecula", "Murrieta"]
    assert [m.how for m in gaz.find("in riversid")] == ["fuzzy"]


def test_canonical_spelling_of_one_name() -> None:
    gaz = gazetteer(IE)
    assert gaz.canonical("RANCHO CUCAMONGA") == "Rancho Cucamonga"
    assert gaz.canonical("moval") == "Moreno Valley"
    assert gaz.canonical("Temecla") == "Temecula"
    assert gaz.canonical("Texas") is None


def test_a_locations_own_aliases() -> None:
    gaz = Gazetteer(("Rancho Cucamonga", "Victoria Gardens"), [("VG", "Victoria Gardens")])
    assert [m.canonical for m in gaz.find("near vg")] == ["Victoria Gardens"]
    # A location's alias may name a place it did not list as an area.
    gaz = Gazetteer(("Fontana",), [("the ie", "Inland Empire")])
    assert [m.canonical for m in gaz.find("anywhere in the ie")] == ["Inland Empire"]


def test_parse_aliases() -> None:
    assert parse_aliases("VG=Victoria Gardens; north fontana = Fontana;;bad;=x") == (
        ("VG", "Victoria Gardens"),
        ("north fontana", "Fontana"),
    )
    assert parse_aliases("") == ()
    assert parse_aliases(None) == ()


def test_default_aliases_are_lower_case_and_keyed_by_canonical_name() -> None:
    for canonical, spellings in DEFAULT_ALIASES.items():
        assert canonical[0].isupper()
        assert all(s == s.lower() for s in spellings), canonical


def test_the_matcher_is_built_once_per_location() -> None:
    assert gazetteer(IE) is gazetteer(IE)


# ----------------------------------------------------------------------------- configuration


def test_single_location_aliases_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ghl_ai.config import TenantSettings
    from ghl_ai.tenants import TenantDirectory

    monkeypatch.setenv("GHL_LOCATION_ID", "loc-env")
    monkeypatch.setenv("MARKET_AREAS", "Victoria Gardens,Fontana")
    monkeypatch.setenv("MARKET_AREA_ALIASES", "VG=Victoria Gardens;north fontana=Fontana")
    persona = TenantDirectory(TenantSettings()).profile("loc-env").persona
    assert persona.area_aliases == (("VG", "Victoria Gardens"), ("north fontana", "Fontana"))


def test_a_tenants_item_sets_its_own_aliases(stack: Any) -> None:
    from ghl_ai.config import TenantSettings
    from ghl_ai.tenants import TenantDirectory

    table = stack.resources.tables["TenantsTable"]
    item = {
        "locationId": "loc-a",
        "marketAreas": "Rancho Cucamonga,Victoria Gardens",
        "marketAreaAliases": "VG=Victoria Gardens",
    }
    stack.dynamodb.put_item(TableName=table, Item={k: {"S": v} for k, v in item.items()})
    stack.dynamodb.put_item(TableName=table, Item={"locationId": {"S": "loc-b"}})
    directory = TenantDirectory(TenantSettings(tenants_table=table), stack.dynamodb)
    assert directory.profile("loc-a").persona.area_aliases == (("VG", "Victoria Gardens"),)
    assert directory.profile("loc-b").persona.area_aliases == ()


def test_the_rule_brain_reads_an_area_through_the_locations_aliases() -> None:
    from ghl_ai.conversation.model import Persona, Turn
    from ghl_ai.conversation.rules import RuleBrain

    persona = Persona(
        areas=("Rancho Cucamonga", "Victoria Gardens"),
        area_aliases=(("VG", "Victoria Gardens"),),
    )
    turn = Turn(
        persona=persona,
        now=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
        intent="buy",
        answers={},
        last_asked="area",
        missing=["area", "budget"],
        inbound="somewhere near VG or RC",
    )
    decision = RuleBrain().decide(turn)
    area = decision.extraction.answers["area"].value
    assert area == "Victoria Gardens, Rancho Cucamonga"
