"""What counts as a lead's question, which words of a document the rule-based path quotes, and
which figures of a Claude answer nothing it was given holds (``conversation/grounding.py``)."""

from __future__ import annotations

import pytest

from ghl_ai.conversation.grounding import (
    QUOTE_LIMIT,
    best,
    question_in,
    quote,
    short_title,
    ungrounded_figures,
)
from ghl_ai.conversation.model import Reference

PARKING = Reference(
    id="hoa#5",
    title="Sycamore Terrace HOA (Ontario Ranch): what buyers should know",
    section="Guest parking and garages",
    text=(
        "Each home has a two-car garage that must be usable for cars. Guest parking is on the "
        "street and in the marked spaces along the paseos, with a 48-hour limit. Overnight "
        "parking in the drive courts of the paseo homes is not allowed. RVs and boats cannot be "
        "stored anywhere in the community; there are RV storage lots on Philadelphia Street."
    ),
    score=12.0,
)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (
            "What are the HOA fees in Victoria Gardens?",
            "What are the HOA fees in Victoria Gardens?",
        ),
        # The question sentence only, as written; the statement around it is not asked.
        (
            "We want 3 beds. Is there a pool at Sycamore Terrace?",
            "Is there a pool at Sycamore Terrace?",
        ),
        (
            "Do you know if the seller pays closing costs",
            "Do you know if the seller pays closing costs",
        ),
        ("¿Cuánto es la cuota de la HOA?", "¿Cuánto es la cuota de la HOA?"),
        (
            "quisiera saber qué escuela le toca a la casa",
            "quisiera saber qué escuela le toca a la casa",
        ),
        ("Victoria Gardens HOA fees?", "Victoria Gardens HOA fees?"),
    ],
)
def test_a_question_is_found_as_the_lead_wrote_it(text: str, question: str) -> None:
    assert question_in(text) == question


@pytest.mark.parametrize(
    "text",
    [
        "3 bedrooms?",  # an answer with a question mark
        "Fontana maybe?",
        "like 450k?",
        "are you a bot?",  # the bot answer covers it
        "is this a real person?",
        "how are you?",  # no content word
        "what happens next?",  # the conversation answers it
        "when will Jorge call?",
        "¿qué sigue?",
        "ok thanks",
        "we want to buy in Fontana",
        "",
    ],
)
def test_answers_small_talk_and_the_process_are_not_questions(text: str) -> None:
    assert question_in(text) is None


def test_the_quote_is_the_sentence_with_the_questions_rarest_words() -> None:
    # "parking" is in three sentences, "RV" in one: the RV sentence answers.
    assert quote(PARKING, "can I park my RV in the driveway?") == (
        "RVs and boats cannot be stored anywhere in the community; there are RV storage lots on "
        "Philadelphia Street."
    )
    # Guest parking: the sentence that says it, with the next one while both fit.
    assert quote(PARKING, "where do guests park?").startswith("Guest parking is on the street")


def test_a_long_sentence_is_cut_at_a_word() -> None:
    long = Reference("d#0", "Guide", "", "Taxes are " + "very " * 60 + "high.")
    text = quote(long, "how high are taxes?")
    assert len(text) <= QUOTE_LIMIT and text.endswith("...") and "  " not in text


def test_a_passage_in_the_leads_language_is_quoted_when_it_answers_as_much() -> None:
    spanish = Reference(
        "faq#2", "Preguntas frecuentes", "", "La cuota de la HOA es de $238 al mes.", 9.5
    )
    english = Reference("hoa#1", "HOA guide", "Dues", "The HOA fee is $238 a month.", 9.0)
    intro = Reference("hoa#0", "HOA guide", "", "A gated community of 412 homes.", 9.1)
    assert best([spanish, english], "what is the HOA fee?", "en") is english
    assert best([spanish, english], "what is the HOA fee?", "es") is spanish
    # An English passage that answers less does not replace the Spanish one that answers.
    assert best([spanish, intro], "what is the HOA fee?", "en") is spanish


def test_a_documents_title_is_named_without_its_subtitle() -> None:
    assert short_title(PARKING.title) == "Sycamore Terrace HOA (Ontario Ranch)"
    assert short_title("Utilities and services") == "Utilities and services"
    assert len(short_title("A very long title " * 8)) <= 48


def test_figures_nothing_given_holds_are_found() -> None:
    given = ["Dues are $1,250 a year, rising 2% a year, since 2019.", "our budget is 750k"]
    assert ungrounded_figures("Dues are $1250 a year, up 2 % yearly since 2019.", given) == set()
    assert ungrounded_figures("We can do $750,000.", given) == set()
    assert ungrounded_figures("Dues are $1,300, up 3%; the roof dates from 2015.", given) == {
        "1300",
        "3",
        "2015",
    }
    # Small counts are not figures ("3 bedrooms", "2 baths").
    assert ungrounded_figures("Homes here have 3 or 4 bedrooms.", given) == set()
