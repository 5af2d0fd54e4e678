"""Object keys for evidence: ``cases/<case id>/<uuid4 hex>/<slug of filename>`` for confirmed files,
``staging/<uuid4 hex>/<slug of filename>`` for uploads in flight.

Clients only ever get upload links to a staging key; confirmation moves the object to its final
``cases/`` key, which no link names (see :meth:`~zongzhi.storage.base.EvidenceStore.promote`).

User-supplied text (the filename, and the case id to be safe) only ever enters a key through
:func:`slug`, which percent-encodes everything outside ``[A-Za-z0-9._-]``. So a key can never gain a
path segment (``/``), climb (``..``), hide (leading ``.``) or carry control characters, and the
encoding is reversible for display. The original filename is kept by the caller, not recovered
from the key.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import quote

MAX_SLUG_CHARS = 120
MAX_KEY_BYTES = 1024  # S3's limit
_SAFE = "-_."
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def slug(name: str, max_chars: int = MAX_SLUG_CHARS) -> str:
    """A single, safe key segment for ``name``; never empty, never starting with a dot."""
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name)
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cf", "Cs", "Co", "Cn"})
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    if not name:
        return "file"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(_encode(ext)) > 16:
        stem, ext = name, ""
    suffix = f".{_encode(ext)}" if ext else ""
    # Cut whole characters off the stem, so no percent-escape or UTF-8 sequence is split.
    stem = stem[:max_chars]
    while stem and len(_encode(stem)) + len(suffix) > max_chars:
        stem = stem[:-1]
    return (_encode(stem) or "file") + suffix


def _encode(text: str) -> str:
    return quote(text, safe=_SAFE)


def evidence_key(case_id: object, filename: str) -> str:
    """A fresh key for a file attached to case ``case_id``."""
    case_part = slug(str(case_id), 64)
    return f"cases/{case_part}/{uuid.uuid4().hex}/{slug(filename)}"


STAGING_PREFIX = "staging/"
"""Every upload link names a key under this prefix, and nothing under it is ever served."""


def staging_key(filename: str) -> str:
    """A fresh key the client uploads ``filename`` to before confirmation."""
    return f"{STAGING_PREFIX}{uuid.uuid4().hex}/{slug(filename)}"


def is_staging_key(key: str) -> bool:
    return key.startswith(STAGING_PREFIX) and key.count("/") == 2


def validate_staging_key(key: str) -> str:
    """Refuse an upload target that is not a staging key (an upload link must never name evidence)."""
    validate_key(key)
    if not is_staging_key(key):
        raise ValueError(f"uploads go to staging keys only, not {key!r}")
    return key


def validate_key(key: str) -> str:
    """Refuse any key a store should not touch; returns the key.

    Stores call this on every key they receive, so even a key that was not built by
    :func:`evidence_key` (or a forged local link) cannot escape the store's root.
    """
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError("evidence key is empty or too long")
    if _CONTROL.search(key) or "\\" in key:
        raise ValueError("evidence key contains control characters or backslashes")
    for segment in key.split("/"):
        if not segment or segment.startswith("."):
            raise ValueError(f"evidence key {key!r} has an empty, relative or hidden segment")
    return key
