"""The fast JSON writer (C encoder + Decimal markers) gives exactly the reference writer's bytes.

Stored row hashes are taken over these bytes, so any difference would break old chains.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from api import jsontext

_text = st.text(max_size=12)  # any code point, NUL and the marker's characters included
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False) | st.sampled_from(["\x00#\x00", "\\u0000", "\x00"]),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(_text, inner, max_size=4),
    max_leaves=25)


@settings(max_examples=400)
@given(_values, st.booleans())
def test_fast_writer_equals_the_reference_writer(value, canonical):
    assert jsontext.dumps(value, canonical=canonical) == jsontext._slow_dumps(value, canonical)


def test_a_string_that_looks_like_a_marker_stays_a_string():
    value = {"a": "\x00#\x00", "b": Decimal("1.10")}
    assert jsontext.canonical(value) == '{"a":"\\u0000#\\u0000","b":1.10}'
    assert jsontext.loads(jsontext.canonical(value)) == value


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_decimals_are_refused(bad):
    with pytest.raises(ValueError):
        jsontext.canonical({"x": bad})


def test_other_objects_are_refused():
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
    assert jsontext.dumps(dt.datetime(2020, 1, 2, 3, 4)) == '"2020-01-02T03:04:00"'
