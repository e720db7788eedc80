"""API Gateway (HTTP API, payload v2) in front of a Lambda handler, locally.

``http_event`` builds the event API Gateway would send (also used by tests and the benchmark);
``ApiGateway`` is a loopback HTTP server that turns each request into such an event, invokes
the handler and writes its response back — the same path `sam local start-api` takes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext:
    """The parts of the Lambda context object our handlers and Powertools read."""

    def __init__(
        self, function_name: str = "local", timeout_seconds: float = 30, memory_mb: int = 512
    ):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def http_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    *,
    base64_body: bool = False,
    route_key: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event. Header names are lower-cased, as API Gateway does."""
    raw = body.encode() if isinstance(body, str) else body
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": (headers or {}).get("user-agent", "local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    return event


@dataclass(frozen=True)
class Route:
    """An HTTP API route of a function other than the default one (``GET /leads/{id}/x``)."""

    method: str
    path: str
    handler: Handler
    function_name: str

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        want, got = self.path.strip("/").split("/"), path.strip("/").split("/")
        return len(want) == len(got) and all(
            w == g or (w.startswith("{") and w.endswith("}") and g)
            for w, g in zip(want, got, strict=True)
        )


class ApiGateway:
    """Serve ``handler`` over HTTP on 127.0.0.1 (port 0 picks a free port); requests matching
    one of ``routes`` go to that route's function instead (as API Gateway routes them)."""

    def __init__(
        self,
        handler: Handler,
        port: int = 0,
        function_name: str = "IntakeFunction",
        routes: Sequence[Route] = (),
    ):
        gateway = self

        class _Request(BaseHTTPRequestHandler):
            def _invoke(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                event = http_event(
                    self.command,
                    parts.path,
                    body,
                    {k: v for k, v in self.headers.items()},
                    dict(parse_qsl(parts.query)) or None,
                    base64_body=True,
                )
                route = next((r for r in routes if r.matches(self.command, parts.path)), None)
                if route is not None:
                    event["routeKey"] = f"{route.method} {route.path}"
                    with gateway._lock:
                        result = route.handler(event, LambdaContext(route.function_name))
                else:
                    # One Lambda container handles one invocation at a time, on one event loop.
                    with gateway._lock:
                        asyncio.set_event_loop(gateway._loop)
                        result = gateway.handler(event, LambdaContext(function_name))
                payload = result.get("body") or ""
                data = (
                    base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
                )
                self.send_response(int(result.get("statusCode", 200)))
                for key, value in (result.get("headers") or {}).items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _invoke

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.handler = handler
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Request)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ApiGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._loop.close()


def response_json(result: dict[str, Any]) -> Any:
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None
