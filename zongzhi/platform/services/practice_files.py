"""Files the seeds' practices keep outside cases: sweep attachments, mediator photos, citizens' photos.

They pass the same checks as case evidence (allow-listed type, the real type sniffed from the bytes,
the size limit) and go into the same evidence store under ``practices/<area>/``, a prefix the orphan
sweeper of case evidence never touches. A citizen's photo becomes case evidence when staff accept
the report (``services.citizens``).
"""

from __future__ import annotations

import hashlib
import uuid

from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.storage import EvidenceStore, check_declared
from zongzhi.storage.keys import slug
from zongzhi.storage.sniff import normalise

HEAD_BYTES = 4096


async def put_checked(
    store: EvidenceStore, area: str, filename: str, content_type: str, data: bytes, max_bytes: int, field: str
) -> dict:
    """Check and store one file; returns what the owning row keeps about it."""
    if not filename or len(filename) > 255:
        raise ValidationFailed("a file needs a name of at most 255 characters", field=f"{field}.filename")
    if not data:
        raise ValidationFailed("the file is empty", field=field)
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"the file is {len(data)} bytes; at most {max_bytes} are accepted", field=field
        )
    reason = check_declared(content_type, data[:HEAD_BYTES])
    if reason is not None:
        raise ValidationFailed(reason, field=f"{field}.contentType")
    declared = normalise(content_type)
    key = f"practices/{area}/{uuid.uuid4().hex}/{slug(filename)}"
    await store.put(key, data, declared)
    return {
        "key": key,
        "filename": filename,
        "content_type": declared,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


async def read_back(store: EvidenceStore, meta: dict) -> bytes:
    return await store.head_bytes(meta["key"], int(meta["size"]))
