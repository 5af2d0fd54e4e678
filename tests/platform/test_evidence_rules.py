"""Who may add and fetch evidence, what is refused, immutability, expiry, orphans, GraphQL uploads."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.gql import GraphQLErrors, gql
from tests.storage.evidence_api import WITHDRAW, EvidenceApi, new_case, sha
from tests.storage.storage_samples import pdf, png
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import CaseEvent, Evidence, EvidenceAccess
from zongzhi.platform.pipeline.tasks_evidence import remove_orphans
from zongzhi.platform.schema.ids import from_global_id
from zongzhi.platform.services import evidence as evidence_service
from zongzhi.platform.services.evidence import EvidenceService
from zongzhi.storage import evidence_key

UPLOAD = """mutation($caseId: ID!, $file: Upload!) { uploadEvidence(caseId: $caseId, file: $file) {
  id filename contentType size sha256 status } }"""


@pytest.fixture
async def api(settings, client) -> EvidenceApi:
    async with httpx.AsyncClient() as http:
        yield EvidenceApi(client, http, settings.public_url)


def pk(global_id: str) -> int:
    return from_global_id(global_id)[1]


async def test_declared_size_over_the_limit_is_refused(api, world, settings):
    case_id = await new_case(world)
    with pytest.raises(GraphQLErrors) as refused:
        await api.request(world.tokens["a1_grid"], case_id, "录像.mp4", "video/mp4",
                          settings.evidence_max_bytes + 1, "0" * 64)
    assert refused.value.code == "VALIDATION" and refused.value.field == "size"
    assert "at most" in refused.value.errors[0]["message"]
    assert await Evidence.all().count() == 0


@pytest.mark.parametrize(
    ("content_type", "digest", "parts", "field"),
    [
        ("application/x-msdownload", "0" * 64, None, "contentType"),
        ("image/png", "not-a-hash", None, "sha256"),
        ("image/png", "0" * 64, 50, "parts"),
    ],
)
async def test_bad_declarations_name_the_field(api, world, content_type, digest, parts, field):
    case_id = await new_case(world)
    with pytest.raises(GraphQLErrors) as refused:
        await api.request(world.tokens["a1_grid"], case_id, "x.bin", content_type, 10_000_000, digest, parts)
    assert refused.value.code == "VALIDATION" and refused.value.field == field
    assert await Evidence.all().count() == 0


async def test_another_township_gets_no_upload_or_download_link(api, world):
    case_id = await new_case(world)
    stored = await api.upload(world.tokens["a1_grid"], case_id, png())
    data = png(4, 4)
    for user in ("b_staff", "b1_grid"):
        with pytest.raises(GraphQLErrors) as refused:
            await api.request(world.tokens[user], case_id, "x.png", "image/png", len(data), sha(data))
        assert refused.value.code == "NOT_FOUND"
        with pytest.raises(GraphQLErrors) as hidden:
            await api.download_url(world.tokens[user], stored["id"])
        assert hidden.value.code == "NOT_FOUND"
    with pytest.raises(GraphQLErrors) as partner:
        await api.request(world.tokens["court_partner"], case_id, "x.png", "image/png", len(data), sha(data))
    assert partner.value.code == "FORBIDDEN"
    assert await Evidence.all().count() == 1
    assert await EvidenceAccess.all().count() == 0
    # The county above, and the uploader's township, may fetch it.
    for user in ("county_staff", "a_staff", "a_mediator"):
        assert (await api.download_url(world.tokens[user], stored["id"]))["url"]
    assert await EvidenceAccess.all().count() == 3


async def test_only_the_uploader_confirms_a_pending_upload(api, world):
    case_id = await new_case(world)
    data = png()
    ticket = await api.request(world.tokens["a1_grid"], case_id, "x.png", "image/png", len(data), sha(data))
    await api.put(ticket, data)
    with pytest.raises(GraphQLErrors) as refused:
        await api.confirm(world.tokens["a_staff"], ticket["evidence"]["id"])
    assert refused.value.code == "FORBIDDEN"
    assert await Evidence.filter(status="pending").count() == 1


async def test_confirming_before_uploading_keeps_the_upload_pending(api, world):
    case_id = await new_case(world)
    data = png()
    ticket = await api.request(world.tokens["a1_grid"], case_id, "x.png", "image/png", len(data), sha(data))
    with pytest.raises(GraphQLErrors) as early:
        await api.confirm(world.tokens["a1_grid"], ticket["evidence"]["id"])
    assert early.value.code == "CONFLICT"
    await api.put(ticket, data)
    assert (await api.confirm(world.tokens["a1_grid"], ticket["evidence"]["id"]))["status"] == "stored"


async def test_expired_links_are_refused(api, world, monkeypatch):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    data = png()
    # Stored with the usual expiry: a one-second link ends at the next whole
    # second, which may be milliseconds away, before its own PUT is sent.
    stored = await api.upload(token, case_id, data)
    monkeypatch.setattr(evidence_service, "UPLOAD_URL_SECONDS", 1)
    monkeypatch.setattr(evidence_service, "DOWNLOAD_URL_SECONDS", 1)
    ticket = await api.request(token, case_id, "x.png", "image/png", len(data), sha(data))
    link = await api.download_url(token, stored["id"])
    time.sleep(2.05 - (time.time() % 1))  # past the whole second the links expire at
    put = await api.put(ticket, data)
    assert put.status_code == 403 and "expired" in put.text
    get = await api.send("GET", link["url"])
    assert get.status_code == 403 and "expired" in get.text
    with pytest.raises(GraphQLErrors) as nothing:
        await api.confirm(token, ticket["evidence"]["id"])
    assert nothing.value.code == "CONFLICT"


async def test_withdrawn_evidence_is_hidden_but_kept(api, world):
    case_id = await new_case(world)
    stored = await api.upload(world.tokens["a1_grid"], case_id, png())
    key = (await Evidence.get(id=pk(stored["id"]))).key
    with pytest.raises(GraphQLErrors) as no_reason:
        await gql(api.client, world.tokens["a_staff"], WITHDRAW, {"id": stored["id"], "reason": " "})
    assert no_reason.value.field == "reason"
    with pytest.raises(GraphQLErrors) as other:
        await gql(api.client, world.tokens["a_mediator"], WITHDRAW, {"id": stored["id"], "reason": "误传"})
    assert other.value.code == "FORBIDDEN"

    done = await gql(api.client, world.tokens["a_staff"], WITHDRAW, {"id": stored["id"], "reason": "误传"})
    assert done["withdrawEvidence"]["status"] == "withdrawn"
    view = await api.case_view(world.tokens["a_staff"], case_id)
    assert view["evidence"] == []
    assert [e["payload"]["reason"] for e in view["timeline"] if e["type"] == "evidence.withdrawn"] == ["误传"]
    assert await api.store.stat(key) is not None
    with pytest.raises(GraphQLErrors) as gone:
        await api.download_url(world.tokens["a_staff"], stored["id"])
    assert gone.value.code == "NOT_FOUND"
    with pytest.raises(GraphQLErrors) as again:
        await api.confirm(world.tokens["a1_grid"], stored["id"])
    assert again.value.code == "CONFLICT"


async def test_no_mutation_replaces_or_deletes_evidence(client):
    schema = client.app.state.schema.as_str()
    mutations = schema[schema.index("type Mutation") :].split("}", 1)[0]
    names = [line.strip().split("(")[0] for line in mutations.splitlines() if "Evidence" in line]
    assert not [n for n in names if n.startswith(("delete", "replace", "update"))]


async def test_orphans_are_removed_after_the_configured_age(api, world, settings):
    case_id = await new_case(world)
    token = world.tokens["a1_grid"]
    stored = await api.upload(token, case_id, png())
    data = png(3, 3)
    old = await api.request(token, case_id, "old.png", "image/png", len(data), sha(data))
    await api.put(old, data)
    young = await api.request(token, case_id, "young.png", "image/png", len(data), sha(data))
    await api.put(young, data)
    big = b"\x00\x00\x00\x18ftypmp42" + os.urandom(12 * 1024 * 1024)
    multi = await api.request(token, case_id, "v.mp4", "video/mp4", len(big), sha(big), parts=2)
    stray_key = evidence_key(pk(case_id), "stray.png")
    await api.store.put(stray_key, data, "image/png")

    age = timedelta(hours=settings.evidence_orphan_hours)
    long_ago = datetime.now(UTC) - age - timedelta(minutes=5)
    await Evidence.filter(id__in=[pk(old["evidence"]["id"]), pk(multi["evidence"]["id"])]).update(
        created_at=long_ago
    )
    stray_path = api.store.root / stray_key
    os.utime(stray_path, (long_ago.timestamp(), long_ago.timestamp()))
    old_row = await Evidence.get(id=pk(old["evidence"]["id"]))
    assert await api.store.stat(old_row.staging_key) is not None

    removed = await remove_orphans(api.store, age)
    assert removed == 3  # two pending rows (one with its object) and the stray object
    remaining = await Evidence.all().order_by("id").values_list("id", "status")
    assert remaining == [(pk(stored["id"]), "stored"), (pk(young["evidence"]["id"]), "pending")]
    assert await api.store.stat(old_row.staging_key) is None and await api.store.stat(stray_key) is None
    young_row = await Evidence.get(id=pk(young["evidence"]["id"]))
    assert await api.store.stat(young_row.staging_key) is not None
    assert await remove_orphans(api.store, age) == 0


def _multipart(case_id: str, data: bytes, filename: str, content_type: str) -> dict:
    operations = {"query": UPLOAD, "variables": {"caseId": case_id, "file": None}}
    return {
        "data": {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        "files": {"0": (filename, data, content_type)},
    }


async def test_graphql_multipart_upload_of_a_small_file(client, world):
    case_id = await new_case(world)
    auth = {"Authorization": f"Bearer {world.tokens['a1_grid']}"}
    data = pdf()

    form = _multipart(case_id, data, "调解协议.pdf", "application/pdf")
    forged = await client.post("/graphql", headers=auth, **form)
    body = forged.json()
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "CSRF"}
    assert await Evidence.all().count() == 0

    headers = {**auth, "x-apollo-operation-name": "UploadEvidence"}
    response = await client.post("/graphql", headers=headers, **form)
    stored = response.json()["data"]["uploadEvidence"]
    assert stored["status"] == "stored" and stored["filename"] == "调解协议.pdf"
    assert stored["size"] == len(data) and stored["sha256"] == sha(data)
    assert await CaseEvent.filter(type="evidence.added").count() == 1

    form = _multipart(case_id, png(), "x.pdf", "application/pdf")
    lying = await client.post("/graphql", headers=headers, **form)
    assert lying.json()["errors"][0]["extensions"]["field"] == "contentType"
    assert await Evidence.all().count() == 1


async def test_partner_files_use_the_same_checks(client, world, settings):
    service = EvidenceService(client.app.state.store, settings)
    plugin = Actor.system_actor("court_docking", plugin="court_docking")
    case_pk = pk(await new_case(world))
    row = await service.add_evidence_bytes(plugin, case_pk, "判决书.pdf", "application/pdf", pdf())
    assert row.status == "stored" and row.uploaded_by_id is None
    with pytest.raises(evidence_service.ValidationFailed) as refused:
        await service.add_evidence_bytes(plugin, case_pk, "判决书.pdf", "application/pdf", png())
    assert refused.value.field == "contentType"
    assert await Evidence.all().count() == 1
