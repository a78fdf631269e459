"""Dollars at the edges, integer micro-dollars inside."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICROS = 1_000_000
MAX_MICROS = 10**15  # a billion dollars: anything above is a typo


class BadAmount(ValueError):
    """An amount a person typed that is not a sum of money Pier can hold."""


def usd(micros: int) -> str:
    """A decimal string with 2 to 6 decimals: 1500000 -> "1.50", 120 -> "0.00012"."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    digits = f"{frac:06d}".rstrip("0")
    return f"{sign}{whole}.{digits.ljust(2, '0')}"


def parse_usd(value: object, *, name: str = "amount", allow_zero: bool = True) -> int:
    """Micro-dollars from a JSON number or a decimal string ("0.01", 2, "2.5"); never negative,
    at most 6 decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadAmount(f'{name} must be a number of dollars, such as 5 or "0.25"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise BadAmount(f'{name} must be a number of dollars, such as 5 or "0.25"') from exc
    if not amount.is_finite():
        raise BadAmount(f"{name} must be a finite number of dollars")
    micros = amount * MICROS
    if micros != micros.to_integral_value():
        raise BadAmount(f"{name} has more than 6 decimals (Pier counts in millionths of a dollar)")
    if micros < 0:
        raise BadAmount(f"{name} cannot be negative")
    if micros == 0 and not allow_zero:
        raise BadAmount(f"{name} must be more than 0")
    if micros > MAX_MICROS:
        raise BadAmount(f"{name} is too large")
    return int(micros)
