"""Start-up checks of the S3 store: unreachable endpoint, refused credentials, object lock."""

from __future__ import annotations

import time

import pytest

from tests.storage.storage_settings import S3Server, s3_settings
from zongzhi.storage import MinioEvidenceStore, StoreUnavailable, build_store, evidence_key, staging_key
from zongzhi.storage.testing import free_port, moto_endpoint

pytestmark = pytest.mark.s3


_CLOSED = S3Server(f"127.0.0.1:{free_port()}", "minioadmin", "minioadmin", is_moto=False)


async def test_unreachable_store_fails_fast_with_the_endpoint_named(tmp_path):
    store = build_store(s3_settings(_CLOSED, tmp_path))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        await store.ensure_ready()
    assert time.monotonic() - started < 10
    assert caught.value.reason == "unreachable"
    assert f"http://{_CLOSED.endpoint}" in str(caught.value)
    assert "unreachable" in str(caught.value)


async def test_wrong_credentials_are_reported_as_such(tmp_path):
    with moto_endpoint(iam_auth=True) as endpoint:
        server = S3Server(endpoint, "AKIAWRONGKEY0000", "nope", is_moto=True)
        store = build_store(s3_settings(server, tmp_path))
        with pytest.raises(StoreUnavailable) as caught:
            await store.ensure_ready()
    message = str(caught.value)
    assert caught.value.reason == "credentials"
    assert "refused the credentials" in message and "AKIAWRONGKEY0000" in message
    assert endpoint in message


async def test_bucket_is_created_with_object_lock_when_retention_is_on(s3_server, tmp_path):
    store = build_store(s3_settings(s3_server, tmp_path, evidence_retention_days=30))
    await store.ensure_ready()
    assert isinstance(store, MinioEvidenceStore)
    assert store.supports_locking
    await store.ensure_ready()
    assert store.supports_locking


async def test_without_retention_the_bucket_has_no_lock_and_lock_is_a_no_op(s3_server, tmp_path):
    store = build_store(s3_settings(s3_server, tmp_path, evidence_retention_days=0))
    await store.ensure_ready()
    assert not store.supports_locking
    key = evidence_key(1, "a.txt")
    await store.put(key, b"hello", "text/plain")
    assert await store.lock(key, 30) is False
    await store.delete(key)
    assert await store.stat(key) is None


async def test_existing_bucket_without_lock_degrades_gracefully(s3_server, tmp_path, caplog):
    settings = s3_settings(s3_server, tmp_path, evidence_retention_days=0)
    await build_store(settings).ensure_ready()
    store = build_store(
        s3_settings(s3_server, tmp_path, s3_bucket=settings.s3_bucket, evidence_retention_days=30)
    )
    with caplog.at_level("WARNING"):
        await store.ensure_ready()
    assert not store.supports_locking
    assert "no object lock" in caplog.text


async def test_presigned_urls_carry_expiry_and_disposition(s3_server, tmp_path):
    store = build_store(s3_settings(s3_server, tmp_path))
    await store.ensure_ready()
    key = staging_key("照片.png")
    put = await store.presign_put(key, "image/png", expires=120)
    assert "X-Amz-Expires=120" in put.url and put.headers == {"Content-Type": "image/png"}
    get = await store.presign_get(key, "照片.png", expires=60)
    assert "X-Amz-Expires=60" in get and "response-content-disposition=" in get
