"""Accounts: list a user's tokens without secrets, revoke one, disable and enable a user.

Over GraphQL (admin only) and the command line (in a subprocess, on the test database); every act
is in the audit log, and what it stops is refused with 401 from the next request on.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.gql import GraphQLErrors, gql, raw
from tests.security.support import zongzhi
from zongzhi.platform.domain import audit
from zongzhi.platform.models import ApiToken, AuditLog, User
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services.accounts import create_api_token

ME = "{ me { username } }"
TOKENS = """query($u: ID!) { apiTokens(userId: $u) {
  id name prefix createdAt expiresAt lastUsedAt revokedAt revoked } }"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) { id revoked revokedAt } }"
DISABLE = "mutation($u: ID!) { disableUser(userId: $u) { username active } }"
ENABLE = "mutation($u: ID!) { enableUser(userId: $u) { username active } }"


def uid(world, name: str) -> str:
    return to_global_id("User", world.users[name].id)


async def status(client, token: str) -> int:
    return (await raw(client, token, ME)).status_code


async def test_admin_lists_and_revokes_a_token_over_graphql(client, world):
    admin = world.tokens["admin"]
    phone = await create_api_token(world.users["a_staff"], name="phone")
    laptop = await create_api_token(world.users["a_staff"], name="laptop", ttl=timedelta(days=30))
    assert await status(client, phone) == 200

    listed = (await gql(client, admin, TOKENS, {"u": uid(world, "a_staff")}))["apiTokens"]
    assert [t["name"] for t in listed] == ["phone", "laptop"]
    assert listed[0]["lastUsedAt"] is not None and listed[1]["lastUsedAt"] is None
    assert listed[0]["expiresAt"] is None and listed[1]["expiresAt"] is not None
    assert not any(t["revoked"] for t in listed)
    assert all(phone not in str(t) and laptop not in str(t) for t in listed), "no secret is shown"
    assert listed[0]["prefix"] == phone[:10]

    revoked = (await gql(client, admin, REVOKE, {"id": listed[0]["id"]}))["revokeApiToken"]
    assert revoked["revoked"] and revoked["revokedAt"]
    assert await status(client, phone) == 401
    assert await status(client, laptop) == 200, "only that token"
    [row] = await AuditLog.filter(action="token.revoke")
    token_id = (await ApiToken.get(name="phone")).id
    assert row.actor_id == world.users["admin"].id and row.target == f"token:{token_id}"


async def test_only_admins_manage_accounts(client, world):
    await create_api_token(world.users["a_staff"], name="phone")
    token_id = to_global_id("ApiToken", (await ApiToken.get(name="phone")).id)
    for who in ("a_staff", "county_leader", "rule_author"):
        for query, variables in [
            (TOKENS, {"u": uid(world, "a_staff")}),
            (REVOKE, {"id": token_id}),
            (DISABLE, {"u": uid(world, "b_staff")}),
            (ENABLE, {"u": uid(world, "b_staff")}),
        ]:
            with pytest.raises(GraphQLErrors) as refused:
                await gql(client, world.tokens[who], query, variables)
            assert refused.value.code == "FORBIDDEN", (who, query)
    assert not await AuditLog.filter(action__startswith="token.").exists()
    assert not await AuditLog.filter(action__startswith="user.").exists()
    assert await User.filter(active=False).count() == 0


async def test_a_disabled_users_tokens_and_jwts_stop_at_once(client, world):
    admin = world.tokens["admin"]
    api_token = await create_api_token(world.users["a_staff"], name="phone")
    jwt = world.tokens["a_staff"]
    assert await status(client, jwt) == 200 and await status(client, api_token) == 200

    disabled = (await gql(client, admin, DISABLE, {"u": uid(world, "a_staff")}))["disableUser"]
    assert disabled == {"username": "a_staff", "active": False}
    assert await status(client, jwt) == 401
    assert await status(client, api_token) == 401

    enabled = (await gql(client, admin, ENABLE, {"u": uid(world, "a_staff")}))["enableUser"]
    assert enabled["active"] is True
    assert await status(client, jwt) == 200 and await status(client, api_token) == 200
    actions = await AuditLog.filter(target=f"user:{world.users['a_staff'].id}").order_by("id")
    assert [a.action for a in actions] == ["user.disable", "user.enable"]
    assert all(a.actor_id == world.users["admin"].id for a in actions)
    assert (await audit.verify()).ok


async def test_an_admin_cannot_disable_themselves(client, world):
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["admin"], DISABLE, {"u": uid(world, "admin")})
    assert refused.value.code == "VALIDATION" and refused.value.field == "userId"
    with pytest.raises(GraphQLErrors) as unknown:
        await gql(client, world.tokens["admin"], DISABLE, {"u": to_global_id("User", 999_999)})
    assert unknown.value.code == "NOT_FOUND"


async def test_accounts_on_the_command_line(client, settings, world):
    phone = await create_api_token(world.users["a_staff"], name="phone")
    await create_api_token(world.users["a_staff"], name="laptop")
    listed = zongzhi(settings, "tokens", "list", "a_staff")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 3 and "phone" in lines[1] and "laptop" in lines[2]
    assert phone not in listed.stdout and phone[:10] in listed.stdout
    token_id = int(lines[1].split()[0])

    revoked = zongzhi(settings, "tokens", "revoke", str(token_id))
    assert revoked.returncode == 0 and f"revoked token {token_id}" in revoked.stdout
    assert await status(client, phone) == 401
    again = zongzhi(settings, "tokens", "list", "a_staff").stdout.strip().splitlines()
    assert again[1].split()[5] != "-", "the revoked column shows when"

    assert zongzhi(settings, "users", "disable", "b_staff").returncode == 0
    assert await status(client, world.tokens["b_staff"]) == 401
    assert zongzhi(settings, "users", "enable", "b_staff").returncode == 0
    assert await status(client, world.tokens["b_staff"]) == 200

    rows = await AuditLog.filter(action__in=["token.revoke", "user.disable", "user.enable"]).order_by("id")
    assert [r.action for r in rows] == ["token.revoke", "user.disable", "user.enable"]
    assert all(r.actor_id is None and r.details["by"].startswith("命令行 cli:") for r in rows)

    missing = zongzhi(settings, "users", "disable", "nobody")
    assert missing.returncode == 2 and "no user nobody" in missing.stderr
    unknown = zongzhi(settings, "tokens", "revoke", "999999")
    assert unknown.returncode == 2 and "no API token 999999" in unknown.stderr


async def test_auditor_role_on_the_command_line(settings, world):
    made = zongzhi(settings, "users", "create", "aud", "--roles", "auditor")
    assert made.returncode == 0, made.stderr
    mixed = zongzhi(settings, "users", "create", "aud2", "--roles", "auditor,admin")
    assert mixed.returncode == 2 and "auditor is a role of its own" in mixed.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["tokens", "list"],
        ["tokens", "revoke"],
        ["users", "disable"],
        ["users", "enable"],
        ["audit", "verify"],
    ],
    ids=lambda c: " ".join(c),
)
def test_new_commands_have_help(command, capsys):
    from zongzhi.platform.wiring.cli import main

    assert main([*command, "--help"]) == 0
    assert f"Usage: zongzhi {' '.join(command)}" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["disable the user", "revoke the token"])
async def test_an_open_subscription_stops_when_its_account_does(settings, world, how):
    from dataclasses import replace

    import websockets

    from tests.casework import new_case
    from tests.platform.test_subscriptions import board, next_event, serving
    from zongzhi.platform.domain.actor import Actor
    from zongzhi.platform.services.accounts import revoke_api_token, set_user_active

    token = await create_api_token(world.users["a_staff"], name="screen")
    async with serving(replace(settings, redis_url="", event_mode="inline")) as url:
        ws = await board(url, token)
        await new_case(world, title="第一件")
        assert (await next_event(ws))["number"]
        cli = Actor.system_actor("test")
        if how == "disable the user":
            await set_user_active(cli, world.users["a_staff"].id, False)
        else:
            await revoke_api_token(cli, (await ApiToken.get(name="screen")).id)
        await new_case(world, title="第二件")
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next" and message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 4401


async def test_the_one_statement_actor_is_the_orm_actor_for_every_user(world):
    """``authenticate_actor`` (the request path's single statement) builds the same actor as
    ``actor_for_user`` over the ORM, by JWT and by API token, for every user of the test county."""
    from zongzhi.platform.base.security import issue_jwt
    from zongzhi.platform.domain.actor import actor_for_user
    from zongzhi.platform.services.accounts import authenticate_actor

    for name, user in world.users.items():
        expected = await actor_for_user(user)
        assert await authenticate_actor(issue_jwt(user.id, user.username)) == expected, name
        assert await authenticate_actor(await create_api_token(user, name="probe")) == expected, name


async def test_the_one_statement_actor_refuses_revoked_expired_unknown_and_disabled(world):
    from zongzhi.platform.services.accounts import authenticate_actor

    user = world.users["a_staff"]
    expired = await create_api_token(user, name="old", ttl=timedelta(seconds=-1))
    revoked = await create_api_token(user, name="gone")
    await ApiToken.filter(user_id=user.id, name="gone").update(revoked_at=datetime.now(UTC))
    assert await authenticate_actor(expired) is None
    assert await authenticate_actor(revoked) is None
    assert await authenticate_actor("zz_unknown") is None
    assert await authenticate_actor("not-a-jwt") is None
    live = await create_api_token(user, name="live")
    assert (await authenticate_actor(live)).user_id == user.id
    assert (await ApiToken.get(user_id=user.id, name="live")).last_used_at is not None
    await User.filter(id=user.id).update(active=False)
    assert await authenticate_actor(live) is None
