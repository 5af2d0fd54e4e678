"""``zongzhi plugins list`` and ``zongzhi partners ...``: the docking plugins and their partners' keys."""

from __future__ import annotations

import click

from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command("list", help="loaded plugins: name, version, source and hooks")
def plugins_list(run: Run) -> int:
    for info in run.load_plugins().describe():
        print(f"{info.name} {info.version}  ({info.source})")
        print(f"    hooks: {', '.join(info.hooks)}")
    if run.settings.disabled_plugins:
        print(f"disabled: {', '.join(run.settings.disabled_plugins)}")
    return 0


@command("create", help="create a credential and print its secret once", plugins=True, database=True)
@click.argument("plugin", help="e.g. court_docking")
@click.argument("name", help="the partner, e.g. 示范县人民法院")
@click.option("--callback", help="the partner's callback URL for outbound results")
@click.option("--center", help="12-digit code of the center its cases go to by default")
async def partners_create(run: Run, plugin: str, name: str, callback: str | None, center: str | None) -> int:
    from zongzhi.platform import partners

    credential, secret = await partners.create_credential(run.admin(), plugin, name, callback or "", center)
    print(f"key id: {credential.key_id}")
    print(f"secret: {secret}")
    print("(the secret is shown only now)")
    return 0


@command("rotate", help="issue a new secret (the old one stops working)", database=True)
@click.argument("key_id", help="the credential's key id (partners list)")
async def partners_rotate(run: Run, key_id: str) -> int:
    from zongzhi.platform import partners

    print(f"secret: {await partners.rotate_secret(run.admin(), key_id)}")
    return 0


@command("revoke", help="revoke a credential", database=True)
@click.argument("key_id", help="the credential's key id (partners list)")
async def partners_revoke(run: Run, key_id: str) -> int:
    from zongzhi.platform import partners

    await partners.revoke(run.admin(), key_id)
    print(f"revoked {key_id}")
    return 0


@command("list", help="list credentials", database=True)
async def partners_list(run: Run) -> int:
    from zongzhi.platform.models import PartnerCredential

    for c in await PartnerCredential.all().order_by("plugin", "id"):
        state = "active" if c.active else "revoked"
        print(f"{c.key_id:28} {c.plugin:18} {state:8} {c.name}  {c.callback_url}")
    return 0


def plugins_group() -> click.Group:
    return group("plugins", "docking and other plugins", [plugins_list])


def partners_group() -> click.Group:
    return group(
        "partners",
        "partner agencies' credentials",
        [partners_create, partners_rotate, partners_revoke, partners_list],
    )
