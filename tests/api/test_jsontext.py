"""Exact JSON: numbers survive the round trip as written, and the canonical form is stable."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from api import jsontext

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


def _same(a, b) -> bool:
    # Decimal("2") is written as 2 and read back as an int: equal value, that is what matters.
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return not isinstance(a, bool) and not isinstance(b, bool) and Decimal(a) == Decimal(b)
    return type(a) is type(b) and a == b


@given(_values)
def test_round_trip_keeps_every_value(value):
    assert _same(jsontext.loads(jsontext.dumps(value)), value)


@given(_values)
def test_canonical_text_is_a_fixed_point(value):
    text = jsontext.canonical(value)
    assert jsontext.canonical(jsontext.loads(text)) == text
    json.loads(text)  # and it is plain JSON any client can read


def test_fractions_are_never_floats():
    parsed = jsontext.loads('{"a": 0.1, "b": 1e-30}')
    assert parsed == {"a": Decimal("0.1"), "b": Decimal("1E-30")}
    assert jsontext.dumps(parsed) == '{"a": 0.1, "b": 1E-30}'


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '[-Infinity]'])
def test_nan_and_infinity_are_refused(text):
    with pytest.raises(ValueError):
        jsontext.loads(text)
