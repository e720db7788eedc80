"""The knowledge base against the template's KnowledgeTable (moto): the store's versions and
replacements, the per-container index cache, ``knowledge.lookup`` as the engine will call it,
the ``ghl-ai kb`` commands and the ``/kb/documents`` routes (credentials, bad bodies, one
location never seeing or deleting another's documents)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from ghl_ai import knowledge
from ghl_ai.adapters.dynamo import to_item
from ghl_ai.knowledge.base import KnowledgeBase
from ghl_ai.knowledge.ingest import ingest
from ghl_ai.knowledge.store import KnowledgeStore
from ghl_ai.tenants import digest
from ghl_ai_cli.main import app as cli
from local import devkeys
from local.apigw import http_event
from tests.conftest import LOCATION_ID, ROOT, Response, Stack

DOCS = ROOT / "data" / "kb" / "docs"
OTHER = "OtherLocation0000001"
OTHER_KEY = "api-key-of-the-other-location"
runner = CliRunner()

HOA = """# Sunset Ridge HOA

## Monthly dues

Dues are $180 a month and cover the pool, the park and the front-yard landscaping.

## Pets

Two dogs or cats per home; dogs on a leash outside.

## Parking

Boats and RVs may not be parked on the street or in driveways overnight.
"""


@pytest.fixture
def table(stack: Stack) -> Iterator[str]:
    knowledge.reset()
    yield stack.resources.tables["KnowledgeTable"]
    knowledge.reset()


@pytest.fixture
def store(stack: Stack, table: str) -> KnowledgeStore:
    return KnowledgeStore(stack.dynamodb, table)


def now() -> datetime:
    return datetime.now(UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class DynamoCalls:
    """The DynamoDB operations a client makes (botocore's own event hook)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


# -- the store and the cache ----------------------------------------------------------------------


def test_a_replaced_document_leaves_no_old_chunk_and_raises_the_version(
    stack: Stack, store: KnowledgeStore
) -> None:
    long_doc = HOA + "\n## Trash\n\nTrash goes out on Tuesdays.\n"
    first = ingest(store, LOCATION_ID, long_doc, "markdown", now())
    assert (first.status, first.document.doc_id, first.document.chunks) == (
        "added",
        "sunset-ridge-hoa",
        4,
    )
    assert store.version(LOCATION_ID) == 1
    again = ingest(store, LOCATION_ID, long_doc, "markdown", now())
    assert again.status == "unchanged" and store.version(LOCATION_ID) == 1
    second = ingest(store, LOCATION_ID, HOA.replace("$180", "$195"), "markdown", now())
    assert second.status == "replaced" and second.previous == first.document
    assert store.version(LOCATION_ID) == 2
    items = [i for i in stack.scan("KnowledgeTable") if i["chunkId"] != "manifest"]
    # Three chunks of the new revision; the old fourth (Trash) and old texts are gone.
    assert sorted(i["chunkId"] for i in items) == [f"sunset-ridge-hoa#{n}" for n in range(3)]
    assert {i["revision"] for i in items} == {second.document.revision}
    assert any("$195" in i["text"] for i in items) and not any("$180" in i["text"] for i in items)


def test_readers_never_see_an_upload_that_did_not_finish(
    stack: Stack, store: KnowledgeStore, table: str
) -> None:
    done = ingest(store, LOCATION_ID, HOA, "markdown", now())
    # An upload that wrote its chunks and died before switching the manifest to them.
    stack.dynamodb.put_item(
        TableName=table,
        Item=to_item(
            {
                "locationId": LOCATION_ID,
                "chunkId": "sunset-ridge-hoa#0",
                "docId": "sunset-ridge-hoa",
                "n": 0,
                "revision": "never-finished",
                "title": "Sunset Ridge HOA",
                "section": "Monthly dues",
                "text": "Dues are $999 a month.",
            }
        ),
    )
    _, chunks = store.snapshot(LOCATION_ID)
    assert [c.chunk_id for c in chunks] == ["sunset-ridge-hoa#1", "sunset-ridge-hoa#2"]
    assert {c.revision for c in chunks} == {done.document.revision}
    # The next upload of the document replaces it whole.
    ingest(store, LOCATION_ID, HOA + "\nUpdated.\n", "markdown", now())
    _, chunks = store.snapshot(LOCATION_ID)
    assert len(chunks) == 3 and not any("$999" in c.text for c in chunks)


def test_the_index_is_cached_per_location_and_version(stack: Stack, store: KnowledgeStore) -> None:
    clock = Clock()
    base = KnowledgeBase(store, cache_seconds=60, clock=clock)
    calls = DynamoCalls(stack.dynamodb)
    # A location without documents: one small read, then nothing until the cache expires.
    assert base.lookup(LOCATION_ID, "what are the HOA dues?") == []
    assert base.lookup(LOCATION_ID, "and the pets?") == []
    assert calls.operations == ["GetItem"] and base.builds == 0
    ingest(store, LOCATION_ID, HOA, "markdown", now())
    assert base.lookup(LOCATION_ID, "what are the HOA dues?") == []  # still the cached "none"
    clock.t = 61
    calls.operations.clear()
    passages = base.lookup(LOCATION_ID, "what are the HOA dues?")
    assert passages and passages[0].section == "Monthly dues" and "$180" in passages[0].text
    assert calls.operations == ["GetItem", "Query"] and base.builds == 1
    clock.t = 130
    calls.operations.clear()
    assert base.lookup(LOCATION_ID, "how many dogs can we have?")[0].section == "Pets"
    assert calls.operations == ["GetItem"] and base.builds == 1  # same version: no rebuild
    ingest(store, LOCATION_ID, HOA.replace("$180", "$205"), "markdown", now())
    clock.t = 200
    assert "$205" in base.lookup(LOCATION_ID, "what are the HOA dues?")[0].text
    assert base.builds == 2


def test_lookup_answers_questions_only_and_never_from_a_near_miss(
    stack: Stack, store: KnowledgeStore
) -> None:
    ingest(store, LOCATION_ID, HOA, "markdown", now())
    # The engine's entry: the table from KNOWLEDGE_TABLE (the worker's environment).
    found = knowledge.lookup(LOCATION_ID, "Can we park our RV in the driveway?")
    assert found and found[0].section == "Parking"
    assert knowledge.lookup(LOCATION_ID, "We want to park our RV in the driveway") == []
    assert knowledge.lookup(LOCATION_ID, "What is the crime rate in Sunset Ridge?") == []
    assert knowledge.lookup(OTHER, "Can we park our RV in the driveway?") == []


def test_lookup_without_a_table_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KNOWLEDGE_TABLE", raising=False)
    knowledge.reset()
    try:
        assert knowledge.lookup(LOCATION_ID, "what are the HOA dues?") == []
    finally:
        knowledge.reset()


def test_a_table_that_cannot_be_read_answers_nothing_and_logs(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, powertools_logs: Any
) -> None:
    base = KnowledgeBase(KnowledgeStore(stack.dynamodb, "no-such-table"))
    assert base.lookup(LOCATION_ID, "what are the HOA dues?") == []
    assert "knowledge base unavailable" in powertools_logs.getvalue()


# -- the commands ---------------------------------------------------------------------------------


def kb(*args: str) -> Any:
    return runner.invoke(cli, ["kb", *args])


def test_kb_add_list_search_remove(stack: Stack, table: str) -> None:
    files = [
        str(DOCS / name)
        for name in (
            "hoa-victoria-gardens.md",
            "hoa-mesa-verde-ranch.html",
            "school-boundaries-ontario-eastvale.txt",
            "property-taxes-mello-roos.pdf",
        )
    ]
    added = kb("add", *files, "--location", LOCATION_ID, "--table", table, "--json")
    assert added.exit_code == 0, added.output
    rows = json.loads(added.stdout)["documents"]
    assert [(r["docId"], r["status"], r["format"]) for r in rows] == [
        ("hoa-victoria-gardens", "added", "markdown"),
        ("hoa-mesa-verde-ranch", "added", "html"),
        ("school-boundaries-ontario-eastvale", "added", "text"),
        ("property-taxes-mello-roos", "added", "pdf"),
    ]
    assert rows[3]["title"] == "Property taxes and Mello-Roos in the Inland Empire (2025-26)"
    listed = json.loads(kb("list", "--location", LOCATION_ID, "--table", table, "--json").stdout)
    assert len(listed["documents"]) == 4 and listed["chunks"] == sum(r["chunks"] for r in rows)

    answer = kb(
        "search",
        "what are the monthly HOA dues in Victoria Gardens?",
        "--location",
        LOCATION_ID,
        "--table",
        table,
    )
    assert answer.exit_code == 0, answer.output
    assert "answered from the documents" in answer.stdout and "$238 a month" in answer.stdout
    pdf = json.loads(
        kb(
            "search",
            "cuanto es el mello roos en sycamore terrace",
            "--location",
            LOCATION_ID,
            "--table",
            table,
            "--json",
        ).stdout
    )
    assert pdf["answered"] and pdf["passages"][0]["docId"] == "property-taxes-mello-roos"
    miss = kb(
        "search", "What's the crime rate in Fontana?", "--location", LOCATION_ID, "--table", table
    )
    assert "would go to the agent" in miss.stdout

    removed = kb("remove", "hoa-mesa-verde-ranch", "--location", LOCATION_ID, "--table", table)
    assert removed.exit_code == 0 and "removed hoa-mesa-verde-ranch" in removed.stdout
    assert not [i for i in stack.scan("KnowledgeTable") if i.get("docId") == "hoa-mesa-verde-ranch"]
    again = kb("remove", "hoa-mesa-verde-ranch", "--location", LOCATION_ID, "--table", table)
    assert again.exit_code == 2 and "no document" in again.output


def test_kb_add_reports_a_bad_file_and_stores_the_others(
    stack: Stack, table: str, tmp_path: Any
) -> None:
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"this is not a PDF")
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK")
    good = tmp_path / "hoa.md"
    good.write_text(HOA)
    result = kb(
        "add", str(bad), str(odd), str(good), "--location", LOCATION_ID, "--table", table, "--json"
    )
    assert result.exit_code == 1
    rows = json.loads(result.stdout)["documents"]
    assert [r["status"] for r in rows] == ["error", "error", "added"]
    assert rows[0]["error"] == "the PDF cannot be read"
    assert rows[1]["error"].startswith("unknown format .docx")
    # The id is the file's name; the title the document's own first heading.
    assert (rows[2]["docId"], rows[2]["title"]) == ("hoa", "Sunset Ridge HOA")
    again = kb("add", str(good), "--location", LOCATION_ID, "--table", table, "--json")
    assert json.loads(again.stdout)["documents"][0]["status"] == "unchanged"


def test_kb_commands_need_a_location_and_a_table(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KNOWLEDGE_TABLE", raising=False)
    monkeypatch.delenv("GHL_LOCATION_ID", raising=False)
    assert "--location" in kb("list", "--table", table).output
    assert "--table" in kb("list", "--location", LOCATION_ID).output


# -- the routes -----------------------------------------------------------------------------------


def api(
    stack: Stack,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = devkeys.API_KEY,
    raw: bytes | None = None,
) -> Response:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    route = "DELETE /kb/documents/{docId}" if method == "DELETE" else f"{method} /kb/documents"
    params = {"docId": path.rsplit("/", 1)[-1]} if method == "DELETE" else None
    event = http_event(method, path, data, headers, route_key=route, path_parameters=params)
    return stack.invoke_intake(event)


def other_location(stack: Stack) -> None:
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": OTHER}, "apiKeySha256": {"S": digest(OTHER_KEY)}},
    )


def upload(title: str = "Sunset Ridge HOA", content: str = HOA, **extra: Any) -> dict[str, Any]:
    return {"title": title, "format": "markdown", "content": content, **extra}


def test_the_routes_add_list_and_remove_a_locations_documents(stack: Stack, table: str) -> None:
    added = api(stack, "POST", "/kb/documents", upload())
    assert added.status == 201, added.json
    assert (added.json["status"], added.json["docId"], added.json["chunks"]) == (
        "added",
        "sunset-ridge-hoa",
        3,
    )
    assert api(stack, "POST", "/kb/documents", upload()).json["status"] == "unchanged"
    pdf = (DOCS / "seller-guide.pdf").read_bytes()
    body = {
        "title": "Seller guide",
        "format": "pdf",
        "content": base64.b64encode(pdf).decode(),
        "docId": "seller-guide",
    }
    stored = api(stack, "POST", "/kb/documents", body)
    assert stored.status == 201 and stored.json["chunks"] == 9, stored.json
    listed = api(stack, "GET", "/kb/documents")
    assert listed.status == 200
    assert [d["docId"] for d in listed.json["documents"]] == ["seller-guide", "sunset-ridge-hoa"]
    assert listed.json["version"] == 2 and listed.json["locationId"] == LOCATION_ID
    # What the conversation will find.
    found = knowledge.lookup(LOCATION_ID, "Which disclosures do sellers have to give?")
    assert found and found[0].doc_id == "seller-guide"
    removed = api(stack, "DELETE", "/kb/documents/seller-guide")
    assert removed.status == 200 and removed.json == {
        "docId": "seller-guide",
        "removed": True,
        "chunks": 9,
    }
    assert api(stack, "DELETE", "/kb/documents/seller-guide").status == 404
    assert api(stack, "DELETE", "/kb/documents/bad%23id").status in (400, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/kb/documents"), ("GET", "/kb/documents"), ("DELETE", "/kb/documents/x")],
)
def test_the_routes_refuse_a_missing_or_wrong_key(stack: Stack, method: str, path: str) -> None:
    for key in (None, "not-the-key", devkeys.SITE_KEY):
        answer = api(stack, method, path, upload(), key=key)
        assert answer.status == 401, (key, answer.json)
    assert not stack.scan("KnowledgeTable")


def test_bad_bodies_are_refused_with_what_to_fix(stack: Stack, table: str) -> None:
    too_big = json.dumps(upload(content="x" * (4 * 1024 * 1024))).encode()
    assert api(stack, "POST", "/kb/documents", raw=too_big).status == 413
    assert api(stack, "POST", "/kb/documents", raw=b"{not json").status == 400
    missing = api(stack, "POST", "/kb/documents", {"title": "T"})
    assert missing.status == 422
    assert [p.split(":")[0] for p in missing.json["details"]] == ["format", "content"]
    unreadable = api(
        stack,
        "POST",
        "/kb/documents",
        {"title": "T", "format": "pdf", "content": base64.b64encode(b"nope").decode()},
    )
    assert unreadable.status == 422 and unreadable.json == {"error": "the PDF cannot be read"}
    empty = api(
        stack, "POST", "/kb/documents", upload(content="<script>x()</script>", format="html")
    )
    assert empty.status == 422 and "no text" in empty.json["error"]
    assert api(stack, "DELETE", "/kb/documents/..").status == 400
    assert not stack.scan("KnowledgeTable")


def test_one_locations_documents_are_never_anothers(stack: Stack, table: str) -> None:
    other_location(stack)
    mine = api(stack, "POST", "/kb/documents", upload())
    # The other location uploads a document with the same id, and claims ours in the body.
    theirs = api(
        stack,
        "POST",
        "/kb/documents",
        upload(content=HOA.replace("$180", "$400"), locationId=LOCATION_ID),
        key=OTHER_KEY,
    )
    assert mine.status == theirs.status == 201 and mine.json["docId"] == theirs.json["docId"]
    assert {i["locationId"] for i in stack.scan("KnowledgeTable")} == {LOCATION_ID, OTHER}
    own = api(stack, "GET", "/kb/documents").json
    other = api(stack, "GET", "/kb/documents", key=OTHER_KEY).json
    assert own["locationId"] == LOCATION_ID and other["locationId"] == OTHER
    assert own["version"] == other["version"] == 1
    assert "$180" in knowledge.lookup(LOCATION_ID, "what are the HOA dues?")[0].text
    assert "$400" in knowledge.lookup(OTHER, "what are the HOA dues?")[0].text
    # The other location deletes "its" document: ours stays.
    assert api(stack, "DELETE", "/kb/documents/sunset-ridge-hoa", key=OTHER_KEY).status == 200
    assert api(stack, "DELETE", "/kb/documents/sunset-ridge-hoa", key=OTHER_KEY).status == 404
    assert [d["docId"] for d in api(stack, "GET", "/kb/documents").json["documents"]] == [
        "sunset-ridge-hoa"
    ]
    assert {i["locationId"] for i in stack.scan("KnowledgeTable")} == {LOCATION_ID, OTHER}
    assert not [
        i
        for i in stack.scan("KnowledgeTable")
        if i["locationId"] == OTHER and i["chunkId"] != "manifest"
    ]
