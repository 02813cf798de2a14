"""Email normalisation of whole Arrow arrays, with the same verdict as ``normalise_email``.

Most values are plain ASCII addresses. Arrow trims them (its whitespace set is Python's, a test
checks every code point), two vectorised regular expressions (RE2) recognise the plain valid
ASCII ones (``CLEAN_EMAIL`` and not ``FULL_CHECK``), and ASCII lower-casing is then what
``str.lower()`` does. Only the rest (IDNA labels, non-ASCII or invalid values) go through
:func:`reconciler.emails.normalise_email` one by one, so both paths always agree.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import MAX_EMAIL_LENGTH, MAX_LOCAL_LENGTH, SPECIAL_USE_TLDS, normalise_email

_LOCAL_CHAR = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
CLEAN_EMAIL = rf"^{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"
# Clean-looking values the full check must still see (RE2 has no look-ahead): a label with
# "--" in its 3rd and 4th places (IDNA A-labels such as xn--p1ai), a special-use domain.
FULL_CHECK = rf"(?i)(?:[@.][a-z0-9-]{{2}}--|\.(?:{'|'.join(SPECIAL_USE_TLDS)})$)"


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
    clean = pc.and_kleene(clean, pc.invert(pc.match_substring_regex(trimmed, pattern=FULL_CHECK)))
    clean = pc.fill_null(clean, False)
    result = pc.if_else(clean, pc.ascii_lower(trimmed), pa.scalar(None, pa.string()))
    others = pc.and_(pc.invert(clean), pc.is_valid(raw))
    if not pc.any(others).as_py():
        return result
    checked = [normalise_email(value) for value in raw.filter(others).to_pylist()]
    return pc.replace_with_mask(result, others, pa.array(checked, type=pa.string()))
