"""The plugin host: loads the ``zongzhi.plugins`` entry points through pluggy and applies their hooks.

Built-in and third-party plugins take the same path; ``ZONGZHI_DISABLED_PLUGINS`` blocks any of
them by entry-point name before it is imported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from zongzhi.platform import hookspecs
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.hookspecs import DockingFigures

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from zongzhi.platform.models import Case, CaseEvent

log = logging.getLogger(__name__)

GROUP = "zongzhi.plugins"
BUILTIN_DISTRIBUTION = "zongzhi"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    source: str
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class _Installed:
    name: str
    distribution: str
    version: str
    entry_point: EntryPoint


@cache
def _installed() -> tuple[_Installed, ...]:
    """The group's entry points with their distributions, read once (reading the installed packages'
    metadata is most of the cost of loading plugins, and it does not change while a process runs)."""
    return tuple(
        _Installed(ep.name, ep.dist.name if ep.dist else "?", ep.dist.version if ep.dist else "?", ep)
        for ep in entry_points(group=GROUP)
    )


def rescan() -> None:
    """Read the installed plugins again: after a distribution was installed or removed while the
    process runs (the example plugin's test does)."""
    _installed.cache_clear()


class Plugins:
    def __init__(self, settings: Settings, *, builtin_only: bool = False) -> None:
        self.pm = pluggy.PluginManager("zongzhi")
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, tuple[str, str]] = {}
        for found in _installed():
            if found.name in settings.disabled_plugins or (
                builtin_only and found.distribution != BUILTIN_DISTRIBUTION
            ):
                continue
            if self.pm.get_plugin(found.name) is not None:
                continue
            plugin = found.entry_point.load()
            self.pm.register(plugin, name=found.name)
            self._sources[found.name] = (found.version, f"{found.distribution}: {found.entry_point.value}")

    @property
    def hook(self) -> pluggy.HookRelay:
        """The hooks, each called through pluggy: ``plugins.hook.zongzhi_routes()``."""
        return self.pm.hook

    def names(self) -> list[str]:
        return sorted(self._sources)

    def describe(self) -> list[PluginInfo]:
        infos = []
        for name in self.names():
            plugin = self.pm.get_plugin(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            version, source = self._sources[name]
            infos.append(PluginInfo(name, version, source, hooks))
        return infos

    def _each(self, hook_name: str) -> list[tuple[str, Any]]:
        """``(plugin name, result)`` for each plugin implementing ``hook_name``, called through pluggy.

        For the hooks whose results belong to their plugin (a ruleset's owner, a fact field's
        source): pluggy's ``subset_hook_caller`` calls the hook for one plugin at a time, so its
        ``tryfirst``/``trylast`` and its own wrappers still apply. The other hooks are called once
        for all plugins.
        """
        everyone = self.pm.list_name_plugin()
        results = []
        for name, _plugin in everyone:
            others = [p for n, p in everyone if n != name]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            results.extend((name, result) for result in caller() if result is not None)
        return results

    def apply_vocabularies(self, platform: Any) -> set[str]:
        """Add the plugins' codes, fact fields and rule actions to ``platform`` (a ``Platform`` being
        built); returns the event types they added."""
        from zongzhi.platform.rules.facts import add_plugin_fields

        codes = platform.codes
        added: set[str] = set()
        for contributed in self.hook.zongzhi_codes():
            for code, label in contributed.get("categories", {}).items():
                codes.categories.add(code, label)
            for code, label in contributed.get("kinds", {}).items():
                codes.kinds.add(code, label)
            for code, label in contributed.get("channels", {}).items():
                codes.channels.add(code, label)
                codes.partner_channels.add(code)
            for code, label in contributed.get("event_types", {}).items():
                codes.event_types.setdefault(code, label)
                added.add(code)
        codes.extra_event_types.update(added)
        for plugin_name, fields in self._each("zongzhi_fact_fields"):
            add_plugin_fields(plugin_name, dict(fields), platform.fact_fields)
        for specs in self.hook.zongzhi_rule_actions():
            for spec in specs:
                if platform.actions.get(spec.name) is None:
                    platform.actions.register(spec)
        return added

    def shipped_rulesets(self) -> list[tuple[str, str, str]]:
        """``(plugin, ruleset name, YAML source)`` for every ruleset the plugins ship.

        The runtime installs them (the host does not call the rules' services: no import cycle)."""
        return [
            (plugin_name, name, source)
            for plugin_name, shipped in self._each("zongzhi_rulesets")
            for name, source in shipped
        ]

    def graphql_parts(self) -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
        def flat(results: list[list[type]]) -> tuple[type, ...]:
            return tuple(t for group in results for t in group)

        return (
            flat(self.hook.zongzhi_graphql_queries()),
            flat(self.hook.zongzhi_graphql_mutations()),
            flat(self.hook.zongzhi_graphql_types()),
        )

    def routes(self) -> list[BaseRoute]:
        return [route for group in self.hook.zongzhi_routes() for route in group]

    async def case_event(self, event: CaseEvent, case: Case) -> bool:
        """Every plugin's ``zongzhi_case_event``, awaited in pluggy's order; one failing stops no other.

        False if one failed (logged): a caller inside a transaction rolls back what it wrote."""
        try:
            pending = self.hook.zongzhi_case_event(event=event, case=case)
        except Exception:  # a plugin whose implementation is not async raised while being called
            log.exception("a plugin failed on event %s", event.id)
            return False
        ok = True
        for awaitable in pending:
            try:
                await awaitable
            except Exception:
                ok = False
                log.exception("plugin hook %s failed on event %s", _origin(awaitable), event.id)
        return ok

    def docking_figures(self) -> dict[str, DockingFigures]:
        figures: dict[str, DockingFigures] = {}
        for group in self.hook.zongzhi_docking_figures():
            figures.update(group)
        return figures


def _origin(awaitable: Any) -> str:
    """``module.function`` of a hook's coroutine, for the log."""
    code = getattr(awaitable, "cr_code", None)
    frame = getattr(awaitable, "cr_frame", None)
    module = frame.f_globals.get("__name__", "?") if frame is not None else "?"
    return f"{module}.{code.co_name}" if code is not None else repr(awaitable)


def load(settings: Settings, *, builtin_only: bool = False) -> Plugins:
    """The plugins ``settings`` enable (the ones shipped with zongzhi only, if ``builtin_only``).

    Only loads them: what they add to the code lists and the rule language goes to the platform
    being built (``Platform.build``).
    """
    return Plugins(settings, builtin_only=builtin_only)
