"""Schemas that dump a dict straight through their fields' own serializers.

marshmallow spends most of a large dump around each value rather than on it: an accessor
call, missing and default checks, and for every nested item a whole ``Schema.dump`` with its
hook lookups. For a dict holding every field, reading the key and calling the field's
``_serialize`` gives the same output; a 50-holding summary dumps twice as fast
(``python -m bench valuation``). Only the plain field kinds below are taken this way; any
other field, a hook, ``many``, ``only``/``exclude`` or a missing key is dumped by marshmallow.
``tests/test_valuation.py`` proves both give the same JSON (and pins ``_serialize``/``_hooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields

Dumper = Callable[[dict], dict]
PLAIN = (fields.String, fields.Integer, fields.Decimal, fields.DateTime)
HOOKS = ("pre_dump", "post_dump")


def direct_dumper(schema: Schema) -> Dumper | None:
    """``schema.dump`` of a dict that holds every field, or None when the schema has a field,
    hook or option that only marshmallow's own path handles."""
    if schema.many or any(schema._hooks.get(tag) for tag in HOOKS):
        return None
    parts = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        source = field.attribute or name
        serialize = _field_serializer(field)
        if serialize is None or "." in source:  # a dotted source is a path: marshmallow's
            return None
        parts.append((key, source, serialize))

    def dump(obj: dict) -> dict:
        return {key: serialize(obj[name], name, obj) for key, name, serialize in parts}

    return dump


def _field_serializer(field: fields.Field) -> Callable[[Any, str, dict], Any] | None:
    """The field's own serializer, or a list of nested dumps, or None when not handled."""
    if isinstance(field, fields.List) and type(field.inner) is fields.Nested:
        nested = field.inner
        inner = None if nested.many else direct_dumper(nested.schema)
        if inner is None:
            return None

        def dump_list(value: list | None, *_: object) -> list | None:
            return None if value is None else [None if i is None else inner(i) for i in value]

        return dump_list
    return field._serialize if isinstance(field, PLAIN) else None


class DirectDumpSchema(Schema):
    """A schema whose ``dump`` of one dict goes straight through its fields (see above)."""

    _direct: Dumper | bool | None = False  # False: not compiled yet

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """As ``Schema.dump``; a dict holding every field takes the direct path."""
        if self._direct is False:
            self._direct = None if self.only or self.exclude else direct_dumper(self)
        if many or self._direct is None or not isinstance(obj, dict):
            return super().dump(obj, many=many)
        try:
            return self._direct(obj)
        except KeyError:  # a missing key: marshmallow leaves it out
            return super().dump(obj, many=many)
