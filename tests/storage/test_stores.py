"""The same behaviour from both stores: presigned upload/download, digests, multipart, expiry, lock."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.storage.storage_samples import png
from zongzhi.storage import (
    InvalidUpload,
    ObjectLocked,
    ObjectMissing,
    check_declared,
    evidence_key,
    staging_key,
)


async def upload(h, key: str, data: bytes, content_type: str = "image/png") -> None:
    target = await h.store.presign_put(key, content_type, expires=120)
    response = await h.http.request(target.method, target.url, content=data, headers=target.headers)
    assert response.status_code == 200, response.text


async def test_presigned_put_then_get_round_trip(harness):
    data = png(64, 64)
    filename = "现场照片 1.png"
    key = staging_key(filename)
    await upload(harness, key, data)

    info = await harness.store.stat(key)
    assert info is not None and info.size == len(data)
    assert await harness.store.sha256(key) == hashlib.sha256(data).hexdigest()
    assert check_declared("image/png", await harness.store.head_bytes(key)) is None

    final = evidence_key(42, filename)
    promoted = await harness.store.promote(key, final, "image/png")
    assert promoted is not None and promoted.size == len(data)
    url = await harness.store.presign_get(
        final, filename, expires=60, content_type="image/png", version_id=promoted.version_id
    )
    response = await harness.http.get(url)
    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert quote(filename, safe="") in disposition


async def test_server_side_put_list_and_delete(harness):
    key = evidence_key("case-7", "note.txt")
    info = await harness.store.put(key, "走访记录\n".encode(), "text/plain")
    assert info.size == len("走访记录\n".encode())
    assert await harness.store.head_bytes(key, 4) == "走访记录".encode()[:4]

    listed = await harness.store.list_keys("cases/case-7/")
    assert [o.key for o in listed] == [key]
    assert listed[0].size == info.size and listed[0].last_modified is not None
    assert await harness.store.list_keys("cases/case-70/") == []

    await harness.store.delete(key)
    assert await harness.store.stat(key) is None
    assert await harness.store.list_keys("cases/") == []
    await harness.store.delete(key)
    with pytest.raises(ObjectMissing):
        await harness.store.sha256(key)


async def test_empty_object_head_bytes(harness):
    key = evidence_key(1, "empty.txt")
    await harness.store.put(key, b"", "text/plain")
    assert await harness.store.head_bytes(key) == b""
    assert await harness.store.sha256(key) == hashlib.sha256(b"").hexdigest()


async def test_multipart_upload_of_50_mb(harness):
    part_size = 5 * 1024 * 1024
    data = os.urandom(50 * 1000 * 1000)
    chunks = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    key = staging_key("监控录像.mp4")
    upload_ = await harness.store.start_multipart(key, "video/mp4", len(chunks), expires=300)
    assert len(upload_.part_urls) == len(chunks) == 10

    async def send(number: int, url: str, chunk: bytes) -> tuple[int, str]:
        response = await harness.http.put(url, content=chunk)
        assert response.status_code == 200, response.text
        return number, response.headers["etag"]

    pairs = zip(upload_.part_urls, chunks, strict=True)
    parts = await asyncio.gather(*(send(n, url, chunk) for n, (url, chunk) in enumerate(pairs, 1)))
    info = await harness.store.complete_multipart(key, upload_.upload_id, sorted(parts))
    assert info.size == len(data)
    assert await harness.store.sha256(key) == hashlib.sha256(data).hexdigest()


async def test_multipart_with_a_wrong_etag_is_refused(harness):
    key = staging_key("clip.mp4")
    upload_ = await harness.store.start_multipart(key, "video/mp4", 1)
    response = await harness.http.put(upload_.part_urls[0], content=b"x" * 1000)
    assert response.status_code == 200
    with pytest.raises(InvalidUpload):
        await harness.store.complete_multipart(key, upload_.upload_id, [(1, "0" * 32)])
    await harness.store.abort_multipart(key, upload_.upload_id)
    assert await harness.store.stat(key) is None


async def test_expired_urls_are_refused(harness):
    if not harness.faithful_times:
        pytest.skip("moto_server does not check presigned URL expiry; set ZONGZHI_TEST_S3_ENDPOINT")
    key = evidence_key(3, "a.png")
    await harness.store.put(key, png(), "image/png")
    get_url = await harness.store.presign_get(key, "a.png", expires=1)
    put = await harness.store.presign_put(staging_key("b.png"), "image/png", expires=1)
    await asyncio.sleep(2.1)
    assert (await harness.http.get(get_url)).status_code == 403
    response = await harness.http.put(put.url, content=png(), headers=put.headers)
    assert response.status_code == 403


async def test_locked_evidence_cannot_be_deleted(harness):
    key = evidence_key(5, "locked.pdf")
    await harness.store.put(key, b"%PDF-1.4\n", "application/pdf")
    assert harness.store.supports_locking
    assert await harness.store.lock(key, 1) is True
    with pytest.raises(ObjectLocked):
        await harness.store.delete(key)
    assert (await harness.store.stat(key)) is not None


async def test_unconfirmed_upload_in_a_locking_store_is_really_deleted(harness):
    key = evidence_key(5, "orphan.png")
    await harness.store.put(key, png(), "image/png")
    await harness.store.delete(key)
    assert await harness.store.stat(key) is None
    await harness.store.put(key, png(), "image/png")
    assert await harness.store.sha256(key) == hashlib.sha256(png()).hexdigest()


async def test_stale_multipart_uploads_are_aborted(harness):
    key = staging_key("left-behind.mp4")
    upload_ = await harness.store.start_multipart(key, "video/mp4", 2)
    assert (await harness.http.put(upload_.part_urls[0], content=b"x" * 100)).status_code == 200
    if harness.faithful_times:
        assert await harness.store.abort_stale_multipart(timedelta(hours=1)) == 0
    assert await harness.store.abort_stale_multipart(timedelta(seconds=-5)) == 1
    assert await harness.store.abort_stale_multipart(timedelta(seconds=-5)) == 0
    assert await harness.store.stat(key) is None


async def test_promote_takes_the_upload_out_of_reach_of_its_link(harness):
    """Issue 10: bytes PUT to a link after promotion never become the evidence."""
    data, other = png(8, 8), png(9, 9)
    staged, final = staging_key("a.png"), evidence_key(1, "a.png")
    target = await harness.store.presign_put(staged, "image/png", expires=120)
    assert await harness.store.promote(staged, final, "image/png") is None  # nothing uploaded yet
    response = await harness.http.put(target.url, content=data, headers=target.headers)
    assert response.status_code == 200  # the link still works while nothing was promoted
    info = await harness.store.promote(staged, final, "image/png")
    assert info is not None and info.size == len(data)
    assert (info.version_id is not None) == (harness.kind == "s3")

    again = await harness.http.put(target.url, content=other, headers=target.headers)
    assert again.status_code == (409 if harness.kind == "local" else 200)
    # A retried promotion returns the object already in place and never copies the new bytes over it.
    retried = await harness.store.promote(staged, final, "image/png")
    assert retried is not None and retried.version_id == info.version_id
    assert await harness.store.stat(staged) is None
    assert await harness.store.sha256(final, info.version_id) == hashlib.sha256(data).hexdigest()
    url = await harness.store.presign_get(
        final, "a.png", content_type="image/png", version_id=info.version_id,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    served = await harness.http.get(url)
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"


async def test_downloads_serve_the_recorded_type_not_the_name(harness):
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>\n"
    key = evidence_key(1, "page.HTML")
    staged = staging_key("page.HTML")
    await upload(harness, staged, html, content_type="text/html")  # what a client may claim on the PUT
    info = await harness.store.promote(staged, key, "text/plain")
    assert info is not None
    url = await harness.store.presign_get(
        key, "page.HTML", content_type="text/plain", version_id=info.version_id,
        sha256=hashlib.sha256(html).hexdigest(),
    )
    response = await harness.http.get(url)
    assert response.status_code == 200 and response.content == html
    assert response.headers["content-type"].split(";")[0] == "text/plain"
    assert response.headers["content-disposition"].startswith("attachment")
    if harness.kind == "local":
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.s3
async def test_s3_downloads_name_the_confirmed_version(harness):
    """Even a write to the final key by someone holding store credentials does not change what a
    download link of the recorded version serves."""
    if harness.kind != "s3":
        pytest.skip("versions are an S3 notion; the local store hashes the file on the way out instead")
    data = png(8, 8)
    staged, final = staging_key("a.png"), evidence_key(1, "a.png")
    await upload(harness, staged, data)
    info = await harness.store.promote(staged, final, "image/png")
    assert info is not None and info.version_id
    assert await harness.store.lock(final, 1, info.version_id) is True
    await harness.store.put(final, png(9, 9), "image/png")
    url = await harness.store.presign_get(final, "a.png", content_type="image/png", version_id=info.version_id)
    assert (await harness.http.get(url)).content == data
    with pytest.raises(ObjectLocked):
        await harness.store.delete(final, info.version_id)
