from __future__ import annotations

from ghl_ai.conversation.model import Answer
from ghl_ai.conversation.qualification import (
    is_qualified,
    merge,
    missing_fields,
    temperature,
    updated_intent,
)


def answers(**values: object) -> dict[str, Answer]:
    return {k: Answer(value=v, confidence=0.9) for k, v in values.items()}


BUDGET = {"min": None, "max": 450000}


def test_a_buyer_is_asked_the_next_unanswered_question_first() -> None:
    assert missing_fields("buy", {})[0] == "timeline"
    assert missing_fields("buy", answers(timeline=60, area="Westlake"))[0] == "budget"
    assert missing_fields("sell", {})[0] == "address"
    assert missing_fields(None, {}) == []


def test_a_buyer_with_every_core_answer_financing_and_90_days_is_hot() -> None:
    a = answers(budget=BUDGET, area="Westlake", timeline=60, pre_approval="yes")
    assert is_qualified("buy", a)
    assert temperature("buy", a) == "hot"


def test_a_cash_buyer_counts_as_financed() -> None:
    a = answers(budget=BUDGET, area="Westlake", timeline=30, pre_approval="cash")
    assert temperature("buy", a) == "hot"


def test_a_buyer_not_pre_approved_is_warm_not_hot() -> None:
    a = answers(budget=BUDGET, area="Westlake", timeline=30, pre_approval="no")
    assert temperature("buy", a) == "warm"


def test_a_timeline_beyond_90_days_is_warm_and_beyond_a_year_cold() -> None:
    core = dict(budget=BUDGET, area="Westlake", pre_approval="yes")
    assert temperature("buy", answers(**core, timeline=180)) == "warm"
    assert temperature("buy", answers(**core, timeline=400)) == "cold"


def test_a_seller_with_every_core_answer_within_90_days_is_hot() -> None:
    a = answers(address="12 Oak St", motivation="relocating", timeline=90, price=550000)
    assert temperature("sell", a) == "hot"


def test_one_answer_is_cold() -> None:
    assert temperature("buy", answers(area="Westlake")) == "cold"
    assert temperature(None, {}) == "cold"


def test_uncertain_answers_do_not_replace_certain_ones_and_low_ones_are_ignored() -> None:
    current = answers(budget=BUDGET)
    vague = {"budget": Answer(value={"min": None, "max": 900000}, confidence=0.4)}
    assert merge(current, vague)["budget"].value == BUDGET
    newer = {"budget": Answer(value={"min": None, "max": 500000}, confidence=0.85)}
    assert merge(current, newer)["budget"].value == {"min": None, "max": 500000}


def test_a_lead_who_sells_and_buys_still_does_both_when_it_talks_about_one_side() -> None:
    # "we can spend up to 800k on the next one" reads as buying (0.8): still a seller too.
    assert updated_intent("both", "buy", 0.8) == "both"
    assert updated_intent("both", "sell", 0.8) == "both"
    # Said plainly ("just buying"), it narrows; a weak guess never changes a known intent.
    assert updated_intent("both", "buy", 0.9) == "buy"
    assert updated_intent("sell", "buy", 0.5) == "sell"
    assert updated_intent("sell", "buy", 0.8) == "buy"
    assert updated_intent(None, "rent", 0.5) == "rent"
    assert updated_intent("buy", None, 0.0) == "buy"
