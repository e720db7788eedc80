"""Lyrio website forms, generated: any body in any content type is parsed or refused with the
documented errors; the same form posted as JSON or form-encoded, under any of the key spellings
websites use (``first_name``, ``firstName``, ``first-name``), is the same validated form."""

from __future__ import annotations

import json
import re
import string
from typing import Any
from urllib.parse import urlencode

import hypothesis
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ghl_ai.errors import MalformedBody
from ghl_ai.forms import intake as forms
from ghl_ai.forms.lyrio import LyrioForm, normalise_phone
from tests.property.strategies import RAW_LITERALS, field_values, json_values, raw_json, words

CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ]
)
E164 = re.compile(r"^\+[0-9]{8,15}$")
#: E.164's shape in any script's digits (the ASCII-only rule is tested on its own, below).
E164_SHAPE = re.compile(r"^\+\d{8,15}$")
FORM_FIELDS = set(LyrioForm.model_fields)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


SPELLINGS = {
    "snake": lambda name: name,
    "camel": _camel,
    "kebab": lambda name: name.replace("_", "-"),
    "Title-Kebab": lambda name: "-".join(part.title() for part in name.split("_")),
}

phones = st.one_of(
    st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z"),
    st.from_regex(r"\A\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}\Z"),
    st.from_regex(r"\A\+1 [2-9][0-9]{2} [2-9][0-9]{2} [0-9]{4}\Z"),
    st.from_regex(r"\A\+[1-9][0-9]{7,14}\Z"),
)
names = st.text(st.characters(categories=["L"]), min_size=1, max_size=30).filter(str.strip)


@st.composite
def valid_forms(draw: st.DrawFn) -> dict[str, str]:
    """What a visitor fills in: text fields, a phone and/or an email, the consent box."""
    form: dict[str, str] = {}
    if draw(st.booleans()):
        form["phone"] = draw(phones)
    if draw(st.booleans()) or "phone" not in form:
        # Letters-only top-level domains: the form refuses punycode ones (xn--p1ai), see the
        # report of issue 10.
        form["email"] = draw(st.emails().filter(lambda e: re.search(r"\.[A-Za-z]{2,}$", e)))
    for field in ("first_name", "last_name", "message", "budget", "timeline", "utm_source"):
        if draw(st.booleans()):
            form[field] = draw(names)
    if draw(st.booleans()):
        form["intent"] = draw(st.sampled_from(["buy", "Selling", "both", "RENT", "invest"]))
    if draw(st.booleans()):
        form["consent"] = draw(st.sampled_from(["on", "true", "yes", "1", "off", ""]))
    return form


def parse(raw: bytes, content_type: str) -> dict[str, Any] | None:
    try:
        fields = forms.parse_body(raw, content_type)
    except (forms.UnsupportedMediaType, MalformedBody) as exc:
        assert str(exc)
        hypothesis.event(f"refused: {type(exc).__name__}")
        return None
    except forms.InvalidForm as exc:
        assert exc.problems == [{"field": "body", "message": "must be a JSON object"}]
        hypothesis.event("refused: InvalidForm")
        return None
    assert isinstance(fields, dict)
    return fields


def validate(fields: dict[str, Any]) -> LyrioForm | None:
    try:
        form = forms.validate(fields)
    except forms.InvalidForm as exc:
        assert exc.problems
        for problem in exc.problems:
            assert set(problem) == {"field", "message"}
            assert problem["field"] in FORM_FIELDS, problem
            assert problem["message"]
        hypothesis.event("invalid form")
        return None
    hypothesis.event("valid form")
    assert form.phone or form.email
    if form.phone:
        assert E164_SHAPE.match(form.phone), form.phone
    if form.email:
        assert form.email == form.email.lower() and "@" in form.email
    return form


BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(RAW_LITERALS).map(str.encode),
    st.dictionaries(st.sampled_from(sorted(FORM_FIELDS)) | words, field_values, max_size=8).flatmap(
        raw_json
    ),
    json_values.flatmap(raw_json),
    st.dictionaries(words, st.text(max_size=20), max_size=8).map(lambda d: urlencode(d).encode()),
)


@given(raw=BODIES, content_type=CONTENT_TYPES)
@example(raw=b"[" * 100_000, content_type="application/json")
@example(raw=b'{"phone": ' + b"9" * 5000 + b"}", content_type="application/json")
@example(raw=b"phone=%ED%A0%80&email=a%40b.co", content_type="application/x-www-form-urlencoded")
@example(raw=b"&".join([b"a%d=1" % i for i in range(200)]), content_type=forms.FORM_ENCODED)
@example(raw=b" " * (forms.MAX_BODY_BYTES + 1), content_type="application/json")
def test_any_body_is_parsed_and_validated_or_refused(raw: bytes, content_type: str) -> None:
    fields = parse(raw, content_type)
    if fields is not None:
        validate(fields)
        forms.site_key_of(fields, None)
        forms.is_honeypot(fields)


@given(form=valid_forms(), spelling=st.sampled_from(sorted(SPELLINGS)))
def test_json_and_form_encoded_give_the_same_form_whatever_the_key_spelling(
    form: dict[str, str], spelling: str
) -> None:
    spelled = {SPELLINGS[spelling](key): value for key, value in form.items()}
    as_json = parse(json.dumps(spelled).encode(), forms.JSON)
    encoded = parse(urlencode(spelled).encode(), forms.FORM_ENCODED)
    assert as_json is not None and encoded is not None
    assert as_json == encoded == form  # keys back to the model's own snake_case
    validated = validate(as_json)
    assert validated is not None, "a form a visitor can fill in is accepted"
    assert validated == validate(encoded)
    for field in ("first_name", "last_name", "message", "budget", "timeline"):
        assert getattr(validated, field) == (form[field].strip() if field in form else None)
    if "phone" in form:
        assert validated.phone == normalise_phone(form["phone"])
    assert validated.consent == (form.get("consent") in ("on", "true", "yes", "1"))
    # One form, one dedupe key: a double submit is recognised whichever way it was posted.
    key = forms.dedupe_key("loc", validated)
    assert key == forms.dedupe_key("loc", forms.validate(encoded))
    assert key != forms.dedupe_key("other-loc", validated)


@given(number=st.text(string.printable, max_size=24) | phones)
def test_a_phone_is_e164_or_refused(number: str) -> None:
    try:
        normalised = normalise_phone(number)
    except ValueError:
        return
    assert E164.match(normalised), normalised


@pytest.mark.parametrize("number", ["٥١٢٥٥٥٠١٤٧", "５１２５５５０１４７", "+٤٤٢٠٧١٢٣٤٥٦"])
def test_a_phone_in_other_scripts_digits_is_refused(number: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(number)
