"""What the fuzz run counts (requests per route and per status) and reports at its end, across
xdist workers: each worker hands its counts to the controller in ``workeroutput``."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest

#: route → status → requests, for this process.
COUNTS: defaultdict[str, Counter[int]] = defaultdict(Counter)
_MERGED: defaultdict[str, Counter[int]] = defaultdict(Counter)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller prints
        workeroutput["fuzz_counts"] = json.dumps({r: dict(c) for r, c in COUNTS.items()})


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when run without it
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = getattr(node, "workeroutput", {}).get("fuzz_counts")
    for route, by_status in json.loads(counts or "{}").items():
        _MERGED[route].update({int(s): n for s, n in by_status.items()})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    merged: defaultdict[str, Counter[int]] = defaultdict(Counter)
    for source in (COUNTS, _MERGED):
        for route, by_status in source.items():
            merged[route].update(by_status)
    if not merged:
        return
    terminalreporter.section("fuzzing: requests per route and status")
    total = 0
    for route in sorted(merged):
        counts = merged[route]
        total += sum(counts.values())
        statuses = "  ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        terminalreporter.write_line(f"{route:<44} {sum(counts.values()):>6}   {statuses}")
    terminalreporter.write_line(f"{'all routes':<44} {total:>6}")
