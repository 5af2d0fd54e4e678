"""Partner webhooks refuse what they cannot or should not read before doing any work on it."""

from __future__ import annotations

import json
import time

import pytest

from tests.plugins.conftest import make_partner, post_signed
from tests.plugins.partner_server import FakePartner
from zongzhi.platform import partners
from zongzhi.platform.models import Case, PartnerRecord

REFERRALS = "/partners/court_docking/referrals"


def _referral() -> dict:
    return {
        "case_number": "(2026)浙0110民诉前调9号",
        "court": "示范县人民法院",
        "claim": "装修款支付纠纷",
        "referral_date": "2026-11-20",
        "area_code": "330110001000",
        "parties": [{"name": "周一", "role": "applicant"}],
    }


@pytest.fixture
async def partner(rules):
    server = FakePartner()
    server.start()
    try:
        yield await make_partner(rules, server, "court_docking")
    finally:
        server.stop()


async def _nothing_stored() -> None:
    assert await Case.all().count() == 0 and await PartnerRecord.all().count() == 0


async def test_a_large_body_is_413_and_read_no_further(client, partner, settings):
    key, secret = partner
    limit = settings.webhook_max_bytes
    chunks_sent = []

    async def body():
        for _ in range(30):  # 30 MB offered in 1 MB chunks, no Content-Length
            chunks_sent.append(1)
            yield b" " * (1024 * 1024)

    headers = partners.signed_headers(key, secret, b"", now=time.time())
    r = await client.post(REFERRALS, content=body(), headers=headers)
    assert r.status_code == 413
    assert len(chunks_sent) <= limit // (1024 * 1024) + 2, "the stream was not read to its end"
    declared = await client.post(
        REFERRALS, content=b"{}", headers=headers | {"Content-Length": str(30 * 1024 * 1024)}
    )
    assert declared.status_code == 413
    await _nothing_stored()


@pytest.mark.parametrize("timestamp", ["9" * 400, "-1", "1e9", "0x10", "1" * 13])
async def test_a_garbled_timestamp_is_401(client, partner, timestamp):
    key, secret = partner
    body = json.dumps(_referral()).encode()
    headers = partners.signed_headers(key, secret, body) | {partners.TIMESTAMP_HEADER: timestamp}
    r = await client.post(REFERRALS, content=body, headers=headers)
    assert r.status_code == 401
    await _nothing_stored()


async def test_a_signed_body_nested_100000_deep_is_422(client, partner):
    key, secret = partner
    body = b"[" * 100_000 + b"]" * 100_000
    r = await client.post(REFERRALS, content=body, headers=partners.signed_headers(key, secret, body))
    assert r.status_code in (400, 422)
    nested: object = "x"
    for _ in range(40):
        nested = [nested]
    r = await post_signed(client, REFERRALS, key, secret, {"case_number": nested})
    assert r.status_code == 422
    await _nothing_stored()


async def test_a_body_that_is_not_utf8_is_422(client, partner):
    key, secret = partner
    body = b'{"case_number": "\xff\xfe"}'
    r = await client.post(REFERRALS, content=body, headers=partners.signed_headers(key, secret, body))
    assert r.status_code in (400, 422)
    await _nothing_stored()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_missing_or_wrong_content_type_is_415(client, partner, content_type):
    key, secret = partner
    body = json.dumps(_referral()).encode()
    headers = partners.signed_headers(key, secret, body)
    del headers["Content-Type"]
    if content_type:
        headers["Content-Type"] = content_type
    r = await client.post(REFERRALS, content=body, headers=headers)
    assert r.status_code == 415
    await _nothing_stored()


async def test_a_json_body_with_charset_is_accepted(client, partner):
    key, secret = partner
    body = json.dumps(_referral()).encode()
    headers = partners.signed_headers(key, secret, body) | {"Content-Type": "application/json; charset=utf-8"}
    r = await client.post(REFERRALS, content=body, headers=headers)
    assert r.status_code in (200, 201), r.text
