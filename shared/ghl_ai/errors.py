"""Domain exceptions. Adapters translate library errors into these (``raise ... from exc``);
the intake API maps them to HTTP status codes in one place (functions/intake/app.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for errors the system raises on purpose."""


class InvalidSignature(DomainError):
    """A Marketplace webhook whose X-GHL-Signature is missing, malformed or does not verify."""


class Unauthorized(DomainError):
    """A request without valid credentials (workflow secret, API key, site key)."""


class MalformedBody(DomainError):
    """A body that is not parseable at all (not JSON, not form-encoded)."""


class SchemaError(DomainError):
    """A parseable body whose fields are missing or of the wrong type.

    ``problems`` lists one human-readable line per field ("contactId: Field required").
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DuplicateInProgress(DomainError):
    """The same delivery is being processed right now by another invocation; retry later."""


class GhlApiError(DomainError):
    """A GHL API call failed for good (after the retries the policy allows).

    Carries the HTTP status (0 for transport errors), the method and the path template —
    never the token, the request body or personal data.
    """

    def __init__(
        self, status: int, method: str, path: str, detail: str = "", *, maybe_done: bool = False
    ) -> None:
        #: A non-idempotent request (an SMS, a note) that GHL may have carried out even though
        #: the answer was an error or never came: repeating it could do it twice.
        self.maybe_done = maybe_done
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail
        super().__init__(
            f"GHL {method} {path} failed with status {status}{': ' + detail if detail else ''}"
        )

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500
