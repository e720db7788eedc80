"""API Gateway (HTTP API, payload v2) in front of Lambda handlers, locally.

``http_event`` builds the event API Gateway would send (also used by tests and the benchmark);
``ApiGateway`` is a loopback HTTP server that behaves like the deployed HTTP API, so CORS and
HTTP framing can be tried locally:

- only the routes template.yaml declares answer (method and path as declared, ``ANY``,
  ``{name+}``, ``$default``); anything else is ``404 {"message":"Not Found"}`` from the gateway,
  HEAD included (HTTP API does not route HEAD to a GET route);
- with a CorsConfiguration on the HttpApi, the gateway answers preflights itself and sets the
  CORS headers of every response, ignoring the function's own (as API Gateway does);
- framing: a bad Content-Length or Transfer-Encoding is 400, chunked bodies are read, a body
  over 10 MB is 413 before it is read, an event over Lambda's 6 MB is 413 without invoking, a
  request that does not arrive within the timeout (``LOCAL_APIGW_TIMEOUT``, 10 s) is 408;
- repeated headers and query parameters are joined with commas, cookies go to ``cookies``;
- a function that raises or returns what API Gateway cannot read is answered 500.

Each function runs one invocation at a time (one Lambda container); requests are read and
answered outside that lock, so a slow client holds up no one else.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import io
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from local.template import (
    TEMPLATE,
    CorsConfiguration,
    cors_configuration,
    environment_parameters,
    http_routes,
    load_template,
)

Handler = Callable[[dict[str, Any], Any], Any]
Headers = Mapping[str, str] | Iterable[tuple[str, str]]

#: HTTP API's payload quota (10 MB, cannot be raised): larger bodies are refused unread.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
#: Lambda's limit on a synchronous invocation's payload (the event), 6 MB.
MAX_EVENT_BYTES = 6 * 1024 * 1024
#: How long headers and body may take to arrive once the request line has; locally
#: ``LOCAL_APIGW_TIMEOUT`` (seconds).
DEFAULT_TIMEOUT_SECONDS = 10.0
#: How long an idle keep-alive connection stays open.
IDLE_TIMEOUT_SECONDS = 60.0

_log = logging.getLogger("local.apigw")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HOP_BY_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
# Set by the gateway on every response; the function's own are dropped (as API Gateway does).
_GATEWAY_HEADERS = _HOP_BY_HOP | {"content-length", "date", "apigw-requestid"}
# Request headers the function does not see as sent (host and content-length are the
# gateway's: its own name, the length of the body as read).
_NOT_PASSED_ON = _HOP_BY_HOP | {"expect", "host", "content-length"}


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


def _pairs(items: Headers | None) -> list[tuple[str, str]]:
    if items is None:
        return []
    return list(items.items()) if isinstance(items, Mapping) else list(items)


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with commas, in order (payload v2 has no multi-value fields)."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def http_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: Headers | None = None,
    query: Headers | None = None,
    *,
    base64_body: bool = False,
    route_key: str | None = None,
    raw_query: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event, built as API Gateway builds it: header names
    lower-cased and repeated headers joined with commas; ``cookie`` headers split into
    ``cookies``; repeated query parameters joined with commas in ``queryStringParameters``
    while ``rawQueryString`` keeps the query as sent (``raw_query``, else ``query`` encoded).
    ``headers`` and ``query`` are mappings or lists of pairs (for repeated names)."""
    raw = body.encode() if isinstance(body, str) else body
    cookies: list[str] = []
    header_pairs = []
    for name, value in _pairs(headers):
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            header_pairs.append((name.lower(), value))
    joined_headers = _joined(header_pairs)
    query_pairs = (
        _pairs(query) if query is not None else parse_qsl(raw_query or "", keep_blank_values=True)
    )
    parameters = _joined(query_pairs)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": raw_query if raw_query is not None else urlencode(query_pairs),
        "headers": joined_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined_headers.get("user-agent", "local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if cookies:
        event["cookies"] = cookies
    if parameters:
        event["queryStringParameters"] = parameters
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    return event


@dataclass(frozen=True)
class Route:
    """An HTTP API route and the function behind it (``GET /leads/{contactId}``): ``ANY``
    takes every method, ``{name+}`` the rest of the path, the path ``$default`` every request."""

    method: str
    path: str
    handler: Handler
    function_name: str

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when the route takes the request, else None. The path must
        match as declared: ``/health/`` is not ``/health`` (HTTP API does not redirect)."""
        if self.method not in ("ANY", method):
            return None
        if self.path == "$default":
            return {}
        if not path.startswith("/"):
            return None
        want, got = self.path.split("/")[1:], path.split("/")[1:]
        parameters: dict[str, str] = {}
        for i, segment in enumerate(want):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = "/".join(got[i:])
                if not rest:
                    return None
                parameters[segment[1:-2]] = unquote(rest)
                return parameters
            if i >= len(got):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not got[i]:
                    return None
                parameters[segment[1:-1]] = unquote(got[i])
            elif segment != got[i]:
                return None
        return parameters if len(got) == len(want) else None

    def matches(self, method: str, path: str) -> bool:
        return self.match(method, path) is not None

    def precedence(self) -> tuple[int, int, int]:
        """API Gateway's order when several routes match: a full match first, then a path
        variable, then a greedy one, then ``$default``; a method before ``ANY``."""
        if self.path == "$default":
            return (3, 0, 0)
        segments = self.path.split("/")[1:]
        literal = sum(1 for s in segments if not s.startswith("{"))
        kind = 2 if any(s.endswith("+}") for s in segments) else int(literal < len(segments))
        return (kind, -literal, int(self.method == "ANY"))


_parsed: dict[int, dict[str, Any]] = {}


def _template() -> dict[str, Any]:
    """template.yaml, parsed again only when it changes (tests start many gateways)."""
    stamp = TEMPLATE.stat().st_mtime_ns
    if stamp not in _parsed:
        _parsed.clear()
        _parsed[stamp] = load_template()
    return _parsed[stamp]


class _FromTemplate(enum.Enum):
    TEMPLATE = "template"


#: ``ApiGateway(cors=...)`` default: the template's HttpApi CorsConfiguration.
FROM_TEMPLATE = _FromTemplate.TEMPLATE


def _allowed_origin(cors: CorsConfiguration, origin: str) -> str | None:
    """The Access-Control-Allow-Origin for ``origin``, None if it is not allowed. AllowOrigins
    entries are an origin, ``*``, or ``https://*`` / ``http://*`` (any origin of the scheme)."""
    for allowed in cors.allow_origins:
        if allowed == "*":
            return "*"
        if allowed == origin or (allowed.endswith("://*") and origin.startswith(allowed[:-1])):
            return origin
    return None


def _cors_headers(
    cors: CorsConfiguration, origin: str | None, *, preflight: bool
) -> list[tuple[str, str]]:
    allowed = _allowed_origin(cors, origin) if origin is not None else None
    if allowed is None:
        return []
    headers = [("access-control-allow-origin", allowed)]
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if preflight:
        if cors.allow_methods:
            headers.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
        if cors.allow_headers:
            headers.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
        if cors.max_age is not None:
            headers.append(("access-control-max-age", str(cors.max_age)))
    elif cors.expose_headers:
        headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if allowed != "*":
        headers.append(("vary", "Origin"))
    return headers


class _Malformed(Exception):
    """A function result API Gateway cannot turn into a response."""


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise _Malformed("header value")
    return value


def _function_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a function's result, read as API Gateway reads a payload v2
    response: without a ``statusCode``, a JSON value is a 200 ``application/json`` body.
    Raises ``_Malformed`` where API Gateway answers 500."""
    if not (isinstance(result, dict) and "statusCode" in result):
        if result is None:
            raise _Malformed("no result")
        try:
            return 200, [("content-type", "application/json")], json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            raise _Malformed("result is not JSON") from exc
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _Malformed("statusCode")
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise _Malformed("headers")
    headers = []
    for name, value in raw_headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise _Malformed("header name")
        headers.append((name.lower(), _header_value(value)))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise _Malformed("cookies")
    headers += [("set-cookie", _header_value(cookie)) for cookie in cookies]
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise _Malformed("body")
    elif result.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Malformed("base64 body") from exc
    else:
        data = body.encode()
    return status, headers, data


class ApiGateway:
    """The HTTP API on 127.0.0.1 (port 0 picks a free port). ``handler`` serves the routes
    template.yaml declares for ``function_name``; ``routes`` adds other functions' routes.
    CORS comes from the template's HttpApi (parameters from ``parameters``, else the
    environment, e.g. ``LYRIO_ALLOWED_ORIGINS``, else their defaults) unless ``cors`` says
    otherwise (None: no CorsConfiguration). ``timeout``: seconds a request may take to
    arrive (default ``LOCAL_APIGW_TIMEOUT``, else 10)."""

    def __init__(
        self,
        handler: Handler | None = None,
        port: int = 0,
        function_name: str = "IntakeFunction",
        routes: Sequence[Route] = (),
        *,
        template: dict[str, Any] | None = None,
        parameters: Mapping[str, str] | None = None,
        cors: CorsConfiguration | _FromTemplate | None = FROM_TEMPLATE,
        timeout: float | None = None,
    ):
        template = template if template is not None else _template()
        self.routes: list[Route] = []
        if handler is not None:
            declared = [r for r in http_routes(template) if r.function == function_name]
            if not declared:
                raise ValueError(f"template.yaml declares no HttpApi route for {function_name}")
            self.routes += [Route(r.method, r.path, handler, function_name) for r in declared]
        self.routes += routes
        if isinstance(cors, _FromTemplate):
            values = environment_parameters(template) if parameters is None else parameters
            self.cors = cors_configuration(template, dict(values))
        else:
            self.cors = cors
        if timeout is None:
            timeout = float(os.environ.get("LOCAL_APIGW_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS)
        self.timeout = timeout
        self.handler = handler
        self.stopped = False
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        found = [(r, p) for r in self.routes if (p := r.match(method, path)) is not None]
        return min(found, key=lambda rp: rp[0].precedence()) if found else None

    def invoke(self, route: Route, event: dict[str, Any]) -> Any:
        # One Lambda container handles one invocation at a time, on one event loop.
        with self._lock:
            if self.stopped:
                raise RuntimeError("the gateway is stopped")
            asyncio.set_event_loop(self._loop)
            return route.handler(event, LambdaContext(route.function_name))

    def start(self) -> ApiGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, close the open (keep-alive) connections, and close the event loop
        once the invocation under way, if any, has returned."""
        self.stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._lock.acquire(timeout=30):
            try:
                self._loop.close()
            finally:
                self._lock.release()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        self.gateway = gateway
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Exchange)

    def opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _BadRequest(Exception):
    pass


class _TooLarge(Exception):
    pass


class _Timeout(Exception):
    pass


class _Disconnected(Exception):
    pass


def _json_body(status: int) -> bytes:
    return json.dumps({"message": _phrase(status)}, separators=(",", ":")).encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class _Exchange(BaseHTTPRequestHandler):
    """One client connection: requests read, routed, answered as API Gateway does."""

    protocol_version = "HTTP/1.1"
    server: _Server
    _expect_continue = False

    def setup(self) -> None:
        super().setup()
        self.server.opened(self.connection)

    def finish(self) -> None:
        self.server.closed(self.connection)
        super().finish()

    def handle_one_request(self) -> None:
        gateway = self.server.gateway
        self._expect_continue = False
        self.close_connection = True
        self.command = ""  # until the request line is read
        if gateway.stopped:
            return
        try:
            self.connection.settimeout(IDLE_TIMEOUT_SECONDS)
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle too long, or gone
            return
        if not self.raw_requestline:
            return
        self.close_connection = False
        deadline = time.monotonic() + gateway.timeout
        if len(self.raw_requestline) > 65536:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        try:
            self.connection.settimeout(gateway.timeout)
            if not self.parse_request():
                return  # answered by send_error
        except TimeoutError:  # the headers did not arrive in time
            self.send_error(HTTPStatus.REQUEST_TIMEOUT)
            return
        except OSError:
            self.close_connection = True
            return
        if self.request_version == "HTTP/0.9":
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        self._serve(deadline)

    def handle_expect_100(self) -> bool:
        # 100 Continue is sent once the request is known to be acceptable (not before a 413).
        self._expect_continue = True
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self._reply(int(code), [("content-type", "application/json")], _json_body(code), close=True)

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- reading ----------------------------------------------------------------------------

    def _remaining(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout
        self.connection.settimeout(remaining)

    def _read_some(self, size: int, deadline: float) -> bytes:
        self._remaining(deadline)
        try:
            data = self.rfile.read1(size)
        except TimeoutError as exc:
            raise _Timeout from exc
        except OSError as exc:
            raise _Disconnected from exc
        if not data:
            raise _Disconnected
        return data

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            data = self._read_some(min(left, 65536), deadline)
            chunks.append(data)
            left -= len(data)
        return b"".join(chunks)

    def _read_line(self, deadline: float, limit: int = 8192) -> bytes:
        line = b""
        while True:
            self._remaining(deadline)
            try:
                available = cast(io.BufferedReader, self.rfile).peek(1)
            except TimeoutError as exc:
                raise _Timeout from exc
            except OSError as exc:
                raise _Disconnected from exc
            if not available:
                raise _Disconnected
            end = available.find(b"\n")
            line += self.rfile.read(end + 1 if end >= 0 else len(available))
            if end >= 0:
                return line
            if len(line) > limit:
                raise _BadRequest

    def _send_continue(self) -> None:
        if self._expect_continue:
            self._expect_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_chunked(self, deadline: float) -> bytes:
        body = bytearray()
        while True:
            size_text = self._read_line(deadline).split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise _BadRequest
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_PAYLOAD_BYTES:
                raise _TooLarge
            body += self._read_exact(size, deadline)
            if self._read_exact(2, deadline) != b"\r\n":
                raise _BadRequest
        while self._read_line(deadline) not in (b"\r\n", b"\n"):
            pass  # trailer fields: not passed on
        return bytes(body)

    def _read_body(self, headers: list[tuple[str, str]], deadline: float) -> bytes:
        lengths = [
            item.strip() for k, v in headers if k == "content-length" for item in v.split(",")
        ]
        codings = [
            c.strip().lower() for k, v in headers if k == "transfer-encoding" for c in v.split(",")
        ]
        if codings:
            # Only chunked, and never with a Content-Length too (a request-smuggling shape).
            if lengths or codings != ["chunked"]:
                raise _BadRequest
            self._send_continue()
            return self._read_chunked(deadline)
        if not lengths:
            return b""
        if not all(re.fullmatch(r"[0-9]{1,20}", item) for item in lengths):
            raise _BadRequest
        sizes = {int(item) for item in lengths}
        if len(sizes) != 1:
            raise _BadRequest
        size = sizes.pop()
        if size > MAX_PAYLOAD_BYTES:
            raise _TooLarge
        if size:
            self._send_continue()
        return self._read_exact(size, deadline) if size else b""

    # -- answering --------------------------------------------------------------------------

    def _reply(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        *,
        close: bool = False,
        request_id: str | None = None,
    ) -> None:
        if close:
            self.close_connection = True
        lines = [
            f"HTTP/1.1 {status} {_phrase(status)}",
            f"date: {formatdate(usegmt=True)}",
            f"content-length: {len(body)}",
            f"apigw-requestid: {request_id or uuid.uuid4().hex[:16]}",
        ]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        try:
            self.wfile.write(head if self.command == "HEAD" else head + body)
        except OSError:
            self.close_connection = True

    def _serve(self, deadline: float) -> None:
        gateway = self.server.gateway
        request_id = uuid.uuid4().hex[:16]
        headers = [(name.lower(), value) for name, value in self.headers.items()]
        origin = next((v for k, v in headers if k == "origin"), None)
        try:
            body = self._read_body(headers, deadline)
        except _BadRequest:
            return self.send_error(HTTPStatus.BAD_REQUEST)
        except _TooLarge:
            return self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        except _Timeout:
            return self.send_error(HTTPStatus.REQUEST_TIMEOUT)
        except (_Disconnected, OSError):
            self.close_connection = True
            return None
        json_type = [("content-type", "application/json")]
        method, target = self.command, urlsplit(self.path)
        cors = gateway.cors
        cors_headers = _cors_headers(cors, origin, preflight=False) if cors else []
        preflight = any(k == "access-control-request-method" for k, _ in headers)
        if cors is not None and method == "OPTIONS" and origin is not None and preflight:
            # Answered by API Gateway itself, whatever the routes; no function is invoked.
            preflight_headers = _cors_headers(cors, origin, preflight=True)
            return self._reply(204, preflight_headers, request_id=request_id)
        found = gateway.route(method, target.path)
        if found is None:
            return self._reply(
                404, json_type + cors_headers, _json_body(404), request_id=request_id
            )
        route, path_parameters = found
        event_headers = [(k, v) for k, v in headers if k not in _NOT_PASSED_ON]
        # The API's own name (API Gateway is reached through it), never the client's Host.
        authority = gateway.url.removeprefix("http://")
        event_headers += [("host", authority), ("content-length", str(len(body)))]
        event = http_event(
            method,
            target.path,
            body or None,
            event_headers,
            raw_query=target.query,
            base64_body=True,
            route_key=route.key,
            path_parameters=path_parameters,
            source_ip=str(self.client_address[0]),
        )
        event["requestContext"]["requestId"] = request_id
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            too_long = json.dumps({"message": "Request Too Long"}).encode()
            return self._reply(413, json_type + cors_headers, too_long, request_id=request_id)
        try:
            status, response_headers, data = _function_response(gateway.invoke(route, event))
        except Exception as exc:  # any function failure is API Gateway's 500
            # The exception's type only: its message may carry what the request carried.
            what = "a malformed result" if isinstance(exc, _Malformed) else type(exc).__name__
            _log.warning("%s failed (%s): answered 500", route.function_name, what)
            status, response_headers, data = 500, json_type, _json_body(500)
        kept = [(k, v) for k, v in response_headers if k not in _GATEWAY_HEADERS]
        if cors is not None:  # API Gateway ignores the integration's CORS headers
            kept = [(k, v) for k, v in kept if not k.startswith("access-control-")]
        if any(k == "vary" and "origin" in v.lower() for k, v in kept):
            cors_headers = [(k, v) for k, v in cors_headers if k != "vary"]
        return self._reply(status, kept + cors_headers, data, request_id=request_id)


def response_json(result: dict[str, Any]) -> Any:
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None
