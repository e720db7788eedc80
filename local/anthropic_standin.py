"""A loopback stand-in for the Anthropic Messages API (``POST /v1/messages``, non-streaming).

Standard library only. Tests start one per test (``with AnthropicStandIn() as api:``), point
the SDK at ``api.base_url`` and assert on ``api.calls``; ``make run`` can start it with
``echo=True`` to print a line per call (model, token usage, the tool input it answered with).

Like the real API it checks the credentials (401 ``authentication_error``) and the
``anthropic-version`` header (400 ``invalid_request_error``) and answers with Messages-API JSON:
a ``tool_use`` block (optionally after a text block), ``stop_reason: "tool_use"`` and a usage
that models prompt caching: the prefix up to the last ``cache_control`` breakpoint (tools, then
system, then messages) is written to the cache on first sight and read from it afterwards, if it
is at least ``min_cacheable_tokens`` long (tokens estimated as characters / 4).

Credentials: the real API takes ``x-api-key: <key>``; the 2.x Python SDK sends the key as
``Authorization: Bearer <key>`` instead, so either is accepted. Neither is recorded.

``script()`` queues behaviours for the next calls: a dict (the tool input to answer with),
:func:`status` (an error response with the API's error body), :func:`delay` (answer late, to
provoke client timeouts) or :func:`message` (any content, e.g. no ``tool_use`` block). With the
queue empty, ``responder(request_json) -> tool input`` answers (:func:`default_responder`).

``faults=AnthropicFaults(...)`` (off by default; ``make soak``) answers a seeded share of the
valid calls with 500 ``api_error`` or 529 ``overloaded_error``, or answers them only after
``timeout_delay`` seconds (longer than the client's timeout); ``injected`` counts them by kind.

    python -m local.anthropic_standin --port 8020
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import itertools
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.loopback import LoopbackServer

Responder = Callable[[dict[str, Any]], dict[str, Any]]

#: Error types of the real API by status code.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES = {
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}
_SECRET_HEADERS = ("x-api-key", "authorization")


@dataclass(frozen=True)
class AnthropicFaults:
    """Seeded faults: for each valid call, the probability of a 500, a 529 and a late answer
    (after ``timeout_delay`` seconds)."""

    server_error: float = 0.0
    overloaded: float = 0.0
    timeout: float = 0.0
    timeout_delay: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.server_error, self.overloaded, self.timeout)
        if min(rates) < 0 or sum(rates) > 1:
            raise ValueError("fault rates must be probabilities adding up to at most 1")


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased; x-api-key and authorization left out
    json: Any

    @property
    def system(self) -> list[dict[str, Any]]:
        """The system prompt as a list of text blocks (a plain string becomes one block)."""
        system = self.json.get("system") if isinstance(self.json, dict) else None
        if isinstance(system, str):
            return [{"type": "text", "text": system}]
        return [b for b in system or [] if isinstance(b, dict)]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages") or []) if isinstance(self.json, dict) else []


@dataclass(frozen=True)
class Scripted:
    """One canned behaviour. ``status`` 200 answers with a message whose content is ``content``
    (or a ``tool_use`` block with ``tool_input``, after ``text`` when given); another status
    answers with ``json`` (the API's error body when omitted). ``delay`` seconds pass first."""

    status: int = 200
    tool_input: dict[str, Any] | None = None
    text: str | None = None
    content: list[dict[str, Any]] | None = None
    stop_reason: str = "tool_use"
    json: Any = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def tool(
    tool_input: dict[str, Any], *, text: str | None = None, stop_reason: str = "tool_use"
) -> Scripted:
    """Answer with a ``tool_use`` block carrying ``tool_input`` (after a text block if given)."""
    return Scripted(tool_input=tool_input, text=text, stop_reason=stop_reason)


def message(content: list[dict[str, Any]], *, stop_reason: str = "end_turn") -> Scripted:
    """Answer with exactly this content (e.g. only a text block: no tool call)."""
    return Scripted(content=content, stop_reason=stop_reason)


def status(
    code: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
) -> Scripted:
    """An error response with the real error body:
    ``{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}``."""
    extra = dict(headers or {})
    if retry_after is not None:
        extra["retry-after"] = f"{retry_after:g}"
    body = None
    if error_type is not None:
        body = _error_body(code, message, error_type)
    return Scripted(status=code, json=body, message=message, headers=extra)


def delay(seconds: float, then: Scripted | dict[str, Any] | None = None) -> Scripted:
    """Wait ``seconds`` before answering with ``then`` (the responder's answer when None)."""
    if then is None:
        return Scripted(delay=seconds)
    base = then if isinstance(then, Scripted) else tool(then)
    return replace(base, delay=seconds)


def _error_body(code: int, message: str | None, error_type: str | None = None) -> dict[str, Any]:
    kind = error_type or ERROR_TYPES.get(
        code, "api_error" if code >= 500 else "invalid_request_error"
    )
    text = message or _ERROR_MESSAGES.get(code, kind.replace("_", " ").capitalize())
    return {"type": "error", "error": {"type": kind, "message": text}}


# -- the default responder --------------------------------------------------------------------

_MISSING_LINE = re.compile(r"^\W*missing[^:\n]*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def _request_text(request: dict[str, Any]) -> str:
    parts: list[str] = []
    system = request.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts.extend(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return "\n".join(parts)


def _answer_fields(request: dict[str, Any]) -> list[str]:
    """The field names of the forced tool's ``answers`` object, in schema order."""
    for t in request.get("tools") or []:
        schema = t.get("input_schema", {}) if isinstance(t, dict) else {}
        answers = schema.get("properties", {}).get("answers", {})
        if isinstance(answers, dict) and isinstance(answers.get("properties"), dict):
            return list(answers["properties"])
    return []


def default_responder(request: dict[str, Any]) -> dict[str, Any]:
    """A plausible, deterministic ``record_turn`` input: asks politely about the first missing
    field the request lists (a "Missing ...: a, b" line in the system prompt), learns nothing.
    Tests of real conversations script explicit tool inputs instead."""
    fields = _answer_fields(request)
    asked = None
    match = _MISSING_LINE.search(_request_text(request))
    if match:
        listed = [w.strip(" .") for w in re.split(r"[,;]", match.group(1))]
        asked = next((w for w in listed if w in fields), None)
    if asked is not None:
        reply = (
            f"Thanks for the message! Could you tell me a bit about your {asked.replace('_', ' ')}?"
        )
    elif match and "intent" in match.group(1).lower():
        reply = "Thanks for the message! Are you looking to buy, sell, or both?"
    else:
        reply = "Thanks, that's really helpful. Is there anything else I can help with?"
    return {
        "reply": reply,
        "intent": None,
        "intent_confidence": 0.0,
        "answers": {},
        "handoff_requested": False,
        "asked_if_bot": False,
        "vague": False,
        "asked_field": asked,
    }


# -- the server ---------------------------------------------------------------------------------


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _estimate_tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, len(text) // 4) if text else 0


def _has_cache_control(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("cache_control"), dict)


class AnthropicStandIn(LoopbackServer):
    def __init__(
        self,
        port: int = 0,
        *,
        responder: Responder | None = None,
        api_key: str | None = None,
        min_cacheable_tokens: int = 1024,
        echo: bool = False,
        faults: AnthropicFaults | None = None,
    ) -> None:
        """``api_key``: when given, only that key is accepted (401 otherwise). ``faults``: see
        the module docstring."""
        self._port, self._echo = port, echo
        self.faults = faults
        self._fault_rng = random.Random(faults.seed if faults else 0)  # not crypto  # nosec B311
        self._api_key = api_key
        self.min_cacheable_tokens = min_cacheable_tokens
        self.responder: Responder = responder or default_responder
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> AnthropicStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK pools connections
            disable_nagle_algorithm = True
            timeout = 10

            def do_POST(self) -> None:
                standin._serve(self)

            do_GET = do_PUT = do_DELETE = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # stop() must not wait for a delayed answer
        self._server = server
        self._closing.clear()
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes delayed answers
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            atexit.unregister(self.stop)

    # -- test API ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget calls, scripts and the prompt cache."""
        with self._lock:
            self.calls: list[RecordedCall] = []
            self._queue: list[Scripted] = []
            self._cache: set[str] = set()
            self._ids = itertools.count(1)
            #: Faults injected, by kind (``AnthropicFaults``).
            self.injected: Counter[str] = Counter()

    def script(self, *responses: Scripted | dict[str, Any]) -> None:
        """Answer the next calls with these, in order (a dict is a tool input), then go back
        to the responder."""
        with self._lock:
            self._queue.extend(r if isinstance(r, Scripted) else tool(r) for r in responses)

    @property
    def pending(self) -> int:
        """Scripted behaviours not used yet."""
        with self._lock:
            return len(self._queue)

    # -- request handling --------------------------------------------------------------------
    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in req.headers.items()}
        call = RecordedCall(
            req.command,
            req.path.split("?", 1)[0],
            {k: v for k, v in headers.items() if k not in _SECRET_HEADERS},
            body,
        )
        with self._lock:
            self.calls.append(call)
            number = next(self._ids)
        request_id = f"req_standin_{number:06d}"
        reply_headers = {"request-id": request_id}
        scripted: Scripted | None = None
        try:
            self._check(call, headers)
            with self._lock:
                scripted = self._queue.pop(0) if self._queue else None
                fault = self._draw_fault() if scripted is None else None
            if fault in ("500", "529"):
                raise _Reply(int(fault), _error_body(int(fault), None))
            if fault == "timeout":
                assert self.faults is not None
                self._closing.wait(self.faults.timeout_delay)  # the client gives up first
            if scripted is not None and scripted.delay:
                self._closing.wait(scripted.delay)
            if scripted is not None and scripted.status != 200:
                payload = scripted.json
                if payload is None:
                    payload = _error_body(scripted.status, scripted.message)
                raise _Reply(scripted.status, payload, scripted.headers)
            status, payload = 200, self._message(call.json, scripted, number)
            reply_headers.update(scripted.headers if scripted else {})
        except _Reply as reply:
            status, payload = reply.status, reply.body
            reply_headers.update(reply.headers)
            if isinstance(payload, dict) and payload.get("type") == "error":
                payload = {**payload, "request_id": request_id}
        if self._echo:
            self._print(call, status, payload)
        data = json.dumps(payload).encode()
        try:
            req.send_response(status)
            for name, value in reply_headers.items():
                req.send_header(name, value)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (timeout test) or the server is stopping

    def _draw_fault(self) -> str | None:
        """The fault for this call, if any (called with the lock held)."""
        f = self.faults
        if f is None:
            return None
        draw = self._fault_rng.random()
        for kind, rate in (("500", f.server_error), ("529", f.overloaded), ("timeout", f.timeout)):
            if draw < rate:
                self.injected[kind] += 1
                return kind
            draw -= rate
        return None

    def _check(self, call: RecordedCall, headers: dict[str, str]) -> None:
        if call.method != "POST" or call.path.rstrip("/") != "/v1/messages":
            raise _Reply(404, _error_body(404, f"Not found: {call.method} {call.path}"))
        key = headers.get("x-api-key", "").strip()
        bearer = headers.get("authorization", "")
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key:
            raise _Reply(401, _error_body(401, "x-api-key header is required"))
        if self._api_key is not None and key != self._api_key:
            raise _Reply(401, _error_body(401, "invalid x-api-key"))
        if not headers.get("anthropic-version"):
            raise _Reply(400, _error_body(400, "anthropic-version: header is required"))
        body = call.json
        if not isinstance(body, dict):
            raise _Reply(400, _error_body(400, "The request body is not valid JSON."))
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                raise _Reply(400, _error_body(400, f"{name}: Field required"))
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise _Reply(400, _error_body(400, "messages: at least one message is required"))
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                raise _Reply(
                    400,
                    _error_body(400, f"messages.{i}.role: Input should be 'user' or 'assistant'"),
                )
            if not m.get("content"):
                raise _Reply(
                    400, _error_body(400, f"messages.{i}: all messages must have non-empty content")
                )
        if messages[0]["role"] != "user":
            raise _Reply(400, _error_body(400, 'messages: first message must use the "user" role'))
        choice = body.get("tool_choice")
        names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        if (
            isinstance(choice, dict)
            and choice.get("type") == "tool"
            and choice.get("name") not in names
        ):
            raise _Reply(
                400,
                _error_body(400, f"tool_choice: tool {choice.get('name')!r} not found in tools"),
            )

    def _message(
        self, body: dict[str, Any], scripted: Scripted | None, number: int
    ) -> dict[str, Any]:
        if scripted is not None and scripted.content is not None:
            content, stop_reason = scripted.content, scripted.stop_reason
        else:
            tool_input = scripted.tool_input if scripted is not None else None
            if tool_input is None:
                tool_input = self.responder(body)
            choice = body.get("tool_choice") or {}
            names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
            name = choice.get("name") or (names[0] if names else "record_turn")
            content = []
            if scripted is not None and scripted.text:
                content.append({"type": "text", "text": scripted.text})
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_standin_{number:06d}",
                    "name": name,
                    "input": tool_input,
                }
            )
            stop_reason = scripted.stop_reason if scripted is not None else "tool_use"
        output = sum(
            _estimate_tokens(b.get("input", b.get("text", "")))
            for b in content
            if isinstance(b, dict)
        )
        return {
            "id": f"msg_standin_{number:06d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**self._input_usage(body), "output_tokens": max(1, output)},
        }

    def _input_usage(self, body: dict[str, Any]) -> dict[str, int]:
        """Input tokens split like the API's: cache written / read / the rest."""
        segments: list[Any] = []
        marks: list[bool] = []
        for t in body.get("tools") or []:
            segments.append(t)
            marks.append(_has_cache_control(t))
        system = body.get("system")
        for block in [system] if isinstance(system, str) else system or []:
            segments.append(block)
            marks.append(_has_cache_control(block))
        for m in body.get("messages") or []:
            content = m.get("content") if isinstance(m, dict) else None
            for block in [content] if isinstance(content, str) else content or []:
                segments.append({"role": m.get("role"), "block": block})
                marks.append(_has_cache_control(block))
        if _has_cache_control(body) and segments:  # automatic caching: up to the last block
            marks[-1] = True
        sizes = [_estimate_tokens(s) for s in segments]
        total = sum(sizes)
        cut = max((i for i, marked in enumerate(marks) if marked), default=-1)
        prefix = sum(sizes[: cut + 1])
        usage = {
            "input_tokens": total,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if cut < 0 or prefix < self.min_cacheable_tokens:
            return usage
        key = hashlib.sha256(
            json.dumps([body.get("model"), segments[: cut + 1]], sort_keys=True).encode()
        ).hexdigest()
        with self._lock:
            seen = key in self._cache
            self._cache.add(key)
        usage["input_tokens"] = total - prefix
        usage["cache_read_input_tokens" if seen else "cache_creation_input_tokens"] = prefix
        return usage

    def _print(self, call: RecordedCall, status: int, payload: Any) -> None:
        body = call.json if isinstance(call.json, dict) else {}
        if status == 200 and isinstance(payload, dict):
            usage = payload.get("usage", {})
            tool_use = next(
                (b for b in payload.get("content", []) if b.get("type") == "tool_use"), None
            )
            summary = json.dumps(tool_use["input"], ensure_ascii=False)[:200] if tool_use else ""
            print(
                f"Anthropic ← {body.get('model')}  in={usage.get('input_tokens')} "
                f"cache_write={usage.get('cache_creation_input_tokens')} "
                f"cache_read={usage.get('cache_read_input_tokens')}  {summary}",
                flush=True,
            )
        else:
            print(f"Anthropic ← {call.method} {call.path}  → {status}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Anthropic Messages API stand-in.")
    parser.add_argument("--port", type=int, default=8020)
    args = parser.parse_args()
    AnthropicStandIn(args.port, echo=True).serve(
        "Anthropic stand-in on {url} (set ANTHROPIC_BASE_URL)"
    )


if __name__ == "__main__":
    main()
