"""Scan log lines for what must never be logged: phone numbers, emails, message bodies, tokens
and keys (issue 10: the whole test suite's log and the soak's are checked with this).

Emails and phone numbers are found by pattern (E.164, and US numbers written with separators:
``(909) 555-0142``, ``909-555-0142``, ``909.555.0142``, ``+1 909 555 0142``), percent-encoded
ones too (a logged URL); a bare run of digits is a phone only under a phone-like JSON key
(``"phone": "9095550142"``), because ids, epoch seconds and millis are bare digits as well.
Well-known token shapes (``Bearer ...``, ``sk-ant-...``, JWTs, PEM private keys, AWS access
keys) are found by pattern; everything else — the secrets, phones, emails and message bodies
a run actually used — is passed in and found verbatim.

Each finding names the line, the kind and the value masked: a report of a leak never repeats it.

    python -m local.logscan FILE [--secret VALUE ...]   exit 1 and one line per leak
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

#: Known values shorter than this are not looked for: they occur in ordinary text.
MIN_SECRET_CHARS = 8
MIN_BODY_CHARS = 12

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
# E.164: a plus, a non-zero country code, 7 to 15 digits in all (``+00:00`` offsets and
# ``1e+10`` exponents are too short or start with 0).
_E164 = re.compile(r"(?<![\w+])\+[1-9]\d{6,14}(?!\d)")
# A NANP number written with separators, optionally with its +1 / 1 prefix. The area code and
# exchange start 2-9, which leaves out ISO dates (4-2-2) and most digit groups of ids.
_US = re.compile(
    r"(?<![\w.+-])(?:\+?1[\s.-]?)?(?:\(\s?[2-9]\d{2}\s?\)\s?|[2-9]\d{2}[\s.-])[2-9]\d{2}[\s.-]\d{4}"
    r"(?![\w-]|\.\d)"
)
# Digits alone are a phone only where the key says so (``"phone": "9095550142"``).
_PHONE_FIELD = re.compile(
    r"\"(?:phone|phoneNumber|phone_number|mobile|from|to|number)\"\s*:\s*\"(\+?\d{10,15})\""
)
_TOKENS = (
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-ant-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
)


def mask(value: str) -> str:
    """``+19095550142`` → ``+1*******42 (12 chars)``: enough to tell findings apart, never the
    value."""
    if len(value) <= 6:
        return "*" * len(value) + f" ({len(value)} chars)"
    return f"{value[:2]}{'*' * min(len(value) - 4, 12)}{value[-2:]} ({len(value)} chars)"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _known(values: Iterable[str], kind: str) -> dict[str, str]:
    """The forms each known value is looked for in, with the kind reported: a phone also as
    its digits and its 10-digit national number, an email in any case."""
    found: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if not value:
            continue
        if kind != "body" and (
            _EMAIL.fullmatch(value) or _E164.fullmatch(value) or _US.fullmatch(value)
        ):
            digits = _digits(value)
            if "@" in value:
                found[value.lower()] = "email"
            else:
                found[value] = "phone"
                found[digits] = "phone"
                if len(digits) > 10 and digits.startswith("1"):
                    found[digits[-10:]] = "phone"
            continue
        if len(value) >= (MIN_BODY_CHARS if kind == "body" else MIN_SECRET_CHARS):
            found.setdefault(value, kind)
    return found


def _alternation(values: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(values), key=len, reverse=True)  # the longest form wins
    if not ordered:
        return None
    return re.compile("|".join(re.escape(v) for v in ordered))


def _distinct(leaks: dict[str, str]) -> dict[str, str]:
    """One finding per phone number, however many forms of it the line holds."""
    kept: dict[str, str] = {}
    numbers: set[str] = set()
    for value, kind in leaks.items():
        if kind == "phone":
            number = _digits(value)[-10:]
            if number in numbers:
                continue
            numbers.add(number)
        kept[value] = kind
    return kept


def find_leaks(
    lines: Iterable[str],
    known_secrets: Iterable[str] = (),
    *,
    known_bodies: Iterable[str] = (),
) -> list[str]:
    """One description per line that leaks something: ``line N: <kind> <masked value>, ...``
    (lines counted from 1). ``known_secrets``: tokens, keys, and the phones and emails the run
    used (each reported as what it is); ``known_bodies``: message texts."""
    known = {**_known(known_bodies, "body"), **_known(known_secrets, "secret")}
    exact = _alternation(v for v, k in known.items() if k != "email")
    emails = _alternation(v for v, k in known.items() if k == "email")
    found: list[str] = []
    for number, line in enumerate(lines, 1):
        leaks: dict[str, str] = {}  # value → kind, in the order found
        texts = [line]
        if "%" in line:
            decoded = unquote(line)
            if decoded != line:
                texts.append(decoded)
        for text in texts:
            for match in _EMAIL.finditer(text):
                leaks.setdefault(match.group(0), "email")
            for pattern in (_E164, _US):
                for match in pattern.finditer(text):
                    leaks.setdefault(match.group(0), "phone")
            for match in _PHONE_FIELD.finditer(text):
                leaks.setdefault(match.group(1), "phone")
            for pattern in _TOKENS:
                for match in pattern.finditer(text):
                    leaks.setdefault(match.group(0), "secret")
            if exact is not None:
                for match in exact.finditer(text):
                    leaks.setdefault(match.group(0), known[match.group(0)])
            if emails is not None:
                for match in emails.finditer(text.lower()):
                    leaks.setdefault(match.group(0), "email")
        if leaks:
            parts = ", ".join(f"{kind} {mask(value)}" for value, kind in _distinct(leaks).items())
            found.append(f"line {number}: {parts}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a log file (one line per record)")
    parser.add_argument("--secret", action="append", default=[], help="a value to look for")
    parser.add_argument("--body", action="append", default=[], help="a message text")
    args = parser.parse_args(argv)
    with args.file.open(encoding="utf-8", errors="replace") as handle:
        leaks = find_leaks(handle, args.secret, known_bodies=args.body)
    for leak in leaks:
        print(leak)
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
