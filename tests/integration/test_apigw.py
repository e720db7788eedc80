"""The local API Gateway (local/apigw.py) behaves like the deployed HTTP API (payload v2):
only the template's routes answer, CORS preflights are answered by the gateway from the
HttpApi's CorsConfiguration, requests are framed as API Gateway frames them (400, 408, 413,
chunked bodies), repeated headers and query parameters are joined with commas, and a failing
function is answered 500 without the request in any log line.

Driven over real loopback sockets (raw bytes where the framing itself is the point)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from functions.intake import app as intake_app
from local.apigw import ApiGateway, LambdaContext, Route
from local.template import cors_configuration, load_template
from tests.conftest import Stack

SITE = "https://www.example-realty.com"
NOT_FOUND = {"message": "Not Found"}


# -- a tiny function behind the gateway, recording what it was invoked with ------------------


@dataclass
class Function:
    """A Lambda handler that records each event and answers ``reply(event)``."""

    reply: Callable[[dict[str, Any]], Any] = lambda event: {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": '{"ok": true}',
    }
    events: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.reply(event)

    def body(self, index: int = -1) -> bytes:
        event = self.events[index]
        raw = event.get("body") or ""
        return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes
    #: Whether the gateway closed the connection after the response (when asked to look).
    closed: bool | None

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return ", ".join(values) if values else None

    def json(self) -> Any:
        return json.loads(self.body)

    def cors_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers if k.startswith("access-control-")}


def read_reply(sock: socket.socket, method: str = "GET", *, check_closed: bool = False) -> Reply:
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    head = f"{response.status} {response.reason}\r\n{response.msg}".encode()
    headers = [(k.lower(), v) for k, v in response.getheaders()]
    closed = None
    if check_closed:
        try:
            sock.settimeout(2.0)
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
    return Reply(response.status, headers, body, head, closed)


def exchange(
    gateway: ApiGateway, raw: bytes, *, method: str = "GET", check_closed: bool = False
) -> Reply:
    """Send ``raw`` bytes as they are and read the one response (5 s at most)."""
    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw)
        return read_reply(sock, method, check_closed=check_closed)


def exchange_raw(gateway: ApiGateway, raw: bytes) -> bytes:
    """Send ``raw`` and read every byte until the gateway closes (5 s at most)."""
    host, port = gateway.url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw)
        while data := sock.recv(65536):
            received += data
    return received


def request(
    gateway: ApiGateway,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> Reply:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return exchange(gateway, raw, method=method)


@pytest.fixture
def function() -> Function:
    return Function()


@pytest.fixture
def recommendations() -> Function:
    return Function()


@pytest.fixture
def gateway(
    function: Function, recommendations: Function, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApiGateway]:
    """The tiny function as the IntakeFunction (its routes from template.yaml), another as the
    RecommendationsFunction; CORS for SITE (LyrioAllowedOrigins, as ``make run`` reads it) and
    a short request timeout."""
    monkeypatch.setenv("LYRIO_ALLOWED_ORIGINS", SITE)
    monkeypatch.setenv("LOCAL_APIGW_TIMEOUT", "0.5")
    route = Route(
        "GET", "/leads/{contactId}/recommendations", recommendations, "RecommendationsFunction"
    )
    api = ApiGateway(function, routes=[route]).start()
    try:
        yield api
    finally:
        api.stop()


# -- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("PATCH", "/health"),
        ("PUT", "/events"),
        ("DELETE", "/leads/c-1"),
        ("POST", "/health"),
        ("GET", "/events"),
        ("GET", "/nowhere"),
        ("GET", "/health/"),
        ("GET", "/leads/c-1/notes"),
        ("GET", "/leads//recommendations"),
        ("BREW", "/health"),
    ],
)
def test_undeclared_routes_and_methods_are_not_found(
    gateway: ApiGateway, function: Function, method: str, target: str
) -> None:
    reply = request(gateway, method, target)

    assert (reply.status, reply.json()) == (404, NOT_FOUND)
    assert reply.header("content-type") == "application/json"
    assert function.events == []


def test_head_is_not_routed_to_the_get_route(gateway: ApiGateway, function: Function) -> None:
    raw = exchange_raw(gateway, b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 ") and body == b""  # a HEAD answer carries no body
    assert function.events == []


def test_declared_routes_reach_their_function_with_the_route_key_and_path_parameters(
    gateway: ApiGateway, function: Function, recommendations: Function
) -> None:
    lead = request(gateway, "GET", "/leads/c%2D1")
    matches = request(gateway, "GET", "/leads/c-2/recommendations?k=3")

    assert lead.status == matches.status == 200
    (event,) = function.events
    assert event["routeKey"] == "GET /leads/{contactId}"
    assert event["rawPath"] == "/leads/c%2D1" and event["pathParameters"] == {"contactId": "c-1"}
    (event,) = recommendations.events
    assert event["routeKey"] == "GET /leads/{contactId}/recommendations"
    assert event["pathParameters"] == {"contactId": "c-2"}
    assert event["queryStringParameters"] == {"k": "3"}


# -- CORS -----------------------------------------------------------------------------------


def test_preflight_from_an_allowed_origin_is_answered_by_the_gateway(
    gateway: ApiGateway, function: Function
) -> None:
    reply = request(
        gateway,
        "OPTIONS",
        "/events",
        [
            ("Origin", SITE),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-site-key"),
        ],
    )

    assert reply.status == 204 and reply.body == b""
    cors = reply.cors_headers()
    assert cors["access-control-allow-origin"] == SITE
    assert "POST" in cors["access-control-allow-methods"].split(",")
    assert {"content-type", "x-site-key"} <= set(cors["access-control-allow-headers"].split(","))
    assert cors["access-control-max-age"] == "600"
    assert "Origin" in (reply.header("vary") or "")
    assert function.events == []  # no Lambda invocation for a preflight


@pytest.mark.parametrize("origin", ["https://evil.example", "https://www.example-realty.com.evil"])
def test_preflight_from_another_origin_gets_no_cors_headers(
    gateway: ApiGateway, function: Function, origin: str
) -> None:
    reply = request(
        gateway,
        "OPTIONS",
        "/events",
        [("Origin", origin), ("Access-Control-Request-Method", "POST")],
    )

    assert reply.status == 204
    assert reply.cors_headers() == {}
    assert function.events == []


def test_the_gateway_owns_the_cors_headers_of_responses(
    gateway: ApiGateway, function: Function
) -> None:
    function.reply = lambda event: {
        "statusCode": 202,
        "headers": {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "DELETE",
            "content-type": "application/json",
        },
        "body": "{}",
    }

    allowed = request(gateway, "POST", "/events", [("Origin", SITE)], b"{}")
    other = request(gateway, "POST", "/events", [("Origin", "https://evil.example")], b"{}")
    no_origin = request(gateway, "POST", "/events", [], b"{}")

    assert allowed.status == other.status == no_origin.status == 202
    assert allowed.cors_headers() == {"access-control-allow-origin": SITE}
    assert "Origin" in (allowed.header("vary") or "")
    assert other.cors_headers() == {} and no_origin.cors_headers() == {}


def test_without_a_cors_configuration_there_is_no_preflight_and_headers_pass_through(
    function: Function,
) -> None:
    function.reply = lambda event: {
        "statusCode": 200,
        "headers": {"access-control-allow-origin": "*"},
        "body": "",
    }
    api = ApiGateway(function, cors=None).start()
    try:
        preflight = request(
            api, "OPTIONS", "/events", [("Origin", SITE), ("Access-Control-Request-Method", "POST")]
        )
        script = request(api, "GET", "/track.js", [("Origin", SITE)])
    finally:
        api.stop()

    assert (preflight.status, preflight.json()) == (404, NOT_FOUND)
    assert script.cors_headers() == {"access-control-allow-origin": "*"}


def test_cors_configuration_is_read_from_the_template_with_its_parameters() -> None:
    template = load_template()

    configured = cors_configuration(
        template, {"LyrioAllowedOrigins": "https://a.example,https://b.example"}
    )
    empty = cors_configuration(template, {"LyrioAllowedOrigins": ""})

    assert configured is not None
    assert configured.allow_origins == ("https://a.example", "https://b.example")
    assert {"GET", "POST"} <= set(configured.allow_methods)
    assert empty is None or empty.allow_origins == ()


def test_cors_configuration_resolves_conditions_split_and_no_value() -> None:
    template: dict[str, Any] = {
        "Parameters": {
            "Origins": {"Type": "String", "Default": ""},
            "Credentials": {"Type": "String", "Default": "false"},
        },
        "Conditions": {"HasOrigins": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Origins"}, ""]}]}},
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {
                    "CorsConfiguration": {
                        "Fn::If": [
                            "HasOrigins",
                            {
                                "AllowOrigins": {"Fn::Split": [",", {"Ref": "Origins"}]},
                                "AllowHeaders": ["authorization"],
                                "ExposeHeaders": ["x-request-id"],
                                "AllowCredentials": True,
                                "MaxAge": 60,
                            },
                            {"Ref": "AWS::NoValue"},
                        ]
                    }
                },
            }
        },
    }

    cors = cors_configuration(template, {"Origins": "https://a.example,https://*"})

    assert cors_configuration(template) is None
    assert cors is not None
    assert cors.allow_origins == ("https://a.example", "https://*")
    assert (cors.allow_headers, cors.expose_headers) == (("authorization",), ("x-request-id",))
    assert (cors.allow_credentials, cors.max_age) == (True, 60)


# -- framing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: abc\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 0x10\r\n",
        b"Content-Length: 5, 6\r\n",
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
    ],
    ids=["non-numeric", "negative", "hex", "list", "two-values", "with-chunked", "gzip"],
)
def test_bad_framing_is_answered_400_and_the_connection_closed(
    gateway: ApiGateway, function: Function, framing: bytes
) -> None:
    raw = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing + b"\r\nhello"

    reply = exchange(gateway, raw, check_closed=True)

    assert (reply.status, reply.json()) == (400, {"message": "Bad Request"})
    assert reply.header("connection") == "close" and reply.closed
    assert function.events == []


def test_a_chunked_body_is_read_whole(gateway: ApiGateway, function: Function) -> None:
    raw = (
        b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\n"
        b'7\r\n{"a": "\r\n'
        b"A;ext=1\r\n0123456789\r\n"
        b'2\r\n"}\r\n'
        b"0\r\nX-Trailer: t\r\n\r\n"
    )

    reply = exchange(gateway, raw)

    assert reply.status == 200
    assert json.loads(function.body()) == {"a": "0123456789"}
    headers = function.events[0]["headers"]
    assert headers["content-length"] == str(len(function.body()))
    assert "transfer-encoding" not in headers

    # A length repeated with one value is one length (RFC 9112), not a bad request.
    repeated = (
        b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
    )
    assert exchange(gateway, repeated).status == 200
    assert function.body() == b"hello"


def test_a_body_over_10_mb_is_413_without_invoking_the_function(
    gateway: ApiGateway, function: Function
) -> None:
    declared = b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n"
    chunked = b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA00001\r\n"

    for raw in (declared, chunked):  # the body itself never sent: refused before it is read
        reply = exchange(gateway, raw, check_closed=True)
        assert (reply.status, reply.json()) == (413, {"message": "Request Entity Too Large"})
        assert reply.header("connection") == "close" and reply.closed
    assert function.events == []


def test_an_event_over_lambdas_6_mb_is_413_without_invoking_the_function(
    gateway: ApiGateway, function: Function
) -> None:
    reply = request(gateway, "POST", "/events", [], b"x" * (7 * 1024 * 1024))

    assert (reply.status, reply.json()) == (413, {"message": "Request Too Long"})
    assert function.events == []


def test_a_stalled_body_times_out_while_other_requests_are_served(
    gateway: ApiGateway, function: Function
) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)), timeout=5)
    headless = socket.create_connection((host, int(port)), timeout=5)
    trickled = socket.create_connection((host, int(port)), timeout=5)
    stop = threading.Event()

    def trickle() -> None:  # one byte every 0.1 s: never idle, never finished
        try:
            trickled.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(0.1):
                trickled.sendall(b"x")
        except OSError:
            pass

    worker = threading.Thread(target=trickle, daemon=True)
    try:
        stalled.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123")
        headless.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        worker.start()
        meanwhile = request(gateway, "GET", "/health")
        replies = [read_reply(s, "POST", check_closed=True) for s in (stalled, headless, trickled)]
    finally:
        stop.set()
        for s in (stalled, headless, trickled):
            s.close()
        worker.join()

    assert meanwhile.status == 200
    for reply in replies:
        assert (reply.status, reply.json()) == (408, {"message": "Request Timeout"})
        assert reply.header("connection") == "close" and reply.closed
    assert [e["rawPath"] for e in function.events] == ["/health"]


# -- the v2 event ---------------------------------------------------------------------------


def test_repeated_headers_and_query_parameters_are_joined_with_commas(
    gateway: ApiGateway, function: Function
) -> None:
    reply = request(
        gateway,
        "GET",
        "/leads/c-1?token=a&token=b&k=%2C1&empty=",
        [
            ("Authorization", "Bearer a"),
            ("authorization", "Bearer b"),
            ("X-Trace", "1"),
            ("Cookie", "ghl_vid=v1; theme=dark"),
            ("Cookie", "lang=en"),
        ],
    )

    assert reply.status == 200
    (event,) = function.events
    assert event["headers"]["authorization"] == "Bearer a,Bearer b"
    assert event["headers"]["x-trace"] == "1"
    assert all(name == name.lower() for name in event["headers"])
    assert event["rawQueryString"] == "token=a&token=b&k=%2C1&empty="
    assert event["queryStringParameters"] == {"token": "a,b", "k": ",1", "empty": ""}
    assert event["cookies"] == ["ghl_vid=v1", "theme=dark", "lang=en"]
    assert "cookie" not in event["headers"]


def test_mangum_sees_the_joined_header_and_the_query_as_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "authorization": request.headers.getlist("authorization"),
                "token": request.query_params.getlist("token"),
            }
        )

    app = Mangum(Starlette(routes=[StarletteRoute("/leads/{contactId}", echo)]), lifespan="off")
    monkeypatch.delenv("LYRIO_ALLOWED_ORIGINS", raising=False)
    api = ApiGateway(app).start()
    try:
        reply = request(
            api,
            "GET",
            "/leads/c-1?token=a&token=b",
            [("Authorization", "a"), ("Authorization", "b")],
        )
    finally:
        api.stop()

    assert reply.json() == {"authorization": ["a,b"], "token": ["a", "b"]}


def test_response_cookies_become_set_cookie_headers(
    gateway: ApiGateway, function: Function
) -> None:
    function.reply = lambda event: {"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"]}

    reply = request(gateway, "GET", "/health")

    assert [v for k, v in reply.headers if k == "set-cookie"] == ["a=1; Path=/", "b=2"]


def test_a_result_without_a_status_code_is_200_json(
    gateway: ApiGateway, function: Function
) -> None:
    function.reply = lambda event: {"ok": True, "n": 2}

    reply = request(gateway, "GET", "/health")

    assert (reply.status, reply.json()) == (200, {"ok": True, "n": 2})
    assert reply.header("content-type") == "application/json"


# -- function errors ------------------------------------------------------------------------


def _raises(event: dict[str, Any]) -> Any:
    raise RuntimeError(f"failed on {event['headers']['x-secret']}")


@pytest.mark.parametrize(
    "reply",
    [
        _raises,
        lambda event: None,
        lambda event: {"statusCode": "two hundred"},
        lambda event: {"statusCode": 200, "body": {"not": "a string"}},
        lambda event: {"statusCode": 200, "headers": {"x": "a\r\nSet-Cookie: evil=1"}},
        lambda event: {"statusCode": 200, "isBase64Encoded": True, "body": "***"},
        lambda event: {"statusCode": 200, "cookies": "a=1"},
    ],
    ids=["raises", "none", "status-text", "body-object", "header-crlf", "bad-base64", "cookies"],
)
def test_a_failing_function_is_500_and_the_request_is_not_logged(
    gateway: ApiGateway,
    function: Function,
    reply: Callable[[dict[str, Any]], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    function.reply = reply
    caplog.set_level(logging.DEBUG)

    answer = request(
        gateway, "POST", "/events", [("X-Secret", "tok-5551234"), ("Origin", SITE)], b"body-777"
    )

    assert (answer.status, answer.json()) == (500, {"message": "Internal Server Error"})
    assert answer.header("set-cookie") is None and answer.header("x") is None
    assert answer.header("access-control-allow-origin") == SITE
    assert "IntakeFunction failed" in caplog.text  # logged: which function, what kind of failure
    assert "tok-5551234" not in caplog.text and "body-777" not in caplog.text
    assert len(function.events) == 1


# -- with the real intake function ----------------------------------------------------------


@pytest.fixture
def intake(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ApiGateway, Function]]:
    monkeypatch.setenv("LYRIO_ALLOWED_ORIGINS", SITE)
    calls = Function(reply=lambda event: intake_app.handler(event, LambdaContext("IntakeFunction")))
    api = ApiGateway(calls).start()
    try:
        yield api, calls
    finally:
        api.stop()


def test_the_intake_behind_the_gateway_gets_cors_from_the_gateway_only(
    intake: tuple[ApiGateway, Function],
) -> None:
    api, calls = intake
    preflight = request(
        api, "OPTIONS", "/events", [("Origin", SITE), ("Access-Control-Request-Method", "POST")]
    )
    allowed = request(api, "GET", "/track.js", [("Origin", SITE)])
    other = request(api, "GET", "/track.js", [("Origin", "https://evil.example")])

    assert (
        preflight.status == 204 and preflight.cors_headers()["access-control-allow-origin"] == SITE
    )
    assert [e["rawPath"] for e in calls.events] == ["/track.js", "/track.js"]
    assert allowed.status == other.status == 200
    # Whatever CORS headers the app sets itself, the gateway's configuration decides.
    assert allowed.cors_headers() == {"access-control-allow-origin": SITE}
    assert other.cors_headers() == {}


def test_no_redirect_and_no_host_header_in_any_response(
    intake: tuple[ApiGateway, Function],
) -> None:
    api, _ = intake
    replies = [
        exchange(api, b"GET /health/ HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
        exchange(api, b"GET /health HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
        exchange(api, b"GET http://evil.example/health HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
        exchange(api, b"GET /leads/c-1/ HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
    ]

    assert [r.status for r in replies] == [404, 200, 200, 404]
    for reply in replies:
        assert reply.header("location") is None
        assert b"evil.example" not in reply.raw_head + reply.body


def test_a_preflight_takes_no_time_from_a_slow_function(
    gateway: ApiGateway, function: Function
) -> None:
    """The gateway answers preflights and 404s itself, even while the function is busy."""
    release = threading.Event()

    def slow(event: dict[str, Any]) -> Any:
        release.wait(5)
        return {"statusCode": 200}

    function.reply = slow
    busy = threading.Thread(target=request, args=(gateway, "GET", "/health"), daemon=True)
    busy.start()
    try:
        deadline = time.monotonic() + 5
        while not function.events and time.monotonic() < deadline:
            time.sleep(0.01)
        preflight = request(
            gateway,
            "OPTIONS",
            "/events",
            [("Origin", SITE), ("Access-Control-Request-Method", "POST")],
        )
        missing = request(gateway, "GET", "/nowhere")
        still_busy = not release.is_set()
    finally:
        release.set()
        busy.join()

    assert still_busy and preflight.status == 204 and missing.status == 404
