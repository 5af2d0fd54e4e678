"""``zongzhi users ...`` and ``zongzhi tokens ...``: accounts and their bearer tokens."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command("create", help="create a user", database=True)
@click.argument("username", help="login name, unique")
@click.option("--name", help="display name")
@click.option(
    "--roles",
    required=True,
    help="comma-separated: staff,mediator,grid_worker,leader,rule_author,admin,partner,department; "
    "or auditor alone (reads the audit log, nothing else)",
)
@click.option("--center", help="12-digit code of the user's center (their jurisdiction)")
@click.option("--department", help="department code, for department users")
@click.option("--grids", help="comma-separated grid codes, for grid workers")
@click.option("--specialties", help="comma-separated category codes, for mediators")
@click.option("--plugin", help="for partner accounts: the plugin they may reach")
async def users_create(
    run: Run,
    username: str,
    name: str | None,
    roles: str,
    center: str | None,
    department: str | None,
    grids: str | None,
    specialties: str | None,
    plugin: str | None,
) -> int:
    from zongzhi.platform.models import Center, Department, Grid
    from zongzhi.platform.services.accounts import create_user

    center_row = await Center.get_or_none(code=center) if center else None
    if center and center_row is None:
        raise UsageError(f"no center with code {center}")
    department_row = await Department.get_or_none(code=department) if department else None
    if department and department_row is None:
        raise UsageError(f"no department with code {department}")
    grid_rows = []
    for code in grids.split(",") if grids else []:
        grid = await Grid.get_or_none(code=code.strip())
        if grid is None:
            raise UsageError(f"no grid with code {code.strip()}")
        grid_rows.append(grid)
    user = await create_user(
        username,
        name or username,
        roles.split(","),
        center=center_row,
        department=department_row,
        grids=grid_rows,
        specialties=specialties.split(",") if specialties else [],
        plugin=plugin,
    )
    print(f"created user {user.username} (id {user.id})")
    return 0


@command("list", help="list users: username, roles, center, department, active", database=True, migrate=False)
@click.option("--center", help="only the users of the center with this 12-digit code")
async def users_list(run: Run, center: str | None) -> int:
    from zongzhi.platform.models import User

    query = User.all().select_related("center", "department").order_by("username")
    if center:
        query = query.filter(center__code=center)
    rows = [
        (
            u.username,
            ",".join(u.roles),
            f"{u.center.code} {u.center.name}" if u.center else "-",
            u.department.name if u.department else "-",
            "yes" if u.active else "no",
        )
        for u in await query
    ]
    header = ("USERNAME", "ROLES", "CENTER", "DEPARTMENT", "ACTIVE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


async def _set_user_active(run: Run, username: str, active: bool) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import set_user_active

    user = await User.get_or_none(username=username)
    if user is None:
        print(f"no user {username}", file=sys.stderr)
        return 2
    await set_user_active(run.actor(), user.id, active)
    print(f"{'enabled' if active else 'disabled'} {username}")
    return 0


@command("disable", help="disable an account: its tokens and JWTs get 401 at once (audited)", database=True)
@click.argument("username", help="the account to disable")
async def users_disable(run: Run, username: str) -> int:
    return await _set_user_active(run, username, False)


@command("enable", help="enable a disabled account again (audited)", database=True)
@click.argument("username", help="the account to enable")
async def users_enable(run: Run, username: str) -> int:
    return await _set_user_active(run, username, True)


@command("create", help="create a token for a user and print it once", database=True)
@click.argument("username", help="the user the token signs in as")
@click.option("--name", default="", help="a label for an API token")
@click.option("--days", type=int, help="lifetime in days (API tokens: default never expires)")
@click.option("--jwt", is_flag=True, help="issue a signed JWT instead of an opaque API token")
async def tokens_create(run: Run, username: str, name: str, days: int | None, jwt: bool) -> int:
    from zongzhi.platform.base import security
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import create_api_token

    user = await User.get_or_none(username=username)
    if user is None:
        raise UsageError(f"no user {username}")
    ttl = timedelta(days=days) if days else None
    if jwt:
        print(security.issue_jwt(user.id, user.username, ttl=ttl))
    else:
        print(await create_api_token(user, name=name, ttl=ttl))
    return 0


@command("list", help="a user's API tokens without their secrets: id, dates, revoked", database=True)
@click.argument("username", help="whose tokens")
async def tokens_list(run: Run, username: str) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import list_api_tokens

    user = await User.get_or_none(username=username)
    if user is None:
        print(f"no user {username}", file=sys.stderr)
        return 2
    rows = await list_api_tokens(run.actor(), user.id)

    def when(value) -> str:
        return value.strftime("%Y-%m-%dT%H:%MZ") if value else "-"

    print(f"{'id':>6}  {'prefix':12} {'created':18} {'expires':18} {'last used':18} {'revoked':18} name")
    for t in rows:
        print(
            f"{t.id:>6}  {t.prefix:12} {when(t.created_at):18} {when(t.expires_at):18} "
            f"{when(t.last_used_at):18} {when(t.revoked_at):18} {t.name}"
        )
    return 0


@command("revoke", help="revoke an API token by id (see tokens list); audited", database=True)
@click.argument("id", type=int, help="the token's id")
async def tokens_revoke(run: Run, id: int) -> int:
    from zongzhi.platform.services.accounts import revoke_api_token

    await revoke_api_token(run.actor(), id)
    print(f"revoked token {id}")
    return 0


def users_group() -> click.Group:
    return group("users", "user accounts", [users_create, users_list, users_disable, users_enable])


def tokens_group() -> click.Group:
    return group("tokens", "bearer tokens", [tokens_create, tokens_list, tokens_revoke])
