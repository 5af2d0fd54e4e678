"""Users and their bearer tokens (signed JWTs, or opaque API tokens stored only as a hash).

Revoking a token and disabling or enabling a user are admin acts, each written to the audit log.
``authenticate_actor`` checks the token and the user's ``active`` flag on every request, so a revoked
token or a disabled user's tokens and JWTs are refused from the next request on.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.base.security import decode_jwt
from zongzhi.platform.domain import audit
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import manages
from zongzhi.platform.domain.jurisdiction import resolve_ref, visible
from zongzhi.platform.models import ApiToken, Center, Department, Grid, User, UserGrid

TOKEN_PREFIX = "zz_"
#: ``last_used_at`` is written at most this often per token (not one UPDATE per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_roles(roles: list[str], plugin: str | None) -> None:
    """Refuse unknown roles, no role, auditor mixed with others, a partner without its plugin."""
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if unknown:
        raise ValidationFailed(f"unknown role(s): {', '.join(unknown)}", field="roles")
    if not roles:
        raise ValidationFailed("a user needs at least one role", field="roles")
    if Role.auditor in roles and len(set(roles)) > 1:
        raise ValidationFailed(
            "auditor is a role of its own: audit is kept apart from administration and casework",
            field="roles",
        )
    if Role.partner in roles and not plugin:
        raise ValidationFailed("a partner account names its plugin", field="plugin")


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
    check_roles(roles, plugin)
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


def _require_admin(actor: Actor) -> None:
    if not actor.has(Role.admin):
        raise Forbidden("managing accounts needs the admin role")


async def _audit(actor: Actor, action: str, target: str, details: dict) -> None:
    if actor.user_id is None:
        details = {**details, "by": actor.display}
    await audit.record(action, target, actor_id=actor.user_id, details=details)


async def revoke_api_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke an API token (admin): it is refused from the next request on. Audited."""
    _require_admin(actor)
    async with in_transaction():
        row = await ApiToken.select_for_update().get_or_none(id=token_id)
        if row is None or not await visible(actor, User).filter(id=row.user_id).exists():
            raise NotFound(f"no API token {token_id}", field="id")
        already = row.revoked_at is not None
        if not already:
            row.revoked_at = datetime.now(UTC)
            await row.save(update_fields=["revoked_at"])
        await _audit(
            actor, "token.revoke", f"token:{row.id}", {"user": row.user_id, "already_revoked": already}
        )
    return row


async def set_user_active(actor: Actor, user_id: int, active: bool) -> User:
    """Disable (or enable again) an account (admin); a disabled user's tokens all stop. Audited."""
    _require_admin(actor)
    if not active and user_id == actor.user_id:
        raise ValidationFailed("you cannot disable your own account", field="userId")
    await resolve_ref(actor, User, user_id, "userId")
    async with in_transaction():
        user = await User.select_for_update().get(id=user_id)
        center = await Center.get_or_none(id=user.center_id) if user.center_id else None
        if not manages(actor, center.path if center else None):
            raise Forbidden("that account is outside the tree you manage", field="userId")
        changed = user.active != active
        if changed:
            user.active = active
            await user.save(update_fields=["active"])
        action = "user.enable" if active else "user.disable"
        await _audit(actor, action, f"user:{user.id}", {"username": user.username, "changed": changed})
    return user


async def list_api_tokens(actor: Actor, user_id: int) -> list[ApiToken]:
    """A user's API tokens, oldest first, without their secrets (admin). JWTs are not stored."""
    _require_admin(actor)
    await resolve_ref(actor, User, user_id, "userId")
    return await ApiToken.filter(user_id=user_id).order_by("id")


_USER_COLUMNS = (
    "u.id, u.username, u.display_name, u.roles, u.center_id, u.department_id, u.plugin, u.active,"
    " c.path AS center_path, c.level AS center_level"
)
_GRIDS = {
    "postgres": "(SELECT array_agg(g.grid_id) FROM user_grid g WHERE g.user_id = u.id)",
    "sqlite": "(SELECT group_concat(g.grid_id) FROM user_grid g WHERE g.user_id = u.id)",
}
_FROM_USER = 'FROM "user" u LEFT JOIN center c ON c.id = u.center_id'


def _auth_sql(dialect: str, by_token: bool) -> str:
    mark = "$1" if dialect == "postgres" else "?"
    select = f"SELECT {_USER_COLUMNS}, {_GRIDS[dialect]} AS grid_ids"
    if by_token:
        return (
            f"{select}, t.id AS token_id, t.expires_at, t.revoked_at, t.last_used_at "
            f'FROM api_token t JOIN "user" u ON u.id = t.user_id LEFT JOIN center c ON c.id = u.center_id '
            f"WHERE t.token_hash = {mark}"
        )
    return f"{select} {_FROM_USER} WHERE u.id = {mark}"


def _as_datetime(value: object) -> datetime | None:
    """A timestamp as the driver hands it back: asyncpg a datetime, SQLite an ISO text."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _actor_of(row: dict) -> Actor:
    roles = row["roles"]
    grids = row["grid_ids"]
    if isinstance(grids, str):
        grids = [int(g) for g in grids.split(",")]
    return Actor(
        user_id=row["id"],
        username=row["username"],
        roles=frozenset(json.loads(roles) if isinstance(roles, str | bytes) else roles),
        center_id=row["center_id"],
        center_path=row["center_path"],
        center_level=row["center_level"],
        department_id=row["department_id"],
        grid_ids=frozenset(grids or ()),
        plugin=row["plugin"],
        label=row["display_name"],
    )


async def authenticate_actor(token: str) -> Actor | None:
    """The request's actor for a bearer token, or ``None``: an unknown, revoked or expired token, a
    bad JWT, or a disabled user.

    One statement (token, user, center and grids together) instead of an ORM query per table:
    it runs on every request, and on the compiled read path it was about a third of the work.
    """
    conn = Tortoise.get_connection("default")
    dialect = "postgres" if conn.capabilities.dialect == "postgres" else "sqlite"
    now = datetime.now(UTC)
    if token.startswith(TOKEN_PREFIX):
        _, rows = await conn.execute_query(_auth_sql(dialect, True), [_hash(token)])
        row = dict(rows[0]) if rows else None
        if row is None or row["revoked_at"] is not None:
            return None
        expires_at = _as_datetime(row["expires_at"])
        if expires_at and expires_at <= now:
            return None
        last_used = _as_datetime(row["last_used_at"])
        if row["active"] and (last_used is None or now - last_used >= LAST_USED_RESOLUTION):
            await ApiToken.filter(id=row["token_id"]).update(last_used_at=now)
    else:
        user_id = decode_jwt(token)
        if user_id is None:
            return None
        _, rows = await conn.execute_query(_auth_sql(dialect, False), [user_id])
        row = dict(rows[0]) if rows else None
    return _actor_of(row) if row is not None and row["active"] else None
