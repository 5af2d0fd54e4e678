"""Every partner webhook takes its case in through partner intake: one transaction with the record.

Whoever handles ``case.received`` after the commit (the rules, every plugin's ``zongzhi_case_event``)
already finds the plugin's ``PartnerRecord`` naming the partner. Before partner intake, the court
webhook committed the case first and stored the record afterwards, so that handler found none.
"""

from __future__ import annotations

import pytest

from tests.plugins.conftest import make_partner, post_signed
from tests.plugins.court_docking.test_court import REFERRALS, referral
from tests.plugins.petition_docking.test_petition import ITEMS, item
from tests.plugins.police_docking.test_police import INCIDENTS, incident
from zongzhi.platform.base.current import current
from zongzhi.platform.hookspecs import hookimpl
from zongzhi.platform.models import Case, CaseEvent, PartnerRecord


class RecordObserver:
    """A plugin that notes, for each ``case.received``, whether the case's partner record exists yet."""

    def __init__(self) -> None:
        self.record_at_received: dict[int, bool] = {}

    @hookimpl
    async def zongzhi_case_event(self, event: CaseEvent, case: Case) -> None:
        if event.type == "case.received":
            self.record_at_received[case.id] = await PartnerRecord.exists(case_id=case.id)


@pytest.mark.parametrize(
    ("plugin", "path", "payload"),
    [
        ("court_docking", REFERRALS, referral()),
        ("police_docking", INCIDENTS, incident()),
        ("petition_docking", ITEMS, item()),
    ],
    ids=["court", "police", "petition"],
)
async def test_the_record_is_there_when_case_received_is_handled(
    rules, client, partner_server, plugin, path, payload
):
    world = rules
    observer = RecordObserver()
    loaded = current().plugins
    loaded.pm.register(observer, name="record_observer")
    try:
        key, secret = await make_partner(world, partner_server, plugin)
        sent = await post_signed(client, path, key, secret, payload)
        assert sent.status_code == 201, sent.text
        case = await Case.get(number=sent.json()["number"])
        assert observer.record_at_received == {case.id: True}
    finally:
        loaded.pm.unregister(observer)
