"""Identifiers shaped like Klaviyo's.

Profile ids are 26-character ULID-like strings (10 Crockford base32 characters of creation
milliseconds, then 16 of 80 bits). The 80 bits are a bijective scramble of the profile's index in
its account's store, so the store keeps integers and turns ids back into indexes without a map.
"""

from __future__ import annotations

import secrets
import string

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {char: value for value, char in enumerate(CROCKFORD)}
_BITS = 80
_MODULUS = 1 << _BITS
_MULTIPLIER = 0x9E3779B97F4A7C15F39D  # odd, hence invertible modulo 2**80
_INVERSE = pow(_MULTIPLIER, -1, _MODULUS)
LIST_ID_ALPHABET = string.ascii_letters + string.digits


def encode_base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_base32(text: str) -> int | None:
    value = 0
    for char in text:
        digit = _DECODE.get(char)
        if digit is None:
            return None
        value = (value << 5) | digit
    return value


class ProfileIdCodec:
    """Turns (index, creation ms) into a ULID-like id and back, with a per-account salt."""

    def __init__(self, salt: int | None = None) -> None:
        self.salt = secrets.randbits(_BITS) if salt is None else salt % _MODULUS

    def encode(self, index: int, created_ms: int) -> str:
        scrambled = (index * _MULTIPLIER + self.salt) % _MODULUS
        return encode_base32(created_ms, 10) + encode_base32(scrambled, 16)

    def decode(self, profile_id: str) -> tuple[int, int] | None:
        """(index, created ms) of a well-formed id, else None; the caller checks existence."""
        if len(profile_id) != 26:
            return None
        created = decode_base32(profile_id[:10])
        scrambled = decode_base32(profile_id[10:])
        if created is None or scrambled is None:
            return None
        index = ((scrambled - self.salt) * _INVERSE) % _MODULUS
        return index, created


def new_list_id() -> str:
    """Six letters and digits, like ``Y6nRLr``."""
    return "".join(secrets.choice(LIST_ID_ALPHABET) for _ in range(6))


def new_ulid(now_ms: int) -> str:
    """A fresh ULID-like id (jobs, import errors, error objects)."""
    return encode_base32(now_ms, 10) + encode_base32(secrets.randbits(_BITS), 16)
