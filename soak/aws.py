"""The soak's embedded AWS, one process each: the moto server, and the fault proxy in front of it
(``local/faults.py``).

``python -m soak.aws moto --port-file F`` serves moto on 127.0.0.1 (a free port, written to F)
and handles one DynamoDB request at a time: moto's in-memory DynamoDB checks a condition and
writes in two steps, so two threads could both pass a ``attribute_not_exists`` check that DynamoDB
itself serialises per item — the soak's races must test our code, not the emulator's.
``python -m soak.aws proxy --target URL --port-file F ...`` serves the fault proxy. Both stop
when the process that started them goes away.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def exit_with_parent() -> None:
    """End this process when its parent does (a killed soak leaves no server behind)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _OneAtATime:
    """WSGI middleware: one DynamoDB request inside moto at a time (see the module docstring).
    Other services are not held up (an SQS long poll waits inside its request)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        started = time.thread_time()
        if not target.startswith("DynamoDB_"):
            body = b"".join(self._app(environ, start_response))
        else:
            with self._lock:
                body = b"".join(self._app(environ, start_response))
        if COSTS is not None:
            COSTS[target.rsplit(".", 1)[-1]].append(time.thread_time() - started)
        return [body]


#: CPU seconds of each request inside moto, by operation (SOAK_PROFILE_MOTO only).
COSTS: dict[str, list[float]] | None = None


def _transactions_without_table_copies() -> None:
    """moto backs a transaction up by deep-copying each table it touches, once per item of
    the transaction: O(table size) per call, minutes per call once the events table holds
    the soak's tens of thousands of events. This keeps moto's own transaction code and backs
    up only the items the transaction touches, restoring them when it is cancelled."""
    import copy

    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any) -> Any:
            return None  # never used: a cancelled transaction is undone below

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for item in transact_items:
            try:
                op_type, op = next(iter(item.items()))
                table = self.get_table(op["TableName"])
                keys = (
                    op["Key"]
                    if op_type != "Put"
                    else {
                        a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a
                    }
                )
                hash_key, range_key = self.get_keys_value(table, keys)
            except Exception:  # noqa: S112 - moto's own code reports the bad item
                continue
            saved.append(
                (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            )
        tables = dict(self.tables)
        models.copy = _NoTableCopy  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except BaseException:
            self.tables.update(tables)
            for table, hash_key, range_key, before in reversed(saved):
                if range_key is not None:
                    if before is None:
                        table.items[hash_key].pop(range_key, None)
                    else:
                        table.items[hash_key][range_key] = before
                elif before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_IDLE = frozenset(
    {
        "wait",
        "select",
        "accept",
        "poll",
        "sleep",
        "readinto",
        "readline",
        "_recv",
        "watch",
        "__call__",
    }
)


def _queries_read_one_partition() -> None:
    """moto answers a table query by walking every item of the table (``all_items()``) for
    the few of one partition: O(table size) per query, and the soak's events and messages
    tables grow to tens of thousands of items. This hands moto's own query code just the
    partition asked for (index queries are left as they are)."""
    import inspect

    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        hash_key = bound.get("hash_key")
        if bound.get("index_name") or hash_key is None:
            return original(self, *args, **kwargs)
        stored = self.items.get(hash_key) if hash_key in self.items else None
        if stored is None:
            partition: list[Any] = []
        elif self.has_range_key:
            partition = list(stored.values())
        else:
            partition = [stored]
        self.all_items = lambda: iter(partition)  # read by the original, this call only
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def _attribute_values_as_they_are() -> None:
    """moto writes every DynamoDB answer through its generic, model-driven serializer, which
    walks the AttributeValue union member by member for each value of each item: 150 ms for a
    query of 60 events, most of moto's time in the soak. An AttributeValue in moto's answer is
    already in the wire's JSON form ({"S": ...}, {"M": {...}}, ...), so it is written as it is
    (values holding binary attributes still go through the serializer)."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def plain(value: Any) -> bool:
        if not isinstance(value, dict) or len(value) != 1:
            return False
        kind, inner = next(iter(value.items()))
        if kind in ("S", "N", "BOOL", "NULL", "SS", "NS"):
            return True
        if kind == "M":
            return isinstance(inner, dict) and all(plain(v) for v in inner.values())
        if kind == "L":
            return isinstance(inner, list) and all(plain(v) for v in inner)
        return False  # B, BS: the serializer encodes them

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and key and plain(value):
            self._default_serialize(serialized, value, shape, key)
            return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def _lookups_once() -> None:
    """moto's server lists its own package directory (a stat per service) and inspects the
    response class's methods on every request: done once here (neither changes while moto
    runs)."""
    import functools

    from moto import backends
    from moto.core import responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[assignment]


def _sqs_clock_and_retention() -> None:
    """moto's SQS checks each message's retention by computing every attribute of its queue
    (three passes over all of its messages), and reads the clock through datetime arithmetic
    for each message it looks at: a receive costs O(messages²). The retention period is read
    from the queue itself and the clock from ``time.time()`` (the same instant)."""
    from moto.core import utils
    from moto.sqs import models

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > time.time())

    models.SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]
    models.unix_time = lambda dt=None: time.time() if dt is None else utils.unix_time(dt)  # type: ignore[attr-defined]
    models.unix_time_millis = (  # type: ignore[attr-defined]
        lambda dt=None: time.time() * 1000.0 if dt is None else utils.unix_time_millis(dt)
    )


def speed_up_moto() -> None:
    """Every speed-up above; none changes an answer (tests/unit/test_soak.py compares)."""
    _transactions_without_table_copies()
    _queries_read_one_partition()
    _attribute_values_as_they_are()
    _lookups_once()
    _sqs_clock_and_retention()


def _sample_stacks(out: Path) -> None:
    """Where moto spends its time (SOAK_PROFILE_MOTO=FILE): every 5 ms, each busy thread's
    stack; FILE gets the functions found most often on them (inclusive), rewritten every 10 s."""
    import collections
    import traceback

    global COSTS
    COSTS = collections.defaultdict(list)
    seen: collections.Counter[str] = collections.Counter()

    def sample() -> None:
        me = threading.get_ident()
        samples, last = 0, time.monotonic()
        while True:
            time.sleep(0.005)
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack = traceback.extract_stack(frame)
                if not stack or stack[-1].name in _IDLE:
                    continue
                samples += 1
                for name in {f"{Path(f.filename).name}:{f.name}" for f in stack}:
                    seen[name] += 1
            if time.monotonic() - last > 10:
                last = time.monotonic()
                lines = [
                    f"{n:8d} {100 * n / max(samples, 1):5.1f}% {k}" for k, n in seen.most_common(60)
                ]
                assert COSTS is not None
                ops = sorted(COSTS.items(), key=lambda kv: -sum(kv[1]))
                cost = [
                    f"{sum(v):8.2f} s {len(v):7d} × {1000 * sum(v) / len(v):6.2f} ms  {op}"
                    for op, v in ops
                ]
                out.write_text(
                    "\n".join(cost) + f"\n\n{samples} samples\n" + "\n".join(lines) + "\n"
                )

    threading.Thread(target=sample, daemon=True).start()


def serve_moto(port_file: Path) -> None:
    import logging

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    speed_up_moto()
    if os.environ.get("SOAK_PROFILE_MOTO"):
        _sample_stacks(Path(os.environ["SOAK_PROFILE_MOTO"]))
    app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port_file.write_text(str(server.server_port))
    server.serve_forever()


def serve_proxy(args: argparse.Namespace) -> None:
    from local.faults import AwsFaultProxy, AwsFaults

    faults = AwsFaults(args.dynamodb_throttle, args.sqs_redeliver, args.seed)
    proxy = AwsFaultProxy(args.target, faults).start()
    args.port_file.write_text(proxy.base_url.rsplit(":", 1)[1])
    threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["moto", "proxy"])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--target", default="")
    parser.add_argument("--dynamodb-throttle", type=float, default=0.0)
    parser.add_argument("--sqs-redeliver", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    exit_with_parent()
    if args.what == "moto":
        serve_moto(args.port_file)
    else:
        serve_proxy(args)


if __name__ == "__main__":
    main()
