"""``ghl-ai events replay FILE``: post an event log into a running system's ``POST /events``.

* JSONL: one event per line in the route's wire format (``type``, ``timestamp``, ``eventId``,
  ``visitorId`` / ``contactId``, ...), posted as it is.
* CSV: ``lead_id,event_type,timestamp[,value][,property_id]`` (the eval format); ``lead_id``
  becomes the ``contactId``; the ``eventId`` is a digest of the row, so replaying the same file
  twice is answered ``duplicates``, never counted twice.

The route refuses events older than 30 days; ``--shift-to-now`` moves a whole log in time so its
last event is now (the gaps between events are kept). Batches of up to 100; 429 / 5xx / network
errors are retried with backoff; a rejected event is reported by its line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ghl_ai_cli.datasets import parse_time


class ReplayError(RuntimeError):
    """The file cannot be read or the system refused the replay (the message says why)."""


def local_site_key() -> str:
    """The local stack's site key (make run's default)."""
    return "local-dev-lyrio-site-key"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def read(path: Path, *, shift_to_now: bool = False) -> list[tuple[int, dict[str, Any]]]:
    """(line, wire event) pairs of the file."""
    if not path.exists():
        raise ReplayError(f"{path}: no such file")
    events: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ReplayError(f"{path}:{line}: not JSON") from None
            if not isinstance(parsed, dict):
                raise ReplayError(f"{path}:{line}: not a JSON object")
            events.append((line, parsed))
    else:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    t = parse_time(row["timestamp"])
                    lead, kind = row["lead_id"].strip(), row["event_type"].strip()
                except (KeyError, ValueError, AttributeError):
                    raise ReplayError(
                        f"{path}:{line}: need lead_id, event_type and an ISO 8601 timestamp"
                    ) from None
                digest = hashlib.sha256(
                    "\x1f".join(str(v) for v in row.values()).encode()
                ).hexdigest()[:32]
                event: dict[str, Any] = {
                    "type": kind,
                    "timestamp": _iso(t),
                    "eventId": f"replay-{digest}",
                    "contactId": lead,
                }
                if row.get("value"):
                    event["value"] = float(row["value"])
                if row.get("property_id"):
                    event["propertyId"] = row["property_id"]
                events.append((line, event))
    if shift_to_now and events:
        latest = max(parse_time(str(e["timestamp"])) for _, e in events)
        offset = datetime.now(UTC).timestamp() - 60 - latest
        for _, event in events:
            event["timestamp"] = _iso(parse_time(str(event["timestamp"])) + offset)
    return events


def post(
    url: str,
    site_key: str,
    events: list[tuple[int, dict[str, Any]]],
    batch: int,
    advance: Callable[[int], None],
    *,
    attempts: int = 5,
) -> dict[str, Any]:
    totals: dict[str, Any] = {"sent": 0, "accepted": 0, "duplicates": 0, "rejected": 0}
    problems: list[dict[str, Any]] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            body = {"events": [e for _, e in chunk]}
            for attempt in range(attempts):
                try:
                    response = client.post("/events", json=body, headers={"X-Site-Key": site_key})
                except httpx.TransportError as exc:
                    if attempt == attempts - 1:
                        raise ReplayError(f"cannot reach {url}: {type(exc).__name__}") from None
                    time.sleep(min(8.0, 0.5 * 2**attempt))
                    continue
                if response.status_code == 429 or response.status_code >= 500:
                    if attempt == attempts - 1:
                        raise ReplayError(f"{url}/events kept answering {response.status_code}")
                    time.sleep(min(8.0, 0.5 * 2**attempt))
                    continue
                break
            if response.status_code == 401:
                raise ReplayError("the site key was refused (401): pass --site-key")
            if response.status_code not in (202, 422):
                raise ReplayError(f"{url}/events answered {response.status_code}")
            answer = response.json()
            totals["sent"] += len(chunk)
            totals["accepted"] += int(answer.get("accepted", 0))
            totals["duplicates"] += int(answer.get("duplicates", 0))
            rejected = set()
            for problem in answer.get("problems", []):
                index = problem.get("index")
                line = chunk[index][0] if isinstance(index, int) and index < len(chunk) else None
                rejected.add(index)
                problems.append(
                    {"line": line, "field": problem.get("field"), "message": problem.get("message")}
                )
            totals["rejected"] += len(rejected)
            advance(len(chunk))
    totals["problems"] = problems
    return totals
