"""One place for logging and metrics. Structured key/value logs; never log message bodies,
phone numbers, emails or tokens — log ids (locationId, contactId, webhookId) and outcomes.

The formatter enforces what the call sites intend, for values a sender controls (an id field
holding an email, a 400 KB "id"): every logged string is cut to :data:`MAX_VALUE_CHARS`,
emails and phone numbers in it are masked, and tracebacks are never written (the exception's
type is; search the logs by it).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "ghl-real-estate-ai"
NAMESPACE = "GhlRealEstateAI"
MAX_VALUE_CHARS = 200
MAX_ITEMS = 50

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w.:/-])(?:\+\d{10,15}|\+?1?[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4})(?![\w.:/-])"
)
#: Keys Powertools fills in itself: left as they are.
_OWN_KEYS = frozenset(
    {"level", "location", "timestamp", "service", "sampling_rate", "cold_start", "xray_trace_id"}
)
_DROPPED_KEYS = ("exception", "stack_trace", "exception_notes")


def sanitise(value: Any, depth: int = 0) -> Any:
    """A logged value made safe: bounded, emails and phone numbers masked."""
    if isinstance(value, str):
        text = value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…[cut]"
        text = _EMAIL.sub("[email]", text)
        return _PHONE.sub("[phone]", text)
    if depth > 3:
        return "[nested]"
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {sanitise(str(k), 9): sanitise(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [sanitise(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return sanitise(str(value), depth)


class SafeFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        for key in _DROPPED_KEYS:
            log.pop(key, None)
        safe = {k: v if k in _OWN_KEYS else sanitise(v) for k, v in log.items()}
        return self.json_serializer(safe)


logger = Logger(service=SERVICE, logger_formatter=SafeFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# Routes like /health publish no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
