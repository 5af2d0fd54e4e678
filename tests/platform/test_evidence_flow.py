"""Evidence through GraphQL over HTTP, against the local store and an S3 store (a real moto_server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.gql import GraphQLErrors, gql
from tests.storage.evidence_api import COMPLETE, EvidenceApi, mp4_bytes, new_case, open_api, s3_settings, sha
from tests.storage.storage_samples import png
from zongzhi.platform.models import CaseEvent, Evidence, EvidenceAccess
from zongzhi.platform.wiring.app import create_app
from zongzhi.storage import StoreUnavailable
from zongzhi.storage.testing import moto_endpoint


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def api(request, settings, world, client) -> AsyncIterator[EvidenceApi]:
    endpoint = request.getfixturevalue("moto") if request.param == "s3" else None
    async with open_api(request.param, settings, client, endpoint) as api_:
        yield api_


async def test_upload_confirm_list_and_download(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = png(32, 32)

    ticket = await api.request(token, case_id, "现场照片.png", "image/png", len(data), sha(data))
    assert ticket["method"] == "PUT" and ticket["url"] and ticket["partUrls"] == []
    assert ticket["evidence"]["status"] == "pending"
    assert {"name": "Content-Type", "value": "image/png"} in ticket["headers"]
    assert (await api.put(ticket, data)).status_code == 200
    stored = await api.confirm(token, ticket["evidence"]["id"])
    assert stored["status"] == "stored" and stored["storedAt"]
    assert stored["size"] == len(data) and stored["sha256"] == sha(data)
    assert stored["contentType"] == "image/png"
    assert stored["uploadedBy"] == {"username": "a1_grid"}

    # Confirming again (a client retry) changes nothing and records no second event.
    assert (await api.confirm(token, stored["id"]))["status"] == "stored"
    view = await api.case_view(world.tokens["a_staff"], case_id)
    assert [e["filename"] for e in view["evidence"]] == ["现场照片.png"]
    added = [e for e in view["timeline"] if e["type"] == "evidence.added"]
    assert len(added) == 1 and added[0]["payload"]["sha256"] == sha(data)

    link = await api.download_url(world.tokens["a_staff"], stored["id"])
    assert link["filename"] == "现场照片.png"
    response = await api.send("GET", link["url"])
    assert response.status_code == 200 and response.content == data
    accesses = await EvidenceAccess.all().values("user_id", "evidence_id")
    assert accesses == [{"user_id": world.users["a_staff"].id, "evidence_id": (await Evidence.get()).id}]


@pytest.mark.parametrize("wrong", ["size", "contentType", "sha256"])
async def test_bytes_not_matching_the_declaration_are_refused_and_removed(api, world, wrong):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = png(16, 16)
    declared = {"size": len(data), "contentType": "image/png", "sha256": sha(data)}
    sent = data
    if wrong == "size":
        declared["size"] = len(data) + 10  # the sender sends fewer bytes than declared
    elif wrong == "contentType":
        declared["contentType"] = "application/pdf"
    else:
        sent = png(16, 17)[: len(data)]  # same size and type, other bytes
    ticket = await api.request(
        token, case_id, "photo.png", declared["contentType"], declared["size"], declared["sha256"]
    )
    assert (await api.put(ticket, sent)).status_code == 200
    key = (await Evidence.get()).key
    with pytest.raises(GraphQLErrors) as refused:
        await api.confirm(token, ticket["evidence"]["id"])
    assert refused.value.code == "VALIDATION" and refused.value.field == wrong
    assert await Evidence.all().count() == 0
    assert await api.store.stat(key) is None
    assert not await CaseEvent.filter(type="evidence.added").exists()


async def test_multipart_upload_of_50_mb(api, world):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = mp4_bytes(50 * 1000 * 1000)
    ticket = await api.request(token, case_id, "监控录像.mp4", "video/mp4", len(data), sha(data), parts=5)
    assert ticket["url"] is None and len(ticket["partUrls"]) == 5
    size = ticket["partSize"]
    parts = []
    for number, url in enumerate(ticket["partUrls"], 1):
        response = await api.send("PUT", url, data[(number - 1) * size : number * size])
        assert response.status_code == 200, response.text
        parts.append({"number": number, "etag": response.headers["etag"]})

    with pytest.raises(GraphQLErrors) as single:
        await api.confirm(token, ticket["evidence"]["id"])
    assert single.value.field == "id"
    done = await gql(api.client, token, COMPLETE, {"id": ticket["evidence"]["id"], "parts": parts})
    stored = done["completeEvidenceUpload"]
    assert stored["status"] == "stored" and stored["size"] == len(data) and stored["sha256"] == sha(data)


async def test_store_failing_mid_way_leaves_nothing_half_recorded(api, world, monkeypatch):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = png(8, 8)
    ticket = await api.request(token, case_id, "a.png", "image/png", len(data), sha(data))
    assert (await api.put(ticket, data)).status_code == 200

    async def outage(*args, **kwargs):
        raise StoreUnavailable("connection refused", endpoint="test", reason="unreachable")

    monkeypatch.setattr(api.store, "lock", outage)
    with pytest.raises(GraphQLErrors) as failed:
        await api.confirm(token, ticket["evidence"]["id"])
    assert failed.value.code == "STORAGE_UNAVAILABLE"
    assert await Evidence.filter(status="pending").count() == 1
    assert not await CaseEvent.filter(type="evidence.added").exists()

    monkeypatch.undo()  # the store is back: the same upload can still be confirmed
    assert (await api.confirm(token, ticket["evidence"]["id"]))["status"] == "stored"


async def test_s3_store_unreachable_during_an_upload(settings, world, client):
    """A real outage: the moto server stops between the upload and its confirmation."""
    with moto_endpoint() as endpoint:
        app = create_app(s3_settings(settings, endpoint), manage_db=False)
        await app.state.store.ensure_ready()
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c,
            httpx.AsyncClient(timeout=30) as http,
        ):
            c.app = app  # type: ignore[attr-defined]
            api = EvidenceApi(c, http, settings.public_url, "s3")
            case_id = await new_case(world)
            token = world.tokens["a1_grid"]
            data = png(8, 8)
            ticket = await api.request(token, case_id, "a.png", "image/png", len(data), sha(data))
            assert (await api.put(ticket, data)).status_code == 200
    # moto_endpoint has exited: the store is gone.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        with pytest.raises(GraphQLErrors) as failed:
            await gql(c, token, "mutation($id: ID!) { confirmEvidenceUpload(id: $id) { id } }",
                      {"id": ticket["evidence"]["id"]})
        assert failed.value.code == "STORAGE_UNAVAILABLE"
        assert "unavailable" in failed.value.errors[0]["message"]
    assert await Evidence.all().values_list("status", flat=True) == ["pending"]
    assert not await CaseEvent.filter(type="evidence.added").exists()
