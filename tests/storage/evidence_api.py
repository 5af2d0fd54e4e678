"""Driving the evidence API over HTTP as a front end would (used by tests/platform/test_evidence_*.py).

Presigned URLs are followed for real: the local store's links point at ``settings.public_url`` and
are routed to the app through the ASGI client by their path; S3 URLs go over the network to the
store (moto) with a plain httpx client.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.gql import gql
from tests.world import World
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services.cases import CaseInput, intake
from zongzhi.platform.wiring.app import create_app

EVIDENCE_FIELDS = "id filename contentType size sha256 status storedAt uploadedBy { username }"
REQUEST = f"""mutation($caseId: ID!, $filename: String!, $contentType: String!, $size: Int!, $sha256: String!,
  $parts: Int) {{ requestEvidenceUpload(caseId: $caseId, filename: $filename, contentType: $contentType,
  size: $size, sha256: $sha256, parts: $parts) {{ method url expiresAt headers {{ name value }} uploadId
  partSize partUrls evidence {{ {EVIDENCE_FIELDS} }} }} }}"""
CONFIRM = f"mutation($id: ID!) {{ confirmEvidenceUpload(id: $id) {{ {EVIDENCE_FIELDS} }} }}"
COMPLETE = f"""mutation($id: ID!, $parts: [UploadedPartInput!]!) {{
  completeEvidenceUpload(id: $id, parts: $parts) {{ {EVIDENCE_FIELDS} }} }}"""
DOWNLOAD = "mutation($id: ID!) { evidenceDownloadUrl(id: $id) { url expiresAt filename } }"
WITHDRAW = f"""mutation($id: ID!, $reason: String!) {{
  withdrawEvidence(id: $id, reason: $reason) {{ {EVIDENCE_FIELDS} }} }}"""
CASE_EVIDENCE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Case {{ evidence {{ {EVIDENCE_FIELDS} }}
  timeline {{ type payload }} }} }} }}"""

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mp4_bytes(size: int) -> bytes:
    """``size`` bytes that sniff as an ISO-BMFF (MP4) video."""
    return MP4_HEAD + os.urandom(size - len(MP4_HEAD))


async def new_case(world: World, username: str = "a1_grid") -> str:
    """A case in grid A1-G1 (village 甲一村, township 甲镇), filed by ``username``; its global ID."""
    actor = await actor_for_user(world.users[username])
    data = CaseInput(title="漏水纠纷", category="neighbor", channel="grid", grid_id=world.grids["a1g1"].id)
    case, _ = await intake(data, actor)
    return to_global_id("Case", case.id)


@dataclass
class EvidenceApi:
    """The app's GraphQL client plus a way to reach whatever URLs it hands out."""

    client: httpx.AsyncClient
    http: httpx.AsyncClient
    public_url: str
    kind: str = "local"

    @property
    def store(self) -> Any:
        return self.client.app.state.store  # type: ignore[attr-defined]

    async def send(
        self, method: str, url: str, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        if url.startswith(self.public_url):
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            return await self.client.request(method, path, content=content, headers=headers)
        return await self.http.request(method, url, content=content, headers=headers)

    async def request(
        self, token: str, case_id: str, filename: str, content_type: str, size: int, digest: str,
        parts: int | None = None,
    ) -> dict:
        variables = {
            "caseId": case_id, "filename": filename, "contentType": content_type, "size": size,
            "sha256": digest, "parts": parts,
        }
        return (await gql(self.client, token, REQUEST, variables))["requestEvidenceUpload"]

    async def put(self, ticket: dict, data: bytes) -> httpx.Response:
        headers = {h["name"]: h["value"] for h in ticket["headers"]}
        return await self.send(ticket["method"], ticket["url"], data, headers)

    async def confirm(self, token: str, evidence_id: str) -> dict:
        return (await gql(self.client, token, CONFIRM, {"id": evidence_id}))["confirmEvidenceUpload"]

    async def upload(
        self,
        token: str,
        case_id: str,
        data: bytes,
        filename: str = "photo.png",
        content_type: str = "image/png",
    ) -> dict:
        """Request, PUT and confirm: the whole single-request upload."""
        ticket = await self.request(token, case_id, filename, content_type, len(data), sha(data))
        response = await self.put(ticket, data)
        assert response.status_code == 200, response.text
        return await self.confirm(token, ticket["evidence"]["id"])

    async def download_url(self, token: str, evidence_id: str) -> dict:
        return (await gql(self.client, token, DOWNLOAD, {"id": evidence_id}))["evidenceDownloadUrl"]

    async def case_view(self, token: str, case_id: str) -> dict:
        return (await gql(self.client, token, CASE_EVIDENCE, {"id": case_id}))["node"]


def s3_settings(settings: Any, endpoint: str) -> Any:
    """``settings`` with an S3 store at ``endpoint`` in a fresh bucket under object lock (as at start-up)."""
    return replace(
        settings, storage="s3", s3_endpoint=endpoint, s3_access_key="testing", s3_secret_key="testing",
        s3_bucket=f"zz-ev-{uuid.uuid4().hex[:12]}", evidence_retention_days=1,
    )


@asynccontextmanager
async def open_api(
    kind: str, settings: Any, client: httpx.AsyncClient, s3_endpoint: str | None = None
) -> AsyncIterator[EvidenceApi]:
    """The evidence API on the local store (the suite's ``client``) or on an S3 store at ``s3_endpoint``."""
    async with httpx.AsyncClient(timeout=60) as http:
        if kind == "local":
            yield EvidenceApi(client, http, settings.public_url, "local")
            return
        assert s3_endpoint is not None
        app = create_app(s3_settings(settings, s3_endpoint), manage_db=False)
        await app.state.store.ensure_ready()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield EvidenceApi(c, http, settings.public_url, "s3")
