"""The plugin host's own rules: vocabularies a plugin adds, and what stays closed to ordinary intake."""

from __future__ import annotations

import pytest

from tests.casework import actor
from zongzhi.platform.base import codes
from zongzhi.platform.hookspecs import hookimpl
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.services import cases as svc


class _Plugin:
    @hookimpl
    def zongzhi_codes(self):
        return {"channels": {"test_partner": "测试对接"}, "categories": {"test_cat": "测试类别"}}


async def test_a_plugin_channel_is_a_partner_channel(settings, world):
    loaded = plugins.Plugins(settings)
    loaded.pm.register(_Plugin(), name="test_partner_plugin")
    loaded.apply_vocabularies()
    assert "test_partner" in codes.CHANNELS and codes.CATEGORIES.label("test_cat") == "测试类别"
    with pytest.raises(svc.ValidationFailed) as err:
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
        svc.Actor.system_actor("partner"),
    )
    assert created and case.channel == "test_partner"
