"""The local store's signed links: tampering, expiry, method, size limit and path traversal."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.storage.storage_samples import png
from tests.storage.storage_settings import local_settings
from zongzhi.storage import (
    LocalEvidenceStore,
    StoreUnavailable,
    build_store,
    evidence_key,
    evidence_routes,
    staging_key,
)
from zongzhi.storage.links import LinkError, LinkSigner

BASE = "http://zongzhi.test/evidence-local/"


@pytest.fixture
async def local(tmp_path: Path):
    store = build_store(local_settings(tmp_path / "data"))
    assert isinstance(store, LocalEvidenceStore)
    await store.ensure_ready()
    transport = httpx.ASGITransport(app=Starlette(routes=evidence_routes(store)))
    async with httpx.AsyncClient(transport=transport) as http:
        yield store, http


def forge(claims: dict, secret: str = "test-secret") -> str:
    return BASE + LinkSigner(secret).sign(claims)


def test_signer_round_trip_and_refusals():
    signer = LinkSigner("k")
    token = signer.sign({"k": "cases/1/x/a", "m": "GET", "e": 2_000})
    assert signer.verify(token, "GET", now=1_999)["k"] == "cases/1/x/a"
    with pytest.raises(LinkError, match="expired"):
        signer.verify(token, "GET", now=2_000)
    with pytest.raises(LinkError, match="not valid for PUT"):
        signer.verify(token, "PUT", now=1_000)
    with pytest.raises(LinkError, match="signature"):
        LinkSigner("other").verify(token, "GET", now=1_000)
    with pytest.raises(LinkError):
        signer.verify("garbage", "GET")


async def test_tampered_token_is_refused(local):
    store, http = local
    key = evidence_key(1, "a.png")
    await store.put(key, png(), "image/png")
    url = await store.presign_get(key, "a.png")
    token = url.rsplit("/", 1)[1]
    payload, mac = token.split(".")
    other = await store.presign_get(evidence_key(2, "b.png"), "b.png")
    other_payload = other.rsplit("/", 1)[1].split(".")[0]
    for bad in (f"{other_payload}.{mac}", f"{payload}.{mac[:-2]}AA", payload, f"{payload}x.{mac}"):
        response = await http.get(BASE + bad)
        assert response.status_code == 403, bad
    assert (await http.get(url)).status_code == 200


async def test_expired_token_is_refused(local):
    store, http = local
    key = evidence_key(1, "a.png")
    await store.put(key, png(), "image/png")
    url = forge({"k": key, "m": "GET", "e": int(time.time()) - 1})
    response = await http.get(url)
    assert response.status_code == 403 and "expired" in response.text


async def test_a_link_lives_at_least_as_long_as_asked(local, monkeypatch):
    store, _ = local
    monkeypatch.setattr(time, "time", lambda: 1_000.999)
    url = await store.presign_get(evidence_key(1, "a.png"), "a.png", expires=1)
    claims = store._signer.verify(url.rsplit("/", 1)[1], "GET", now=1_001.5)
    assert claims["e"] == 1_002


async def test_get_link_cannot_upload(local):
    store, http = local
    key = evidence_key(1, "a.png")
    url = await store.presign_get(key, "a.png")
    assert (await http.put(url, content=b"x")).status_code == 403
    assert await store.stat(key) is None


async def test_link_from_another_secret_is_refused(local):
    _store, http = local
    url = forge({"k": staging_key("a"), "m": "PUT", "e": int(time.time()) + 60, "n": 10}, "wrong")
    assert (await http.put(url, content=b"x")).status_code == 403


async def test_size_limit_is_enforced_while_streaming(local):
    store, http = local
    key = staging_key("big.png")
    target = await store.presign_put(key, "image/png", size_limit=10)
    assert (await http.put(target.url, content=b"x" * 11)).status_code == 413

    async def body():
        yield b"x" * 6
        yield b"x" * 6

    assert (await http.put(target.url, content=body())).status_code == 413
    assert await store.stat(key) is None
    assert list((store.root / ".tmp").iterdir()) == []
    assert (await http.put(target.url, content=b"x" * 10)).status_code == 200


async def test_upload_links_never_name_final_evidence(local):
    store, http = local
    key = evidence_key(1, "a.png")
    with pytest.raises(ValueError):
        await store.presign_put(key, "image/png")
    with pytest.raises(ValueError):
        await store.start_multipart(key, "image/png", 1)
    # Even a genuinely signed link naming a final key is refused, and writes nothing.
    forged = forge({"k": key, "m": "PUT", "e": int(time.time()) + 60, "n": 100})
    assert (await http.put(forged, content=png())).status_code == 403
    assert await store.stat(key) is None


async def test_staged_uploads_are_not_served(local):
    store, http = local
    key = staging_key("a.png")
    target = await store.presign_put(key, "image/png")
    assert (await http.put(target.url, content=png())).status_code == 200
    response = await http.get(await store.presign_get(key, "a.png"))
    assert response.status_code == 403


async def test_an_upload_to_a_promoted_slot_is_refused(local):
    store, http = local
    staged, final = staging_key("a.png"), evidence_key(1, "a.png")
    target = await store.presign_put(staged, "image/png")
    assert (await http.put(target.url, content=png())).status_code == 200
    assert (await store.promote(staged, final, "image/png")) is not None
    response = await http.put(target.url, content=b"other bytes")
    assert response.status_code == 409 and "closed" in response.text
    assert await store.sha256(final) == hashlib.sha256(png()).hexdigest()
    assert await store.stat(staged) is None


async def test_a_changed_file_is_not_served(local):
    store, http = local
    key = evidence_key(1, "a.png")
    await store.put(key, png(), "image/png")
    url = await store.presign_get(key, "a.png", content_type="image/png", sha256=hashlib.sha256(png()).hexdigest())
    assert (await http.get(url)).content == png()
    (store.root / key).write_bytes(png(3, 3))  # someone with disk access changed it
    response = await http.get(url)
    assert response.status_code == 500 and png(3, 3) not in response.content


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "cases/../../outside", "/etc/passwd", ".uploads/x", "cases/1/x/../../../../y"]
)
async def test_forged_traversal_keys_are_refused(local, tmp_path, key):
    store, http = local
    expires = int(time.time()) + 60
    put = await http.put(forge({"k": key, "m": "PUT", "e": expires, "n": 100}), content=b"pwned")
    get = await http.get(forge({"k": key, "m": "GET", "e": expires}))
    assert put.status_code == 403 and get.status_code == 403
    assert not any(p.read_bytes() == b"pwned" for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(ValueError):
        await store.presign_put(key, "image/png")


async def test_traversal_in_the_url_path_is_refused(local):
    _store, http = local
    for path in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd"):
        response = await http.get(BASE + path)
        assert response.status_code in {403, 404}


async def test_symlink_out_of_the_store_is_refused(local, tmp_path):
    store, http = local
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (store.root / "cases").mkdir(exist_ok=True)
    (store.root / "cases" / "link").symlink_to(outside)
    key = "cases/link/secret.txt"
    response = await http.get(forge({"k": key, "m": "GET", "e": int(time.time()) + 60}))
    assert response.status_code == 403
    with pytest.raises(ValueError):
        await store.stat(key)


async def test_unusable_directory_gives_store_unavailable(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "evidence").write_text("a file, not a directory")
    store = build_store(local_settings(tmp_path / "data"))
    with pytest.raises(StoreUnavailable) as caught:
        await store.ensure_ready()
    assert str(tmp_path / "data" / "evidence") in str(caught.value)


async def test_stale_empty_staging_slots_are_swept(local):
    store, http = local
    target = await store.presign_put(staging_key("a.png"), "image/png")
    used = staging_key("b.png")
    await store.put(used, png(), "image/png")
    await store.abort_stale_multipart(timedelta(seconds=-5))
    assert (await http.put(target.url, content=png())).status_code == 409
    assert await store.stat(used) is not None  # a slot holding an upload goes with its row, not here
