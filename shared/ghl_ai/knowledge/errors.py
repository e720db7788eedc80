"""The knowledge base's domain errors, importable without the rest of the package (the intake
maps them to status codes at import; the knowledge modules load on the first /kb request)."""

from __future__ import annotations

from ghl_ai.errors import DomainError


class DocumentError(DomainError):
    """A document that cannot be taken (unreadable, empty, too large, an unknown format): the
    message says why, never quoting the content. The API answers 422."""


class KnowledgeUnavailable(DomainError):
    """The knowledge table could not be read or written (throttled, unreachable)."""
