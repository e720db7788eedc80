"""GoHighLevel API v2 adapter: the only module that talks HTTP to GHL.

``GhlClient`` is synchronous (httpx), holds one connection pool per instance (create it once per
container and reuse it), sends ``Authorization: Bearer <token>`` and the ``Version`` header each
endpoint needs (``2021-04-15`` for ``/conversations/*``, ``2021-07-28`` for contacts,
opportunities and locations), and returns plain dicts/lists parsed from GHL's JSON.

Retry policy
------------
* Retried: HTTP 429 and 5xx, and transport errors (``httpx.TransportError``, except the local
  ones: unsupported URL scheme, illegal header). Never retried: any other 4xx (the request is
  wrong; repeating it cannot help) nor a 3xx (redirects are not followed).
* Wait before retry ``n`` (0-based): ``Retry-After`` when the response has one (seconds or an
  HTTP-date); otherwise capped exponential backoff with full jitter,
  ``min(backoff_cap, backoff_base * 2**n) * rng.random()``.
* At most ``max_attempts`` requests, and everything (request time plus waits) inside
  ``deadline_seconds``: when the next wait would cross the deadline the client gives up at once
  instead of sleeping (a ``Retry-After`` longer than the time left means the retry would be
  refused anyway). Each request's timeout is also capped by the time left.
* Non-idempotent POSTs — ``POST /conversations/messages``, ``POST /contacts/{id}/notes``,
  ``POST /contacts/{id}/tasks``, ``POST /opportunities/`` — may already have been carried out
  when GHL answers a plain 500 or the response never arrives (read timeout, dropped
  connection), so they are NOT retried then: a retry could text the lead twice. They ARE
  retried on 429, 502, 503 and 504 and when the request never left (connect error, connect or
  pool timeout). Idempotent calls (GET, PUT, DELETE, upsert, adding tags) retry on all of the
  above.
* Final failure: ``GhlApiError(status, method, path_template, detail)``; status 0 for transport
  errors (chained with ``raise ... from exc``). ``path_template`` keeps placeholders
  (``/contacts/{contactId}/tags``), ``detail`` is GHL's ``message`` (at most 200 characters) or
  the reason phrase — never the token, never the request body.

Retries are logged with structured fields only (method, path template, status, attempt, wait).

Credentials
-----------
The client asks a :class:`TokenProvider` for the bearer token of every request (a plain string
becomes a :class:`StaticToken`): one location's OAuth tokens (``ghl_ai.credentials``) refresh
themselves before they expire. When GHL answers 401 the client asks the provider once for a
fresh token and, given one, sends the request once more (a refused request was not carried
out, so even a POST may be repeated); outside the retry budget above. Tokens are never logged
and are scrubbed from error details.

Metrics (with a ``metrics`` sink, e.g. ``ghl_ai.observability.metrics``; unit Count):
``GhlApiRequests`` for every attempt (an answer or a transport error), ``GhlApi4xx`` for a 4xx
answer, ``GhlApi5xx`` for a 5xx answer or a transport error. Without a sink nothing is
recorded: code that does not flush metrics (the CLI, tests) passes none.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import quote

import httpx

from ghl_ai.errors import GhlApiError
from ghl_ai.observability import logger

CONVERSATIONS_VERSION = "2021-04-15"
DEFAULT_VERSION = "2021-07-28"

#: Statuses a non-idempotent POST may be retried on: GHL did not carry the request out.
_SAFE_RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Transport errors raised before the request left this process.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Transport errors that are our own misconfiguration (bad base URL, illegal header): no retry.
_LOCAL_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
_DETAIL_MAX = 200


def _version_for(path_template: str) -> str:
    return CONVERSATIONS_VERSION if path_template.startswith("/conversations") else DEFAULT_VERSION


def _unwrap(data: Any, key: str) -> Any:
    """GHL wraps most single objects (``{"contact": {...}}``); tolerate an unwrapped answer."""
    if isinstance(data, dict) and isinstance(data.get(key), dict):
        return data[key]
    return data


def _list_in(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("due_date must be timezone-aware (GHL stores UTC instants)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or HTTP-date); None when absent/bad."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _detail_of(response: httpx.Response) -> str:
    """GHL's ``message`` (a string, or a list for validation errors), else the reason phrase."""
    message: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    if not isinstance(message, str) or not message:
        try:
            message = HTTPStatus(response.status_code).phrase
        except ValueError:
            message = ""
    return message[:_DETAIL_MAX]


class TokenProvider(Protocol):
    """Where a client gets the bearer token of one location's requests."""

    def token(self) -> str:
        """A token to send now (a provider may refresh one that is about to expire)."""
        ...

    def refresh(self, rejected: str) -> str | None:
        """GHL refused ``rejected`` (401): a different token to try once, or None."""
        ...


class StaticToken:
    """A fixed token (a Private Integration Token, a test's): nothing to refresh."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        self._token = token

    def token(self) -> str:
        return self._token

    def refresh(self, rejected: str) -> str | None:
        return None


class MetricSink(Protocol):
    """What the client records metrics into (Powertools ``Metrics`` is one)."""

    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class GhlClient:
    """Synchronous client of GHL API v2 for one location's credentials.

    ``token`` is a :class:`TokenProvider` or a fixed token string. ``transport`` lets tests
    plug in an httpx transport; ``sleep`` and ``rng`` make the retry waits observable and
    deterministic; ``metrics`` receives the request metrics. See the module docstring.
    """

    def __init__(
        self,
        base_url: str,
        token: str | TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        deadline_seconds: float = 20.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        metrics: MetricSink | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._tokens: TokenProvider = StaticToken(token) if isinstance(token, str) else token
        #: The last tokens this client sent, to scrub from error details.
        self._sent_tokens: deque[str] = deque(maxlen=8)
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._deadline = deadline_seconds
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng or random.Random()  # retry jitter, not a secret  # nosec B311
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- contacts ----------------------------------------------------------------------------

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        """``GET /contacts/{id}`` → the contact (``id``, ``locationId``, ``firstName``, ``phone``,
        ``timezone``, ``dnd``, ``dndSettings``, ``tags``, ``customFields[{id, value}]``, ...)."""
        data = self._request("GET", "/contacts/{contactId}", {"contactId": contact_id})
        return _unwrap(data, "contact")

    def upsert_contact(self, location_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /contacts/upsert`` (matched by email/phone) → GHL's whole answer,
        ``{"new": bool, "contact": {...}}`` — ``new`` tells a created contact from an updated one.
        """
        body = {**fields, "locationId": location_id}
        return self._request("POST", "/contacts/upsert", json=body)

    def update_contact(self, contact_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /contacts/{id}`` → the updated contact.

        Refuses ``tags`` (a PUT with tags replaces all of them: use ``add_tags``/``remove_tags``)
        and ``customFields`` (use ``update_custom_fields``, the one place that knows their format).
        """
        if "tags" in fields:
            raise ValueError(
                "update_contact: 'tags' would replace all tags; use add_tags/remove_tags"
            )
        if "customFields" in fields:
            raise ValueError("update_contact: use update_custom_fields for 'customFields'")
        data = self._request("PUT", "/contacts/{contactId}", {"contactId": contact_id}, json=fields)
        return _unwrap(data, "contact")

    def add_tags(self, contact_id: str, tags: Iterable[str]) -> dict[str, Any]:
        """``POST /contacts/{id}/tags`` → ``{"tags": [...]}`` (GHL lower-cases tags).
        No request (and ``{}``) when ``tags`` is empty."""
        tag_list = list(tags)
        if not tag_list:
            return {}
        return self._request(
            "POST", "/contacts/{contactId}/tags", {"contactId": contact_id}, json={"tags": tag_list}
        )

    def remove_tags(self, contact_id: str, tags: Iterable[str]) -> dict[str, Any]:
        """``DELETE /contacts/{id}/tags`` with body ``{"tags": [...]}`` → ``{"tags": [...]}``.
        No request (and ``{}``) when ``tags`` is empty."""
        tag_list = list(tags)
        if not tag_list:
            return {}
        return self._request(
            "DELETE",
            "/contacts/{contactId}/tags",
            {"contactId": contact_id},
            json={"tags": tag_list},
        )

    def add_note(self, contact_id: str, body: str) -> dict[str, Any]:
        """``POST /contacts/{id}/notes`` → the note (``id``, ``body``, ``dateAdded``, ...).
        Not retried on 500 / read timeout (see module docstring)."""
        data = self._request(
            "POST",
            "/contacts/{contactId}/notes",
            {"contactId": contact_id},
            json={"body": body},
            idempotent=False,
        )
        return _unwrap(data, "note")

    def create_task(
        self, contact_id: str, title: str, due_date: datetime, body: str | None = None
    ) -> dict[str, Any]:
        """``POST /contacts/{id}/tasks`` with ``dueDate`` as ISO-8601 UTC (``...Z``) and
        ``completed: false`` → the task. ``due_date`` must be timezone-aware.
        Not retried on 500 / read timeout (see module docstring)."""
        payload: dict[str, Any] = {
            "title": title,
            "dueDate": _iso_utc(due_date),
            "completed": False,
        }
        if body is not None:
            payload["body"] = body
        data = self._request(
            "POST",
            "/contacts/{contactId}/tasks",
            {"contactId": contact_id},
            json=payload,
            idempotent=False,
        )
        return _unwrap(data, "task")

    def list_tasks(self, contact_id: str) -> list[dict[str, Any]]:
        """``GET /contacts/{id}/tasks`` → ``[{id, title, body, dueDate, completed, ...}]``."""
        data = self._request("GET", "/contacts/{contactId}/tasks", {"contactId": contact_id})
        return _list_in(data, "tasks")

    def list_notes(self, contact_id: str) -> list[dict[str, Any]]:
        """``GET /contacts/{id}/notes`` → ``[{id, body, dateAdded, ...}]``."""
        data = self._request("GET", "/contacts/{contactId}/notes", {"contactId": contact_id})
        return _list_in(data, "notes")

    # -- custom fields -----------------------------------------------------------------------

    def list_custom_fields(self, location_id: str) -> list[dict[str, Any]]:
        """``GET /locations/{id}/customFields?model=contact`` → ``[{id, name, fieldKey,
        dataType, ...}]``."""
        data = self._request(
            "GET",
            "/locations/{locationId}/customFields",
            {"locationId": location_id},
            params={"model": "contact"},
        )
        return _list_in(data, "customFields")

    def update_custom_fields(self, contact_id: str, values: Mapping[str, object]) -> dict[str, Any]:
        """Write custom field values by field id → the updated contact.

        The one place that knows the write format: ``PUT /contacts/{id}`` with
        ``customFields: [{"id": ..., "field_value": ...}]`` (v3 says ``fieldValue``; sources
        disagree, so change it here only). No request (and ``{}``) when ``values`` is empty.
        """
        if not values:
            return {}
        payload = {"customFields": [{"id": k, "field_value": v} for k, v in values.items()]}
        data = self._request(
            "PUT", "/contacts/{contactId}", {"contactId": contact_id}, json=payload
        )
        return _unwrap(data, "contact")

    # -- conversations -----------------------------------------------------------------------

    def send_message(
        self, contact_id: str, message: str, channel: str = "SMS", **extra: Any
    ) -> dict[str, Any]:
        """``POST /conversations/messages`` ``{"type": channel, "contactId", "message", **extra}``
        (Email: ``subject=``, ``html=``, ``emailFrom=``) → ``{"conversationId", "messageId",
        "msg", ...}``. Not retried on 500 / read timeout: a retry could send it twice."""
        payload = {**extra, "type": channel, "contactId": contact_id, "message": message}
        return self._request("POST", "/conversations/messages", json=payload, idempotent=False)

    def search_conversations(self, location_id: str, contact_id: str) -> list[dict[str, Any]]:
        """``GET /conversations/search?locationId=&contactId=`` → ``[{id, contactId,
        lastMessageBody, ...}]``."""
        data = self._request(
            "GET",
            "/conversations/search",
            params={"locationId": location_id, "contactId": contact_id},
        )
        return _list_in(data, "conversations")

    def get_conversation_messages(
        self, conversation_id: str, limit: int = 20
    ) -> list[dict[str, Any]]:
        """``GET /conversations/{id}/messages?limit=`` → ``[{id, direction, body, messageType,
        dateAdded, ...}]`` in GHL's order. Accepts ``{"messages": {"messages": [...]}}`` and
        ``{"messages": [...]}`` (GHL documents both)."""
        data = self._request(
            "GET",
            "/conversations/{conversationId}/messages",
            {"conversationId": conversation_id},
            params={"limit": limit},
        )
        inner = data.get("messages") if isinstance(data, dict) else None
        if isinstance(inner, dict):
            return _list_in(inner, "messages")
        return inner if isinstance(inner, list) else []

    # -- opportunities -----------------------------------------------------------------------

    def search_opportunities(self, location_id: str, contact_id: str) -> list[dict[str, Any]]:
        """``GET /opportunities/search?location_id=&contact_id=`` (snake_case, as GHL wants) →
        ``[{id, name, pipelineId, pipelineStageId, status, contactId, ...}]``."""
        data = self._request(
            "GET",
            "/opportunities/search",
            params={"location_id": location_id, "contact_id": contact_id},
        )
        return _list_in(data, "opportunities")

    def create_opportunity(
        self,
        location_id: str,
        pipeline_id: str,
        contact_id: str,
        name: str,
        *,
        stage_id: str | None = None,
        status: str = "open",
        monetary_value: float | None = None,
    ) -> dict[str, Any]:
        """``POST /opportunities/`` → the opportunity. Not retried on 500 / read timeout."""
        payload: dict[str, Any] = {
            "locationId": location_id,
            "pipelineId": pipeline_id,
            "contactId": contact_id,
            "name": name,
            "status": status,
        }
        if stage_id is not None:
            payload["pipelineStageId"] = stage_id
        if monetary_value is not None:
            payload["monetaryValue"] = monetary_value
        data = self._request("POST", "/opportunities/", json=payload, idempotent=False)
        return _unwrap(data, "opportunity")

    def update_opportunity(self, opportunity_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /opportunities/{id}`` (e.g. ``{"pipelineStageId": ...}`` to move the stage) →
        the opportunity."""
        data = self._request(
            "PUT", "/opportunities/{opportunityId}", {"opportunityId": opportunity_id}, json=fields
        )
        return _unwrap(data, "opportunity")

    def list_pipelines(self, location_id: str) -> list[dict[str, Any]]:
        """``GET /opportunities/pipelines?locationId=`` → ``[{id, name, stages: [{id, name}]}]``."""
        data = self._request("GET", "/opportunities/pipelines", params={"locationId": location_id})
        return _list_in(data, "pipelines")

    # -- transport and retries ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        template: str,
        path_params: Mapping[str, str] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> Any:
        path = self._fill(template, path_params or {})
        headers = {"Version": _version_for(template)}
        spent = 0.0  # request time plus requested waits, so a fake ``sleep`` counts too
        refreshed = False  # a 401 is answered with one refreshed token per call, no more
        for attempt in range(1, self._max_attempts + 1):
            started = time.monotonic()
            cause: httpx.TransportError | None = None
            retry_after: float | None = None
            token = self._tokens.token()
            try:
                timeout = max(0.001, min(self._timeout, self._deadline - spent))
                response = self._send(method, path, token, params, json, headers, timeout)
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    fresh = self._tokens.refresh(token)
                    if fresh and fresh != token:
                        logger.info(
                            "GHL refused the token; sending once more with a fresh one",
                            extra={"method": method, "path": template},
                        )
                        response = self._send(method, path, fresh, params, json, headers, timeout)
            except httpx.TransportError as exc:
                cause = exc
                status, detail = 0, type(exc).__name__
                may_retry = not isinstance(exc, _LOCAL_ERRORS) and (
                    idempotent or isinstance(exc, _NOT_SENT_ERRORS)
                )
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._parse(response, method, template)
                detail = self._scrub(_detail_of(response))
                may_retry = (status == 429 or status >= 500) and (
                    idempotent or status in _SAFE_RETRY_STATUSES
                )
                retry_after = _retry_after_seconds(response)
            spent += time.monotonic() - started
            maybe_done = not idempotent and (
                (cause is not None and not isinstance(cause, _LOCAL_ERRORS + _NOT_SENT_ERRORS))
                or (status >= 500 and status not in _SAFE_RETRY_STATUSES)
            )

            if not may_retry:
                raise GhlApiError(
                    status, method, template, detail, maybe_done=maybe_done
                ) from cause
            log: dict[str, object] = {
                "method": method,
                "path": template,
                "status": status,
                "attempt": attempt,
            }
            if attempt >= self._max_attempts:
                logger.warning("GHL request failed", extra=log | {"reason": "max_attempts"})
                raise GhlApiError(
                    status, method, template, detail, maybe_done=maybe_done
                ) from cause
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            if spent + wait >= self._deadline:
                log |= {"wait": round(wait, 3)}
                logger.warning("GHL request failed", extra=log | {"reason": "deadline"})
                detail = f"{detail} (gave up: a {wait:.1f}s wait would pass the deadline)"
                raise GhlApiError(
                    status, method, template, detail, maybe_done=maybe_done
                ) from cause
            logger.warning("GHL request retry", extra=log | {"wait": round(wait, 3)})
            self._sleep(wait)
            spent += wait
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str],
        timeout: float,
    ) -> httpx.Response:
        """One HTTP request with ``token``, counted in the metrics."""
        if token not in self._sent_tokens:
            self._sent_tokens.append(token)
        try:
            response = self._http.request(
                method,
                path,
                params=params,
                json=json,
                headers={**headers, "Authorization": f"Bearer {token}"},
                timeout=timeout,
            )
        except httpx.TransportError:
            self._count(None)
            raise
        self._count(response.status_code)
        return response

    def _count(self, status: int | None) -> None:
        if self._metrics is None:
            return
        self._metrics.add_metric(name="GhlApiRequests", unit="Count", value=1)
        if status is None or status >= 500:
            self._metrics.add_metric(name="GhlApi5xx", unit="Count", value=1)
        elif status >= 400:
            self._metrics.add_metric(name="GhlApi4xx", unit="Count", value=1)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in ``[0, min(cap, base * 2**n))`` for retry ``n = attempt - 1``."""
        return min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1)) * self._rng.random()

    def _parse(self, response: httpx.Response, method: str, template: str) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise GhlApiError(
                response.status_code, method, template, "response is not JSON"
            ) from exc

    def _scrub(self, text: str) -> str:
        for token in self._sent_tokens:
            text = text.replace(token, "***")
        return text

    @staticmethod
    def _fill(template: str, path_params: Mapping[str, str]) -> str:
        for name, value in path_params.items():
            if not value:
                raise ValueError(f"{name} must be a non-empty id")
        return template.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})
