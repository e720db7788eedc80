"""Hypothesis strategies shared by the property tests: values as senders really produce them.

JSON values carry huge integers, non-finite floats, every Unicode character (lone surrogates
included) and some nesting; :func:`raw_json` turns one into the bytes that arrive on the wire,
sometimes with a raw literal spliced in that ``json.dumps`` would never write (``NaN``, a
5,000-digit integer, a surrogate as raw bytes, nesting thousands deep).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Every code point, lone surrogates (category Cs) included.
characters = st.one_of(st.characters(), st.characters(categories=["Cs"]))
text = st.text(characters, max_size=24)
#: What ids and names look like in practice, so generated payloads get past type checks often.
words = st.text(st.characters(categories=["L", "N"], max_codepoint=0x7F), min_size=1, max_size=20)

big_integers = st.one_of(
    st.integers(),
    st.integers(min_value=10**18, max_value=10**60),
    st.integers(min_value=-(10**60), max_value=-(10**18)),
    st.integers(min_value=300, max_value=4000).map(lambda n: 10**n - 1),
)
numbers = st.one_of(big_integers, st.floats(allow_nan=True, allow_infinity=True))
scalars = st.one_of(st.none(), st.booleans(), numbers, text, words)

json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(text | words, children, max_size=4)
    ),
    max_leaves=12,
)

#: Values a well-behaved sender produces (finite numbers DynamoDB holds, valid text): most
#: generated payloads use these so they get past the reader and reach the parsers' checks.
plain_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
plain_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(min_value=-1e30, max_value=1e30).filter(lambda f: f == 0 or abs(f) > 1e-100),
        plain_text,
        words,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(plain_text | words, children, max_size=4)
    ),
    max_leaves=12,
)
#: Mostly plain values, sometimes anything.
field_values = st.one_of(*[plain_json] * 5, json_values)

#: Literals ``json.dumps`` never writes but a sender can: each must be parsed or refused.
RAW_LITERALS: tuple[str, ...] = (
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-400",
    "-0",
    "9" * 4301,
    "-" + "9" * 5000,
    "1" + "0" * 400 + ".5",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"a\\u0000b"',
    "[" * 3000 + "]" * 3000,
    '{"a":' * 1200 + "1" + "}" * 1200,
    "[" * 60 + "1" + "]" * 60,
)
#: Raw byte sequences spliced inside a JSON string: a lone surrogate encoded as UTF-8 would
#: be (CESU), an overlong form, a stray continuation byte, a NUL.
RAW_STRING_BYTES: tuple[bytes, ...] = (
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xc0\xaf",
    b"\x80",
    b"\x00",
)

_MARK = "__raw_splice__"


@st.composite
def raw_json(draw: st.DrawFn, value: Any) -> bytes:
    """``value`` as a sender might encode it: ASCII-escaped or not, compact or indented, and
    sometimes with one member replaced by a raw literal or raw bytes."""
    splice = draw(st.sampled_from(("none", "none", "literal", "bytes")))
    if splice != "none" and isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value, key=repr)))
        value = {**value, key: _MARK}
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        allow_nan=True,
        indent=draw(st.sampled_from((None, None, 2))),
    )
    raw = text.encode("utf-8", "surrogatepass")
    marker = json.dumps(_MARK).encode()
    if marker in raw:
        if splice == "literal":
            raw = raw.replace(marker, draw(st.sampled_from(RAW_LITERALS)).encode())
        else:
            raw = raw.replace(marker, b'"x' + draw(st.sampled_from(RAW_STRING_BYTES)) + b'y"')
    return raw


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON documents (NaN equal to NaN, which ``==`` says it is not)."""
    return json.dumps(a, sort_keys=True, allow_nan=True) == json.dumps(
        b, sort_keys=True, allow_nan=True
    )
