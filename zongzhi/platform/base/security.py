"""Secrets: the PII cipher, the audit key and JWT signing, from the running platform's settings."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt

from zongzhi.platform.base.current import current
from zongzhi.platform.base.pii import PiiCipher
from zongzhi.platform.base.settings import Settings

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "zongzhi"


def audit_key() -> bytes:
    """The audit chain's HMAC key: ``ZONGZHI_AUDIT_KEY``, or one derived from the secret key."""
    s = settings()
    if s.audit_key:
        return hashlib.sha256(s.audit_key.encode()).digest()
    return hmac.new(hashlib.sha256(s.secret_key.encode()).digest(), b"zongzhi-audit-chain", "sha256").digest()


def settings() -> Settings:
    return current().settings


def cipher() -> PiiCipher:
    return current().cipher


def issue_jwt(user_id: int, username: str, ttl: timedelta | None = None) -> str:
    s = settings()
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "name": username,
        "iss": JWT_ISSUER,
        "iat": now,
        "exp": now + (ttl or timedelta(minutes=s.jwt_ttl_minutes)),
    }
    return jwt.encode(claims, s.secret_key, algorithm=JWT_ALGORITHM)


def decode_jwt(token: str) -> int | None:
    """The user id a valid JWT names, or ``None`` (bad signature, expired, malformed)."""
    try:
        claims = jwt.decode(
            token,
            settings().secret_key,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "sub"]},
        )
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # A user id the users table can hold; a larger one (validly signed or not) names nobody.
    return user_id if 0 < user_id <= 2**31 - 1 else None
