"""Signed, expiring link tokens: the local store's stand-in for S3 presigned URLs.

A token is ``base64url(json claims) + "." + base64url(HMAC-SHA256(claims))``. The HMAC key is
derived from ``settings.secret_key`` with a purpose label, so a token can never be confused with a
JWT signed by the same secret. Claims: ``k`` object key, ``m`` HTTP method, ``e`` expiry (unix
seconds), and as needed ``n`` size limit (PUT), ``f`` download filename (GET), ``u``/``p`` multipart
upload id and part number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


class LinkError(Exception):
    """The token is malformed, forged, expired or used for the wrong method."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"zongzhi evidence link\x00" + secret_key.encode()).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def sign(self, claims: dict[str, Any]) -> str:
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str, method: str, now: float | None = None) -> dict[str, Any]:
        """The token's claims, if it is genuine, unexpired and issued for ``method``."""
        payload, dot, mac = token.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            raise LinkError("invalid link signature")
        try:
            claims = json.loads(_unb64(payload))
        except ValueError as exc:
            raise LinkError("malformed link") from exc
        if not isinstance(claims, dict) or not isinstance(claims.get("e"), int | float):
            raise LinkError("malformed link")
        if claims.get("m") != method:
            raise LinkError(f"link is not valid for {method}")
        if (time.time() if now is None else now) >= claims["e"]:
            raise LinkError("link has expired")
        return claims
