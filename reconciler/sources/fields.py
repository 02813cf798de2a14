"""Per-profile Klaviyo fields, stored column-wise and built into a mapping on access.

A million small dicts would cost ~300 MB; one list per mapped column and one email -> row
index cost a fraction of that, and the plan only looks up the profiles it adds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from reconciler.sources.values import json_value

_PLAIN = (str, int, bool, float, type(None))


def plain_values(values: Sequence[object]) -> list[object]:
    """``values`` as JSON data (None stays None: a missing value)."""
    return [v if v.__class__ in _PLAIN else json_value(v) for v in values]


class ProfileFields(Mapping[str, Mapping[str, object]]):
    """email -> {"first_name": ..., "properties": {...}}; null values are left out."""

    def __init__(self, attributes: Sequence[str], properties: Sequence[str]) -> None:
        self._index: dict[str, int] = {}
        self._attributes = {name: list[object]() for name in attributes}
        self._properties = {name: list[object]() for name in properties}

    def claim(self, emails: Sequence[str]) -> list[int]:
        """Positions in ``emails`` of emails not seen before (first one wins); registers them."""
        index = self._index
        fresh: list[int] = []
        for position, email in enumerate(emails):
            if email not in index:
                index[email] = len(index)
                fresh.append(position)
        return fresh

    def extend(self, values: Mapping[str, Sequence[object]]) -> None:
        """Append the fields of the emails just claimed: attribute or property name -> values."""
        for name, column in (*self._attributes.items(), *self._properties.items()):
            column.extend(values[name])

    def __getitem__(self, email: str) -> dict[str, object]:
        row = self._index[email]
        found = _present(self._attributes, row)
        custom = _present(self._properties, row)
        if custom:
            found["properties"] = custom
        return found

    def __contains__(self, email: object) -> bool:
        return email in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _present(columns: Mapping[str, list[object]], row: int) -> dict[str, object]:
    return {name: values[row] for name, values in columns.items() if values[row] is not None}
