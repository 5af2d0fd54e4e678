"""Users and their bearer tokens (signed JWTs, or opaque API tokens stored only as a hash)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from zongzhi.platform.codes import Role
from zongzhi.platform.errors import ValidationFailed
from zongzhi.platform.models import ApiToken, Center, Department, Grid, User, UserGrid
from zongzhi.platform.security import decode_jwt

TOKEN_PREFIX = "zz_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    username: str,
    display_name: str,
    roles: list[str],
    *,
    center: Center | None = None,
    department: Department | None = None,
    grids: list[Grid] | None = None,
    specialties: list[str] | None = None,
    title: str = "",
    plugin: str | None = None,
) -> User:
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if unknown:
        raise ValidationFailed(f"unknown role(s): {', '.join(unknown)}", field="roles")
    if not roles:
        raise ValidationFailed("a user needs at least one role", field="roles")
    if Role.partner in roles and not plugin:
        raise ValidationFailed("a partner account names its plugin", field="plugin")
    if await User.exists(username=username):
        raise ValidationFailed(f"username {username!r} is taken", field="username")
    user = await User.create(
        username=username,
        display_name=display_name,
        roles=list(roles),
        center=center,
        department=department,
        specialties=specialties or [],
        title=title,
        plugin=plugin,
    )
    for grid in grids or []:
        await UserGrid.create(user=user, grid=grid)
    return user


async def create_api_token(user: User, name: str = "", ttl: timedelta | None = None) -> str:
    """A new opaque token; the clear text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(
        token_hash=_hash(token),
        prefix=token[:10],
        name=name,
        user=user,
        expires_at=datetime.now(UTC) + ttl if ttl else None,
    )
    return token


async def revoke_api_token(token_id: int) -> None:
    await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=datetime.now(UTC))


async def authenticate(token: str) -> User | None:
    """The active user a bearer token belongs to, or ``None``."""
    if token.startswith(TOKEN_PREFIX):
        # With the user's center: building the request's actor then needs no further query.
        row = await ApiToken.get_or_none(token_hash=_hash(token)).select_related("user__center")
        now = datetime.now(UTC)
        if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
            return None
        user = row.user
    else:
        user_id = decode_jwt(token)
        if user_id is None:
            return None
        user = await User.get_or_none(id=user_id).select_related("center")
    return user if user is not None and user.active else None
