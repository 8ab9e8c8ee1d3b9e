"""Direct tests of the plan/claim input reader: every problem collected, each with its path and code."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.costs.pricing import Reader
from engine.errors import InputErrors


def test_reader_collects_every_problem_with_path_and_code():
    r = Reader()
    r.obj({"servizi": []}, ("plan",), ("person", "services"), required=("person",))
    assert r.number("abc", ("plan", "services", 0, "quantity")) is None
    assert r.number(True, ("plan", "services", 1, "quantity")) is None
    assert r.number("0", ("plan", "services", 2, "quantity")) is None
    assert r.date("2014-W09-6", ("claim", "start_date")) is None
    assert r.choice("gruppo", ("plan", "services", 0, "delivery"), ("individual", "group")) is None
    with pytest.raises(InputErrors) as info:
        r.check()
    got = {p.path: p.code for p in info.value.problems}
    assert got == {("plan", "servizi"): "unknown_field", ("plan", "person"): "missing_field",
                   ("plan", "services", 0, "quantity"): "invalid_value",
                   ("plan", "services", 1, "quantity"): "type_error",
                   ("plan", "services", 2, "quantity"): "invalid_value",
                   ("claim", "start_date"): "invalid_value",
                   ("plan", "services", 0, "delivery"): "invalid_value"}


def test_reader_accepts_good_values_exactly():
    r = Reader()
    assert r.number("2.50", ("q",)) == Decimal("2.50")
    assert r.number(4, ("q",), maximum=Decimal(4)) == 4
    assert r.date("2014-03-01", ("d",)) == dt.date(2014, 3, 1)
    assert r.choice("group", ("c",), ("individual", "group")) == "group"
    r.check()  # nothing collected


def test_reader_caps_and_places():
    r = Reader()
    assert r.number("5", ("q",), maximum=Decimal(4)) is None
    assert r.number("1.234", ("q",)) is None
    messages = [p.message for p in r.problems]
    assert "al massimo 4" in messages[0] and "cifre decimali" in messages[1]
