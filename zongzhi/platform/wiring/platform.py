"""The platform object: everything a zongzhi process holds, built once from settings.

``Platform.build(settings)`` makes the parts (no I/O: nothing is opened, created or connected):
secrets, the loaded plugins and what they add (codes, event types, fact fields, rule actions,
docking figures), the rules engine and its cache of active versions, the dispatch board's hub, the
evidence store, the tracer. ``await platform.start()`` opens the database, installs the rulesets,
wires how committed events are published and partner deliveries sent, and makes the platform the
process's :func:`~zongzhi.platform.base.current.current` one; ``await platform.stop()`` undoes that.

Who builds one: ``create_app`` (kept on ``app.state.platform``, handed to the GraphQL context), the
Celery worker (once per worker process, in ``worker_process_init``), the CLI (``cli.main``) and
the tests (each test its own, so nothing a test or plugin adds reaches the next test).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zongzhi.platform.base import current as current_module
from zongzhi.platform.base.codes import Vocabulary
from zongzhi.platform.base.pii import PiiCipher
from zongzhi.platform.base.settings import Settings

log = logging.getLogger(__name__)


def _no_kick() -> None:
    """No delivery is sent at once (the periodic sweep sends it)."""


@dataclass(eq=False)
class Platform:
    settings: Settings
    cipher: PiiCipher
    #: The loaded plugins (``plugins.Plugins``).
    plugins: Any
    codes: Vocabulary
    #: The rule actions rulesets may name, with their handlers (``rules.ActionRegistry``).
    actions: Any
    #: Payload fields the plugins declared for rules to read (``facts.FactField`` by path).
    fact_fields: dict[str, Any]
    #: Docking figures by plugin name (``stats.docking.DockingFn``).
    docking: dict[str, Any]
    #: The durable_rules host (``rules.Engine``) and the active versions loaded into it.
    engine: Any
    active_versions: Any
    #: The dispatch board's hub (``broadcast.Hub``).
    hub: Any
    #: The evidence store (``storage.EvidenceStore``).
    store: Any
    #: OpenTelemetry tracer, ``None`` when tracing is off.
    tracer: Any = None
    #: What runs after a commit (``outbox.Publisher``), and how to ask the broker what it holds.
    publishers: list[Any] = field(default_factory=list)
    queue_probe: Any = None
    #: Called after a partner delivery is queued, to send it now rather than at the next sweep.
    kicker: Callable[[], None] = _no_kick
    #: SMS senders by name, and Celery apps that send to a broker, by URL (built on first use).
    sms_senders: dict[str, Any] = field(default_factory=dict)
    celery_senders: dict[str, Any] = field(default_factory=dict)
    #: The festivals of the calendar years loaded into the database (``fact_time.schedule``).
    festival_schedule: Any = None
    #: Embedded mode: requests waiting for their events' batch (``rules.grouped.EvaluationGroups``).
    evaluation_groups: Any = None
    #: Fire-and-forget tasks this platform started (kept referenced until they finish).
    background: set[asyncio.Task] = field(default_factory=set)
    started: bool = False

    @classmethod
    def build(
        cls, settings: Settings, *, builtin_only: bool = False, tracer_provider: Any = None
    ) -> Platform:
        """The parts for ``settings``; ``builtin_only`` loads only the plugins shipped with zongzhi."""
        from zongzhi.platform.base.observability import tracing
        from zongzhi.platform.pipeline import broadcast
        from zongzhi.platform.pipeline.plugin_host import Plugins
        from zongzhi.platform.rules import Engine, builtin_registry
        from zongzhi.platform.rules import builtin_actions as rule_actions
        from zongzhi.platform.rules.evaluation import ActiveVersions
        from zongzhi.storage import build_store

        plugins = Plugins(settings, builtin_only=builtin_only)
        actions = builtin_registry()
        rule_actions.install(actions)
        platform = cls(
            settings=settings,
            cipher=PiiCipher(settings.pii_key or f"pii:{settings.secret_key}"),
            plugins=plugins,
            codes=Vocabulary.core(),
            actions=actions,
            fact_fields={},
            docking={},
            engine=Engine(),
            active_versions=ActiveVersions(),
            hub=broadcast.hub_for(settings),
            store=build_store(settings),
            tracer=tracing.tracer_for(settings, tracer_provider),
        )
        plugins.apply_vocabularies(platform)
        platform.docking.update(plugins.docking_figures())
        return platform

    async def start(self, *, manage_db: bool = True, migrate: bool = True) -> Platform:
        """Open the database (unless the caller did), install the rulesets and start publishing."""
        from zongzhi.platform.models import db
        from zongzhi.platform.wiring import runtime

        current_module.install(self)
        try:
            if manage_db:
                await db.init(self.settings, run_migrations=migrate)
            with current_module.use(self):
                await runtime.install_rulesets(self)
        except BaseException:
            current_module.uninstall(self)
            raise
        self.publishers = runtime.publishers_for(self.settings)
        self.queue_probe = runtime.queue_probe_for(self.settings)
        self.kicker = runtime.delivery_kicker(self)
        self.started = True
        return self

    async def stop(self, *, manage_db: bool = True) -> None:
        """Stop publishing, close the database (if this platform opened it) and step down."""
        from zongzhi.platform.models import db

        self.publishers = []
        self.queue_probe = None
        self.kicker = _no_kick
        self.started = False
        try:
            await self.hub.close()
            self.close_engine()
            if manage_db:
                await db.close()
        finally:
            current_module.uninstall(self)

    def close_engine(self) -> None:
        """Free every ruleset this platform loaded into durable_rules (their C state is per process)."""
        self.engine.retain([])
        self.active_versions.invalidate()

    def spawn(self, coro: Any) -> asyncio.Task:
        """Run ``coro`` in the background, kept referenced until it finishes."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task


class DeferredPlatform:
    """A platform built on first use: the CLI's, since ``zongzhi worker`` and ``serve`` must set up
    the metrics directory before anything the platform imports defines a metric."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: Platform | None = None

    def _platform(self) -> Platform:
        if self._built is None:
            self._built = Platform.build(self.settings)
        return self._built

    def __getattr__(self, name: str) -> Any:  # only for what is not set on this object
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._platform(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("settings", "_built"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._platform(), name, value)
