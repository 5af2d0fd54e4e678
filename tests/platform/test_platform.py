"""The platform object: what one platform holds stays with it, and each app, worker and test has its own."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from tests.platforms import running
from zongzhi.platform.base import codes, current, event_types
from zongzhi.platform.base.current import NoPlatform
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.rules.facts import fact_fields
from zongzhi.platform.wiring import worker
from zongzhi.platform.wiring.platform import Platform


def test_a_code_added_to_one_platform_is_not_in_another(unit_settings: Settings) -> None:
    """The leak that once crossed tests (a plugin's category added to a shared list) cannot happen."""
    first, second = Platform.build(unit_settings), Platform.build(unit_settings)
    first.codes.categories.add("only_here", "只在此处")
    with running(first):
        assert "only_here" in codes.CATEGORIES and codes.CATEGORIES.label("only_here") == "只在此处"
    with running(second):
        assert "only_here" not in codes.CATEGORIES
        assert "neighbor" in codes.CATEGORIES


def test_what_plugins_add_belongs_to_the_platform_that_loaded_them(unit_settings: Settings) -> None:
    loaded = Platform.build(unit_settings)
    bare = Platform.build(replace(unit_settings, disabled_plugins=tuple(loaded.plugins.names())))
    assert loaded.plugins.names() and not bare.plugins.names()
    plugin_actions = set(loaded.actions.names()) - set(bare.actions.names())
    assert plugin_actions, "the built-in plugins add rule actions"
    with running(loaded):
        plugin_fields = {p for p, f in fact_fields().items() if f.source != "core"}
        plugin_events = event_types.plugin_event_types()
    with running(bare):
        assert not {p for p, f in fact_fields().items() if f.source != "core"}
        assert event_types.plugin_event_types() == frozenset()
    assert plugin_fields and plugin_events


def test_rule_handlers_are_attached_to_each_platforms_own_actions(unit_settings: Settings) -> None:
    first, second = Platform.build(unit_settings), Platform.build(unit_settings)
    assert first.actions.get("route") is not second.actions.get("route")
    assert first.actions.get("route").handler is not None


async def test_each_app_serves_with_its_own_platform(unit_settings: Settings) -> None:
    from zongzhi.platform.wiring.app import create_app

    one, other = Platform.build(unit_settings), Platform.build(unit_settings)
    one.codes.categories.add("only_one", "一")
    apps = [create_app(platform=p, manage_db=False) for p in (one, other)]
    assert apps[0].state.platform is one
    seen = []
    for app in apps:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            seen.append({item["code"] for item in (await c.get("/public/categories")).json()})
    assert "only_one" in seen[0] and "only_one" not in seen[1]


def test_without_a_platform_the_accessor_says_so(unit_platform: Platform) -> None:
    current.uninstall(unit_platform)
    try:
        with current.use(None):  # type: ignore[arg-type]
            with pytest.raises(NoPlatform):
                current.current()
            assert current.current_or_none() is None
    finally:
        current.install(unit_platform)


def test_the_worker_app_is_built_by_a_function_and_its_platform_in_the_worker_process(
    unit_settings: Settings,
) -> None:
    app = worker.build_app(unit_settings)
    assert {worker.EVALUATE, worker.REPUBLISH, worker.DEADLINES, worker.DELIVER} <= set(app.tasks)
    assert app.zongzhi_runner.platform is None, "built in worker_process_init, not when the app is made"
