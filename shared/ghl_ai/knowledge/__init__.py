"""The agent's knowledge base: his own documents per location (HOA rules and fees, school
boundaries, tax rates and Mello-Roos, neighbourhood guides, his buyer and seller guides), so a
lead's question is answered from them — or, when they do not answer it, from nothing.

For the conversation engine::

    from ghl_ai import knowledge

    passages = knowledge.lookup(location_id, inbound_text)   # list[Passage], best first
    if passages:   # a question the documents answer: reply from passages[0].text (cite
        ...        # nothing else); passages[i].title / .section say where it comes from
    elif knowledge.is_question(inbound_text):
        ...        # a question they do not answer: hand it to the agent (a task)

``lookup`` is empty when the text is not a question (:func:`is_question`, English and Spanish)
or when no passage is a confident answer (:meth:`Index.confident`). The table is
``KNOWLEDGE_TABLE`` (no table: always empty). A location without documents costs one small read
per ``KNOWLEDGE_CACHE_SECONDS`` (60) per container; a location's index is built in memory on its
first question and rebuilt only when its documents change. It never raises: if the table
cannot be read, the lead is answered as if there were no documents (logged). Inject your own
:class:`KnowledgeBase` (its store, clock and settings) where the engine builds its
dependencies: ``knowledge.base_from_settings(settings.knowledge_table)``.

Parts: :mod:`.parse` (PDF, Markdown, text, HTML → sections), :mod:`.chunk` (sections →
passages of ~120 words), :mod:`.text` (the tokenizer and :func:`is_question`), :mod:`.index`
(BM25, answerability, the keyword baseline), :mod:`.store` (the DynamoDB table, manifest and
versions), :mod:`.ingest` (a document in), :mod:`.base` (the cached per-location index).
Standard library only on the serving path (pypdf is imported only to read a PDF).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the package imports nothing until used (the intake's cold start)
    from ghl_ai.knowledge.base import KnowledgeBase
    from ghl_ai.knowledge.model import Passage

__all__ = [
    "DEFAULT_SETTINGS",
    "Chunk",
    "DocumentError",
    "DocumentInfo",
    "Index",
    "KnowledgeBase",
    "KnowledgeStore",
    "KnowledgeUnavailable",
    "Passage",
    "RetrievalSettings",
    "base_from_settings",
    "is_question",
    "lookup",
    "reset",
]

_EXPORTS = {
    "DEFAULT_SETTINGS": "index",
    "Index": "index",
    "RetrievalSettings": "index",
    "Chunk": "model",
    "DocumentInfo": "model",
    "Passage": "model",
    "DocumentError": "errors",
    "KnowledgeUnavailable": "errors",
    "KnowledgeBase": "base",
    "KnowledgeStore": "store",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"ghl_ai.knowledge.{_EXPORTS[name]}"), name)
    raise AttributeError(name)


def is_question(text: str) -> bool:
    """Does the lead ask something (English or Spanish)? See :func:`.text.is_question`."""
    from ghl_ai.knowledge.text import is_question as question

    return question(text)


def base_from_settings(
    table: str | None, cache_seconds: float = 60.0, client: Any = None
) -> KnowledgeBase | None:
    """A knowledge base on ``table`` (None without one), its DynamoDB client made here unless
    given."""
    if not table:
        return None
    from ghl_ai.knowledge.base import KnowledgeBase
    from ghl_ai.knowledge.store import KnowledgeStore

    if client is None:
        import boto3

        client = boto3.client("dynamodb")
    return KnowledgeBase(KnowledgeStore(client, table), cache_seconds=cache_seconds)


@lru_cache(maxsize=1)
def _default() -> KnowledgeBase | None:
    from ghl_ai.config import knowledge_settings

    settings = knowledge_settings()
    return base_from_settings(settings.knowledge_table, settings.knowledge_cache_seconds)


def lookup(location_id: str, text: str, k: int = 3) -> list[Passage]:
    """The passages that answer ``text`` from the location's documents, best first; empty when
    it is not a question, the documents do not answer it, or there is no knowledge table."""
    base = _default()
    return base.lookup(location_id, text, k) if base else []


def reset() -> None:
    """Forget the default knowledge base (tests change ``KNOWLEDGE_TABLE`` between cases)."""
    from ghl_ai.config import knowledge_settings

    knowledge_settings.cache_clear()
    _default.cache_clear()
