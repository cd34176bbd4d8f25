"""marshmallow fields for Fynix's exact decimals, symbols and timestamps."""

from __future__ import annotations

import decimal
import re
import string
from typing import Any

from marshmallow import ValidationError, fields

SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)  # used with fullmatch: "5\n" is refused too


class ExactDecimal(fields.Decimal):
    """An exact decimal, accepted only as a string of ASCII digits (``DECIMAL_PATTERN``).

    A JSON number (already a float), an exponent, a sign other than a leading ``-``,
    spaces or non-ASCII digits are refused, and so is a value with more places or digits
    than the column holds: nothing is rounded, since ``Decimal(text)`` is exact and the
    limits are counted on its digits, never through a context of limited precision.
    Serialized as a JSON string so no client parses money as a float.
    """

    default_error_messages = {
        "invalid": 'Not a decimal string: ASCII digits, an optional leading "-" and "." '
        '(e.g. "123.45"); JSON numbers and exponents are refused.'
    }

    def __init__(
        self,
        *,
        places: int,
        max_digits: int,
        minimum: decimal.Decimal | None = None,
        exclusive_minimum: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)
        self.max_places = places
        self.max_integer_digits = max_digits - places
        self.minimum = minimum
        self.exclusive_minimum = exclusive_minimum
        self.metadata.setdefault("example", "123.45")
        # Documented as what goes over the wire: a decimal string, never a JSON number.
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("format", "decimal")
        self.metadata.setdefault("pattern", DECIMAL_PATTERN)
        self.metadata.setdefault("description", self.limits())

    def limits(self) -> str:
        """The accepted form and limits, in words (the field's OpenAPI description)."""
        text = (
            f"Decimal string matching {DECIMAL_PATTERN}: at most {self.max_places} decimal "
            f"places (trailing zeros aside) and {self.max_integer_digits} digits before the point"
        )
        if self.minimum is not None:
            text += f"; {'>' if self.exclusive_minimum else '>='} {self.minimum}"
        return text + "."

    def _validated(self, value: Any) -> decimal.Decimal:
        if isinstance(value, str) and _DECIMAL_RE.fullmatch(value):
            number = decimal.Decimal(value)
        elif isinstance(value, decimal.Decimal) and value.is_finite():  # Python callers
            number = value
        else:
            raise self.make_error("invalid")
        whole, _, fraction = format(number, "f").lstrip("-").partition(".")
        if len(fraction.rstrip("0")) > self.max_places:
            raise ValidationError(f"At most {self.max_places} decimal places.")
        if len(whole.lstrip("0")) > self.max_integer_digits:
            raise ValidationError(f"At most {self.max_integer_digits} digits before the point.")
        if self.minimum is not None:
            too_small = number <= self.minimum if self.exclusive_minimum else number < self.minimum
            if too_small:
                op = ">" if self.exclusive_minimum else ">="
                raise ValidationError(f"Must be {op} {self.minimum}.")
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return plain_decimal(value)


def plain_decimal(value: decimal.Decimal) -> str:
    """Render without exponent, with at least 2 and no trailing-zero decimal places."""
    whole, _, frac = format(decimal.Decimal(value), "f").partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def quantity_field(**kwargs: Any) -> ExactDecimal:
    """A strictly positive quantity with up to 8 decimal places."""
    return ExactDecimal(
        places=8, max_digits=24, minimum=decimal.Decimal(0), exclusive_minimum=True, **kwargs
    )


def money_field(**kwargs: Any) -> ExactDecimal:
    """A non-negative amount of money with up to 6 decimal places."""
    return ExactDecimal(places=6, max_digits=20, minimum=decimal.Decimal(0), **kwargs)


def normalize_symbol(text: str) -> str | None:
    """The stored form of a symbol typed in any case (trimmed, upper-case), or None.

    ASCII is checked before upper-casing: ``str.upper()`` turns some other letters into
    ASCII ones ("\ufb01" -> "FI", "\u00df" -> "SS", dotless "\u0131" -> "I"), which would
    make a symbol of text that is none.
    """
    trimmed = text.strip(string.whitespace)
    if not trimmed.isascii():
        return None
    upper = trimmed.upper()
    return upper if SYMBOL_RE.fullmatch(upper) else None


class Symbol(fields.String):
    """A ticker symbol; trimmed and upper-cased on load (``normalize_symbol``)."""

    default_error_messages = {"invalid_symbol": "Not a valid symbol."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.get("metadata", {"example": "AAPL"})
        kwargs["metadata"] = {**metadata, "pattern": SYMBOL_RE.pattern}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        symbol = normalize_symbol(super()._deserialize(value, attr, data, **kwargs))
        if symbol is None:
            raise self.make_error("invalid_symbol")
        return symbol


class UTCDateTimeField(fields.AwareDateTime):
    """ISO 8601 timestamp in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=None, **kwargs)
