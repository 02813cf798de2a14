"""``fields.phone_number`` values in E.164 form (``+491512345678``), as Klaviyo takes them.

Values already in E.164 shape pass as they are (the common case, and no parse); others are
parsed with ``phonenumbers`` in the export's ``default_region`` and kept when they are a valid
number, or a possible one (by its length, with its area code) of at least 7 national digits
(``0151 2345678`` in DE -> ``+491512345678``; a local-only ``555-1234`` or ``0151`` is not).
Any other value is dropped from its profile (the profile still goes), counted, sampled masked.
"""

from __future__ import annotations

import re

import phonenumbers

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
MIN_NATIONAL_DIGITS = 7  # a possible number shorter than this is a fragment, not a phone


def normalise_phone(value: object, region: str | None) -> str | None:
    """``value`` as an E.164 number, or None when it is not a possible phone number."""
    if value is None:
        return None
    text = str(value).strip()
    if E164.fullmatch(text):
        return text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) and (
        phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE  # local-only, length
        or len(str(number.national_number)) < MIN_NATIONAL_DIGITS
    ):
        return None
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def mask_phone(value: object) -> str:
    """``+49 151 2345678`` -> ``+4*********78`` (the length and the last two digits only)."""
    text = "".join(str(value).split())
    if len(text) <= 4:
        return "*" * len(text) or "(empty)"
    return f"{text[:2]}{'*' * (len(text) - 4)}{text[-2:]}"
