"""SMS shaping: plain text, no emojis unless allowed, ≤ 320 characters cut cleanly, and a first
message that introduces the agent and ends with the opt-out notice."""

from __future__ import annotations

import re

import pytest

from ghl_ai.conversation.model import Persona
from ghl_ai.conversation.sms import OPT_OUT_NOTICE, SMS_LIMIT, sms_safe, with_intro

PERSONA = Persona(agent_name="Jorge", brokerage="Sunbelt Realty", market_area="Austin")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")


def test_opt_out_notice_text() -> None:
    assert OPT_OUT_NOTICE == "Reply STOP to opt out."
    assert SMS_LIMIT == 320


def test_collapses_whitespace_and_line_breaks() -> None:
    assert sms_safe("  Hi   there,\n\n  when\tare you   moving? ") == (
        "Hi there, when are you moving?"
    )


def test_strips_markdown() -> None:
    text = (
        "## Great news\n**Thanks** for the details! Here's what I noted:\n"
        "- 3 bedrooms\n* a *big* yard\n1. `Westlake`\n\nWhen are you hoping to move?"
    )
    out = sms_safe(text)
    assert not re.search(r"[*#`]|^- ", out)
    assert out.startswith("Great news. Thanks for the details!")
    assert "3 bedrooms. a big yard. Westlake." in out
    assert out.endswith("When are you hoping to move?")


def test_markdown_link_keeps_text_and_address() -> None:
    assert sms_safe("See [the listing](https://ex.com/1) here") == (
        "See the listing (https://ex.com/1) here"
    )


def test_removes_emojis_and_emoticons_unless_allowed() -> None:
    text = "Hi Sam 👋🏽! Congrats on the move 🎉🏡 :) What's your budget? ❤️"
    out = sms_safe(text)
    assert not EMOJI.search(out)
    assert ":)" not in out
    assert out == "Hi Sam! Congrats on the move What's your budget?"
    kept = sms_safe(text, allow_emojis=True)
    assert "🎉" in kept and "👋🏽" in kept


def test_normalises_typography_to_plain_punctuation() -> None:
    assert sms_safe("It\u2019s \u201cgreat\u201d \u2014 really\u2026") == (
        'It\'s "great" - really...'
    )


@pytest.mark.parametrize("text", ["", "   ", "🎉🎉", "**", "- \n# "])
def test_nothing_meaningful_gives_empty(text: str) -> None:
    assert sms_safe(text) == ""


@pytest.mark.parametrize(
    "text",
    ["ok", "3", "Westlake", "$450k", "A" * 1000, "word " * 200, "Yes 👍", "x!" * 300],
)
def test_never_empty_for_meaningful_input(text: str) -> None:
    out = sms_safe(text)
    assert out
    assert len(out) <= SMS_LIMIT


def test_short_text_unchanged() -> None:
    text = "Thanks! When are you hoping to make a move?"
    assert sms_safe(text) == text


def test_trims_at_a_sentence_boundary() -> None:
    sentences = [f"This is sentence number {i} of the reply." for i in range(1, 15)]
    out = sms_safe(" ".join(sentences))
    assert len(out) <= SMS_LIMIT
    assert out.endswith(".")
    assert out == " ".join(sentences[: out.count(".")])
    assert len(out) > SMS_LIMIT - 45  # as many whole sentences as fit


def test_trimming_keeps_the_closing_question() -> None:
    filler = " ".join(f"Some context sentence number {i} here." for i in range(12))
    out = sms_safe(f"Great! {filler} What price range are you comfortable with?")
    assert len(out) <= SMS_LIMIT
    assert out.startswith("Great! Some context")
    assert out.endswith("What price range are you comfortable with?")


def test_one_long_sentence_is_cut_between_words() -> None:
    text = "I would love to help you find " + "a wonderful home with a yard " * 20 + "today."
    out = sms_safe(text)
    assert len(out) <= SMS_LIMIT
    assert out.endswith("...")
    words = out[:-3].split()
    assert all(w in text.split() for w in words)  # no cut words
    assert not out[:-3].endswith((" ", ","))


def test_abbreviations_are_not_sentence_ends() -> None:
    text = "Dr. Smith on Main St. is a client. " * 12
    out = sms_safe(text)
    assert len(out) <= SMS_LIMIT
    assert out.endswith("is a client.")


def test_custom_limit() -> None:
    out = sms_safe("One two three four five six seven eight nine ten.", limit=20)
    assert len(out) <= 20
    assert out == "One two three..."


@pytest.mark.parametrize("length", [1, 50, 150, 319, 320, 321, 400, 2000])
def test_any_length_fits(length: int) -> None:
    text = ("Hello there friend, " * 200)[:length]
    out = sms_safe(text)
    assert 0 < len(out) <= SMS_LIMIT


# -- with_intro ----------------------------------------------------------------------------


def test_intro_and_opt_out_added() -> None:
    out = with_intro("Thanks for reaching out! When are you hoping to move?", PERSONA)
    assert out == (
        "Hi, this is Jorge with Sunbelt Realty. Thanks for reaching out! "
        "When are you hoping to move? Reply STOP to opt out."
    )


def test_intro_goes_after_a_greeting() -> None:
    out = with_intro("Hi Sam, thanks for reaching out! When are you hoping to move?", PERSONA)
    assert out.startswith("Hi Sam! This is Jorge with Sunbelt Realty. Thanks for reaching out!")
    assert out.endswith(OPT_OUT_NOTICE)


def test_no_second_intro_when_the_agent_is_named() -> None:
    reply = "Hi Sam, this is Jorge's assistant at Sunbelt Realty. When are you hoping to move?"
    out = with_intro(reply, PERSONA)
    assert out == f"{reply} {OPT_OUT_NOTICE}"


def test_opt_out_not_duplicated_and_moved_to_the_end() -> None:
    reply = "Hi, this is Jorge with Sunbelt Realty. Reply STOP to opt out. When do you move?"
    out = with_intro(reply, PERSONA)
    assert out.count("STOP") == 1
    assert out == "Hi, this is Jorge with Sunbelt Realty. When do you move? Reply STOP to opt out."


def test_long_reply_is_shortened_not_the_intro_or_notice() -> None:
    reply = "Hello! " + "We help buyers all over Austin every day. " * 12 + "When do you move?"
    out = with_intro(reply, PERSONA)
    assert len(out) <= SMS_LIMIT
    assert out.startswith("Hello! This is Jorge with Sunbelt Realty.")
    assert out.endswith("When do you move? Reply STOP to opt out.")


@pytest.mark.parametrize("length", [0, 10, 200, 300, 320, 1000])
def test_intro_always_fits(length: int) -> None:
    out = with_intro(("Lovely to hear from you. " * 60)[:length], PERSONA)
    assert len(out) <= SMS_LIMIT
    assert "Jorge with Sunbelt Realty" in out
    assert out.endswith(OPT_OUT_NOTICE)


def test_intro_respects_emoji_setting() -> None:
    reply = "Welcome 🏡 When are you hoping to move?"
    assert "🏡" not in with_intro(reply, PERSONA)
    assert "🏡" in with_intro(reply, PERSONA, allow_emojis=True)
    assert "🏡" in with_intro(reply, Persona(allow_emojis=True))
