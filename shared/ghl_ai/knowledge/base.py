"""A location's knowledge base as the conversation asks it: search, answer, look up.

The index of a location is built in memory on first use in a container (one paginated Query of
the location's chunks) and kept per (location, manifest version). After ``cache_seconds`` the
next call reads the manifest's ``version`` only (one small GetItem) and rebuilds only when it
changed; a location without documents costs that one read per ``cache_seconds``, nothing else.
At most ``max_locations`` indexes are kept (the least recently used goes first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ghl_ai.knowledge.index import DEFAULT_SETTINGS, Index, RetrievalSettings
from ghl_ai.knowledge.model import Passage
from ghl_ai.knowledge.store import KnowledgeStore, KnowledgeUnavailable
from ghl_ai.knowledge.text import is_question
from ghl_ai.observability import logger


@dataclass
class _Cached:
    checked_at: float
    version: int | None
    index: Index | None


class KnowledgeBase:
    def __init__(
        self,
        store: KnowledgeStore,
        *,
        settings: RetrievalSettings = DEFAULT_SETTINGS,
        cache_seconds: float = 60.0,
        max_locations: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self.cache_seconds = cache_seconds
        self.max_locations = max_locations
        self._clock = clock
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        #: How many indexes this container built (for tests and the benchmark).
        self.builds = 0

    def index_for(self, location_id: str) -> Index | None:
        """The location's index (None when it has no documents), current within
        ``cache_seconds``."""
        now = self._clock()
        cached = self._cache.get(location_id)
        if cached is not None and now - cached.checked_at < self.cache_seconds:
            self._cache.move_to_end(location_id)
            return cached.index
        version = self.store.version(location_id)
        if cached is not None and cached.version == version:
            cached.checked_at = now
            self._cache.move_to_end(location_id)
            return cached.index
        index = None
        if version is not None:
            manifest, chunks = self.store.snapshot(location_id)
            version = manifest.version
            index = Index(chunks, self.settings) if chunks else None
            self.builds += 1
        self._cache[location_id] = _Cached(now, version, index)
        self._cache.move_to_end(location_id)
        while len(self._cache) > self.max_locations:
            self._cache.popitem(last=False)
        return index

    def search(self, location_id: str, question: str, k: int = 3) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first, answer or not."""
        index = self.index_for(location_id)
        return index.passages(question, k) if index else []

    def answer_passages(self, location_id: str, question: str, k: int = 3) -> list[Passage]:
        """The ``k`` best passages when the best one answers ``question`` with confidence
        (:meth:`Index.confident`), else none: a question the documents do not answer gets no
        passage, so nothing can be invented from a near miss."""
        index = self.index_for(location_id)
        return index.answer(question, k) if index else []

    def is_answer(self, location_id: str, passages: list[Passage]) -> bool:
        index = self.index_for(location_id)
        return bool(index and index.confident(passages))

    def lookup(self, location_id: str, text: str, k: int = 3) -> list[Passage]:
        """What the conversation asks for every inbound message: the passages that answer it
        when it is a question the documents answer, else none. Never raises: when the table
        cannot be read the lead is answered without the documents (logged)."""
        if not is_question(text):
            return []
        try:
            return self.answer_passages(location_id, text, k)
        except KnowledgeUnavailable as exc:
            logger.warning(
                "knowledge base unavailable", extra={"location_id": location_id, "error": str(exc)}
            )
            return []
