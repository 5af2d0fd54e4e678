"""The store methods backups use: download, upload and retained_until, on both stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.storage.storage_samples import png
from zongzhi.storage import ObjectLocked, ObjectMissing, evidence_key


async def test_download_upload_and_retention(harness, tmp_path):
    store = harness.store
    data = png(16, 16)
    key = evidence_key(7, "照片.png")
    await store.put(key, data, "image/png")
    assert await store.retained_until(key) is None

    copy = tmp_path / "copy"
    await store.download(key, copy)
    assert copy.read_bytes() == data
    with pytest.raises(ObjectMissing):
        await store.download(evidence_key(7, "none.png"), tmp_path / "none")

    other = evidence_key(8, "restored.png")
    info = await store.upload(other, copy, "image/png")
    assert info.size == len(data)
    assert await store.sha256(other) == hashlib.sha256(data).hexdigest()

    if not store.supports_locking:
        pytest.skip("this store has no object lock")
    assert await store.lock(other, 1)
    until = await store.retained_until(other)
    assert until is not None
    assert datetime.now(UTC) + timedelta(hours=23) < until <= datetime.now(UTC) + timedelta(days=1, minutes=1)
    if harness.kind == "local":
        with pytest.raises(ObjectLocked):
            await store.upload(other, copy, "image/png")
    # (An S3 bucket with object lock is versioned: an upload adds a version, the locked one stays.)
