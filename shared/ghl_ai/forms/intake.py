"""Accepting a Lyrio website form (``POST /forms/lyrio``): parse, screen, validate, enqueue.

The route (functions/intake/app.py) runs these steps in order:

1. :func:`parse_body` — ``application/json`` (an object) or ``application/x-www-form-urlencoded``
   (first value of each key) into a flat ``dict``; keys are normalised to the form model's
   snake_case (``firstName`` and ``first-name`` → ``first_name``).
2. :func:`site_key_of` — the location's public site key (``X-Site-Key`` header, else the
   ``siteKey`` / ``site_key`` field) which the tenant directory turns into a location.
3. :meth:`FormIntake.screen` — the per-client rate limit (fixed one-hour window per location and
   client IP), the honeypot (a filled-in ``website`` field: answered like an accept, dropped)
   and validation into :class:`~ghl_ai.forms.lyrio.LyrioForm`.
4. :meth:`FormIntake.accept` — enqueue one :class:`~ghl_ai.jobs.LyrioFormJob` keyed by
   :func:`dedupe_key`; the route wraps it in an idempotency record so a double submit is
   enqueued once. The worker upserts the GHL contact and records the ``form_submission``
   behaviour event (only it learns the contact id).

Nothing here logs or returns what the visitor typed: problems name fields, never values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError

from ghl_ai.adapters.queue import JobQueue
from ghl_ai.adapters.ratelimit import FixedWindowLimiter, RateLimitUnavailable
from ghl_ai.errors import DomainError, MalformedBody
from ghl_ai.forms.lyrio import HONEYPOT_FIELD, LyrioForm
from ghl_ai.jobs import LyrioFormJob
from ghl_ai.limits import load_json
from ghl_ai.observability import logger
from ghl_ai.webhooks.events import utcnow

JSON = "application/json"
FORM_ENCODED = "application/x-www-form-urlencoded"
SITE_KEY_FIELD = "site_key"
#: More fields than any contact form has: a body beyond this is not a form.
MAX_FIELDS = 100
#: A contact form is well under a KB; a body beyond this is not a form.
MAX_BODY_BYTES = 32 * 1024

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class UnsupportedMediaType(DomainError):
    """A form body in a content type we do not read (415)."""


class InvalidForm(DomainError):
    """A parseable form with bad or missing fields (422).

    ``problems``: ``[{"field": ..., "message": ...}]``, one per field, never quoting a value.
    """

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(", ".join(p["field"] for p in problems))
        self.problems = problems


class TooManySubmissions(DomainError):
    """The client posted more forms this window than the location allows (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class FormSubmission(BaseModel):
    """A validated form on its way to the queue; ``dedupe_key`` is its idempotency key."""

    model_config = ConfigDict(frozen=True)

    dedupe_key: str
    location_id: str
    form: LyrioForm


# -- parsing ---------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _field_name(key: str) -> str:
    return _CAMEL.sub("_", key.strip()).replace("-", "_").lower()


def _normalised(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        name = _field_name(key)
        # The model's own spelling wins over a camelCase twin.
        if name not in out or key == name:
            # Numbers where the model wants text (a phone posted as 5125550147).
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            out[name] = value
    return out


def parse_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The submitted fields. Raises :class:`UnsupportedMediaType`, :class:`MalformedBody` (not
    parseable) or :class:`InvalidForm` (JSON that is not an object)."""
    kind = media_type(content_type)
    if kind == JSON:
        payload = load_json(raw, max_bytes=MAX_BODY_BYTES)
        if not isinstance(payload, dict):
            raise InvalidForm([{"field": "body", "message": "must be a JSON object"}])
        return _normalised(payload)
    if kind == FORM_ENCODED:
        try:
            parsed = parse_qs(
                raw.decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=MAX_FIELDS,
            )
        except (ValueError, UnicodeDecodeError):
            raise MalformedBody("body is not a valid form-encoded form") from None
        return _normalised({key: values[0] for key, values in parsed.items()})
    # The type the client sent is not echoed: it is the client's text.
    raise UnsupportedMediaType(f"unsupported content type: send {JSON} or {FORM_ENCODED}")


def site_key_of(fields: Mapping[str, Any], header: str | None) -> str | None:
    """The site key: the ``X-Site-Key`` header, else the ``siteKey``/``site_key`` field."""
    if header and header.strip():
        return header.strip()
    value = fields.get(SITE_KEY_FIELD)
    return value.strip() or None if isinstance(value, str) else None


def is_honeypot(fields: Mapping[str, Any]) -> bool:
    """A bot filled in the hidden field humans never see."""
    value = fields.get(HONEYPOT_FIELD)
    return value is not None and str(value).strip() != ""


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        # The model-level rule ("a phone or an email is required") has no location: it is the
        # phone the visitor should fill in.
        field = str(error["loc"][0]) if error["loc"] else "phone"
        problems.setdefault(field, error["msg"].removeprefix("Value error, "))
    return [{"field": field, "message": message} for field, message in problems.items()]


def validate(fields: Mapping[str, Any]) -> LyrioForm:
    """The form, or :class:`InvalidForm` naming every bad field."""
    data = {k: v for k, v in fields.items() if k not in (SITE_KEY_FIELD, HONEYPOT_FIELD)}
    try:
        return LyrioForm.model_validate(data)
    except ValidationError as exc:
        raise InvalidForm(_problems(exc)) from None


# -- keys ------------------------------------------------------------------------------------


def _digest(location_id: str, content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "form:" + hashlib.sha256(f"{location_id}\n{canonical}".encode()).hexdigest()


def dedupe_key(location_id: str, form: LyrioForm) -> str:
    """``form:`` + SHA-256 of the location and the validated form: the same form submitted twice
    (a double click, a browser retry) has the same key."""
    return _digest(location_id, form.model_dump(mode="json"))


def client_scope(location_id: str, client_ip: str) -> str:
    """The rate-limit scope of one client of one location; the IP is stored only hashed."""
    ip_hash = hashlib.sha256(client_ip.encode()).hexdigest()[:16]
    return f"form#{location_id}#{ip_hash}"


# -- the intake ------------------------------------------------------------------------------


class FormIntake:
    def __init__(
        self,
        jobs: JobQueue,
        limiter: FixedWindowLimiter,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._jobs = jobs
        self._limiter = limiter
        self._clock = clock

    def screen(
        self, location_id: str, client_ip: str, fields: Mapping[str, Any]
    ) -> LyrioForm | None:
        """Rate limit, honeypot, validation. Returns the form to accept, or ``None`` for a bot
        submission that must be answered like an accept and dropped. Raises
        :class:`TooManySubmissions` or :class:`InvalidForm`."""
        try:
            decision = self._limiter.hit(client_scope(location_id, client_ip))
        except RateLimitUnavailable as exc:
            # Abuse control must not cost a real lead: let the form through.
            logger.warning(
                "form rate limit unavailable; allowing",
                extra={"location_id": location_id, "error_type": str(exc)},
            )
        else:
            if not decision.allowed:
                raise TooManySubmissions(decision.retry_after)
        if is_honeypot(fields):
            return None
        return validate(fields)

    @staticmethod
    def decoy_id(location_id: str, fields: Mapping[str, Any]) -> str:
        """An id shaped like a real one, for the answer to a honeypot submission."""
        return _digest(location_id, {k: v for k, v in fields.items() if k != SITE_KEY_FIELD})

    @staticmethod
    def submission(location_id: str, form: LyrioForm) -> FormSubmission:
        return FormSubmission(
            dedupe_key=dedupe_key(location_id, form), location_id=location_id, form=form
        )

    def accept(self, submission: FormSubmission) -> dict[str, str]:
        """Enqueue the form for the worker (call once per dedupe key)."""
        job = LyrioFormJob(
            id=submission.dedupe_key,
            received_at=self._clock(),
            location_id=submission.location_id,
            form=submission.form,
        )
        self._jobs.send(job.model_dump_json())
        return {"status": "accepted", "id": submission.dedupe_key}
