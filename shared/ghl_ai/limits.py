"""What a request body and an id must satisfy before anything is stored or queued.

Every public route reads its JSON through :func:`load_json`, which refuses — with a message
naming the problem, never quoting the input — what the rest of the system could not store or
process later: bodies over the route's size, nesting deeper than :data:`MAX_DEPTH`, more than
:data:`MAX_VALUES` values, numbers DynamoDB cannot hold (more than 38 significant digits, or
``NaN``/``Infinity``), text that is not UTF-8. Lone UTF-16 surrogates (``"\\ud800"``, a broken
emoji) are replaced by U+FFFD rather than refused: a real lead's message with one is still
answered. Ids (location, contact, message) must match :data:`ID_PATTERN`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ghl_ai.errors import MalformedBody

#: JSON objects/arrays may nest this deep (GHL's payloads nest 3–4 levels).
MAX_DEPTH = 32
#: Values (objects, arrays, strings, numbers, ...) in one body.
MAX_VALUES = 10_000
#: DynamoDB numbers hold 38 significant digits; Python refuses int() of 4,300+ digits.
MAX_DIGITS = 38
#: GHL ids are 20 characters; ours (dedupe keys aside) are shorter than this.
MAX_ID_LENGTH = 128
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")

_SURROGATES = re.compile("[\ud800-\udfff]")


class PayloadTooLarge(MalformedBody):
    """A body over the route's size limit (answered 413)."""


class _Refused(ValueError):
    pass


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - json only hands over valid literals
        raise _Refused("a number is not valid") from None
    if not value.is_finite():
        raise _Refused("numbers must be finite")
    digits = value.as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    if significant > MAX_DIGITS:
        raise _Refused(f"numbers may have at most {MAX_DIGITS} significant digits")
    exponent = value.adjusted()
    if not -130 <= exponent <= 125:  # DynamoDB's number range
        raise _Refused("a number is out of range (DynamoDB holds 1e-130 to 1e125)")
    return value


def _int(text: str) -> int:
    return int(_number(text))


def _float(text: str) -> float:
    return float(_number(text))


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows")


def _clean(text: str) -> str:
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def _checked(value: Any) -> Any:
    """Walk the parsed body without recursion: depth, count, surrogates replaced in place."""
    count = 0
    root = [value]
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Refused(f"body nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            if any(_SURROGATES.search(k) for k in node):
                fixed = {_clean(k): v for k, v in node.items()}
                node.clear()
                node.update(fixed)
            items: Any = node.items()
        else:
            items = enumerate(node)
        for key, child in list(items):
            count += 1
            if count > MAX_VALUES:
                raise _Refused(f"body holds more than {MAX_VALUES} values")
            if isinstance(child, str):
                node[key] = _clean(child)
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return root[0]


def load_json(raw: bytes, *, max_bytes: int) -> Any:
    """The parsed body, or :class:`PayloadTooLarge` / :class:`MalformedBody` saying why not."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"body is larger than {max_bytes // 1024} KB")
    if not raw.strip():
        raise MalformedBody("request body is empty; expected a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("request body is not UTF-8 text") from None
    try:
        parsed = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
        return _checked(parsed)
    except RecursionError:
        raise MalformedBody(f"body nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise MalformedBody(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except _Refused as exc:
        raise MalformedBody(f"request body refused: {exc}") from None


def id_problem(value: Any, field: str) -> str | None:
    """Why ``value`` cannot be an id (``"contactId: ..."``), or None when it can."""
    if not isinstance(value, str):
        return f"{field}: must be a string"
    if len(value) > MAX_ID_LENGTH:
        return f"{field}: must be at most {MAX_ID_LENGTH} characters"
    if not ID_PATTERN.fullmatch(value):
        return f"{field}: must be letters, digits, '_', '-', '.' or ':'"
    return None
