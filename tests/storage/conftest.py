"""Fixtures: each store under test, and an HTTP client that reaches the URLs it hands out.

The S3 store runs against a real ``moto_server`` subprocess (one per session), or against the
S3/MinIO server named by ``ZONGZHI_TEST_S3_ENDPOINT`` (with ``ZONGZHI_TEST_S3_ACCESS_KEY`` and
``ZONGZHI_TEST_S3_SECRET_KEY``) when set. The local store's links are served by a Starlette app
through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.storage.storage_settings import S3Server, local_settings, s3_settings
from zongzhi.storage import EvidenceStore, build_store, evidence_routes
from zongzhi.storage.testing import moto_endpoint


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    endpoint = os.environ.get("ZONGZHI_TEST_S3_ENDPOINT")
    if endpoint:
        yield S3Server(
            endpoint,
            os.environ.get("ZONGZHI_TEST_S3_ACCESS_KEY", "minioadmin"),
            os.environ.get("ZONGZHI_TEST_S3_SECRET_KEY", "minioadmin"),
            is_moto=False,
        )
        return
    with moto_endpoint() as endpoint:
        yield S3Server(endpoint, "testing-access", "testing-secret", is_moto=True)


@dataclass
class Harness:
    kind: str
    store: EvidenceStore
    http: httpx.AsyncClient
    is_moto: bool

    @property
    def faithful_times(self) -> bool:
        """False on moto, which neither checks URL expiry nor records upload start times."""
        return not self.is_moto


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def harness(request, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "local":
        store = build_store(local_settings(tmp_path))
        app = Starlette(routes=evidence_routes(store))
        transport = httpx.ASGITransport(app=app)
        is_moto = False
    else:
        server = request.getfixturevalue("s3_server")
        store = build_store(s3_settings(server, tmp_path))
        transport = None
        is_moto = server.is_moto
    await store.ensure_ready()
    async with httpx.AsyncClient(transport=transport, timeout=60) as http:
        yield Harness(request.param, store, http, is_moto)
