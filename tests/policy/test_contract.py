"""The fact contract's bounds are the declared numbers, exactly (never a float)."""
from __future__ import annotations

from decimal import Decimal

from api import jsontext
from engine.expr.types import DECIMAL, INT
from engine.policy.contract import _value_schema
from engine.policy.facts import Fact


def test_fractional_bounds_are_exact_decimals_and_written_digit_for_digit():
    fact = Fact(name="share", type=DECIMAL, label="Quota", description="a share",
                minimum=Decimal("0.1"), maximum=Decimal("0.123456789012345678901"))
    schema = _value_schema(fact)
    assert schema["minimum"] == Decimal("0.1") and not isinstance(schema["minimum"], float)
    assert schema["maximum"] == Decimal("0.123456789012345678901")
    text = jsontext.dumps(schema)
    assert '"minimum": 0.1' in text and '"maximum": 0.123456789012345678901' in text


def test_whole_bounds_stay_integers():
    fact = Fact(name="hours", type=INT, label="Ore", description="hours", minimum=Decimal("0"),
                maximum=Decimal("168.0"))
    schema = _value_schema(fact)
    assert schema["minimum"] == 0 and type(schema["minimum"]) is int
    assert schema["maximum"] == 168 and type(schema["maximum"]) is int


def test_the_openapi_person_schema_keeps_fractional_bounds_exact():
    from api.openapi import _decimal
    fact = Fact(name="share", type=DECIMAL, label="Quota", description="a share",
                minimum=Decimal("0.05"), maximum=Decimal("0.123456789012345678901"))
    number, _text = _decimal(fact)
    assert number["minimum"] == Decimal("0.05") and number["maximum"] == Decimal("0.123456789012345678901")
    assert '"maximum": 0.123456789012345678901' in jsontext.dumps(number)
