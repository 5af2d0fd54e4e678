"""A plugin's channel, codes and event types come from its hooks: disabling the plugin takes them away.

The platform knows no plugin by name: ``court`` is a channel because ``court_docking`` declares it.
Each test builds a platform and its app with the settings it names, as start-up does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from tests.gql import gql
from tests.platforms import running
from tests.world import World
from zongzhi.platform.base import codes, current
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.rules.versions import RulesetRejected, compile_source
from zongzhi.platform.services import cases as svc
from zongzhi.platform.wiring.platform import Platform

LISTENS_TO_THE_COURT = """
ruleset: listens_to_the_court
rules:
  - id: confirmed
    on: court.confirmed
    then:
      - tag: {add: [司法确认]}
"""


@pytest.fixture
def start(settings: Settings, world: World):
    """``async with start(*disabled) as client``: a platform built with those plugins disabled,
    current inside the block, and its app as an HTTP client."""
    from zongzhi.platform.wiring.app import create_app

    @asynccontextmanager
    async def started(*disabled: str) -> AsyncIterator[httpx.AsyncClient]:
        platform = Platform.build(replace(settings, disabled_plugins=disabled))
        app = create_app(platform=platform, manage_db=False)
        with running(platform):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
                yield c

    return started


def _court_case(world: World, external_id: str) -> svc.CaseInput:
    return svc.CaseInput(
        title="诉前调解：装修款",
        category="contract",
        channel="court",
        center_id=world.centers["ta"].id,
        external_channel="court#test",
        external_id=external_id,
    )


async def _channels(client: httpx.AsyncClient, world: World) -> list[str]:
    data = await gql(client, world.tokens["a_staff"], "{ codeLists { channels { code label } } }")
    return [c["code"] for c in data["codeLists"]["channels"]]


async def test_a_disabled_plugins_channel_is_refused_at_intake(start, world):
    async with start("court_docking"):
        with pytest.raises(ValidationFailed) as refused:
            await svc.intake(_court_case(world, "1"), Actor.system_actor("示范县人民法院"))
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "channel")
    assert "unknown channel 'court'" in refused.value.message


async def test_an_enabled_plugins_channel_is_accepted_at_intake(start, world):
    async with start():
        case, created = await svc.intake(_court_case(world, "1"), Actor.system_actor("示范县人民法院"))
    assert created and case.channel == "court"


async def test_the_code_lists_show_only_the_loaded_plugins_channels(start, world):
    async with start("court_docking", "petition_docking") as client:
        channels = await _channels(client, world)
        assert "police" in channels and "court" not in channels and "petition" not in channels
        assert {"window", "grid", "hotline", "online", "referral"} <= set(channels)
        assert "police" in codes.PARTNER_CHANNELS and "court" not in codes.PARTNER_CHANNELS
    async with start() as client:
        assert {"court", "police", "petition"} <= set(await _channels(client, world))
        assert codes.CHANNELS.label("court") == "诉调对接"


async def test_a_disabled_plugins_event_types_leave_the_rules(start, world):
    async with start("court_docking"):
        assert "court.confirmed" not in current.current().codes.event_types
        with pytest.raises(RulesetRejected) as rejected:
            compile_source(LISTENS_TO_THE_COURT)
        assert "court.confirmed" in rejected.value.message
    async with start():
        assert current.current().codes.event_types["court.confirmed"] == "司法确认"
        assert compile_source(LISTENS_TO_THE_COURT)[0] == "listens_to_the_court"


async def test_staff_may_not_register_a_case_on_a_loaded_plugins_channel(start, world):
    """The channel is the partner's: only its webhook (a system actor) brings cases in on it."""
    from tests.casework import actor

    data = _court_case(world, "2")
    data.external_channel = data.external_id = None
    async with start():
        with pytest.raises(ValidationFailed) as refused:
            await svc.intake(data, await actor(world, "a_staff"))
    assert refused.value.field == "channel" and "fed by its partner plugin" in refused.value.message


async def test_no_partner_credential_for_a_plugin_not_loaded(start, world):
    from tests.gql import GraphQLErrors

    mutation = (
        'mutation($p: String!) { createPartnerCredential(plugin: $p, name: "示范县人民法院") { secret } }'
    )
    async with start("court_docking") as client:
        with pytest.raises(GraphQLErrors) as refused:
            await gql(client, world.tokens["admin"], mutation, {"p": "court_docking"})
        assert refused.value.codes == ["VALIDATION"]
        assert refused.value.errors[0]["extensions"]["field"] == "plugin"
        issued = await gql(client, world.tokens["admin"], mutation, {"p": "police_docking"})
        assert issued["createPartnerCredential"]["secret"]
