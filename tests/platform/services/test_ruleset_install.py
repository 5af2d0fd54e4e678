"""Installing a shipped ruleset is safe when several processes start at once.

The API and every worker install the core and plugin rulesets at start-up. On a fresh database two
of them used to both find no ruleset and store the same source twice: version 1 active, then
version 2 active, so decisions named version 2 of a ruleset nobody had changed (seen as a failing
worker test in CI, where the worker starts while the test installs the rules).
"""

from __future__ import annotations

import asyncio

from zongzhi.platform.models import RulesetVersion
from zongzhi.platform.rules import versions as svc

SOURCE = """ruleset: shipped
rules:
  - id: tag-shipped
    on: case.received
    when:
      all:
        - category: neighbor
    then:
      - tag: {add: [shipped]}
"""


async def test_concurrent_installs_store_one_active_version(world) -> None:
    await asyncio.gather(*(svc.install("shipped", SOURCE, owner_plugin=None) for _ in range(4)))
    versions = await RulesetVersion.filter(ruleset__name="shipped").values_list("version", "status")
    assert versions == [(1, "active")]


async def test_a_changed_source_becomes_one_draft(world) -> None:
    await svc.install("shipped", SOURCE, owner_plugin=None)
    changed = SOURCE.replace("[shipped]", "[shipped, again]")
    await asyncio.gather(*(svc.install("shipped", changed, owner_plugin=None) for _ in range(3)))
    versions = await RulesetVersion.filter(ruleset__name="shipped").order_by("version").values_list(
        "version", "status"
    )
    assert versions == [(1, "active"), (2, "draft")]
