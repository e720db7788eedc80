"""Answers from the agent's own documents, and the questions they leave to the agent.

The engine asks the knowledge base (``ghl_ai.knowledge``) about each inbound message that asks
something (:func:`question_in`); the passages that come back are the turn's references
(``Turn.references``), the question is ``Turn.question``. Then:

* the rule-based path quotes the best reference briefly (:func:`quote`): the passage's
  sentence that holds most of the question's words, under the document's short title
  ("From Sunset Ridge HOA: ...") — the document's own words, never a paraphrase;
* the Claude path is given the references and may say nothing else about the question; a reply
  that states an amount, a rate or a year found in none of the references, the state or the
  lead's messages is not sent (:func:`ungrounded_figures`; the rule-based path answers);
* a question the documents do not answer gets no fact: the reply says the agent will answer
  it, and the engine gives the agent a task with the question (``Decision.question``).

What counts as a question here is stricter than :func:`ghl_ai.knowledge.is_question`: a sentence
that opens with a question word or asks to know ("do you know", "quisiera saber") and has a
content word, or one that ends in "?" with four content words or more — so an answer with a
question mark ("3 bedrooms?", "Fontana maybe?") is an answer, and "are you a bot?", "how are
you?" or "what happens next?" (the conversation answers those) is nobody's task. Standard
library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from ghl_ai.conversation.extract import asks_if_bot
from ghl_ai.conversation.language import detect
from ghl_ai.conversation.model import Language, Reference
from ghl_ai.knowledge.text import fold, is_question, opens_as_question, term_groups, terms

#: The longest quote the rule-based path sends (the reply also carries the next question, and
#: on a first contact the introduction and the opt-out notice, within 320 characters).
QUOTE_LIMIT = 160
#: A document title longer than this is cut at a word (before its subtitle first).
TITLE_LIMIT = 48
#: A question sentence that only ends in "?" needs this many content words to be a question.
BARE_QUESTION_WORDS = 4

_SENTENCES = re.compile(r"(?<=[.!?;\n])\s+")
_PASSAGE_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[\"'(¿¡]?[A-Z0-9$])")

#: Questions about this conversation, which the flow itself answers ("what happens next?",
#: "when will he call?"): not the documents' business, nor a task.
_ABOUT_THE_PROCESS = re.compile(
    r"\b(?:what(?:s| is| happens)? next|next steps?|what now|how does (?:this|it) work|"
    r"when (?:will|would|can|does) (?:he|she|they|you|\w+) (?:call|text|reach out|contact)|"
    r"que sigue|que pasa ahora|(?:siguiente|proximo) paso|como funciona esto|"
    r"cuando (?:me|nos) (?:llama|llamara|contacta|escribe))\b"
)


def question_in(text: str | None) -> str | None:
    """The sentences of ``text`` that ask something (see the module docstring), joined as the
    lead wrote them; None when it asks nothing."""
    if not text or not is_question(text):
        return None
    found: list[str] = []
    for sentence in _SENTENCES.split(text.strip()):
        sentence = sentence.strip()
        if not sentence or not is_question(sentence) or asks_if_bot(sentence):
            continue
        if _ABOUT_THE_PROCESS.search(fold(sentence)):
            continue
        content = terms(sentence, glossary=False)
        asks = opens_as_question(sentence) or not sentence.endswith("?")
        if content and (asks or len(content) >= BARE_QUESTION_WORDS):
            found.append(sentence)
    return " ".join(found) or None


def references(passages: Iterable[object]) -> tuple[Reference, ...]:
    """The knowledge base's passages (``ghl_ai.knowledge.Passage``) as the turn's references."""
    return tuple(
        Reference(
            id=str(getattr(p, "chunk_id", "")),
            title=str(getattr(p, "title", "")),
            section=str(getattr(p, "section", "")),
            text=str(getattr(p, "text", "")),
            score=float(getattr(p, "score", 0.0) or 0.0),
        )
        for p in passages
    )


def best(refs: Sequence[Reference], question: str, language: Language) -> Reference:
    """The reference to quote: the best one, unless one in the lead's language scores nearly as
    well (80%) and its quoted sentence holds as much of the question (an English lead gets the
    English guide's words over the Spanish FAQ's, but not a sentence that answers less)."""
    top = refs[0]
    if detect(top.text) in (language, None):
        return top
    held = _best_sentence(top, question)[2]
    for ref in refs[1:]:
        if ref.score < 0.8 * top.score:
            break
        if detect(ref.text) == language and _best_sentence(ref, question)[2] >= held:
            return ref
    return top


def short_title(title: str, limit: int = TITLE_LIMIT) -> str:
    """A document's title as a reply names it: "Sycamore Terrace HOA (Ontario Ranch)" of
    "Sycamore Terrace HOA (Ontario Ranch): what buyers should know"."""
    title = " ".join(title.split())
    head = title.split(": ", 1)[0]
    if len(head) >= 8:
        title = head
    return shorten(title, limit).rstrip(".")


def quote(ref: Reference, question: str, limit: int = QUOTE_LIMIT) -> str:
    """The passage's sentence that holds most of the question's words (:func:`_best_sentence`),
    with the next one when both fit in ``limit``; a longer one is cut at a word, with "..."."""
    sentences, i, _ = _best_sentence(ref, question)
    if not sentences:
        return ""
    text = sentences[i]
    if i + 1 < len(sentences) and len(text) + 1 + len(sentences[i + 1]) <= limit:
        text = f"{text} {sentences[i + 1]}"
    return shorten(text, limit)


def _best_sentence(ref: Reference, question: str) -> tuple[list[str], int, float]:
    """The passage's sentences, the best one's position, and the weight of the question's words
    it holds. A word weighs more the fewer of the passage's sentences hold it (an idf within the
    passage: "RV" over "parking" in a section about parking); the earliest wins a tie."""
    sentences = [s.strip() for s in _PASSAGE_SENTENCES.split(" ".join(ref.text.split()))]
    sentences = [s for s in sentences if s]
    if not sentences:
        return [], 0, 0.0
    groups = term_groups(question)
    present = [set(terms(s)) for s in sentences]
    holds = [[any(set(alt) <= words for alt in group) for group in groups] for words in present]
    df = [sum(row[g] for row in holds) for g in range(len(groups))]
    weights = [1 + math.log(len(sentences) / n) if n else 0.0 for n in df]
    scores = [sum(w for w, held in zip(weights, row, strict=True) if held) for row in holds]
    i = max(range(len(sentences)), key=lambda n: (scores[n], -n))
    return sentences, i, scores[i]


def shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: cut at a word, with "..."."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}..."


# -- Claude's replies --------------------------------------------------------------------

_FIGURE = re.compile(r"\$\s?\d[\d,.]*|\d[\d,.]*\s?%|\b\d{3,}(?:[.,]\d+)*\b")


def _figures(text: str) -> set[str]:
    """The amounts, percentages and numbers of three digits or more in ``text``, normalised
    ("$1,250" = "1250", "750k" = "750000", "2 %" = "2%")."""
    out: set[str] = set()
    for raw in _FIGURE.findall(fold(text)):
        figure = raw.replace("$", "").replace(" ", "").rstrip(".,")
        figure = figure.replace(",", "")
        if figure.endswith(".0"):
            figure = figure[:-2]
        out.add(figure.rstrip("%"))
    return out


def ungrounded_figures(reply: str, sources: Iterable[str]) -> set[str]:
    """The figures of ``reply`` (amounts, rates, years) that none of ``sources`` holds."""
    allowed: set[str] = set()
    for source in sources:
        allowed |= _figures(source)
    return _figures(reply) - allowed
