"""Which evidence types are accepted, and whether a file's bytes match the type it was declared as.

Detection works on *families* rather than exact MIME types: a phone's ``.m4a`` and ``.mp4`` are both
ISO-BMFF containers, ``.docx``/``.xlsx``/``.pptx`` are all zip files and ``.doc``/``.xls``/``.ppt``
are all OLE compound files; the first bytes cannot tell these apart reliably, so a declared type is
accepted when the bytes belong to one of the families that type can have. Declaring ``application/pdf``
for PNG bytes is still refused.
"""

from __future__ import annotations

import puremagic

OOXML = "application/vnd.openxmlformats-officedocument"

ALLOWED: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"jpeg"}),
    "image/png": frozenset({"png"}),
    "image/gif": frozenset({"gif"}),
    "image/webp": frozenset({"webp"}),
    "image/heic": frozenset({"heif"}),
    "image/heif": frozenset({"heif"}),
    "application/pdf": frozenset({"pdf"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/mp4": frozenset({"isobmff"}),
    "audio/x-m4a": frozenset({"isobmff"}),
    "audio/aac": frozenset({"aac", "isobmff"}),
    "audio/wav": frozenset({"wav"}),
    "audio/amr": frozenset({"amr"}),
    "audio/ogg": frozenset({"ogg"}),
    "audio/3gpp": frozenset({"isobmff", "amr"}),
    "video/mp4": frozenset({"isobmff"}),
    "video/quicktime": frozenset({"isobmff"}),
    "video/3gpp": frozenset({"isobmff"}),
    "video/webm": frozenset({"webm"}),
    "application/msword": frozenset({"ole"}),
    "application/vnd.ms-excel": frozenset({"ole"}),
    "application/vnd.ms-powerpoint": frozenset({"ole"}),
    f"{OOXML}.wordprocessingml.document": frozenset({"zip"}),
    f"{OOXML}.spreadsheetml.sheet": frozenset({"zip"}),
    f"{OOXML}.presentationml.presentation": frozenset({"zip"}),
    "text/plain": frozenset({"text"}),
}
"""Allowed declared type -> the byte families it may have."""

ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/m4a": "audio/x-m4a",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-aac": "audio/aac",
}

FAMILY_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "mp3": "audio/mpeg",
    "isobmff": "video/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "amr": "audio/amr",
    "ogg": "audio/ogg",
    "webm": "video/webm",
    "ole": "application/x-ole-storage",
    "zip": "application/zip",
    "text": "text/plain",
}
"""A representative MIME type per family, for messages."""

_EXTENSION_FAMILY = {
    **dict.fromkeys([".jpg", ".jpeg", ".jpe", ".jfif"], "jpeg"),
    ".png": "png",
    ".gif": "gif",
    ".webp": "webp",
    **dict.fromkeys([".heic", ".heif"], "heif"),
    ".pdf": "pdf",
    **dict.fromkeys([".mp3", ".mpga"], "mp3"),
    **dict.fromkeys(
        [".mp4", ".m4a", ".m4v", ".f4a", ".mov", ".qt", ".qtvr", ".3gp", ".3ga", ".3g2"], "isobmff"
    ),
    ".aac": "aac",
    ".wav": "wav",
    ".amr": "amr",
    **dict.fromkeys([".ogg", ".oga", ".ogv", ".ogx", ".opus"], "ogg"),
    ".webm": "webm",
    **dict.fromkeys([".doc", ".xls", ".ppt"], "ole"),
    **dict.fromkeys([".zip", ".docx", ".xlsx", ".pptx"], "zip"),
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}


def normalise(content_type: str) -> str:
    """Lower-case, parameters dropped, aliases resolved: ``"Image/JPG; q=1"`` -> ``"image/jpeg"``."""
    base = content_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def is_allowed(content_type: str) -> bool:
    return normalise(content_type) in ALLOWED


def detect_families(head: bytes) -> set[str]:
    """Every family the first bytes of a file are consistent with (empty: unrecognised)."""
    families = set(_own_signatures(head))
    if not families:
        try:
            matches = puremagic.magic_string(head) if head else []
        except puremagic.PureError:
            matches = []
        for match in matches:
            family = _EXTENSION_FAMILY.get(match.extension.lower())
            if family:
                families.add(family)
    if not families and _looks_like_text(head):
        families.add("text")
    return families


def detect_type(head: bytes) -> str | None:
    """A representative MIME type for the bytes, or ``None`` when unrecognised."""
    families = detect_families(head)
    return FAMILY_TYPES[min(families)] if families else None


def check_declared(declared_type: str, head: bytes) -> str | None:
    """``None`` if ``head`` may be a file of ``declared_type``; otherwise the reason why not."""
    declared = normalise(declared_type)
    accepted = ALLOWED.get(declared)
    if accepted is None:
        return f"type {declared or '(none)'!r} is not on the allow-list of evidence types"
    if "text" in accepted and _looks_like_text(head):
        return None
    families = detect_families(head)
    if families & accepted:
        return None
    if not families:
        return f"the file's content type could not be recognised (declared {declared})"
    found = ", ".join(sorted(FAMILY_TYPES[f] for f in families))
    return f"the file's content is {found}, not the declared {declared}"


def _own_signatures(head: bytes) -> list[str]:
    """Containers puremagic reports too vaguely or under many names."""
    if head[4:8] == b"ftyp":
        return ["heif"] if head[8:12] in _HEIF_BRANDS else ["isobmff"]
    if head.startswith(b"PK\x03\x04"):
        return ["zip"]
    if head.startswith(bytes.fromhex("D0CF11E0A1B11AE1")):
        return ["ole"]
    if head.startswith(b"RIFF") and head[8:12] in {b"WEBP", b"WAVE"}:
        return ["webp" if head[8:12] == b"WEBP" else "wav"]
    if head.startswith(b"#!AMR"):
        return ["amr"]
    return []


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 (a multi-byte character may be cut at the end) or GB18030, without NUL bytes."""
    if not head or b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
                return True
    return False
