"""Money: ``Decimal`` euro, rounded in one place.

Rule: amounts are rounded to the cent, half-up (the usual rule for public payments in
euro), unless a policy states another rule. Nothing else in almp rounds money.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP


def to_cents(amount) -> Decimal:
    """Round a Decimal (or int) amount to the cent, half-up. Refuses floats."""
    if isinstance(amount, float):
        raise TypeError("money must never be a float")
    return Decimal(amount).quantize(CENT, rounding=ROUNDING)


def money_text(amount) -> str:
    """An amount as JSON text with exactly two decimals, e.g. '1500.00'."""
    return str(to_cents(amount))
