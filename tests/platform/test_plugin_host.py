"""The plugin host's own rules: vocabularies a plugin adds, and what stays closed to ordinary intake."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.casework import actor
from zongzhi.platform.base import codes
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.hookspecs import hookimpl
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.services import cases as svc


class _Plugin:
    @hookimpl
    def zongzhi_codes(self):
        return {"channels": {"test_partner": "测试对接"}, "categories": {"test_cat": "测试类别"}}


async def test_a_plugin_channel_is_a_partner_channel(platform, world):
    platform.plugins.pm.register(_Plugin(), name="test_partner_plugin")
    platform.plugins.apply_vocabularies(platform)
    assert "test_partner" in codes.CHANNELS and codes.CATEGORIES.label("test_cat") == "测试类别"
    with pytest.raises(ValidationFailed) as err:
        await svc.intake(
            svc.CaseInput(
                title="x", category="test_cat", channel="test_partner", center_id=world.centers["ta"].id
            ),
            await actor(world, "a_staff"),
        )
    assert err.value.field == "channel"
    case, created = await svc.intake(
        svc.CaseInput(
            title="x",
            category="test_cat",
            channel="test_partner",
            center_id=world.centers["ta"].id,
            external_channel="test_partner",
            external_id="1",
        ),
        Actor.system_actor("partner"),
    )
    assert created and case.channel == "test_partner"


class _Recorder:
    """Case-event hooks that say when they ran, one of them failing, one wrapping them all."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def first(self):
        calls = self.calls

        class First:
            @hookimpl(tryfirst=True)
            async def zongzhi_case_event(self, event, case):
                calls.append("first")

        return First()

    def failing(self):
        calls = self.calls

        class Failing:
            @hookimpl
            async def zongzhi_case_event(self, event, case):
                calls.append("failing")
                raise RuntimeError("the partner's system is down")

        return Failing()

    def last(self):
        calls = self.calls

        class Last:
            @hookimpl(trylast=True)
            async def zongzhi_case_event(self, event, case):
                calls.append(f"last {event.type} {case.id}")

        return Last()

    def wrapper(self):
        calls = self.calls

        class Wrapper:
            @hookimpl(wrapper=True)
            def zongzhi_case_event(self, event, case):
                calls.append("wrapper in")
                pending = yield
                calls.append(f"wrapper out: {len(pending)} to await")
                return pending

        return Wrapper()


async def test_case_event_hooks_are_called_through_pluggy(settings, world):
    """``tryfirst``/``trylast`` order the plugins, a wrapper wraps them, and one failing stops none."""
    from tests.casework import new_case
    from zongzhi.platform.models import CaseEvent

    case = await new_case(world)
    event = await CaseEvent.filter(case_id=case.id, type="case.received").get()
    calls: list[str] = []
    recorder = _Recorder(calls)
    loaded = plugins.Plugins(
        replace(settings, disabled_plugins=("court_docking", "police_docking", "petition_docking"))
    )
    for name, plugin in [
        ("last", recorder.last()),
        ("first", recorder.first()),
        ("failing", recorder.failing()),
    ]:
        loaded.pm.register(plugin, name=name)
    loaded.pm.register(recorder.wrapper(), name="wrapper")
    await loaded.case_event(event, case)
    assert calls == [
        "wrapper in",
        "wrapper out: 3 to await",
        "first",
        "failing",
        f"last case.received {case.id}",
    ]


async def test_results_that_belong_to_a_plugin_are_told_apart(settings, world):
    """A ruleset's owner, a fact field's source: each plugin's results under its own name."""

    class Shipping:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def zongzhi_rulesets(self):
            return [(f"{self.name}_rules", "ruleset: x\nrules: []\n")]

    loaded = plugins.Plugins(
        replace(settings, disabled_plugins=("court_docking", "police_docking", "petition_docking"))
    )
    loaded.pm.register(Shipping("alpha"), name="alpha")
    loaded.pm.register(Shipping("beta"), name="beta")
    assert sorted(loaded._each("zongzhi_rulesets")) == [
        ("alpha", [("alpha_rules", "ruleset: x\nrules: []\n")]),
        ("beta", [("beta_rules", "ruleset: x\nrules: []\n")]),
    ]
