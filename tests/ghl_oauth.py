"""GHL faked at the HTTP boundary for the OAuth tests: its token endpoint (``POST
/oauth/token``: authorization codes and refresh tokens, each usable once, the refresh token
rotated on every refresh as GHL does) and ``GET /contacts/{id}``, which answers 401 unless
the bearer is a live access token and records whose token each request carried.

Use :meth:`FakeGhlOAuth.transport` (httpx.MockTransport) in process, or ``with
FakeGhlOAuth().serve() as server:`` for code that builds its own client from
``GHL_API_BASE_URL`` (the intake route, the CLI).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx

from local.loopback import LoopbackServer

CLIENT_ID = "app-client-id-0001"
CLIENT_SECRET = "app-client-secret-5f0c1d"  # a test value  # nosec B105


@dataclass
class Grant:
    """A token request as GHL received it (no secret kept)."""

    grant_type: str
    user_type: str
    outcome: str  # "issued" or the error


@dataclass
class ApiCall:
    path: str
    token: str
    location_id: str | None  # whose live token it was; None: refused (401)


class FakeGhlOAuth:
    def __init__(
        self,
        *,
        lifetime: float = 86399,
        clock: Callable[[], float] = time.time,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._client = (client_id, client_secret)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.codes: dict[str, str] = {}  # code → location
        self.access: dict[str, tuple[str, float]] = {}  # access token → (location, expiry)
        self.refresh: dict[str, str] = {}  # live refresh token → location
        self.grants: list[Grant] = []
        self.calls: list[ApiCall] = []
        #: Set to a Barrier to hold refresh requests until that many are in flight.
        self.refresh_barrier: threading.Barrier | None = None
        self.user_type = "Location"

    # -- test API ----------------------------------------------------------------------------
    def new_code(self, location_id: str) -> str:
        code = f"{next(self._ids):040x}"
        self.codes[code] = location_id
        return code

    def issue(self, location_id: str, lifetime: float | None = None) -> dict[str, Any]:
        """A live token pair for the location, as the token endpoint answers."""
        n = next(self._ids)
        access, refresh = f"at-{location_id}-{n:04d}", f"rt-{location_id}-{n:04d}"
        life = self.lifetime if lifetime is None else lifetime
        self.access[access] = (location_id, self.clock() + life)
        self.refresh[refresh] = location_id
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": life,
            "refresh_token": refresh,
            "scope": "contacts.readonly contacts.write",
            "userType": self.user_type,
            "locationId": location_id,
            "companyId": "company-1",
            "userId": "user-1",
        }

    def revoke_access(self, location_id: str) -> None:
        """GHL stops accepting the location's access tokens (its refresh token still works)."""
        for token in [t for t, (loc, _) in self.access.items() if loc == location_id]:
            del self.access[token]

    def granted(self, outcome: str = "issued") -> list[Grant]:
        return [g for g in self.grants if g.outcome == outcome]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def serve(self) -> _Server:
        return _Server(self)

    # -- GHL ---------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/oauth/token":
            form = dict(parse_qsl(request.content.decode()))
            return self._token(form)
        if request.method == "GET" and request.url.path.startswith("/contacts/"):
            contact_id = request.url.path.rsplit("/", 1)[-1]
            return self._contact(contact_id, request.headers.get("authorization", ""))
        return httpx.Response(404, json={"statusCode": 404, "message": "Not Found"})

    def _token(self, form: dict[str, str]) -> httpx.Response:
        kind = form.get("grant_type", "")
        if kind == "refresh_token" and self.refresh_barrier is not None:
            self.refresh_barrier.wait(timeout=5)
        with self._lock:
            if (form.get("client_id"), form.get("client_secret")) != self._client:
                return self._refused(kind, form, 401, "invalid_client")
            if kind == "authorization_code":
                location = self.codes.pop(form.get("code", ""), None)
            elif kind == "refresh_token":
                location = self.refresh.pop(form.get("refresh_token", ""), None)
            else:
                return self._refused(kind, form, 422, "unsupported_grant_type")
            if location is None:
                return self._refused(kind, form, 400, "invalid_grant")
            self.grants.append(Grant(kind, form.get("user_type", ""), "issued"))
            return httpx.Response(200, json=self.issue(location))

    def _refused(self, kind: str, form: dict[str, str], status: int, error: str) -> httpx.Response:
        self.grants.append(Grant(kind, form.get("user_type", ""), error))
        body = {"error": error, "error_description": "The grant is invalid or was already used"}
        return httpx.Response(status, json=body)

    def _contact(self, contact_id: str, authorization: str) -> httpx.Response:
        token = authorization.removeprefix("Bearer ")
        with self._lock:
            live = self.access.get(token)
            location = live[0] if live and live[1] > self.clock() else None
            self.calls.append(ApiCall(f"/contacts/{contact_id}", token, location))
        if location is None:
            return httpx.Response(401, json={"statusCode": 401, "message": "Invalid JWT"})
        return httpx.Response(200, json={"contact": {"id": contact_id, "locationId": location}})


class _Server(LoopbackServer):
    """The fake on a loopback port (for code that makes its own HTTP client)."""

    def __init__(self, fake: FakeGhlOAuth) -> None:
        self.fake = fake

    def start(self) -> Self:
        fake = self.fake

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = httpx.Request(
                    self.command,
                    f"http://127.0.0.1{self.path}",
                    headers=dict(self.headers.items()),
                    content=self.rfile.read(length),
                )
                response = fake.handle(request)
                body = response.content
                self.send_response(response.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class RecordingMetrics:
    """A metric sink that keeps what it is given (name → total)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._lock = threading.Lock()

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        assert unit == "Count"
        with self._lock:
            self.totals[name] = self.totals.get(name, 0) + value


def secret_json(secretsmanager: Any, name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    )
    return value
