"""The plugin host: loads the ``zongzhi.plugins`` entry points through pluggy and applies their hooks.

Built-in and third-party plugins take the same path; ``ZONGZHI_DISABLED_PLUGINS`` blocks any of
them by entry-point name before it is imported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from zongzhi.platform import hookspecs
from zongzhi.platform.base.codes import CATEGORIES, CHANNELS, KINDS, PARTNER_CHANNELS
from zongzhi.platform.base.event_types import EVENT_TYPES, EXTRA_EVENT_TYPES
from zongzhi.platform.base.settings import Settings

log = logging.getLogger(__name__)

GROUP = "zongzhi.plugins"
BUILTIN_DISTRIBUTION = "zongzhi"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    source: str
    hooks: tuple[str, ...]


class Plugins:
    def __init__(self, settings: Settings, *, builtin_only: bool = False) -> None:
        self.pm = pluggy.PluginManager("zongzhi")
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, tuple[str, str]] = {}
        for ep in entry_points(group=GROUP):
            dist = ep.dist.name if ep.dist else "?"
            if ep.name in settings.disabled_plugins or (builtin_only and dist != BUILTIN_DISTRIBUTION):
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            plugin = ep.load()
            self.pm.register(plugin, name=ep.name)
            self._sources[ep.name] = (ep.dist.version if ep.dist else "?", f"{dist}: {ep.value}")
        self._applied = False

    @property
    def hook(self) -> Any:
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

    def apply_vocabularies(self) -> set[str]:
        """Add the plugins' codes and rule actions; returns the event types they added."""
        from zongzhi.platform.rules import registry

        added: set[str] = set()
        for codes in self.hook.zongzhi_codes():
            for code, label in codes.get("categories", {}).items():
                CATEGORIES.add(code, label)
            for code, label in codes.get("kinds", {}).items():
                KINDS.add(code, label)
            for code, label in codes.get("channels", {}).items():
                CHANNELS.add(code, label)
                PARTNER_CHANNELS.add(code)
            for code, label in codes.get("event_types", {}).items():
                EVENT_TYPES.setdefault(code, label)
                added.add(code)
        EXTRA_EVENT_TYPES.update(added)
        from zongzhi.platform.rules.facts import add_plugin_fields

        for impl in self.hook.zongzhi_fact_fields.get_hookimpls():
            add_plugin_fields(impl.plugin_name, impl.function() or {})
        for specs in self.hook.zongzhi_rule_actions():
            for spec in specs:
                if registry.get(spec.name) is None:
                    registry.register(spec)
        return added

    def shipped_rulesets(self) -> list[tuple[str, str, str]]:
        """``(plugin, ruleset name, YAML source)`` for every ruleset the plugins ship.

        The runtime installs them (the host does not call the rules' services: no import cycle)."""
        shipped = []
        for plugin_name in self.names():
            plugin = self.pm.get_plugin(plugin_name)
            impl = getattr(plugin, "zongzhi_rulesets", None)
            if impl is None:
                continue
            shipped.extend((plugin_name, name, source) for name, source in impl() or [])
        return shipped

    def graphql_parts(self) -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
        def flat(results: list[list[type]]) -> tuple[type, ...]:
            return tuple(t for group in results for t in group)

        return (
            flat(self.hook.zongzhi_graphql_queries()),
            flat(self.hook.zongzhi_graphql_mutations()),
            flat(self.hook.zongzhi_graphql_types()),
        )

    def routes(self) -> list[Any]:
        return [route for group in self.hook.zongzhi_routes() for route in group]

    async def case_event(self, event: Any, case: Any) -> None:
        for impl in self.hook.zongzhi_case_event.get_hookimpls():
            try:
                await impl.function(event=event, case=case)
            except Exception:
                log.exception("plugin %s failed on event %s", impl.plugin_name, event.id)

    def docking_figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        for group in self.hook.zongzhi_docking_figures():
            figures.update(group)
        return figures


_current: Plugins | None = None
_figure_sources: set[str] = set()


def _register_figures(plugins: Plugins) -> None:
    """Hand the plugins' docking figures to the statistics; a disabled plugin's figures go away."""
    from zongzhi.platform.stats import register_docking_figures, unregister_docking_figures

    figures = plugins.docking_figures()
    for name in _figure_sources - set(figures):
        unregister_docking_figures(name)
    for name, fn in figures.items():
        register_docking_figures(name, fn)
    _figure_sources.clear()
    _figure_sources.update(figures)


def load(settings: Settings, *, builtin_only: bool = False) -> Plugins:
    """Load the plugins for this process and add their vocabularies and figures (idempotent)."""
    global _current
    plugins = Plugins(settings, builtin_only=builtin_only)
    plugins.apply_vocabularies()
    _register_figures(plugins)
    _current = plugins
    return plugins


def current() -> Plugins | None:
    """The plugins this process loaded, or ``None`` before start-up."""
    return _current
