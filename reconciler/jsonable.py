"""One way to write a record (a dataclass) as a JSON object: its fields as JSON values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def fields_json(record: DataclassInstance, names: Sequence[str] = ()) -> dict[str, object]:
    """The fields ``names`` of ``record`` (default: all, in the order they are declared)."""
    keys = names or [f.name for f in fields(record)]
    return {key: json_value(getattr(record, key)) for key in keys}


def json_value(value: object) -> object:
    """``value`` as JSON: dates in ISO form, enums as their value, tuples as lists, a nested
    record by its own ``as_dict`` (else its fields)."""
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [json_value(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        as_dict = getattr(value, "as_dict", None)
        return as_dict() if callable(as_dict) else fields_json(value)
    return value
