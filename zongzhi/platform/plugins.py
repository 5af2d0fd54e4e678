"""The plugin host: loads the ``zongzhi.plugins`` entry points through pluggy and applies their hooks.

Built-in and third-party plugins take the same path; ``ZONGZHI_DISABLED_PLUGINS`` blocks any of
them by entry-point name before it is imported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from zongzhi.platform import hookspecs
from zongzhi.platform.codes import CATEGORIES, CHANNELS, KINDS, PARTNER_CHANNELS
from zongzhi.platform.event_types import EVENT_TYPES
from zongzhi.platform.hookspecs import DockingFigures
from zongzhi.platform.settings import Settings

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
        #: Codes this set of plugins added to each vocabulary (see ``withdraw_vocabularies``).
        self.added: dict[str, list[str]] = {"categories": [], "kinds": [], "channels": [], "event_types": []}

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

    def apply_vocabularies(self) -> set[str]:
        """Add the plugins' codes, fact fields and rule actions; returns the event types they added.

        What is added (codes no list held before) is remembered in ``self.added``, so that the next
        ``load`` can take it out again when the plugin that owns it is no longer loaded.
        """
        from zongzhi.platform.facts import add_plugin_fields
        from zongzhi.platform.rules import registry
        from zongzhi.platform.services.rulesets import EXTRA_EVENT_TYPES

        lists = {"categories": CATEGORIES, "kinds": KINDS, "channels": CHANNELS}
        for contribution in self.hook.zongzhi_codes():
            for key, code_list in lists.items():
                for code, label in contribution.get(key, {}).items():
                    if code not in code_list:
                        code_list.add(code, label)
                        self.added[key].append(code)
                        if key == "channels":  # a plugin's own channel: fed by its webhooks only
                            PARTNER_CHANNELS.add(code)
            for code, label in contribution.get("event_types", {}).items():
                if code not in EVENT_TYPES:
                    EVENT_TYPES[code] = label
                    EXTRA_EVENT_TYPES.add(code)
                    self.added["event_types"].append(code)
        for plugin_name, fields in self._each("zongzhi_fact_fields"):
            add_plugin_fields(plugin_name, dict(fields))
        for specs in self.hook.zongzhi_rule_actions():
            for spec in specs:
                if registry.get(spec.name) is None:
                    registry.register(spec)
        return set(self.added["event_types"])

    def withdraw_vocabularies(self) -> None:
        """Take out the codes ``apply_vocabularies`` added (before another set of plugins is applied)."""
        from zongzhi.platform.services.rulesets import EXTRA_EVENT_TYPES

        lists = {"categories": CATEGORIES, "kinds": KINDS, "channels": CHANNELS}
        for key, code_list in lists.items():
            for code in self.added[key]:
                code_list.remove(code)
        for code in self.added["channels"]:
            PARTNER_CHANNELS.discard(code)
        for code in self.added["event_types"]:
            EVENT_TYPES.pop(code, None)
            EXTRA_EVENT_TYPES.discard(code)
        self.added = {key: [] for key in self.added}

    async def install_rulesets(self) -> None:
        from zongzhi.platform.services import rulesets

        for plugin_name, shipped in self._each("zongzhi_rulesets"):
            for name, source in shipped:
                await rulesets.install(name, source, owner_plugin=plugin_name)

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

    async def case_event(self, event: CaseEvent, case: Case) -> None:
        """Every plugin's ``zongzhi_case_event``, awaited in pluggy's order; one failing stops no other."""
        try:
            pending = self.hook.zongzhi_case_event(event=event, case=case)
        except Exception:  # a plugin whose implementation is not async raised while being called
            log.exception("a plugin failed on event %s", event.id)
            return
        for awaitable in pending:
            try:
                await awaitable
            except Exception:
                log.exception("plugin hook %s failed on event %s", _origin(awaitable), event.id)

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
    """Load the plugins for this process and add their vocabularies and figures (idempotent).

    The codes the previously loaded plugins added are taken out first: a plugin disabled since
    leaves no channel, category or event type behind.
    """
    global _current
    if _current is not None:
        _current.withdraw_vocabularies()
    plugins = Plugins(settings, builtin_only=builtin_only)
    plugins.apply_vocabularies()
    _register_figures(plugins)
    _current = plugins
    return plugins


def current() -> Plugins | None:
    """The plugins this process loaded, or ``None`` before start-up."""
    return _current
