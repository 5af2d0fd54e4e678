"""Personal data: ID-number checksum (GB 11643-1999), masking, encryption at rest and lookup hashes.

ID and phone numbers are stored as AES-GCM ciphertext plus a keyed HMAC of the normalised value;
searches compare the HMAC, so the database never needs the clear value and a leaked dump does not
give a rainbow table (the key is not in the database).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import date

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
#: Province-level codes of GB/T 2260, plus 83 (Taiwan residents' permits) and 91 (foreigners').
_PROVINCES = frozenset(
    str(code)
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
    )
) | {"71", "81", "82", "83", "91"}
#: The earliest birth date accepted (GB 11643's own example was born in 1880).
BIRTH_MIN = date(1870, 1, 1)


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def id_number_problem(value: str, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-digit resident ID number, or ``None`` if it is.

    Beyond the checksum: the first two digits name a province-level area (GB/T 2260; 83 and 91 are
    the residence permits of Taiwan residents and foreigners), and digits 7-14 a real birth date
    between ``BIRTH_MIN`` and today.
    """
    v = normalise_id_number(value)
    if not _ID_RE.fullmatch(v):
        return "must be 17 digits followed by a digit or X"
    if id_check_char(v[:17]) != v[17]:
        return "checksum digit does not match (GB 11643)"
    if v[:2] not in _PROVINCES or v[2:6] == "0000":
        return f"area code {v[:6]} is not a county-level area"
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return f"birth date {v[6:14]} is not a date"
    if not BIRTH_MIN <= born <= (today or date.today()):
        return f"birth date {born:%Y-%m-%d} is not between {BIRTH_MIN:%Y-%m-%d} and today"
    return None


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value.strip()).removeprefix("+86")


def phone_problem(value: str) -> str | None:
    return None if _PHONE_RE.fullmatch(normalise_phone(value)) else "must be a mobile or landline number"


def mask_id_number(value: str) -> str:
    """``110101199003074514`` → ``110101********4514`` (area code and last four kept)."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


class PiiCipher:
    """Encrypts and hashes personal data with keys derived from one secret."""

    def __init__(self, key_material: str) -> None:
        root = hashlib.sha256(key_material.encode()).digest()
        self._aead = AESGCM(hmac.new(root, b"zongzhi-pii-encrypt", hashlib.sha256).digest())
        self._hash_key = hmac.new(root, b"zongzhi-pii-lookup", hashlib.sha256).digest()

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None)).decode()

    def decrypt(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()
