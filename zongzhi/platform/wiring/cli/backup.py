"""``zongzhi backup`` and ``zongzhi restore``: the database and the evidence store in one archive.

Both open the database themselves (:mod:`zongzhi.platform.wiring.backup`): a restore must find it empty
and migrate it after loading.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.wiring.cli.command import command
from zongzhi.platform.wiring.cli.context import Run


@command("backup", help="write the database and the evidence store into one tar file")
@click.argument("output", help="archive to write (OUT.tar, or OUT.tar.gz to compress)")
@click.option("--overwrite", is_flag=True, help="replace an existing file")
async def backup(run: Run, output: str, overwrite: bool) -> int:
    from zongzhi.platform.wiring.backup import backup

    out = Path(output)
    if out.exists() and not overwrite:
        raise UsageError(f"{out} exists: choose another name, or pass --overwrite")
    manifest = await backup(run.settings, out)
    rows = sum(manifest.counts.values())
    print(
        f"wrote {out}: {manifest.database_kind} database at migration {manifest.migration_level} "
        f"({len(manifest.counts)} tables, {rows} rows), {len(manifest.evidence)} evidence objects"
    )
    if manifest.missing_evidence:
        print(
            f"warning: {len(manifest.missing_evidence)} evidence row(s) name objects missing from the store, "
            f"e.g. {manifest.missing_evidence[0]}",
            file=sys.stderr,
        )
    print("Keep ZONGZHI_SECRET_KEY and ZONGZHI_PII_KEY (or <data dir>/secret.key) apart from this file.")
    return 0


@command("restore", help="load a backup into an empty database and evidence store")
@click.argument("input", help="archive written by zongzhi backup")
@click.option("--force", is_flag=True, help="restore even though the database or store holds data")
@click.option(
    "--allow-other-key",
    is_flag=True,
    help="restore although the PII key differs from the backup's (ID numbers stay unreadable)",
)
async def restore(run: Run, input: str, force: bool, allow_other_key: bool) -> int:
    from zongzhi.platform.wiring.backup import restore

    done = await restore(run.settings, Path(input), force=force, allow_other_key=allow_other_key)
    m = done.manifest
    print(
        f"restored {input} (made {m.created_at} by zongzhi {m.zongzhi_version}): "
        f"{len(m.counts)} tables, {done.rows} rows and {done.objects} evidence objects, all checked"
    )
    if done.migrated:
        print(f"applied {len(done.migrated)} newer migration(s): {', '.join(done.migrated)}")
    return 0
