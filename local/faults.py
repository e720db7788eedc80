"""Faults at the AWS boundary, locally: an HTTP proxy on 127.0.0.1 in front of the moto server.

Every AWS call of the stack can go through it (``AWS_ENDPOINT_URL`` pointed at the proxy). It
forwards each request to moto unchanged, except a seeded share that it answers itself the way
the real services fail, so the stack's own retry code (botocore's retry handler, our fallbacks)
deals with them as it would in AWS:

- ``dynamodb_throttle``: a share of DynamoDB data-plane requests (item reads and writes, queries,
  batches, transactions) answered HTTP 400 with DynamoDB's throttling error —
  ``ProvisionedThroughputExceededException`` or ``ThrottlingException`` (``__type`` and
  ``x-amzn-ErrorType``), or, for a ``TransactWriteItems``, one in two times
  ``TransactionCanceledException`` with a ``ThrottlingError`` cancellation reason (what DynamoDB
  answers when one item of a transaction is throttled). Nothing reaches moto then.
- ``sqs_redeliver``: a share of the messages an SQS consumer deletes (``DeleteMessage``,
  ``DeleteMessageBatch``) is not deleted although the answer says so — SQS's at-least-once
  delivery: a copy survives and is received again once its visibility timeout is over.

Counters of what was injected (by kind) and forwarded (by service) are kept; ``GET /_faults``
answers them as JSON (outside every AWS path). Standard library only.

    python -m local.faults --target http://127.0.0.1:5000 --port 5001 --dynamodb-throttle 0.01
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import uuid
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.loopback import LoopbackServer

#: DynamoDB operations that read or write items (control-plane calls are never throttled here).
DATA_PLANE = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_DYNAMODB_PREFIX = "DynamoDB_20120810."
_SQS_PREFIX = "AmazonSQS."
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_THROTTLES = {
    "ProvisionedThroughputExceededException": (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    "ThrottlingException": (
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
}


@dataclass(frozen=True)
class AwsFaults:
    """What to inject, as a probability per request (DynamoDB) or per deleted message (SQS)."""

    dynamodb_throttle: float = 0.0
    sqs_redeliver: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dynamodb_throttle", "sqs_redeliver"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability (0 to 1)")


class AwsFaultProxy(LoopbackServer):
    def __init__(self, target: str, faults: AwsFaults | None = None, port: int = 0) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("target must be an http:// URL (the local moto server)")
        self._target = (parts.hostname, parts.port or 80)
        self.faults = faults or AwsFaults()
        self._port = port
        # Seeded: the same run injects the same share; the draw order follows request arrival.
        self._rng = random.Random(self.faults.seed)  # fault injection, not crypto  # nosec B311
        self._lock = threading.Lock()
        self._local = threading.local()
        self.injected: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> AwsFaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # botocore keeps connections alive
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": asdict(self.faults),
                "injected": dict(self.injected),
                "forwarded": dict(self.forwarded),
            }

    # -- request handling --------------------------------------------------------------------
    def _draw(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if req.command == "GET" and req.path.split("?", 1)[0] == "/_faults":
            self._answer(req, 200, {"Content-Type": "application/json"}, _json(self.stats()))
            return
        target = req.headers.get("X-Amz-Target", "")
        if target.startswith(_DYNAMODB_PREFIX):
            operation = target[len(_DYNAMODB_PREFIX) :]
            self._count("forwarded", "dynamodb")
            if operation in DATA_PLANE and self._draw(self.faults.dynamodb_throttle):
                self._throttle(req, operation, body)
                return
        elif target.startswith(_SQS_PREFIX):
            operation = target[len(_SQS_PREFIX) :]
            self._count("forwarded", "sqs")
            if operation in ("DeleteMessage", "DeleteMessageBatch") and self.faults.sqs_redeliver:
                self._delete_some(req, operation, body)
                return
        else:
            self._count("forwarded", "other")
        status, headers, payload = self._forward(req, body)
        self._answer(req, status, headers, payload)

    def _count(self, counter: str, key: str, n: int = 1) -> None:
        with self._lock:
            (self.injected if counter == "injected" else self.forwarded)[key] += n

    def _throttle(self, req: BaseHTTPRequestHandler, operation: str, body: bytes) -> None:
        with self._lock:
            pick = self._rng.random()
        if operation == "TransactWriteItems" and pick < 0.5:
            try:
                items = len(json.loads(body).get("TransactItems") or [])
            except ValueError:
                items = 1
            reasons = [{"Code": "None"}] * max(items, 1)
            reasons[0] = {
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table or index.",
            }
            codes = ", ".join(r["Code"] for r in reasons)
            kind = "TransactionCanceledException"
            error = {
                "__type": f"com.amazonaws.dynamodb.v20120810#{kind}",
                "message": "Transaction cancelled, please refer cancellation reasons for "
                f"specific reasons [{codes}]",
                "CancellationReasons": reasons,
            }
            self._count("injected", "dynamodb TransactionCanceled (ThrottlingError)")
        else:
            kind = (
                "ProvisionedThroughputExceededException" if pick < 0.75 else "ThrottlingException"
            )
            type_name, message = _THROTTLES[kind]
            error = {"__type": type_name, "message": message}
            self._count("injected", f"dynamodb {kind}")
        payload = _json(error)
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": uuid.uuid4().hex.upper(),
            "x-amzn-ErrorType": f"{kind}:",
            "x-amz-crc32": str(zlib.crc32(payload)),
        }
        self._answer(req, 400, headers, payload)

    def _delete_some(self, req: BaseHTTPRequestHandler, operation: str, body: bytes) -> None:
        """Forward the deletes that are kept; answer success for the dropped ones too."""
        try:
            request = json.loads(body)
        except ValueError:
            status, headers, payload = self._forward(req, body)
            self._answer(req, status, headers, payload)
            return
        if operation == "DeleteMessage":
            if self._draw(self.faults.sqs_redeliver):
                self._count("injected", "sqs delete dropped (message redelivered)")
                self._answer(req, 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}")
                return
            status, headers, payload = self._forward(req, body)
            self._answer(req, status, headers, payload)
            return
        entries = list(request.get("Entries") or [])
        dropped = [e for e in entries if self._draw(self.faults.sqs_redeliver)]
        if dropped:
            self._count("injected", "sqs delete dropped (message redelivered)", len(dropped))
        kept = [e for e in entries if e not in dropped]
        answer: dict[str, Any] = {"Successful": [], "Failed": []}
        status, headers = 200, {"Content-Type": "application/x-amz-json-1.0"}
        if kept:
            status, headers, payload = self._forward(req, _json({**request, "Entries": kept}))
            if status != 200:
                self._answer(req, status, headers, payload)
                return
            answer = json.loads(payload or b"{}")
            answer.setdefault("Successful", [])
            answer.setdefault("Failed", [])
        answer["Successful"] += [{"Id": e.get("Id")} for e in dropped]
        self._answer(req, 200, headers, _json(answer))

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(*self._target, timeout=60)
            self._local.conn = conn
        return conn

    def _forward(
        self, req: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in req.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(req.command, req.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                # A kept-alive connection moto closed meanwhile: one fresh try, then a 502.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    return 502, {"Content-Type": "text/plain"}, b"fault proxy: moto unreachable"
                continue
            out = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            if response.will_close:
                conn.close()
                self._local.conn = None
            return response.status, out, payload
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _answer(
        req: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes
    ) -> None:
        try:
            req.send_response(status)
            for name, value in headers.items():
                req.send_header(name, value)
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed process)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description="AWS fault proxy in front of a moto server.")
    parser.add_argument("--target", required=True, help="the moto server, http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dynamodb-throttle", type=float, default=0.0)
    parser.add_argument("--sqs-redeliver", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    proxy = AwsFaultProxy(
        args.target,
        AwsFaults(args.dynamodb_throttle, args.sqs_redeliver, args.seed),
        port=args.port,
    )
    proxy.serve("AWS fault proxy on {url} → " + args.target)


if __name__ == "__main__":
    main()
