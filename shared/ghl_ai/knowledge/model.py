"""The knowledge base's values: a parsed document, its chunks, the passages a search returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ghl_ai.knowledge.errors import DocumentError as DocumentError  # re-exported

Format = Literal["pdf", "markdown", "text", "html"]
FORMATS: tuple[Format, ...] = ("pdf", "markdown", "text", "html")
#: A file's extension → its format (``ghl-ai kb add``).
EXTENSIONS: dict[str, Format] = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
}
#: A document id: what ``kb remove`` and ``DELETE /kb/documents/{docId}`` name. No ``#`` (it
#: separates the id from the chunk number in the table) and nothing a URL must escape.
DOC_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


@dataclass(frozen=True)
class Section:
    """A heading and the paragraphs under it (``heading`` empty before the first heading)."""

    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    sections: tuple[Section, ...]

    @property
    def word_count(self) -> int:
        return sum(len(p.split()) for s in self.sections for p in s.paragraphs)


@dataclass(frozen=True)
class Chunk:
    """A passage as stored and indexed: ``chunk_id`` is ``<docId>#<n>``."""

    doc_id: str
    n: int
    title: str
    section: str
    text: str
    revision: str = ""

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.n}"


@dataclass(frozen=True)
class Passage:
    """A search result: the chunk, its BM25 ``score``, and the two figures the answerability
    decision reads — ``match`` (the score over what an average passage holding each of the
    question's words once would score: about the idf-weighted share of the question covered,
    above 1 when rare words repeat) and ``overlap`` (the share of the question's content words
    the passage contains)."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    match: float = 0.0
    overlap: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "chunkId": self.chunk_id,
            "docId": self.doc_id,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
            "match": round(self.match, 4),
            "overlap": round(self.overlap, 4),
        }


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the manifest lists it."""

    doc_id: str
    title: str
    format: str
    chunks: int
    words: int
    revision: str
    updated_at: str
    sha256: str = ""
    source: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "docId": self.doc_id,
            "title": self.title,
            "format": self.format,
            "chunks": self.chunks,
            "words": self.words,
            "revision": self.revision,
            "updatedAt": self.updated_at,
            "sha256": self.sha256,
            "source": self.source,
        }


@dataclass(frozen=True)
class Manifest:
    """A location's knowledge base at a version: every change (a document added, replaced or
    removed) raises ``version``, so a container knows when to rebuild its index."""

    version: int
    documents: dict[str, DocumentInfo] = field(default_factory=dict)

    @property
    def chunk_count(self) -> int:
        return sum(d.chunks for d in self.documents.values())
