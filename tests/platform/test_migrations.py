"""The committed migrations describe the models: a model change without its migration fails here."""

from __future__ import annotations

import os
import subprocess
import sys

PENDING = """
import asyncio
import sys

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from zongzhi.platform.models.db import tortoise_config
from zongzhi.platform.base.settings import Settings


async def pending() -> list:
    config = tortoise_config(Settings.from_env())
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        return await MigrationAutodetector(ctx.apps, apps).changes()


for writer in asyncio.run(pending()):
    print(writer.app_label, [type(op).__name__ for op in writer.operations])
"""


def test_no_model_change_lacks_its_migration(tmp_path):
    # In a process of its own: the autodetector initialises an ORM of its own, and writes nothing.
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp_path), "ZONGZHI_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-c", PENDING], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", f"run tortoise makemigrations; pending: {done.stdout}"
