"""The rule-based extractor: one field at a time with realistic phrases, bare answers read through
``expecting``, no facts invented from vague replies, intent switches, and a floor on the scores
over the labelled set (``tests/data/lead_messages.jsonl``, scored by ``bench.extraction``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.extraction import evaluate
from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.model import Extraction, FieldName, Intent

TODAY = date(2026, 11, 23)
AREAS = ("Westlake", "Round Rock", "Cedar Park", "Pflugerville", "Hyde Park", "Austin", "Kyle")
DATA = Path(__file__).resolve().parent.parent / "data" / "lead_messages.jsonl"


def run(text: str, expecting: FieldName | None = None, today: date = TODAY) -> Extraction:
    return extract(text, today=today, expecting=expecting, areas=AREAS)


def value(text: str, name: FieldName, expecting: FieldName | None = None) -> Any:
    answer = run(text, expecting).answers.get(name)
    return None if answer is None else answer.value


def days_to(month: int, day: int, today: date = TODAY) -> int:
    target = date(today.year, month, day)
    if target <= today:
        target = date(today.year + 1, month, day)
    return (target - today).days


# ----------------------------------------------------------------------------- budget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("our budget is $450k", {"min": None, "max": 450000}),
        ("we can spend 450,000", {"min": None, "max": 450000}),
        ("1.2M tops", {"min": None, "max": 1200000}),
        ("we'd go up to $1.2 million", {"min": None, "max": 1200000}),
        ("somewhere between 400 and 500", {"min": 400000, "max": 500000}),
        ("looking in the 400-500k range", {"min": 400000, "max": 500000}),
        ("between $500k and $575k", {"min": 500000, "max": 575000}),
        ("something under 600k", {"min": None, "max": 600000}),
        ("up to 750", {"min": None, "max": 750000}),
        ("at least 300k", {"min": 300000, "max": None}),
        ("around 500k", {"min": None, "max": 500000}),
        ("max 425", {"min": None, "max": 425000}),
        ("at least 300k but no more than 380k", {"min": 300000, "max": 380000}),
        ("somewhere in the 400s", {"min": 400000, "max": 500000}),
        ("no more than 2800 a month", {"min": None, "max": 2800}),
    ],
)
def test_budget(text: str, expected: dict[str, int | None]) -> None:
    assert value(text, "budget", expecting="budget") == expected


@pytest.mark.parametrize("text", ["3 bed 2 bath", "in 3 months", "2 car garage", "78704", "2022"])
def test_numbers_that_are_not_money_are_not_a_budget(text: str) -> None:
    assert value(text, "budget") is None
    assert value(text, "price") is None


def test_pre_approved_for_an_amount_is_both_pre_approval_and_budget() -> None:
    result = run("We're pre-approved for 500k")
    assert result.answers["pre_approval"].value == "yes"
    assert result.answers["budget"].value == {"min": None, "max": 500000}
    assert result.intent == "buy"


# ----------------------------------------------------------------------------- timeline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ASAP", 30),
        ("we need to move right now", 30),
        ("immediately", 30),
        ("in 3 months", 90),
        ("6 weeks", 42),
        ("within the next 60 days", 60),
        ("in a year or so", 365),
        ("sometime next year", 365),
        ("probably 3-6 months", 180),
        ("the next couple months", 60),
        ("next spring", days_to(3, 20)),
        ("next summer", days_to(6, 21)),
        ("this fall", days_to(9, 22)),
        ("by winter", days_to(12, 21)),
        ("by June", days_to(6, 1)),
        ("in August", days_to(8, 1)),
        ("we need to be out by Feb 15th", days_to(2, 15)),
        ("end of the year", (date(2026, 12, 31) - TODAY).days),
    ],
)
def test_timeline(text: str, expected: int) -> None:
    assert value(text, "timeline", expecting="timeline") == expected


def test_seasons_count_from_today() -> None:
    april = date(2026, 4, 10)
    result = run("this fall", "timeline", today=april)
    assert result.answers["timeline"].value == (date(2026, 9, 22) - april).days
    result = run("next spring", "timeline", today=april)
    assert result.answers["timeline"].value == (date(2027, 3, 20) - april).days


@pytest.mark.parametrize(
    "text",
    [
        "my dad passed in the spring",
        "we renovated the kitchen last year",
        "talking to a lender this week",
        "no more than 2800 a month",
        "may I ask a question",
    ],
)
def test_past_events_and_other_dates_are_not_a_timeline(text: str) -> None:
    assert value(text, "timeline") is None


# ----------------------------------------------------------------------------- pre-approval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we're already pre-approved", "yes"),
        ("We got our preapproval letter last week", "yes"),
        ("not pre-approved yet", "no"),
        ("we need to get pre-approved", "no"),
        ("working on it with our lender", "in_progress"),
        ("talking to a lender this week", "in_progress"),
        ("cash", "cash"),
        ("we're paying cash", "cash"),
        ("cash buyer here", "cash"),
    ],
)
def test_pre_approval(text: str, expected: str) -> None:
    assert value(text, "pre_approval") == expected


def test_cash_flow_is_not_cash() -> None:
    assert value("looking for something cash flow positive", "pre_approval") is None


# ----------------------------------------------------------------------------- bedrooms, type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 bed", 3),
        ("a 3br", 3),
        ("three bedrooms", 3),
        ("at least 4 beds", 4),
        ("3 or 4 bedrooms", 3),
        ("4 bedroom 3 bath", 4),
        ("lookin for 3bd", 3),
    ],
)
def test_bedrooms(text: str, expected: int) -> None:
    assert value(text, "bedrooms") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("looking for a house", "single_family"),
        ("single family only", "single_family"),
        ("SFH please", "single_family"),
        ("a condo downtown", "condo"),
        ("2br apartment", "condo"),
        ("a townhome", "townhouse"),
        ("townhouse or condo", "townhouse"),
        ("duplex or triplex", "multi_family"),
        ("a fourplex", "multi_family"),
        ("multi-family", "multi_family"),
        ("land to build on", "land"),
        ("a vacant lot", "land"),
        ("mobile home", "manufactured"),
        ("manufactured home", "manufactured"),
    ],
)
def test_property_type(text: str, expected: str) -> None:
    assert value(text, "property_type") == expected


def test_the_property_a_lead_sells_or_rules_out_is_not_its_wish() -> None:
    assert value("Want to sell my condo and buy a house", "property_type") == "single_family"
    assert value("Not interested in a condo. House only.", "property_type") == "single_family"
    assert value("it needs a lot of work", "property_type") is None


# ----------------------------------------------------------------------------- must-haves


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("must have a pool", ["pool"]),
        ("need a garage and a home office", ["garage", "office"]),
        ("a big backyard for the dogs", ["big yard"]),
        ("a yard, a basement and a view", ["yard", "basement", "view"]),
        ("single story please", ["single story"]),
        ("fenced yard", ["fenced yard"]),
        ("no HOA", ["no hoa"]),
        ("good schools matter", ["good schools"]),
    ],
)
def test_must_haves(text: str, expected: list[str]) -> None:
    assert value(text, "must_haves") == expected


def test_a_feature_the_lead_does_not_want_is_not_a_must_have() -> None:
    assert value("townhouse, no yard work lol", "must_haves") is None
    assert value("don't need a pool", "must_haves") is None


# ----------------------------------------------------------------------------- seller fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123 Oak St", "123 Oak St"),
        ("It's 4512 Maple Avenue, Austin", "4512 Maple Avenue, Austin"),
        ("1409 E 7th St Apt 3", "1409 E 7th St Apt 3"),
        ("903 Ridgeview Court Cedar Park TX 78613", "903 Ridgeview Court Cedar Park TX 78613"),
        ("sell 44 Oak Hollow Ln, Kyle. Moving", "44 Oak Hollow Ln, Kyle"),
    ],
)
def test_address(text: str, expected: str) -> None:
    assert value(text, "address") == expected


@pytest.mark.parametrize(
    "text",
    ["I saw the listing at 123 Main St, is it still available?", "2000 sq ft minimum", "3 bed"],
)
def test_not_a_seller_address(text: str) -> None:
    assert value(text, "address") is None


def test_a_city_inside_an_address_is_not_an_area() -> None:
    result = run("It's 4512 Maple Avenue, Austin")
    assert "area" not in result.answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("relocating for work", "relocating"),
        ("job transfer to Houston", "relocating"),
        ("moving to Seattle for work", "relocating"),
        ("we're downsizing", "downsizing"),
        ("empty nesters now", "downsizing"),
        ("growing family, baby on the way", "upsizing"),
        ("can't afford the payments", "financial"),
        ("going through a divorce", "divorce"),
        ("we inherited it", "inherited"),
        ("my mom passed away", "inherited"),
        ("retiring next year", "retiring"),
        ("it's an investment property", "investment"),
        ("just want a change of scenery", "other"),
    ],
)
def test_motivation(text: str, expected: str) -> None:
    assert value(text, "motivation") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("move-in ready", "move_in_ready"),
        ("fully updated", "move_in_ready"),
        ("we renovated last year", "move_in_ready"),
        ("good shape", "good"),
        ("needs some work", "needs_work"),
        ("needs TLC", "needs_work"),
        ("kind of dated", "needs_work"),
        ("it's a fixer upper", "fixer_upper"),
        ("major repairs needed", "fixer_upper"),
        ("selling as-is", "fixer_upper"),
    ],
)
def test_condition(text: str, expected: str) -> None:
    assert value(text, "condition") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoping to get 650k", 650000),
        ("want at least $700,000 for it", 700000),
        ("we'd list it for 599k", 599000),
    ],
)
def test_price(text: str, expected: int) -> None:
    assert value(text, "price") == expected


def test_a_sale_price_and_a_purchase_budget_in_one_message() -> None:
    result = run("we'd want around 600k for ours and can spend up to 800k on the next one")
    assert result.answers["price"].value == 600000
    assert result.answers["budget"].value == {"min": None, "max": 800000}
    assert result.intent == "both"


# A seller's hoped-for sale price is its price expectation, whatever we asked last: the lead's
# intent known from earlier messages (``lead_intent``) tells a seller from a buyer.
SELLER_HOPES = [
    ("hoping for 600k", 600000),
    ("want to get 600k", 600000),
    ("looking to list around 650", 650000),
    ("would like at least $700,000 for it", 700000),
    ("need to net 500k", 500000),
    ("we'd like around 650k", 650000),
    ("honestly I want 600k", 600000),
    ("ideally we walk away with 480k", 480000),
    ("in about 3 months, hoping for 600k", 600000),
    ("It's in good shape, hoping for 600k", 600000),
]


@pytest.mark.parametrize(("text", "expected"), SELLER_HOPES)
@pytest.mark.parametrize("lead_intent", ["sell", "both"])
@pytest.mark.parametrize("expecting", [None, "address", "motivation", "timeline", "condition"])
def test_a_sellers_hoped_for_amount_is_the_price_not_a_budget(
    text: str, expected: int, lead_intent: Intent, expecting: FieldName | None
) -> None:
    result = extract(text, today=TODAY, expecting=expecting, areas=AREAS, lead_intent=lead_intent)
    assert result.answers["price"].value == expected
    assert "budget" not in result.answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoping for 600k", {"min": None, "max": 600000}),
        ("we'd like around 650k", {"min": None, "max": 650000}),
        ("I'm looking for 615k", {"min": None, "max": 615000}),
    ],
)
def test_a_buyers_hoped_for_amount_stays_its_budget(
    text: str, expected: dict[str, int | None]
) -> None:
    for expecting in (None, "budget", "area"):
        result = extract(text, today=TODAY, expecting=expecting, areas=AREAS, lead_intent="buy")
        assert result.answers["budget"].value == expected, expecting
        assert "price" not in result.answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoping to stay under 500k", {"min": None, "max": 500000}),
        ("we can spend up to 800k on the next one", {"min": None, "max": 800000}),
        ("pre-approved for 450k", {"min": None, "max": 450000}),
    ],
)
def test_a_seller_who_also_buys_still_has_a_budget(
    text: str, expected: dict[str, int | None]
) -> None:
    result = extract(text, today=TODAY, expecting=None, areas=AREAS, lead_intent="both")
    assert result.answers["budget"].value == expected
    assert "price" not in result.answers


def test_the_amount_to_net_is_a_sale_price_even_before_the_intent_is_known() -> None:
    result = run("need to net 500k after the mortgage")
    assert result.answers["price"].value == 500000
    assert "budget" not in result.answers
    assert result.intent == "sell"


# ----------------------------------------------------------------------------- area


def test_known_areas_come_back_in_their_canonical_spelling() -> None:
    assert value("looking in round rock or cedar park", "area") == "Round Rock, Cedar Park"
    assert run("round rock").answers["area"].confidence >= 0.85


def test_places_after_in_near_around_and_zips_count_with_lower_confidence() -> None:
    result = run("anything in Dripping Springs?")
    assert result.answers["area"].value == "Dripping Springs"
    assert result.answers["area"].confidence < 0.8
    result = run("78704", "area")
    assert result.answers["area"].value == "78704"
    assert 0.5 <= result.answers["area"].confidence <= 0.7


def test_a_small_typo_still_finds_the_known_area() -> None:
    assert value("3bd in pflugervile", "area") == "Pflugerville"


def test_months_and_where_the_lead_moves_from_are_not_areas() -> None:
    assert value("relocating from Denver in June", "area") is None
    assert value("got a job in Dallas", "area") is None


# ----------------------------------------------------------------------------- expecting


@pytest.mark.parametrize(
    ("text", "expecting", "name", "expected"),
    [
        ("3", "bedrooms", "bedrooms", 3),
        ("2 or 3", "bedrooms", "bedrooms", 2),
        ("yep", "pre_approval", "pre_approval", "yes"),
        ("yes we are", "pre_approval", "pre_approval", "yes"),
        ("nope", "pre_approval", "pre_approval", "no"),
        ("not yet", "pre_approval", "pre_approval", "no"),
        ("450", "budget", "budget", {"min": None, "max": 450000}),
        ("350-375", "budget", "budget", {"min": 350000, "max": 375000}),
        ("650", "price", "price", 650000),
        ("123 Oak", "address", "address", "123 Oak"),
        ("house", "property_type", "property_type", "single_family"),
        ("Hutto", "area", "area", "Hutto"),
        ("good", "condition", "condition", "good"),
    ],
)
def test_bare_answers_are_read_through_the_expected_field(
    text: str, expecting: FieldName, name: FieldName, expected: Any
) -> None:
    result = run(text, expecting)
    assert result.answers[name].value == expected
    assert 0.5 <= result.answers[name].confidence <= 0.75
    assert result.answers[name].source == "rules"
    assert not result.vague


@pytest.mark.parametrize("text", ["3", "yep", "450", "650", "123 Oak", "house", "good"])
def test_bare_answers_without_a_question_carry_nothing(text: str) -> None:
    assert run(text).answers == {}


def test_the_same_number_is_a_budget_or_a_price_depending_on_the_question() -> None:
    assert value("500", "budget", "budget") == {"min": None, "max": 500000}
    assert value("500", "price", "price") == 500000
    assert value("500", "price", "budget") is None


def test_explicit_answers_are_confident() -> None:
    result = run("pre-approved up to $450k, 3 bed house in Westlake")
    assert set(result.answers) == {"pre_approval", "budget", "bedrooms", "property_type", "area"}
    assert all(a.confidence >= 0.8 for a in result.answers.values())


# ----------------------------------------------------------------------------- nothing invented


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("idk", "budget"),
        ("not sure yet", "timeline"),
        ("maybe", "pre_approval"),
        ("hmm", None),
        ("lol", "bedrooms"),
        ("ok", "area"),
        ("👍", None),
        ("sure", "timeline"),
    ],
)
def test_vague_replies_invent_no_facts(text: str, expecting: FieldName | None) -> None:
    result = run(text, expecting)
    assert result.answers == {}
    assert result.intent is None
    assert result.vague


@pytest.mark.parametrize(
    "text",
    ["What's the HOA fee on that one?", "who is this?", "no rush, probably within the year"],
)
def test_questions_and_real_answers_are_not_vague(text: str) -> None:
    assert not run(text, "timeline").vague


# ----------------------------------------------------------------------------- intent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("looking for a home", "buy"),
        ("we want to buy a 3 bed", "buy"),
        ("thinking of selling my house", "sell"),
        ("sell and buy", "both"),
        ("sell ours and buy bigger", "both"),
        ("we need to sell before we can buy", "both"),
        ("Both", "both"),
        ("looking to rent an apartment", "rent"),
        ("need a place to lease", "rent"),
        ("looking for an investment property", "invest"),
        ("I want to buy a rental property", "invest"),
        ("Actually we've decided to rent for now instead", "rent"),
        ("Change of plans, we're going to sell instead of buying", "sell"),
        ("My lease is up in March so we want to buy before then", "buy"),
    ],
)
def test_intent(text: str, expected: str) -> None:
    result = run(text)
    assert result.intent == expected
    assert result.intent_confidence >= 0.6


def test_a_guessed_intent_only_fills_an_unknown_one() -> None:
    result = run("Is the house on Maple still available?")
    assert result.intent == "buy"
    assert result.intent_confidence < 0.6
    assert run("3 bed in Kyle").intent is None


def test_selling_a_rental_is_selling() -> None:
    result = run("Selling a rental property, tired of being a landlord")
    assert result.intent == "sell"
    assert result.answers["motivation"].value == "investment"


# ----------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to a person",
        "call me",
        "I'd like to speak to an agent",
        "have Jorge call me after 5",
        "I want a real human",
        "give me a call when you can",
        "I'd rather talk on the phone",
    ],
)
def test_handoff(text: str) -> None:
    result = run(text)
    assert result.handoff_requested
    assert not result.vague


@pytest.mark.parametrize(
    "text",
    [
        "are you a bot?",
        "is this AI",
        "am I talking to a real person?",
        "is this automated",
        "r u a robot",
        "Is this Jorge or an assistant?",
    ],
)
def test_asked_if_bot(text: str) -> None:
    result = run(text)
    assert result.asked_if_bot
    assert not result.handoff_requested


@pytest.mark.parametrize(
    "text", ["still need to talk to a lender", "don't call me", "we're pre-approved"]
)
def test_not_a_handoff(text: str) -> None:
    assert not run(text).handoff_requested


# ----------------------------------------------------------------------------- a long message


def test_a_run_on_message_with_many_facts() -> None:
    result = run(
        "hey so me and my husband are looking to buy in the next 3-6 months, pre approved for "
        "380k, want 3 bedrooms in kyle, no hoa if possible"
    )
    values = {k: a.value for k, a in result.answers.items()}
    assert values == {
        "timeline": 180,
        "pre_approval": "yes",
        "budget": {"min": None, "max": 380000},
        "bedrooms": 3,
        "area": "Kyle",
        "must_haves": ["no hoa"],
    }
    assert result.intent == "buy"


# ----------------------------------------------------------------------------- bathrooms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("two and a half baths", 2.5),
        ("3 full baths", 3),
        ("2.5 ba", 2.5),
        ("3bd/2ba in Kyle", 2),
        ("looking for a 4/3", 3),
        ("3/2.5 with a pool", 2.5),
        ("at least 2 bathrooms", 2),
        ("2 full baths and a half bath", 2.5),
        ("2 1/2 baths", 2.5),
        ("4 bed 3 bath", 3),
        ("one and a half bath is fine", 1.5),
    ],
)
def test_bathrooms(text: str, expected: float) -> None:
    assert value(text, "bathrooms") == expected


@pytest.mark.parametrize(
    "text",
    [
        "the master bath needs work",  # no count
        "can we see it on 4/3?",  # a date
        "open 24/7",
        "1/2 acre lot",  # a fraction of an acre
        "bath and body works lol",
    ],
)
def test_not_bathrooms(text: str) -> None:
    assert value(text, "bathrooms") is None


def test_bare_bathrooms_answer_and_a_sellers_own_home() -> None:
    assert value("2.5", "bathrooms", "bathrooms") == 2.5
    assert value("2", "bathrooms", "bathrooms") == 2
    assert value("2.5", "bathrooms") is None  # not asked: a bare number means nothing
    # The seller's own 4/3 is not what it looks for.
    assert value("we're selling our 4/3 in Kyle", "bathrooms") is None


# ----------------------------------------------------------------------------- readiness


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("just looking", "browsing"),
        ("only browsing for now", "browsing"),
        ("seeing what's out there", "browsing"),
        ("just checking out the market, not ready yet", "browsing"),
        ("no rush", "unhurried"),
        ("no rush, maybe next year", "unhurried"),
        ("we're not in a hurry at all", "unhurried"),
        ("probably a year or two out", "unhurried"),
        ("what would my place sell for? not selling yet", "value_curious"),
        ("curious what our house is worth", "value_curious"),
        ("how much could we get for our home?", "value_curious"),
    ],
)
def test_readiness(text: str, expected: str) -> None:
    result = run(text)
    assert result.answers["readiness"].value == expected
    assert not result.vague  # a fact, not an evasive answer


@pytest.mark.parametrize(
    "text",
    [
        "we're not just looking, we want to buy this month",
        "we need to move ASAP",
        "what is the HOA on that one?",
        "Not sure what it's worth, what do you think?",  # a seller asked its price
        "sometime next year",  # a timeline, stated without hesitation
    ],
)
def test_not_readiness(text: str) -> None:
    assert value(text, "readiness") is None


def test_a_homeowner_curious_about_value_is_a_possible_seller() -> None:
    result = run("what's my home worth these days?")
    assert result.intent == "sell"
    assert result.intent_confidence < 0.6  # a guess: it never overrides a known intent


# ----------------------------------------------------------------------------- local must-haves


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("need RV parking", ["rv parking"]),
        ("room for our boat and trailer", ["rv parking"]),
        ("a house with an ADU", ["adu"]),
        ("casita for my mom", ["adu"]),
        ("granny flat or guest house", ["adu"]),
        ("an in-law unit would be great", ["adu"]),
        ("single story with a pool", ["single story", "pool"]),
        ("want Etiwanda schools", ["good schools"]),
        ("Chaffey district please", ["good schools"]),
        ("half acre at least", ["acreage"]),
        ("an acre lot", ["acreage"]),
        ("2 acres for horses", ["acreage"]),
    ],
)
def test_local_must_haves(text: str, expected: list[str]) -> None:
    assert value(text, "must_haves") == expected


def test_a_trailer_for_the_rv_is_not_a_mobile_home() -> None:
    assert value("room for our trailer", "property_type") is None
    assert value("a trailer in a park", "property_type") == "manufactured"


def test_a_school_district_is_not_an_area() -> None:
    result = extract("want Etiwanda schools", today=TODAY, areas=IE_AREAS)
    assert "area" not in result.answers
    assert result.answers["must_haves"].value == ["good schools"]


# ----------------------------------------------------------------------------- robust numbers


@pytest.mark.parametrize(
    ("text", "expecting", "expected"),
    [
        ("seven hundred grand", None, {"min": None, "max": 700000}),
        ("seven hundred grand max", "budget", {"min": None, "max": 700000}),
        ("1.2m", "budget", {"min": None, "max": 1200000}),
        ("700-750", "budget", {"min": 700000, "max": 750000}),
        ("6", "budget", {"min": None, "max": 600000}),
        ("like 6.5", "budget", {"min": None, "max": 650000}),
        ("650", "budget", {"min": None, "max": 650000}),
        ("six fifty", "budget", {"min": None, "max": 650000}),
        ("half a mil tops", "budget", {"min": None, "max": 500000}),
        ("a million two", "budget", {"min": None, "max": 1200000}),
        ("four hundred fifty thousand", None, {"min": None, "max": 450000}),
        ("we can spend up to 1.5 mil", None, {"min": None, "max": 1500000}),
    ],
)
def test_spelled_out_and_shorthand_amounts(
    text: str, expecting: FieldName | None, expected: dict[str, int | None]
) -> None:
    assert value(text, "budget", expecting) == expected


def test_a_bare_digit_is_read_in_context_only() -> None:
    assert value("6", "price", "price") == 600000
    assert value("6", "budget") is None
    assert value("6", "bedrooms", "bedrooms") == 6


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("we live at 8350 Haven Ave", "budget"),
        ("we're at 8350 Haven", "budget"),
        ("zip is 91739", "budget"),
        ("built in 1998", "budget"),
        ("2,000 sq ft minimum", "budget"),
        ("2k sqft", "budget"),
        ("call me at 909-555-0142", "budget"),
        ("my cell is 9095550142", "budget"),
        ("HOA is 150 a month", "budget"),
        ("we have 60k saved for the down payment", None),
        ("we make 150k a year", None),
        ("credit score 720", "budget"),
        ("paying 2,800 a month in rent right now", None),
        ("our mortgage is 2100", None),
        ("a 10 year old house is fine", "budget"),
    ],
)
def test_numbers_that_are_never_a_budget_or_price(text: str, expecting: FieldName | None) -> None:
    result = run(text, expecting)
    assert "budget" not in result.answers, result.answers
    assert "price" not in result.answers, result.answers


def test_a_monthly_amount_is_only_a_renters_budget() -> None:
    assert value("no more than 2800 a month", "budget", "budget") == {"min": None, "max": 2800}
    renter = extract("2500", today=TODAY, expecting="budget", lead_intent="rent")
    assert renter.answers["budget"].value == {"min": None, "max": 2500}
    buyer = extract("2,800 a month", today=TODAY, expecting="budget", lead_intent="buy")
    assert "budget" not in buyer.answers
    # Today's rent beside a purchase budget: only the budget counts.
    both = run("paying 2,800 a month in rent now, want to buy under 500k")
    assert both.answers["budget"].value == {"min": None, "max": 500000}


def test_a_street_number_never_becomes_a_budget_with_the_real_budget_beside_it() -> None:
    result = run("we're at 15232 Foothill Blvd, Fontana and want to spend up to 650k")
    assert result.answers["budget"].value == {"min": None, "max": 650000}


def test_durations_with_halves_and_years_old() -> None:
    assert value("in 1.5 years", "timeline", "timeline") == 548
    assert value("the house is 20 years old", "timeline") is None


# ----------------------------------------------------------------------------- pre-approval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FHA approved", "yes"),
        ("VA loan approved", "yes"),
        ("approved for a VA loan", "yes"),
        ("our loan officer says we qualify", "yes"),
        ("lender said we qualify for 550", "yes"),
        ("need to get pre-qualified first", "no"),
        ("haven't talked to a lender yet", "no"),
        ("not sure if we qualify", None),
        ("pre-qualified with Chase", "in_progress"),
    ],
)
def test_pre_approval_phrasings(text: str, expected: str | None) -> None:
    assert value(text, "pre_approval") == expected


# ----------------------------------------------------------------------------- places


IE_AREAS = (
    "Rancho Cucamonga", "Fontana", "Ontario", "Upland", "Chino", "Chino Hills", "Riverside",
    "San Bernardino", "Jurupa Valley", "Moreno Valley", "Etiwanda", "Victoria Gardens",
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expecting", "expected"),
    [
        ("anything in RC under 700?", None, "Rancho Cucamonga"),
        ("Rancho", "area", "Rancho Cucamonga"),
        ("MoVal or Riverside", "area", "Moreno Valley, Riverside"),
        ("san berdoo is ok", None, "San Bernardino"),
        ("jurupa", "area", "Jurupa Valley"),
        ("in Rancho Cucamunga", None, "Rancho Cucamonga"),
        ("Chino Hils", "area", "Chino Hills"),
    ],
)
def test_local_names_come_back_in_their_canonical_spelling(
    text: str, expecting: FieldName | None, expected: str
) -> None:
    result = extract(text, today=TODAY, expecting=expecting, areas=IE_AREAS)
    assert result.answers["area"].value == expected


def test_a_locations_own_aliases() -> None:
    result = extract(
        "near VG please", today=TODAY, areas=IE_AREAS, aliases={"VG": "Victoria Gardens"}
    )
    assert result.answers["area"].value == "Victoria Gardens"
    plain = extract("near VG please", today=TODAY, areas=IE_AREAS)
    assert plain.answers["area"].value == "VG"  # an unknown place, as written


def test_ordinary_words_are_not_places() -> None:
    for text in ("we want a ranch style home", "talk to your lender", "my name is Ana Moreno"):
        assert "area" not in extract(text, today=TODAY, areas=IE_AREAS).answers, text


# ----------------------------------------------------------------------------- language


def test_the_messages_language_is_set() -> None:
    assert run("we're looking to buy in Kyle").language == "en"
    assert run("queremos comprar una casa en Kyle").language == "es"
    assert run("3").language is None


# ----------------------------------------------------------------------------- labelled set

#: Floors a little below what the labelled set measures (see ``python -m bench.extraction``):
#: a regression in any field fails here. (precision, accuracy) per field.
FLOORS: dict[str, tuple[float, float]] = {
    "budget": (0.95, 0.95),
    "area": (0.93, 0.93),
    "timeline": (0.93, 0.95),
    "pre_approval": (0.95, 0.95),
    "bedrooms": (0.95, 0.95),
    "property_type": (0.95, 0.95),
    "must_haves": (0.95, 0.95),
    "address": (0.95, 0.95),
    "motivation": (0.95, 0.95),
    "condition": (0.95, 0.95),
    "price": (0.95, 0.95),
}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return evaluate(DATA)


def test_the_labelled_set_is_big_enough(report: dict[str, Any]) -> None:
    assert report["messages"] >= 130
    counts = report["label_counts"]
    assert all(counts[name] >= 12 for name in FLOORS), counts


@pytest.mark.parametrize("name", FLOORS)
def test_field_scores_stay_above_their_floors(report: dict[str, Any], name: str) -> None:
    scores = report["rules"]["fields"][name]
    precision_floor, accuracy_floor = FLOORS[name]
    assert scores["precision"] >= precision_floor, scores
    assert scores["accuracy"] >= accuracy_floor, scores
    assert scores["recall"] >= accuracy_floor, scores


def test_overall_scores_stay_above_their_floors(report: dict[str, Any]) -> None:
    rules = report["rules"]
    assert rules["micro"]["f1"] >= 0.95
    assert rules["intent"]["accuracy"] >= 0.93
    for flag in ("handoff", "bot", "vague"):
        assert rules["flags"][flag]["accuracy"] >= 0.97, flag
    nothing = report["baselines"]["nothing"]
    assert rules["micro"]["f1"] > report["baselines"]["expected_field_mode"]["micro"]["f1"]
    assert rules["intent"]["accuracy"] > nothing["intent"]["accuracy"]


# ----------------------------------------------------------------------------- bilingual set

BILINGUAL = DATA.parent / "lead_messages_bilingual.jsonl"
#: Floors a little below what the bilingual set (245 messages, 127 Spanish or Spanglish, written
#: before the extractor's second pass) measures: (precision, accuracy) per field. Fields with few
#: labels get lower floors (one miss in 6 is 0.83).
BILINGUAL_FLOORS: dict[str, tuple[float, float]] = {
    "budget": (0.95, 0.95),
    "area": (0.93, 0.93),
    "timeline": (0.9, 0.9),
    "pre_approval": (0.93, 0.9),
    "bedrooms": (0.95, 0.95),
    "bathrooms": (0.93, 0.93),
    "readiness": (0.93, 0.93),
    "must_haves": (0.93, 0.93),
    "price": (0.85, 0.85),
    "property_type": (0.8, 0.8),
    "motivation": (0.85, 0.85),
    "address": (0.75, 0.75),
}


@pytest.fixture(scope="module")
def bilingual() -> dict[str, Any]:
    return evaluate(BILINGUAL)


@pytest.mark.parametrize("name", BILINGUAL_FLOORS)
def test_bilingual_field_scores_stay_above_their_floors(
    bilingual: dict[str, Any], name: str
) -> None:
    scores = bilingual["rules"]["fields"][name]
    precision_floor, accuracy_floor = BILINGUAL_FLOORS[name]
    assert scores["precision"] >= precision_floor, scores
    assert scores["accuracy"] >= accuracy_floor, scores


def test_bilingual_overall_scores_stay_above_their_floors(bilingual: dict[str, Any]) -> None:
    rules = bilingual["rules"]
    assert bilingual["messages"] >= 240
    assert rules["micro"]["f1"] >= 0.95
    for language in ("en", "es"):
        assert bilingual["by_language"][language]["micro"]["f1"] >= 0.94, language
    for family, numbers in bilingual["by_family"].items():
        assert numbers["micro"]["f1"] >= 0.9, family
    assert rules["intent"]["accuracy"] >= 0.93
    for flag, floor in (("handoff", 0.98), ("bot", 0.98), ("vague", 0.96)):
        assert rules["flags"][flag]["accuracy"] >= floor, flag


def test_the_bilingual_held_out_set_stays_at_its_measured_level() -> None:
    # Written after the second pass by someone who did not see the extractor, measured once
    # (micro-F1 0.853, en 0.848, es 0.861; 0.478 before the second pass). A floor, not a target:
    # nothing is tuned on this set.
    report = evaluate(DATA.parent / "lead_messages_bilingual_holdout.jsonl")
    assert report["messages"] >= 150
    assert report["rules"]["micro"]["f1"] >= 0.83
    for language in ("en", "es"):
        assert report["by_language"][language]["micro"]["f1"] >= 0.82, language


def test_number_words_turned_into_digits_do_not_hide_phrases() -> None:
    # "one" becomes "1" for the number fields; phrases with "one" in them still count.
    assert value("whenever the right one comes along", "readiness") == "unhurried"
    assert value("a four-plex or a duplex", "property_type") == "multi_family"
    assert value("one story", "must_haves") == ["single story"]
