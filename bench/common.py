"""Helpers shared by the benchmark sections: statistics, AWS call timing, stdout muting and
the table row format."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS_LAYER = ROOT / "layers" / "models"
CLI = ROOT / "cli"
#: The training stack: no model-serving function may load these.
HEAVY_MODULES = ("sklearn", "pandas", "scipy", "anthropic")
SHARED = ROOT / "shared"

#: Set before any boto3 client exists (same as tests/conftest.py): a fake account, nothing
#: reaches AWS.
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

#: Single-location parameters, as in tests/conftest.py.
LOCATION_ID = "t9Ww7bY1xJJ6ThFHZVPC"


# --------------------------------------------------------------------------------- statistics


def percentile(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * p / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 50), 3),
        "p90": round(percentile(ordered, 90), 3),
        "p99": round(percentile(ordered, 99), 3),
        "max": round(ordered[-1], 3) if ordered else math.nan,
        "mean": round(statistics.fmean(ordered), 3) if ordered else math.nan,
    }


def timed_each(
    fn: Callable[[Any], Any], items: Iterable[Any], warm: Iterable[Any] = ()
) -> list[float]:
    """Call ``fn`` on each of ``warm`` (not timed), then time it on each of ``items`` (ms)."""
    for item in warm:
        fn(item)
    out = []
    for item in items:
        start = time.perf_counter_ns()
        fn(item)
        out.append(ms(time.perf_counter_ns() - start))
    return out


def ms(ns: int) -> float:
    return ns / 1e6


# --------------------------------------------------------------------------------- AWS timing


class AwsCallTimer:
    """Time spent in AWS API calls, hooked globally (the intake creates its clients lazily).

    ``api_ns``: inside ``BaseClient._make_api_call`` (botocore serialisation, signing, moto's
    emulation standing in for the network + service, response parsing). ``emulation_ns``: the part
    of that spent in moto's ``BotocoreStubber`` (what real DynamoDB/SQS + the network replace).
    ``gc_own_ns``: garbage-collector pauses that happened outside AWS calls (so inside own work).
    """

    def __init__(self) -> None:
        self.api_ns = 0
        self.emulation_ns = 0
        self.gc_own_ns = 0
        self.calls: list[str] = []
        self._depth = 0
        self._gc_start = 0

    def reset(self) -> None:
        self.api_ns = 0
        self.emulation_ns = 0
        self.gc_own_ns = 0
        self.calls = []

    def _on_gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter_ns()
        elif self._depth == 0:
            self.gc_own_ns += time.perf_counter_ns() - self._gc_start

    @contextlib.contextmanager
    def installed(self) -> Iterator[AwsCallTimer]:
        import botocore.client
        from moto.core.botocore_stubber import BotocoreStubber

        timer = self
        original_call = botocore.client.BaseClient._make_api_call
        original_stub = BotocoreStubber.__call__

        def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            timer._depth += 1
            start = time.perf_counter_ns()
            try:
                return original_call(client, operation_name, api_params)
            finally:
                timer.api_ns += time.perf_counter_ns() - start
                timer._depth -= 1
                timer.calls.append(f"{client.meta.service_model.service_name}:{operation_name}")

        def _stub_call(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            start = time.perf_counter_ns()
            try:
                return original_stub(stubber, event_name, request, **kwargs)
            finally:
                timer.emulation_ns += time.perf_counter_ns() - start

        botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        BotocoreStubber.__call__ = _stub_call  # type: ignore[method-assign]
        gc.callbacks.append(self._on_gc)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._on_gc)
            botocore.client.BaseClient._make_api_call = original_call  # type: ignore[method-assign]
            BotocoreStubber.__call__ = original_stub  # type: ignore[method-assign]


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send fd 1 to /dev/null (Lambda ships stdout to CloudWatch; we only want the cost)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


# --------------------------------------------------------------------------------- table rows

LABEL = 58


def stat_row(label: str, s: dict[str, float], mark: str = "") -> str:
    return (
        f"  {label:<{LABEL}}{s['n']:>6}{s['p50']:>9.3f}{s['p90']:>9.3f}{s['p99']:>9.3f}"
        f"{s['max']:>9.3f}{s['mean']:>9.3f}  {mark}".rstrip()
    )


def stat_header() -> tuple[str, str]:
    header = f"  {'(ms)':<{LABEL}}{'n':>6}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'mean':>9}"
    return header, "  " + "-" * (len(header) - 2)


def cold_child(code: str, cfg: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run ``code`` (a cold-init probe reading its config from argv[1]) in a fresh interpreter;
    its ``@@bench {json}`` line and the process's wall time in ms."""
    import json
    import subprocess

    cmd = [sys.executable, "-c", code, json.dumps(cfg)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    wall = (time.perf_counter() - start) * 1e3
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@bench ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold-init child failed ({cfg['module']}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("@@bench ") :])
    return result, wall
