"""A plugin's channel, codes and event types come from its hooks: disabling the plugin takes them away.

The platform knows no plugin by name: ``court`` is a channel because ``court_docking`` declares it.
Each test starts the app with the settings it names, as start-up does; the fixture puts the
default set of plugins back afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from tests.gql import gql
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
async def start(settings: Settings, world: World) -> AsyncIterator:
    """``start(disabled=...)``: a platform built with those plugins disabled, made current for the
    rest of the test, and its app as an HTTP client."""
    from zongzhi.platform.wiring.app import create_app

    clients: list[httpx.AsyncClient] = []
    platforms: list[Platform] = []

    def started(*disabled: str) -> httpx.AsyncClient:
        platform = Platform.build(replace(settings, disabled_plugins=disabled))
        platforms.append(platform)
        current.install(platform)
        # The test body's own context sees it too (the fixture's platform is set there as well).
        current._context.set(platform)
        app = create_app(platform=platform, manage_db=False)
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test"))
        return clients[-1]

    try:
        yield started
    finally:
        for client in clients:
            await client.aclose()
        for platform in platforms:
            platform.close_engine()
            current.uninstall(platform)


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
    start("court_docking")
    with pytest.raises(ValidationFailed) as refused:
        await svc.intake(_court_case(world, "1"), Actor.system_actor("示范县人民法院"))
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "channel")
    assert "unknown channel 'court'" in refused.value.message


async def test_an_enabled_plugins_channel_is_accepted_at_intake(start, world):
    start()
    case, created = await svc.intake(_court_case(world, "1"), Actor.system_actor("示范县人民法院"))
    assert created and case.channel == "court"


async def test_the_code_lists_show_only_the_loaded_plugins_channels(start, world):
    client = start("court_docking", "petition_docking")
    channels = await _channels(client, world)
    assert "police" in channels and "court" not in channels and "petition" not in channels
    assert {"window", "grid", "hotline", "online", "referral"} <= set(channels)
    assert "police" in codes.PARTNER_CHANNELS and "court" not in codes.PARTNER_CHANNELS
    client = start()
    assert {"court", "police", "petition"} <= set(await _channels(client, world))
    assert codes.CHANNELS.label("court") == "诉调对接"


async def test_a_disabled_plugins_event_types_leave_the_rules(start, world):
    start("court_docking")
    assert "court.confirmed" not in current.current().codes.event_types
    with pytest.raises(RulesetRejected) as rejected:
        compile_source(LISTENS_TO_THE_COURT)
    assert "court.confirmed" in rejected.value.message
    start()
    assert current.current().codes.event_types["court.confirmed"] == "司法确认"
    assert compile_source(LISTENS_TO_THE_COURT)[0] == "listens_to_the_court"


async def test_staff_may_not_register_a_case_on_a_loaded_plugins_channel(start, world):
    """The channel is the partner's: only its webhook (a system actor) brings cases in on it."""
    from tests.casework import actor

    start()
    data = _court_case(world, "2")
    data.external_channel = data.external_id = None
    with pytest.raises(ValidationFailed) as refused:
        await svc.intake(data, await actor(world, "a_staff"))
    assert refused.value.field == "channel" and "fed by its partner plugin" in refused.value.message


async def test_no_partner_credential_for_a_plugin_not_loaded(start, world):
    from tests.gql import GraphQLErrors

    client = start("court_docking")
    mutation = (
        'mutation($p: String!) { createPartnerCredential(plugin: $p, name: "示范县人民法院") { secret } }'
    )
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["admin"], mutation, {"p": "court_docking"})
    assert refused.value.codes == ["VALIDATION"]
    assert refused.value.errors[0]["extensions"]["field"] == "plugin"
    issued = await gql(client, world.tokens["admin"], mutation, {"p": "police_docking"})
    assert issued["createPartnerCredential"]["secret"]
