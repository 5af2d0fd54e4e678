"""Partner-side fixtures: a fake partner HTTP server and signed requests to our webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.plugins.partner_server import FakePartner
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.partners import create_credential, signed_headers


@pytest.fixture
def partner_server() -> Iterator[FakePartner]:
    server = FakePartner()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def quick_retries(platform):
    """Deliveries retried without waiting, three attempts in all (on this test's platform)."""
    platform.settings = replace(platform.settings, delivery_backoff_seconds=0, delivery_max_attempts=3)


async def make_partner(world, server: FakePartner, plugin: str, center: str = "county") -> tuple[str, str]:
    credential, secret = await create_credential(
        Actor.system_actor("test admin"), plugin, f"{plugin} partner", server.url, world.centers[center].code
    )
    server.secrets[credential.key_id] = secret
    return credential.key_id, secret


async def post_signed(
    client, path: str, key_id: str, secret: str, payload, *, age: float = 0, tamper: bool = False
):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers(key_id, secret, body, now=time.time() - age)
    if tamper:
        body = body.replace(b"}", b" }", 1)
    return await client.post(path, content=body, headers=headers)
