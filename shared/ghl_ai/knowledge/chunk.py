"""A parsed document into passages of about :data:`TARGET_WORDS` words.

Chunks never cross a heading: each keeps its document's title and its section's heading (both
are indexed with it and shown with it). Inside a section, whole sentences are packed until the
chunk reaches the target; a sentence that would take it past :data:`MAX_WORDS` starts the next
one, which opens with the previous chunk's last sentence or two (up to :data:`OVERLAP_WORDS`
words) so a fact that straddles the cut is whole in one of them. A short section is one short
chunk; a tail shorter than :data:`MIN_WORDS` joins the chunk before it when that stays under
the maximum. A sentence longer than the maximum (a run-on list) is cut at the maximum.
"""

from __future__ import annotations

import re

from ghl_ai.knowledge.model import Chunk, ParsedDocument

TARGET_WORDS = 120
MIN_WORDS = 80
MAX_WORDS = 200
OVERLAP_WORDS = 25

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(¿¡A-Z0-9ÁÉÍÓÚÑ])")


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences (a cut after ``.``/``!``/``?``/``;`` before a capital or digit);
    a sentence over :data:`MAX_WORDS` words is split into pieces of that size."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph.strip()):
        words = sentence.split()
        for start in range(0, len(words), MAX_WORDS):
            piece = " ".join(words[start : start + MAX_WORDS])
            if piece:
                out.append(piece)
    return out


def _count(parts: list[str]) -> int:
    return sum(len(p.split()) for p in parts)


def _pack(paragraphs: tuple[str, ...]) -> list[str]:
    """One section's paragraphs as chunk texts (paragraph breaks kept as blank lines)."""
    units: list[tuple[str, bool]] = []  # (sentence, starts a paragraph)
    for paragraph in paragraphs:
        for i, sentence in enumerate(sentences(paragraph)):
            units.append((sentence, i == 0))
    chunks: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] = []
    fresh = 0  # sentences in ``current`` that no earlier chunk holds
    for unit in units:
        words = len(unit[0].split())
        size = _count([s for s, _ in current])
        if current and fresh and (size + words > MAX_WORDS or size >= TARGET_WORDS):
            chunks.append(current)
            overlap: list[tuple[str, bool]] = []
            for previous in reversed(current):
                if _count([s for s, _ in overlap]) + len(previous[0].split()) > OVERLAP_WORDS:
                    break
                overlap.insert(0, previous)
            if _count([s for s, _ in overlap]) + words > MAX_WORDS:
                overlap = []
            current, fresh = overlap, 0
        current.append(unit)
        fresh += 1
    if current and fresh:
        tail = _count([s for s, _ in current[len(current) - fresh :]])
        if chunks and tail < MIN_WORDS and _count([s for s, _ in chunks[-1]]) + tail <= MAX_WORDS:
            chunks[-1].extend(current[len(current) - fresh :])
        else:
            chunks.append(current)
    return [_join(chunk) for chunk in chunks]


def _join(units: list[tuple[str, bool]]) -> str:
    text = ""
    for sentence, starts_paragraph in units:
        if text:
            text += "\n\n" if starts_paragraph else " "
        text += sentence
    return text


def chunk_document(doc_id: str, document: ParsedDocument, revision: str = "") -> list[Chunk]:
    """The document's chunks, numbered from 0 in reading order."""
    chunks: list[Chunk] = []
    for section in document.sections:
        for text in _pack(section.paragraphs):
            chunks.append(
                Chunk(doc_id, len(chunks), document.title, section.heading, text, revision)
            )
    return chunks
