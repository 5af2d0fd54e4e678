"""What a command runs with, and the one place the command line starts and stops the platform.

Every command gets a :class:`Run`: the settings read from the environment, and the ways to start
what it needs: the plugins, the database (opened, and closed when the command ends, whatever
happens), or the whole start-up the API does (plugins, database, rulesets, publishers). A command
declares what it needs on its decorator (:func:`zongzhi.platform.wiring.cli.command.command`) or opens it
itself with ``async with run.database():`` after checking its input.

Start-up changes here and nowhere else in the command line.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.base.settings import Settings

if TYPE_CHECKING:
    from zongzhi.platform.domain.actor import Actor
    from zongzhi.platform.pipeline.plugin_host import Plugins


@dataclass(frozen=True)
class Needs:
    """What a command needs started before its body runs (and stopped after it)."""

    database: bool = False
    """Open the database for the whole body, and close it after."""
    migrate: bool = True
    """With ``database``: apply pending migrations first."""
    plugins: bool = False
    """Load the plugins first: their event types, actions and codes are part of what the command reads."""


def read_settings() -> Settings:
    """The settings from ``ZONGZHI_*``; a bad value is the operator's mistake (one line, exit 2)."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise UsageError(f"configuration: {exc}") from exc


@dataclass(frozen=True)
class Run:
    """One command's run: its name (``users create``) and settings, and how it starts what it needs."""

    name: str
    settings: Settings

    @classmethod
    def begin(cls, name: str) -> Run:
        """Read the settings, configure logging and install this run's platform: what every command
        does first. The platform is built when a command first needs it (``zongzhi worker`` and
        ``serve`` prepare the metrics directory before anything the platform imports defines a metric)."""
        from zongzhi.platform.base import current
        from zongzhi.platform.base.observability import logs
        from zongzhi.platform.wiring.platform import DeferredPlatform

        settings = read_settings()
        logs.configure(settings.log_format, settings.log_level)
        current.install(DeferredPlatform(settings))
        return cls(name, settings)

    def with_settings(self, settings: Settings) -> Run:
        """The same run on changed settings (the demo's public URL), with a platform built from them."""
        from zongzhi.platform.base import current
        from zongzhi.platform.wiring.platform import DeferredPlatform

        current.install(DeferredPlatform(settings))
        return replace(self, settings=settings)

    def load_plugins(self, *, builtin_only: bool = False) -> Plugins:
        """The plugins: this run's platform's (their vocabularies, event types and rule actions are
        known to it), or only the ones shipped with zongzhi."""
        from zongzhi.platform.base.current import current
        from zongzhi.platform.pipeline import plugin_host as plugins

        if builtin_only:
            return plugins.load(self.settings, builtin_only=True)
        return current().plugins

    async def migrate(self) -> None:
        """Apply pending migrations and close the connection (before a server or worker starts)."""
        from zongzhi.platform.models import db

        await db.migrate(self.settings)

    @asynccontextmanager
    async def database(self, *, migrate: bool = True) -> AsyncIterator[None]:
        """The database, open inside the block (migrated first unless ``migrate=False``), closed after."""
        from zongzhi.platform.models import db

        await db.init(self.settings, run_migrations=migrate)
        try:
            yield
        finally:
            await db.close()

    @asynccontextmanager
    async def platform(self) -> AsyncIterator[None]:
        """The API's whole start-up inside the block (plugins, database, rulesets, publishers)."""
        from zongzhi.platform.wiring.platform import Platform

        platform = await Platform.build(self.settings).start()
        try:
            yield
        finally:
            await platform.stop()

    def call(self, body: Callable[..., Any], params: dict[str, Any], needs: Needs) -> Any:
        """Run a command's body (a function or a coroutine function) with what ``needs`` asks for."""
        if needs.plugins:
            self.load_plugins()
        if not inspect.iscoroutinefunction(body):
            if needs.database:
                raise TypeError(f"{body.__qualname__} needs the database: make it async")
            return body(self, **params)

        async def within() -> Any:
            if not needs.database:
                return await body(self, **params)
            async with self.database(migrate=needs.migrate):
                return await body(self, **params)

        return asyncio.run(within())

    def actor(self) -> Actor:
        """The command line acts as an admin with no account; audit rows name it and the OS user."""
        import getpass

        from zongzhi.platform.domain.actor import Actor

        return Actor.system_actor(f"命令行 cli:{getpass.getuser()}")

    def admin(self) -> Actor:
        """The actor of the partner and rule commands (their audit rows say 命令行管理员)."""
        from zongzhi.platform.domain.actor import Actor

        return Actor.system_actor("命令行管理员")
