"""Issue 10, item 5: what was confirmed is what is served, whatever a client does with a link it holds.

Every test runs through GraphQL over HTTP on both stores: the local store (its signed links served by
the app) and the S3 store against a real ``moto_server`` process, with the bucket created under object
lock as at start-up and the app talking to it through the ``minio`` SDK. Upload links are followed for
real; the attacker is the uploader, who still holds the upload link after confirmation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.gql import GraphQLErrors, gql
from tests.storage.evidence_api import COMPLETE, EvidenceApi, new_case, open_api, sha
from tests.storage.storage_samples import JPEG, png
from zongzhi.platform.models import CaseEvent, Evidence
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.services.evidence import CLAIM_TIMEOUT_SECONDS
from zongzhi.storage import evidence_key
from zongzhi.storage.testing import moto_endpoint

OTHER = JPEG[:-10] + b"\x11" * 8 + JPEG[-2:]
"""Still a JPEG by its first bytes, of the same size (within the link's size limit), other content."""


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def api(request, settings, world, client) -> AsyncIterator[EvidenceApi]:
    endpoint = request.getfixturevalue("moto") if request.param == "s3" else None
    async with open_api(request.param, settings, client, endpoint) as api_:
        yield api_


async def _row(evidence_id: str) -> Evidence:
    return await Evidence.get(id=pk_of(evidence_id, "Evidence", "id"))


async def _served(api: EvidenceApi, token: str, evidence_id: str):
    link = await api.download_url(token, evidence_id)
    response = await api.send("GET", link["url"])
    assert response.status_code == 200, response.text
    return response


async def _assert_serves_the_confirmed_bytes(api: EvidenceApi, world, stored: dict, data: bytes) -> None:
    """Downloads, the store's final object and the recorded hash all agree with ``data``."""
    assert stored["status"] == "stored" and stored["sha256"] == sha(data)
    response = await _served(api, world.tokens["a_staff"], stored["id"])
    assert response.content == data
    row = await _row(stored["id"])
    assert await api.store.sha256(row.key, row.version_id) == sha(data)
    current = await api.store.stat(row.key)
    assert current is not None and current.version_id == row.version_id  # nothing was written over it
    if api.kind == "s3":
        assert row.version_id  # downloads name the confirmed version


async def test_a_put_to_the_link_after_confirmation_does_not_replace_the_evidence(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    ticket = await api.request(token, case_id, "现场.jpg", "image/jpeg", len(JPEG), sha(JPEG))
    assert (await api.put(ticket, JPEG)).status_code == 200
    stored = await api.confirm(token, ticket["evidence"]["id"])

    again = await api.put(ticket, OTHER)  # the link is still within its validity
    # The local store refuses outright; S3 cannot refuse a presigned PUT, but it lands on a staging
    # key that nothing serves.
    assert again.status_code == (409 if api.kind == "local" else 200)
    await _assert_serves_the_confirmed_bytes(api, world, stored, JPEG)
    # A confirmation retried now changes nothing either.
    assert (await api.confirm(token, stored["id"]))["sha256"] == sha(JPEG)
    await _assert_serves_the_confirmed_bytes(api, world, stored, JPEG)


async def test_a_slow_put_finishing_after_confirmation_does_not_replace_the_evidence(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    ticket = await api.request(token, case_id, "现场.jpg", "image/jpeg", len(JPEG), sha(JPEG))
    assert (await api.put(ticket, JPEG)).status_code == 200

    streaming, release = asyncio.Event(), asyncio.Event()

    async def slow_body():
        yield OTHER[:100]
        streaming.set()
        await release.wait()
        yield OTHER[100:]

    headers = {h["name"]: h["value"] for h in ticket["headers"]} | {"Content-Length": str(len(OTHER))}
    second = asyncio.create_task(api.send("PUT", ticket["url"], slow_body(), headers))  # type: ignore[arg-type]
    await asyncio.wait_for(streaming.wait(), 30)
    stored = await api.confirm(token, ticket["evidence"]["id"])  # while the second PUT streams
    release.set()
    response = await asyncio.wait_for(second, 30)

    assert response.status_code == (409 if api.kind == "local" else 200), response.text
    await _assert_serves_the_confirmed_bytes(api, world, stored, JPEG)


async def test_part_links_after_a_multipart_completion_do_not_replace_the_evidence(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    ticket = await api.request(token, case_id, "现场.jpg", "image/jpeg", len(JPEG), sha(JPEG), parts=1)
    [part_url] = ticket["partUrls"]
    uploaded = await api.send("PUT", part_url, JPEG)
    assert uploaded.status_code == 200, uploaded.text
    parts = [{"number": 1, "etag": uploaded.headers["etag"]}]
    done = await gql(api.client, token, COMPLETE, {"id": ticket["evidence"]["id"], "parts": parts})
    stored = done["completeEvidenceUpload"]

    again = await api.send("PUT", part_url, OTHER)
    # The upload is finished, its parts are gone: 404 (NoSuchUpload on S3; moto answers 500).
    assert again.status_code == 404 if api.kind == "local" else again.status_code in {404, 500}
    await _assert_serves_the_confirmed_bytes(api, world, stored, JPEG)


async def test_html_declared_as_text_is_served_as_text_not_by_its_name(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    html = b"<!DOCTYPE html><html><body><script>fetch('/graphql')</script></body></html>\n"
    stored = await api.upload(token, case_id, html, filename="notice.HTML", content_type="text/plain")
    assert stored["contentType"] == "text/plain"

    response = await _served(api, world.tokens["a_staff"], stored["id"])
    assert response.content == html
    assert response.headers["content-type"].split(";")[0].strip() == "text/plain"
    assert response.headers["content-disposition"].startswith("attachment")
    if api.kind == "local":  # S3 stores send what they send; the type and disposition are what we set
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_served_type_comes_from_the_confirmation_not_the_upload_request(api, world):
    """An S3 PUT carries whatever Content-Type the client sends; the final object gets the checked one."""
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = png(4, 4)
    ticket = await api.request(token, case_id, "photo.png", "image/png", len(data), sha(data))
    sent = await api.send("PUT", ticket["url"], data, {"Content-Type": "text/html"})
    assert sent.status_code in {200, 403}  # S3 may refuse a header the signature did not cover
    if sent.status_code == 403:
        assert (await api.put(ticket, data)).status_code == 200
    stored = await api.confirm(token, ticket["evidence"]["id"])
    response = await _served(api, world.tokens["a_staff"], stored["id"])
    assert response.headers["content-type"] == "image/png" and response.content == data


async def test_concurrent_confirmations_record_one_checked_version(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    ticket = await api.request(token, case_id, "现场.jpg", "image/jpeg", len(JPEG), sha(JPEG))
    assert (await api.put(ticket, JPEG)).status_code == 200
    results = await asyncio.gather(
        *(api.confirm(token, ticket["evidence"]["id"]) for _ in range(4)), return_exceptions=True
    )
    stored = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if not isinstance(r, dict)]
    assert stored and all(r["status"] == "stored" for r in stored)
    # A confirmation that meets another one in progress is told so; nothing fails otherwise.
    assert all(isinstance(r, GraphQLErrors) and r.code == "CONFLICT" for r in refused), refused
    assert await CaseEvent.filter(type="evidence.added").count() == 1
    await _assert_serves_the_confirmed_bytes(api, world, stored[0], JPEG)


async def test_evidence_confirmed_before_the_upgrade_is_served_by_its_hash(api, world):
    """Rows from before staging keys and versions: the store may already hold replaced bytes (the old
    hole). S3 pins the version whose bytes match the recorded hash; the local store refuses to serve a
    file that no longer matches."""
    case_id = await new_case(world)
    key = evidence_key(pk_of(case_id, "Case", "id"), "old.jpg")
    await api.store.put(key, JPEG, "image/jpeg")
    row = await Evidence.create(
        case_id=pk_of(case_id, "Case", "id"), key=key, filename="old.jpg", content_type="image/jpeg",
        size=len(JPEG), sha256=sha(JPEG), status="stored", uploaded_by_id=world.users["a1_grid"].id,
    )
    evidence_id = to_global_id("Evidence", row.id)
    if api.kind == "s3":
        await api.store.put(key, OTHER, "image/jpeg")  # what the old presigned PUT could do
        response = await _served(api, world.tokens["a_staff"], evidence_id)
        assert response.content == JPEG
        pinned = await Evidence.get(id=row.id)
        assert pinned.version_id and await api.store.sha256(key, pinned.version_id) == sha(JPEG)
        assert (await _served(api, world.tokens["a_staff"], evidence_id)).content == JPEG
    else:
        (api.store.root / key).write_bytes(OTHER)  # what the old slow-PUT race could do
        link = await api.download_url(world.tokens["a_staff"], evidence_id)
        response = await api.send("GET", link["url"])
        assert response.status_code == 500 and OTHER not in response.content


async def test_a_confirmation_that_died_half_way_is_taken_over_later(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    ticket = await api.request(token, case_id, "现场.jpg", "image/jpeg", len(JPEG), sha(JPEG))
    assert (await api.put(ticket, JPEG)).status_code == 200
    row = await _row(ticket["evidence"]["id"])
    await Evidence.filter(id=row.id).update(status="confirming", claimed_at=datetime.now(UTC))
    with pytest.raises(GraphQLErrors) as busy:
        await api.confirm(token, ticket["evidence"]["id"])
    assert busy.value.code == "CONFLICT" and busy.value.field == "id"

    long_ago = datetime.now(UTC) - timedelta(seconds=CLAIM_TIMEOUT_SECONDS + 60)
    await Evidence.filter(id=row.id).update(claimed_at=long_ago)
    stored = await api.confirm(token, ticket["evidence"]["id"])
    await _assert_serves_the_confirmed_bytes(api, world, stored, JPEG)
