"""Taking a document into a location's knowledge base: parse, chunk, store (the CLI's
``kb add`` and ``POST /kb/documents`` both come here).

A document's id is given, or made from its title (``HOA rules — Victoria Gardens`` →
``hoa-rules-victoria-gardens``): adding a document under an id the location already has
replaces it; the same bytes under the same title again change nothing (``unchanged``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, cast

from ghl_ai.errors import SchemaError
from ghl_ai.knowledge.chunk import chunk_document
from ghl_ai.knowledge.model import (
    DOC_ID_PATTERN,
    FORMATS,
    DocumentError,
    DocumentInfo,
    Format,
)
from ghl_ai.knowledge.parse import parse
from ghl_ai.knowledge.store import KnowledgeStore

#: A document over this many bytes is refused (the API's own body limit is lower).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: Chunks one document may have (about 120,000 words), and a location altogether: the index of
#: a location is built in the memory of the function that answers its leads.
MAX_DOCUMENT_CHUNKS = 1_000
MAX_LOCATION_CHUNKS = 10_000


@dataclass(frozen=True)
class Ingested:
    status: Literal["added", "replaced", "unchanged"]
    document: DocumentInfo
    previous: DocumentInfo | None = None

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, **self.document.as_dict()}


def doc_id_for(title: str) -> str:
    """A document id from a title: lower-case ASCII words joined by ``-`` (64 characters at
    most); a title with no such word gets a digest of itself."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64].strip("-")
    return slug or "doc-" + hashlib.sha256(title.encode()).hexdigest()[:12]


def check_doc_id(doc_id: str) -> str:
    if not DOC_ID_PATTERN.fullmatch(doc_id):
        raise DocumentError(
            "docId: 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return doc_id


@dataclass(frozen=True)
class Upload:
    """A document as ``POST /kb/documents`` takes it: ``{title, format, content, docId?}``,
    ``content`` the text itself, or the file in base64 for a PDF."""

    title: str
    format: Format
    content: bytes | str
    doc_id: str | None = None


def upload_from_body(body: Any) -> Upload:
    """The upload a JSON body describes, or :class:`SchemaError` naming every bad field
    (never quoting the content)."""
    if not isinstance(body, dict):
        raise SchemaError(["body: must be a JSON object {title, format, content}"])
    problems: list[str] = []
    title, format, content, doc_id = (
        body.get("title"),
        body.get("format"),
        body.get("content"),
        body.get("docId"),
    )
    if not isinstance(title, str) or not title.strip():
        problems.append("title: required, a non-empty string")
    elif len(title) > 200:
        problems.append("title: at most 200 characters")
    if format not in FORMATS:
        problems.append(f"format: required, one of {', '.join(FORMATS)}")
    if not isinstance(content, str) or not content.strip():
        problems.append("content: required, the document's text (a PDF in base64)")
    if doc_id is not None and (not isinstance(doc_id, str) or not DOC_ID_PATTERN.fullmatch(doc_id)):
        problems.append(
            "docId: 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    data: bytes | str = content if isinstance(content, str) else ""
    if not problems and format == "pdf":
        try:
            data = base64.b64decode(str(content), validate=True)
        except (binascii.Error, ValueError):
            problems.append("content: a PDF must be sent in base64")
    if problems:
        raise SchemaError(problems)
    return Upload(str(title).strip(), cast(Format, format), data, doc_id)


def ingest(
    store: KnowledgeStore,
    location_id: str,
    content: bytes | str,
    format: Format,
    now: datetime,
    *,
    title: str | None = None,
    fallback_title: str | None = None,
    doc_id: str | None = None,
    source: str = "",
) -> Ingested:
    """Parse, chunk and store one document for the location (see the module docstring).
    The title is ``title``, else the document's own, else ``fallback_title``."""
    if format not in FORMATS:
        raise DocumentError(f"format: must be one of {', '.join(FORMATS)}")
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"the document is larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
    parsed = parse(content, format, title)
    if not parsed.title and fallback_title:
        parsed = replace(parsed, title=fallback_title.strip()[:200])
    if not parsed.title:
        raise DocumentError("title: the document has none; give one")
    doc_id = check_doc_id(doc_id or doc_id_for(parsed.title))
    sha = hashlib.sha256(raw).hexdigest()
    manifest = store.manifest(location_id)
    existing = manifest.documents.get(doc_id)
    if existing is not None and existing.sha256 == sha and existing.title == parsed.title:
        # The same upload again (a retry after a failure, say): finish its clean-up.
        store.delete_stale(location_id, doc_id)
        return Ingested("unchanged", existing, existing)
    revision = f"{int(now.timestamp() * 1000):x}-{sha[:8]}"
    chunks = chunk_document(doc_id, parsed, revision)
    if len(chunks) > MAX_DOCUMENT_CHUNKS:
        raise DocumentError(
            f"the document is too long: {len(chunks):,} passages (at most {MAX_DOCUMENT_CHUNKS:,})"
        )
    total = manifest.chunk_count - (existing.chunks if existing else 0) + len(chunks)
    if total > MAX_LOCATION_CHUNKS:
        raise DocumentError(
            f"the location's knowledge base would hold {total:,} passages "
            f"(at most {MAX_LOCATION_CHUNKS:,}): remove documents first"
        )
    info = DocumentInfo(
        doc_id=doc_id,
        title=parsed.title,
        format=format,
        chunks=len(chunks),
        words=parsed.word_count,
        revision=revision,
        updated_at=now.isoformat().replace("+00:00", "Z"),
        sha256=sha,
        source=source[:200],
    )
    previous = store.put_document(location_id, info, chunks)
    return Ingested("replaced" if previous else "added", info, previous)
