"""Okapi BM25 over a location's chunks, in memory, standard library only (it runs in the
Lambda that answers the lead: no model, no numpy).

A chunk is indexed as its text plus its section heading and document title (``heading_weight``
times each: a question that names "Victoria Gardens" or "Mello-Roos" usually names the document
or the section). Scores use Lucene's idf, ``log(1 + (N − df + 0.5) / (df + 0.5))``, always
positive, and the usual term-frequency saturation with ``k1`` and length normalisation ``b``.

**Answerability.** BM25 ranks; it does not say whether the best passage answers the question.
Two figures do (:meth:`Index.confident`):

* ``match``: the best passage's score over the score of a passage of average length holding
  each of the question's terms once (the sum of their idf): about the idf-weighted share of
  the question the passage covers, above 1 when it repeats the rare words. A term no document
  contains still counts in that denominator with the idf of a word seen nowhere, so a question
  about something the documents never mention scores low however well its other words match;
* ``overlap``: the share of the question's distinct content terms found in the passage.

A passage is an answer only when both clear their floors (:class:`RetrievalSettings`; chosen on
the development half of the labelled questions, measured on the other half by
``python -m bench.retrieval``).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ghl_ai.knowledge.model import Chunk, Passage
from ghl_ai.knowledge.text import TermGroup, term_groups, terms


@dataclass(frozen=True)
class RetrievalSettings:
    k1: float = 1.2
    b: float = 0.75
    #: How many times the heading and the title count beside the chunk's text.
    heading_weight: int = 1
    stemming: bool = True
    glossary: bool = True
    #: The answerability floors (see the module docstring).
    min_match: float = 0.85
    min_overlap: float = 0.65


DEFAULT_SETTINGS = RetrievalSettings()


@dataclass(frozen=True)
class Hit:
    position: int
    score: float
    match: float
    overlap: float


class Index:
    """BM25 over ``chunks``; build once, search many times."""

    def __init__(self, chunks: Sequence[Chunk], settings: RetrievalSettings = DEFAULT_SETTINGS):
        self.chunks = list(chunks)
        self.settings = settings
        s = settings
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        self._vocab: list[frozenset[str]] = []
        for position, chunk in enumerate(self.chunks):
            tokens = self._terms(chunk.text)
            heading = self._terms(f"{chunk.title}\n{chunk.section}")
            counts = Counter(tokens)
            for term in heading:
                counts[term] += s.heading_weight
            self._lengths.append(len(tokens) + len(heading) * s.heading_weight)
            self._vocab.append(frozenset(counts))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((position, tf))
        n = len(self.chunks)
        self._avgdl = (sum(self._lengths) / n) if n else 1.0
        self._idf = {t: self._idf_of(len(p)) for t, p in self._postings.items()}
        self._unseen_idf = self._idf_of(0)
        # The length factor of each chunk, computed once: k1 · (1 − b + b · dl / avgdl).
        self._norm = [s.k1 * (1 - s.b + s.b * dl / (self._avgdl or 1.0)) for dl in self._lengths]

    def _terms(self, text: str) -> list[str]:
        return terms(text, stemming=self.settings.stemming, glossary=self.settings.glossary)

    def _idf_of(self, df: int) -> float:
        n = len(self.chunks)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def __len__(self) -> int:
        return len(self.chunks)

    def query_groups(self, question: str) -> list[TermGroup]:
        s = self.settings
        return term_groups(question, stemming=s.stemming, glossary=s.glossary)

    def _contributions(self, terms: tuple[str, ...]) -> dict[int, float]:
        """Each chunk's BM25 score for ``terms`` (the chunks holding none left out)."""
        k1, norm = self.settings.k1, self._norm
        out: dict[int, float] = {}
        for term in terms:
            idf = self._idf.get(term)
            if idf is None:
                continue
            for position, tf in self._postings[term]:
                out[position] = out.get(position, 0.0) + idf * tf * (k1 + 1) / (tf + norm[position])
        return out

    def _cost(self, terms: tuple[str, ...]) -> float:
        return sum(self._idf.get(t, self._unseen_idf) for t in terms)

    def hits(self, question: str, k: int = 3) -> list[Hit]:
        """The ``k`` best chunks for ``question`` (score > 0), best first; ties in chunk order.

        Each content word of the question scores through its best alternative (the word, or
        its glossary phrase), so a translated word is not counted twice."""
        groups = self.query_groups(question)
        if not groups or not self.chunks:
            return []
        per_group: list[list[dict[int, float]]] = []
        scores: dict[int, float] = {}
        for group in groups:
            alternatives = [self._contributions(alt) for alt in group]
            per_group.append(alternatives)
            best: dict[int, float] = {}
            for contributions in alternatives:
                for position, value in contributions.items():
                    if value > best.get(position, 0.0):
                        best[position] = value
            for position, value in best.items():
                scores[position] = scores.get(position, 0.0) + value
        if not scores:
            return []
        top = heapq.nlargest(k, scores.items(), key=lambda item: (item[1], -item[0]))
        out = []
        for position, score in top:
            # What a chunk of average length holding each word once (through the alternative
            # this chunk matched, else the cheapest one) would score.
            ceiling, matched = 0.0, 0
            for group, alternatives in zip(groups, per_group, strict=True):
                values = [c.get(position, 0.0) for c in alternatives]
                if max(values) > 0:
                    matched += 1
                    ceiling += self._cost(group[values.index(max(values))])
                else:
                    ceiling += min(self._cost(alt) for alt in group)
            out.append(
                Hit(position, score, score / ceiling if ceiling else 0.0, matched / len(groups))
            )
        return out

    def passages(self, question: str, k: int = 3) -> list[Passage]:
        return [self.passage(hit) for hit in self.hits(question, k)]

    def passage(self, hit: Hit) -> Passage:
        c = self.chunks[hit.position]
        return Passage(
            c.chunk_id, c.doc_id, c.title, c.section, c.text, hit.score, hit.match, hit.overlap
        )

    def confident(self, hits: Sequence[Hit] | Sequence[Passage]) -> bool:
        """Does the best of ``hits`` answer the question (both floors cleared)?"""
        if not hits:
            return False
        best = hits[0]
        s = self.settings
        return best.match >= s.min_match and best.overlap >= s.min_overlap

    def answer(self, question: str, k: int = 3) -> list[Passage]:
        """The top ``k`` passages when the best one is a confident answer, else none."""
        hits = self.hits(question, k)
        return [self.passage(h) for h in hits] if self.confident(hits) else []


# -- the baseline -------------------------------------------------------------------------------


_WORD = re.compile(r"\w+")


class KeywordOverlap:
    """The plain baseline ``bench.retrieval`` compares against: a chunk's score is the number of
    distinct lower-case words it shares with the question (no stop words removed, no idf, no
    length normalisation), ties in chunk order. Answerability: the share of the question's
    words found, against one floor."""

    def __init__(self, chunks: Iterable[Chunk], min_share: float = 0.5) -> None:
        self.chunks = list(chunks)
        self.min_share = min_share
        self._words = [self.words(f"{c.title}\n{c.section}\n{c.text}") for c in self.chunks]

    @staticmethod
    def words(text: str) -> frozenset[str]:
        return frozenset(_WORD.findall(text.lower()))

    def hits(self, question: str, k: int = 3) -> list[Hit]:
        query = self.words(question)
        if not query:
            return []
        scored = [(len(query & words), position) for position, words in enumerate(self._words)]
        best = heapq.nlargest(k, [s for s in scored if s[0] > 0], key=lambda s: (s[0], -s[1]))
        return [Hit(position, float(n), n / len(query), n / len(query)) for n, position in best]

    def confident(self, hits: Sequence[Hit]) -> bool:
        return bool(hits) and hits[0].overlap >= self.min_share
