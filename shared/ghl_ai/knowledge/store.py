"""The knowledge table (template.yaml ``KnowledgeTable``): PK ``locationId``, SK ``chunkId``.

* ``<docId>#<n>``: a chunk of a document (``docId``, ``n``, ``revision``, ``title``,
  ``section``, ``text``, ``words``);
* ``manifest``: the location's documents (``documents``: docId → title, format, chunks, words,
  revision, sha256, source, updatedAt) and ``version``, raised by every change. A container
  reads only ``version`` to know whether its index is current.

Replacing a document is safe for readers without a transaction: the new chunks are written
first (under a new ``revision``), then the manifest entry is switched to it in one update,
then every chunk of the document whose revision the manifest no longer names is deleted.
Readers keep a chunk only when its revision is the one the manifest names, so at any moment a
search sees the old version or the new one of each document, never a mix. The chunk ids are
``<docId>#<n>``, so the new chunks overwrite the old ones of the same number: while an upload
runs (and after one that died before the switch, until the next upload of the document) the
old version is seen without the passages already overwritten — never with the new text under
the old revision. Removing a document takes it out of the manifest first, then deletes its
chunks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ghl_ai.adapters.dynamo import _Table, from_item, to_item
from ghl_ai.knowledge.errors import KnowledgeUnavailable
from ghl_ai.knowledge.model import Chunk, DocumentInfo, Manifest

MANIFEST = "manifest"


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _info(doc_id: str, data: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        doc_id=doc_id,
        title=str(data.get("title", "")),
        format=str(data.get("format", "")),
        chunks=int(data.get("chunks", 0)),
        words=int(data.get("words", 0)),
        revision=str(data.get("revision", "")),
        updated_at=str(data.get("updatedAt", "")),
        sha256=str(data.get("sha256", "")),
        source=str(data.get("source", "")),
    )


def _info_item(info: DocumentInfo) -> dict[str, Any]:
    return {
        "title": info.title,
        "format": info.format,
        "chunks": info.chunks,
        "words": info.words,
        "revision": info.revision,
        "updatedAt": info.updated_at,
        "sha256": info.sha256,
        "source": info.source,
    }


def _manifest(item: dict[str, Any]) -> Manifest:
    documents = item.get("documents") or {}
    return Manifest(
        int(item.get("version", 0)),
        {doc_id: _info(doc_id, data) for doc_id, data in documents.items()},
    )


def _chunk(item: dict[str, Any]) -> Chunk:
    return Chunk(
        doc_id=str(item["docId"]),
        n=int(item["n"]),
        title=str(item.get("title", "")),
        section=str(item.get("section", "")),
        text=str(item.get("text", "")),
        revision=str(item.get("revision", "")),
    )


class KnowledgeStore(_Table):
    KEY = ("locationId", "chunkId")

    def _key(self, location_id: str, chunk_id: str) -> dict[str, Any]:
        return {"locationId": {"S": location_id}, "chunkId": {"S": chunk_id}}

    # -- reads ----------------------------------------------------------------------------------

    def version(self, location_id: str) -> int | None:
        """The manifest's version (one small read), or None when the location has none."""
        try:
            response = self._client.get_item(
                TableName=self.name,
                Key=self._key(location_id, MANIFEST),
                ProjectionExpression="#v",
                ExpressionAttributeNames={"#v": "version"},
            )
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        item = response.get("Item")
        return int(from_item(item).get("version", 0)) if item else None

    def manifest(self, location_id: str) -> Manifest:
        """The location's documents (an empty manifest at version 0 when it has none)."""
        try:
            response = self._client.get_item(
                TableName=self.name, Key=self._key(location_id, MANIFEST), ConsistentRead=True
            )
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        item = response.get("Item")
        return _manifest(from_item(item)) if item else Manifest(0)

    def _items(
        self, location_id: str, prefix: str | None = None, keys_only: bool = False
    ) -> Iterator[dict[str, Any]]:
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": location_id}}
        names = {"#pk": "locationId"}
        extra: dict[str, Any] = {}
        if prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = {"S": prefix}
            names["#sk"] = "chunkId"
        if keys_only:
            names.update({"#sk": "chunkId", "#rev": "revision"})
            extra["ProjectionExpression"] = "#pk, #sk, #rev"
        try:
            for page in self._client.get_paginator("query").paginate(
                TableName=self.name,
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ConsistentRead=True,
                **extra,
            ):
                for item in page.get("Items", []):
                    yield from_item(item)
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc

    def snapshot(self, location_id: str) -> tuple[Manifest, list[Chunk]]:
        """The manifest and the chunks of the revisions it names (one paginated Query)."""
        manifest = Manifest(0)
        found: list[Chunk] = []
        for item in self._items(location_id):
            if item["chunkId"] == MANIFEST:
                manifest = _manifest(item)
            elif "docId" in item:
                found.append(_chunk(item))
        current = {d.doc_id: d.revision for d in manifest.documents.values()}
        chunks = [c for c in found if current.get(c.doc_id) == c.revision]
        chunks.sort(key=lambda c: (c.doc_id, c.n))
        return manifest, chunks

    def chunks(self, location_id: str, doc_id: str) -> list[Chunk]:
        """One document's current chunks, in order."""
        return [c for c in self.snapshot(location_id)[1] if c.doc_id == doc_id]

    # -- writes ---------------------------------------------------------------------------------

    def put_document(
        self, location_id: str, info: DocumentInfo, chunks: Sequence[Chunk]
    ) -> DocumentInfo | None:
        """Store a document's chunks and make them current (see the module docstring).
        Returns the version it replaced, or None."""
        puts = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "locationId": location_id,
                            "chunkId": c.chunk_id,
                            "docId": c.doc_id,
                            "n": c.n,
                            "revision": info.revision,
                            "title": c.title,
                            "section": c.section,
                            "text": c.text,
                            "words": len(c.text.split()),
                        }
                    )
                }
            }
            for c in chunks
        ]
        try:
            for start in range(0, len(puts), 25):
                self._batch_write(puts[start : start + 25])
            self._ensure_manifest(location_id)
            response = self._client.update_item(
                TableName=self.name,
                Key=self._key(location_id, MANIFEST),
                UpdateExpression="SET #docs.#d = :doc, #at = :at ADD #v :one",
                ExpressionAttributeNames={
                    "#docs": "documents",
                    "#d": info.doc_id,
                    "#v": "version",
                    "#at": "updatedAt",
                },
                ExpressionAttributeValues={
                    ":doc": to_item({"doc": _info_item(info)})["doc"],
                    ":at": {"S": info.updated_at},
                    ":one": {"N": "1"},
                },
                ReturnValues="UPDATED_OLD",
            )
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        old = from_item(response.get("Attributes") or {}).get("documents", {}).get(info.doc_id)
        self.delete_stale(location_id, info.doc_id)
        return _info(info.doc_id, old) if old else None

    def _ensure_manifest(self, location_id: str) -> None:
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.put_item(
                TableName=self.name,
                Item={
                    **self._key(location_id, MANIFEST),
                    "documents": {"M": {}},
                    "version": {"N": "0"},
                },
                ConditionExpression="attribute_not_exists(chunkId)",
            )

    def remove_document(self, location_id: str, doc_id: str) -> DocumentInfo | None:
        """Take the document out of the manifest, then delete its chunks. Returns what was
        removed, or None when the location has no such document."""
        try:
            response = self._client.update_item(
                TableName=self.name,
                Key=self._key(location_id, MANIFEST),
                UpdateExpression="REMOVE #docs.#d ADD #v :one",
                ConditionExpression="attribute_exists(#docs.#d)",
                ExpressionAttributeNames={"#docs": "documents", "#d": doc_id, "#v": "version"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        old = from_item(response.get("Attributes") or {}).get("documents", {}).get(doc_id)
        self.delete_stale(location_id, doc_id)
        return _info(doc_id, old) if old else None

    def delete_stale(self, location_id: str, doc_id: str) -> int:
        """Delete the document's chunks of any revision the manifest does not name now (left
        behind by an upload or a removal that failed half-way: readers ignore them)."""
        current = self.manifest(location_id).documents.get(doc_id)
        stale = [
            item
            for item in self._items(location_id, prefix=f"{doc_id}#", keys_only=True)
            if current is None or item.get("revision") != current.revision
        ]
        try:
            return self.delete_items(stale)
        except _aws_errors() as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
