"""Email normalisation of whole Arrow arrays, with the same verdict as ``normalise_email``.

Most values are plain ASCII addresses. Arrow trims them (its whitespace set is Python's, a test
checks every code point), one vectorised regular expression (RE2) recognises exactly the valid
ASCII ones, and ASCII lower-casing is then what ``str.lower()`` does. Only the rest (non-ASCII or
invalid values) go through :func:`reconciler.emails.normalise_email` one by one, so both paths
always agree.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import MAX_EMAIL_LENGTH, normalise_email

_LOCAL_CHAR = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
CLEAN_EMAIL = rf"^{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"
MAX_LOCAL_LENGTH = 64


def as_string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as one string array; non-string values become their text (never an email)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        return values.cast(pa.string())
    return pa.array(
        [None if v is None else v if isinstance(v, str) else str(v) for v in values.to_pylist()],
        type=pa.string(),
    )


def normalise_array(raw: pa.Array) -> pa.Array:
    """Normalised email (null when invalid) for each value of the string array ``raw``."""
    trimmed = pc.utf8_trim_whitespace(raw)
    clean = pc.and_kleene(
        pc.match_substring_regex(trimmed, pattern=CLEAN_EMAIL),
        pc.and_kleene(
            pc.less_equal(pc.binary_length(trimmed), MAX_EMAIL_LENGTH),
            pc.less_equal(pc.find_substring(trimmed, "@"), MAX_LOCAL_LENGTH),
        ),
    )
    clean = pc.fill_null(clean, False)
    result = pc.if_else(clean, pc.ascii_lower(trimmed), pa.scalar(None, pa.string()))
    others = pc.and_(pc.invert(clean), pc.is_valid(raw))
    if not pc.any(others).as_py():
        return result
    checked = [normalise_email(value) for value in raw.filter(others).to_pylist()]
    return pc.replace_with_mask(result, others, pa.array(checked, type=pa.string()))
