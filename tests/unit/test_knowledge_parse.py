"""The knowledge base's documents in: each format parsed to a title and sections (navigation,
scripts and styles gone), chunks that keep their title and heading, the demo PDFs rebuilt
byte for byte."""

from __future__ import annotations

import base64
import itertools

import pytest

from data.kb import make_pdfs
from ghl_ai.errors import SchemaError
from ghl_ai.knowledge.chunk import MAX_WORDS, MIN_WORDS, OVERLAP_WORDS, chunk_document, sentences
from ghl_ai.knowledge.ingest import doc_id_for, upload_from_body
from ghl_ai.knowledge.model import DocumentError, ParsedDocument, Section
from ghl_ai.knowledge.parse import parse
from tests.conftest import ROOT

DOCS = ROOT / "data" / "kb" / "docs"


def headings(doc: ParsedDocument) -> list[str]:
    return [s.heading for s in doc.sections]


def text_of(doc: ParsedDocument) -> str:
    return "\n".join(p for s in doc.sections for p in s.paragraphs)


def test_markdown_headings_tables_and_inline_marks() -> None:
    doc = parse(
        "# HOA fees\n\nIntro with a [link](https://x.example) and **bold** words.\n\n"
        "## Rancho Cucamonga\n\n| Community | Monthly HOA |\n| --- | --- |\n"
        "| Victoria Gardens Villas | $238 |\n| Terra Vista Greens | $129 |\n\n"
        "## Pets\n\n- Up to three pets\n- Dogs on a leash\n",
        "markdown",
    )
    assert doc.title == "HOA fees"
    assert headings(doc) == ["", "Rancho Cucamonga", "Pets"]
    assert doc.sections[0].paragraphs == ("Intro with a link and bold words.",)
    # A table row reads as a sentence naming its columns.
    assert doc.sections[1].paragraphs == (
        "Community: Victoria Gardens Villas; Monthly HOA: $238.",
        "Community: Terra Vista Greens; Monthly HOA: $129.",
    )
    assert doc.sections[2].paragraphs == ("Up to three pets", "Dogs on a leash")


def test_html_keeps_the_article_and_drops_navigation_scripts_and_styles() -> None:
    doc = parse((DOCS / "hoa-mesa-verde-ranch.html").read_bytes(), "html")
    assert doc.title == "Mesa Verde Ranch (Eastvale): HOA rules and fees"
    assert headings(doc)[:3] == ["", "Monthly dues", "RV and boat parking"]
    body = text_of(doc)
    assert "The HOA fee is $95 a month" in body
    assert "Item: Transfer fee; Cost: $250; Paid by: Buyer." in body  # a table row
    for dropped in (
        "dataLayer",
        "font-family",
        "We use cookies",
        "Contact Jorge",
        "Featured listing",
        "All rights reserved",
        "Privacy",
    ):
        assert dropped not in body, dropped


def test_plain_text_headings_underlined_capitals_and_colons() -> None:
    doc = parse((DOCS / "school-boundaries-ontario-eastvale.txt").read_bytes(), "text")
    assert doc.title == "School boundaries: Ontario Ranch, Eastvale, Fontana and Chino Hills"
    assert "ONTARIO RANCH (SYCAMORE TERRACE, HAVEN PARK)" in headings(doc)
    assert "New high school for Ontario Ranch" in headings(doc)  # "...:" on its own line
    assert "HOW TO CHECK AN ADDRESS" in headings(doc)


def test_pdf_text_headings_and_accents() -> None:
    doc = parse((DOCS / "property-taxes-mello-roos.pdf").read_bytes(), "pdf")
    assert doc.title == "Property taxes and Mello-Roos in the Inland Empire (2025-26)"
    assert headings(doc)[:3] == [
        "How California property tax works",
        "Total tax rates by community",
        "What Mello-Roos is",
    ]
    rates = dict(zip(headings(doc), (s.paragraphs for s in doc.sections), strict=True))[
        "Total tax rates by community"
    ]
    assert len(rates) == 9  # each bullet its own paragraph
    assert (
        rates[3]
        == "Sycamore Terrace (Ontario Ranch): 1.18% plus CFD No. 34 of about $2,850 a year."
    )
    # A paragraph wrapped over several PDF lines is one paragraph again.
    assert any(
        p.startswith("Under Proposition 13") and p.endswith("special taxes.")
        for p in doc.sections[0].paragraphs
    )


def test_a_spanish_pdf_keeps_its_accents() -> None:
    source = (
        "# Guía rápida\n\n## ¿Cuánto cuesta?\n\n"
        "La cuota es de $238 al mes; también incluye el club.\n"
    )
    doc = parse(make_pdfs.build(source), "pdf")
    assert doc.title == "Guía rápida"
    assert doc.sections[0].paragraphs == ("La cuota es de $238 al mes; también incluye el club.",)


def test_the_committed_pdfs_are_what_their_sources_build() -> None:
    assert make_pdfs.targets(), "no PDF sources"
    for path, data in make_pdfs.targets().items():
        assert path.read_bytes() == data, f"{path.name}: run python -m data.kb.make_pdfs"


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"not a pdf at all", "pdf", "the PDF cannot be read"),
        (b"\xff\xfe\x00broken", "markdown", "not UTF-8"),
        ("<html><script>x()</script><nav>menu</nav></html>", "html", "no text"),
        ("   \n\n  ", "text", "no text"),
    ],
)
def test_unreadable_documents_are_refused_without_quoting_them(
    content: bytes | str, fmt: str, message: str
) -> None:
    with pytest.raises(DocumentError, match=message) as caught:
        parse(content, fmt)  # type: ignore[arg-type]
    assert "menu" not in str(caught.value) and "broken" not in str(caught.value)


# -- chunking ---------------------------------------------------------------------------------


def test_chunks_keep_title_and_heading_and_never_cross_a_heading() -> None:
    doc = parse((DOCS / "hoa-victoria-gardens.md").read_bytes(), "markdown")
    chunks = chunk_document("hoa-victoria-gardens", doc, "r1")
    assert [c.chunk_id for c in chunks[:2]] == ["hoa-victoria-gardens#0", "hoa-victoria-gardens#1"]
    assert {c.title for c in chunks} == {"Victoria Gardens Villas HOA: rules and fees"}
    by_section = {c.section: c.text for c in chunks}
    assert by_section["Monthly dues"].startswith("Dues for a single-family home are $238 a month")
    assert "Dues for a single-family" not in by_section["What the dues cover"]
    assert all(c.revision == "r1" for c in chunks)


def test_a_long_section_is_cut_into_overlapping_chunks_of_the_target_size() -> None:
    sentences_ = [
        f"Sentence number {i} says something about the HOA pool rules." for i in range(60)
    ]
    doc = ParsedDocument("Long", (Section("Rules", (" ".join(sentences_),)),))
    chunks = chunk_document("long", doc)
    sizes = [len(c.text.split()) for c in chunks]
    assert len(chunks) >= 4
    assert all(MIN_WORDS <= n <= MAX_WORDS for n in sizes), sizes
    for before, after in itertools.pairwise(chunks):
        # The next chunk opens with the previous chunk's last sentence or two (the overlap).
        shared = [s for s in sentences(after.text) if s in sentences(before.text)]
        assert shared and before.text.endswith(" ".join(shared))
        assert after.text.startswith(" ".join(shared))
        assert len(" ".join(shared).split()) <= OVERLAP_WORDS
    # Every sentence is in some chunk.
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences_)


def test_a_run_on_sentence_is_cut_at_the_maximum() -> None:
    doc = ParsedDocument("Run-on", (Section("", (" ".join(["word"] * 450),)),))
    sizes = [len(c.text.split()) for c in chunk_document("r", doc)]
    assert max(sizes) <= MAX_WORDS and sum(sizes) == 450


def test_the_demo_documents_give_enough_chunks_in_every_format() -> None:
    from bench.retrieval import load_corpus

    chunks = load_corpus()
    assert len(chunks) >= 150
    assert len({c.doc_id for c in chunks}) >= 15
    assert all(c.title for c in chunks)


# -- the API's body ----------------------------------------------------------------------------


def test_an_upload_body_is_checked_field_by_field() -> None:
    with pytest.raises(SchemaError) as caught:
        upload_from_body({"title": "", "format": "docx", "content": 3, "docId": "a#b"})
    fields = [p.split(":")[0] for p in caught.value.problems]
    assert fields == ["title", "format", "content", "docId"]
    with pytest.raises(SchemaError, match="base64"):
        upload_from_body({"title": "T", "format": "pdf", "content": "not base64!"})
    pdf = upload_from_body(
        {"title": " T ", "format": "pdf", "content": base64.b64encode(b"%PDF-1.4").decode()}
    )
    assert (pdf.title, pdf.content) == ("T", b"%PDF-1.4")


def test_document_ids_come_from_titles() -> None:
    assert doc_id_for("HOA rules — Victoria Gardens (2025)") == "hoa-rules-victoria-gardens-2025"
    assert doc_id_for("Guía del comprador") == "guia-del-comprador"
    assert doc_id_for("住宅").startswith("doc-")
