"""Reading an item decodes every value as boto3's deserializer does (``from_item`` decodes the
common types itself, for speed): the same Python values, of the same types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from ghl_ai.adapters.dynamo import _python, from_item

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(Decimal),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6
    ),
    st.sampled_from([Decimal("1E+2"), Decimal("-0.0"), Decimal("2.50"), Decimal("0")]),
)
scalars = st.one_of(
    st.text(max_size=20), numbers, st.booleans(), st.none(), st.binary(max_size=5).map(Binary)
)
sets = st.one_of(
    st.frozensets(st.text(max_size=5), min_size=1, max_size=3).map(set),
    st.frozensets(st.integers(-100, 100).map(Decimal), min_size=1, max_size=3).map(set),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), values, min_size=1, max_size=5))
def test_an_item_reads_as_the_deserializer_reads_it(data: dict[str, Any]) -> None:
    item = {k: _serializer.serialize(v) for k, v in data.items()}
    expected = {k: _python(_deserializer.deserialize(v)) for k, v in item.items()}
    got = from_item(item)
    assert got == expected
    assert repr(got) == repr(expected)  # 1 stays an int, 2.5 a float
