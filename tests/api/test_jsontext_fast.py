"""The fast JSON writer (C encoder + Decimal markers) gives exactly the reference writer's bytes.

Stored row hashes are taken over these bytes, so any difference would break old chains.
"""
from __future__ import annotations

import datetime as dt
import enum
import uuid
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


class _Text(str):
    pass


class _Number(int):
    pass


class _Colour(enum.Enum):
    RED = 1


_odd = st.sampled_from(["\x00#\x00", "\\u0000", "\x00", "\ud800", "0.0000", "1e-05", "\u2028", "\x7f", "é", '"', "\\",
                        "null", "NaN"])
_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | _text | _odd | st.dates() | st.datetimes()
    | st.datetimes(timezones=st.just(dt.timezone(dt.timedelta(hours=2))))
    | st.decimals() | st.floats() | st.integers(min_value=2 ** 63 - 2, max_value=2 ** 70)
    | st.integers(min_value=-2 ** 70, max_value=-2 ** 63 + 2)
    | st.sampled_from([_Text("x"), _Number(3), _Colour.RED, uuid.UUID(int=7), dt.time(1, 2), float("nan")]),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(_text | _odd, inner, max_size=4) | st.dictionaries(st.integers(0, 3), inner, max_size=2)
    | st.dictionaries(st.sampled_from([_Text("k"), "k", "j"]), inner, max_size=2),
    max_leaves=25)


def _outcome(fn):
    try:
        return "text", fn()
    except (TypeError, ValueError) as exc:
        return "refused", type(exc)


@settings(max_examples=3000, deadline=None)
@given(_anything)
def test_canonical_writer_equals_the_reference_writer(value):
    """orjson where it writes the same bytes, the other writer elsewhere: the reference bytes (or its refusal)
    for anything, floats, non-finite numbers, odd texts, enums, UUIDs, subclasses and odd keys included."""
    assert _outcome(lambda: jsontext.canonical(value)) == _outcome(lambda: jsontext._slow_dumps(value, True))


@settings(max_examples=1000, deadline=None)
@given(_values)
def test_canonical_writer_on_json_data_takes_the_fast_path(value):
    """On JSON data the property above is exercised on orjson's own output, not only on the fallback."""
    assert jsontext._plain_data(value)
    try:
        expected = jsontext._slow_dumps(value, True)
    except (TypeError, ValueError):
        return
    assert jsontext.canonical(value) == expected
