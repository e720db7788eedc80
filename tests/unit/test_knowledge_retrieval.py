"""Retrieval: the tokenizer (English, Spanish, accents, shorthand amounts), BM25 ranking on a
small corpus, the answer decision (a question the documents do not answer gets nothing), the
question detector, the keyword baseline, and a serving path that needs no numpy."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from ghl_ai.knowledge.index import Index, KeywordOverlap, RetrievalSettings
from ghl_ai.knowledge.model import Chunk
from ghl_ai.knowledge.text import fold, is_question, stem, terms
from tests.conftest import ROOT


def chunk(doc: str, n: int, section: str, text: str, title: str = "") -> Chunk:
    return Chunk(doc, n, title or doc.replace("-", " ").title(), section, text)


_TEXTS = [
    (
        "hoa-victoria",
        "Monthly dues",
        "Dues for a single-family home are $238 a month; townhomes pay $312.",
    ),
    (
        "hoa-victoria",
        "Pets",
        "Each home may keep up to three household pets; dogs must be leashed.",
    ),
    (
        "hoa-victoria",
        "Parking and vehicles",
        "RVs, boats and trailers may not be kept in driveways.",
    ),
    (
        "schools",
        "Victoria Gardens Villas",
        "Homes attend Windrows Elementary and Etiwanda Crest High School.",
    ),
    ("schools", "Terra Vista", "Terra Vista attends Rancho Cucamonga High School."),
    (
        "taxes",
        "What Mello-Roos is",
        "Mello-Roos is a special tax of a community facilities district, a fixed amount per home.",
    ),
    (
        "impuestos",
        "¿Cuándo se pagan los impuestos?",
        "En dos pagos: el primero vence el 1 de noviembre y el segundo el 1 de febrero.",
    ),
    (
        "guia",
        "Préstamos con ITIN",
        "Si no tiene Seguro Social puede comprar con un préstamo ITIN con un enganche del 15 %.",
    ),
]
_NUMBERS: dict[str, int] = {}
CORPUS = []
for _doc, _section, _text in _TEXTS:
    CORPUS.append(chunk(_doc, _NUMBERS.setdefault(_doc, 0), _section, _text))
    _NUMBERS[_doc] += 1


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(CORPUS)


def top(index: Index, question: str) -> str:
    hits = index.passages(question, 1)
    return hits[0].chunk_id if hits else ""


# -- the tokenizer --------------------------------------------------------------------------------


def test_folding_strips_accents_case_separators_and_possessives() -> None:
    assert (
        fold("¿Cuánto cuesta la RECÁMARA en Peñasco?") == "¿cuanto cuesta la recamara en penasco?"
    )
    assert fold("HOA's fee is $1,250") == "hoa fee is $1250"
    assert fold("a $750k house, 450 mil, 1.2m") == "a $750000 house, 450000, 1200000"


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("fees", "fee"),
        ("fee", "fee"),
        ("rules", "rul"),
        ("rule", "rul"),
        ("taxes", "tax"),
        ("boundaries", "boundary"),
        ("escuelas", "escuela"),
        ("ciudades", "ciudad"),
        ("ciudad", "ciudad"),
        ("class", "class"),
        ("bus", "bus"),
        ("2025", "2025"),
    ],
)
def test_the_stemmer_maps_singular_and_plural_together(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_terms_drop_stop_words_of_both_languages_and_gloss_spanish() -> None:
    assert terms("What are the HOA fees in Victoria Gardens?") == [
        "hoa",
        "fee",
        "victoria",
        "garden",
    ]
    # Stop words of both languages go; a glossary word brings its English terms.
    assert terms("¿Cuál es la cuota de la HOA?") == ["cuota", "fee", "hoa"]
    assert terms("a qué preparatoria van") == ["preparatoria", "high", "school"]
    assert terms("la cuota", glossary=False) == ["cuota"]
    assert terms("the fees", stemming=False) == ["fees"]


def test_an_accent_does_not_change_the_match(index: Index) -> None:
    assert top(index, "cuando se pagan los impuestos") == "impuestos#0"
    assert top(index, "¿Cuándo se pagan los impuestos?") == "impuestos#0"
    assert top(index, "prestamo itin") == top(index, "PRÉSTAMO ITIN") == "guia#0"


# -- BM25 -----------------------------------------------------------------------------------------


def test_bm25_ranks_the_passage_that_answers_first(index: Index) -> None:
    assert top(index, "how much are the HOA dues?") == "hoa-victoria#0"
    assert top(index, "can I keep my boat in the driveway") == "hoa-victoria#2"
    assert top(index, "which high school for Terra Vista?") == "schools#1"
    assert top(index, "what is mello roos") == "taxes#0"
    # A Spanish question finds an English passage through the glossary.
    assert (
        top(index, "¿A qué preparatoria van los niños de Victoria Gardens Villas?") == "schools#0"
    )


def test_bm25_scores_as_okapi_with_idf_and_length_normalisation() -> None:
    chunks = [
        chunk("d", 0, "", "pool pool"),
        chunk("d", 1, "", "pool spa gym court"),
        chunk("d", 2, "", "trash day"),
    ]
    settings = RetrievalSettings(k1=1.2, b=0.75, heading_weight=0)
    hits = Index(chunks, settings).hits("pool", 3)
    n, df, avgdl = 3, 2, (2 + 4 + 2) / 3
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25(tf: int, dl: int) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    assert [h.position for h in hits] == [0, 1]
    assert hits[0].score == pytest.approx(bm25(2, 2))
    assert hits[1].score == pytest.approx(bm25(1, 4))
    # match: the score over the idf of the question's terms; overlap: the share found.
    assert hits[1].match == pytest.approx(bm25(1, 4) / idf)
    assert hits[0].overlap == 1.0


def test_no_question_terms_or_no_shared_term_means_no_hit(index: Index) -> None:
    assert index.hits("the of and what?", 3) == []
    assert index.hits("zebra xylophone", 3) == []
    assert Index([]).hits("hoa fees", 3) == []


# -- the answer decision --------------------------------------------------------------------------


def test_a_question_the_documents_answer_gets_its_passages(index: Index) -> None:
    passages = index.answer("How much are the HOA dues for a townhome?", 3)
    assert passages and passages[0].chunk_id == "hoa-victoria#0"
    assert "$312" in passages[0].text
    assert index.confident(passages)


@pytest.mark.parametrize(
    "question",
    [
        "What is the crime rate in Fontana?",
        "Is the house on Maple Street still available?",
        "What are the HOA fees at Rosena Ranch?",  # fees, but of a community not documented
        "¿Aceptan los vendedores pagos con criptomonedas?",
        "Can we see it Saturday morning?",
    ],
)
def test_a_question_outside_the_documents_gets_nothing(index: Index, question: str) -> None:
    assert index.answer(question, 3) == []


def test_the_floors_decide(index: Index) -> None:
    question = "How much are the HOA dues?"
    best = index.passages(question, 1)[0]
    stricter = Index(CORPUS, RetrievalSettings(min_match=best.match + 0.01))
    assert index.answer(question) and stricter.answer(question) == []
    assert Index(CORPUS, RetrievalSettings(min_overlap=1.01)).answer(question) == []


# -- is it a question? ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "What are the HOA fees in Victoria Gardens?",
        "which high school is this in",
        "how much is the mello roos",
        "Is there RV parking",
        "do you know if they allow chickens",
        "tell me about the schools there",
        "¿Cuánto es la cuota?",
        "cuanto es la hoa en victoria gardens",
        "Qué escuela le toca a esa casa",
        "dónde queda la escuela",
        "quisiera saber las reglas de la HOA",
        "me puede decir cuanto es el mello roos",
        "hay alberca en la comunidad",
    ],
)
def test_questions_in_both_languages(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "We want a 4 bedroom home in Ontario, budget 700k",
        "Thanks, sounds good",
        "Yes",
        "STOP",
        "Buscamos casa de 3 recámaras en Fontana",
        "Gracias, lo pienso",
        "Pre-approved for 650k with FHA",
    ],
)
def test_statements_are_not_questions(text: str) -> None:
    assert not is_question(text)


# -- the baseline ---------------------------------------------------------------------------------


def test_the_keyword_baseline_counts_shared_lower_case_words() -> None:
    chunks = [chunk("d", 0, "", "The HOA dues are $238"), chunk("d", 1, "", "the pool is open")]
    baseline = KeywordOverlap(chunks)
    hits = baseline.hits("what are the HOA dues", 2)
    # Shared words: "are", "the", "hoa", "dues" (4 of 5); "the" only (1 of 5). Title words
    # ("D") count too, as for BM25.
    assert [(h.position, h.score) for h in hits] == [(0, 4.0), (1, 1.0)]
    assert baseline.confident(hits) and not baseline.confident(baseline.hits("zebra lion the", 1))


# -- the serving path -----------------------------------------------------------------------------


def test_the_serving_path_imports_no_numpy_nor_pypdf() -> None:
    code = (
        "import sys; sys.path[:0] = ['shared', '.'];"
        "import ghl_ai.knowledge, ghl_ai.knowledge.base, ghl_ai.knowledge.ingest;"
        "from ghl_ai.knowledge.index import Index;"
        "from ghl_ai.knowledge.model import Chunk;"
        "Index([Chunk('d', 0, 't', 's', 'hoa fees are 238')]).answer('hoa fees?');"
        "print(','.join(m for m in ('numpy', 'scipy', 'sklearn', 'pypdf', 'anthropic')"
        " if m in sys.modules))"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == ""


# -- the labelled set and its numbers ------------------------------------------------------------


def test_the_labelled_questions_name_sections_that_exist() -> None:
    from bench.retrieval import load_corpus, load_questions, relevant_ids

    chunks = load_corpus()
    questions = load_questions()
    assert len(questions) >= 80 and len({q["id"] for q in questions}) == len(questions)
    assert sum(q["lang"] == "es" for q in questions) >= len(questions) / 3
    assert sum(not q["answers"] for q in questions) >= 15
    assert {q["split"] for q in questions} == {"dev", "test"}
    unresolved = [q["id"] for q in questions if q["answers"] and not relevant_ids(q, chunks)]
    assert unresolved == []


def test_bm25_beats_the_keyword_baseline_and_refuses_most_unanswerable_questions() -> None:
    """A guard on the benchmark's numbers (python -m bench.retrieval prints them all)."""
    from bench.retrieval import evaluate, load_corpus, load_questions

    rows = evaluate(load_corpus(), load_questions())["rows"]
    served, baseline = rows["bm25 (served)"]["all"], rows["baseline: keyword overlap"]["all"]
    assert served["recall@3"] >= 0.9 and served["recall@3"] >= baseline["recall@3"] + 0.15
    assert served["recall@3_es"] >= 0.85
    assert served["answered_correct_share"] >= 0.85
    assert served["unanswerable_answered"] <= served["unanswerable"] // 3
