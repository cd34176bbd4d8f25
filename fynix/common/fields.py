"""marshmallow fields for Fynix's exact decimals, symbols and timestamps."""

from __future__ import annotations

import decimal
import re
from typing import Any

from marshmallow import ValidationError, fields, validate

SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class ExactDecimal(fields.Decimal):
    """A decimal that is rejected (not rounded) when it has too many digits.

    Serialized as a JSON string so no client parses money as a float.
    """

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
        self.max_digits = max_digits
        self.minimum = minimum
        self.exclusive_minimum = exclusive_minimum
        self.metadata.setdefault("example", "123.45")
        # Documented as what goes over the wire: a decimal string, never a JSON number.
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("format", "decimal")
        self.metadata.setdefault("pattern", DECIMAL_PATTERN)

    def _validated(self, value: Any) -> decimal.Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if number is None:
            return number
        _sign, digits, exponent = number.normalize().as_tuple()
        places = max(0, -exponent) if isinstance(exponent, int) else 0
        integer_digits = max(0, len(digits) + exponent) if isinstance(exponent, int) else 0
        if places > self.max_places:
            raise ValidationError(f"At most {self.max_places} decimal places.")
        if integer_digits > self.max_digits - self.max_places:
            raise ValidationError("Number is too large.")
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


class Symbol(fields.String):
    """A ticker symbol; trimmed and upper-cased on load."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Regexp(SYMBOL_RE, error="Not a valid symbol."))
        kwargs.setdefault("metadata", {"example": "AAPL", "pattern": SYMBOL_RE.pattern})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.strip().upper()


class UTCDateTimeField(fields.AwareDateTime):
    """ISO 8601 timestamp in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=None, **kwargs)
