"""A ruleset belongs to a center: rule authors change only rulesets of their own subtree (issue 10, item 8).

``core`` and the plugins' rulesets belong to the root of the center tree (the county); a new ruleset
belongs to its first author's center. Ownership decides who may change a ruleset, not what it
governs: an active ruleset still applies to every case, whichever center owns it.
"""

from __future__ import annotations

import pytest

from tests.casework import new_case
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.models import Case, Ruleset, RulesetVersion
from zongzhi.platform.rules import versions as svc
from zongzhi.platform.services.accounts import create_user

SAVE = "mutation($n: String!, $s: String!) { saveRulesetDraft(name: $n, source: $s) { version } }"
ACTIVATE = "mutation($n: String!, $v: Int!) { activateRulesetVersion(name: $n, version: $v) { status } }"


def source(name: str, tag: str = "owned") -> str:
    return f"""ruleset: {name}
rules:
  - id: tag-{tag}
    on: case.received
    when:
      all:
        - category: neighbor
    then:
      - tag: {{add: [{tag}]}}
"""


async def _author(world, username: str, center: str):
    user = await create_user(username, username, [str(Role.rule_author)], center=world.centers[center])
    return user, issue_jwt(user.id, user.username)


async def test_a_township_author_cannot_change_core(client, world):
    await svc.install("core", source("core", "county"), owner_plugin=None)
    _, token = await _author(world, "a_author", "ta")
    for query, variables in (
        (SAVE, {"n": "core", "s": source("core", "mine")}),
        (ACTIVATE, {"n": "core", "v": 1}),
    ):
        with pytest.raises(GraphQLErrors) as err:
            await gql(client, token, query, variables)
        assert err.value.code == "FORBIDDEN"
    assert await RulesetVersion.filter(ruleset__name="core").count() == 1
    # The county's author (a root center's) still can.
    saved = await gql(client, world.tokens["rule_author"], SAVE, {"n": "core", "s": source("core", "v2")})
    assert saved["saveRulesetDraft"]["version"] == 2
    active = await gql(client, world.tokens["rule_author"], ACTIVATE, {"n": "core", "v": 2})
    assert active["activateRulesetVersion"]["status"] == "active"


async def test_a_new_ruleset_belongs_to_its_authors_center_and_subtree(client, world):
    a_author, a_token = await _author(world, "a_author", "ta")
    _, b_token = await _author(world, "b_author", "tb")
    _, village_token = await _author(world, "a1_author", "va1")
    await gql(client, a_token, SAVE, {"n": "ta_local", "s": source("ta_local")})
    assert (await Ruleset.get(name="ta_local")).center_id == world.centers["ta"].id
    for token in (b_token, village_token):  # beside it, and below it
        with pytest.raises(GraphQLErrors) as err:
            await gql(client, token, SAVE, {"n": "ta_local", "s": source("ta_local", "x")})
        assert err.value.code == "FORBIDDEN"
        with pytest.raises(GraphQLErrors) as err:
            await gql(client, token, ACTIVATE, {"n": "ta_local", "v": 1})
        assert err.value.code == "FORBIDDEN"
    assert await RulesetVersion.filter(ruleset__name="ta_local", status="active").count() == 0
    assert await gql(client, world.tokens["rule_author"], ACTIVATE, {"n": "ta_local", "v": 1})  # from above
    listed = await gql(client, a_token, "{ rulesets { name center { code } } }")
    assert {"name": "ta_local", "center": {"code": world.centers["ta"].code}} in listed["rulesets"]
    b_user, _ = await _author(world, "b2_author", "tb")
    with pytest.raises(Forbidden):  # the service refuses whatever the transport
        await svc.save_draft(await actor_for_user(b_user), "ta_local", source("ta_local"))
    assert a_author.center_id == world.centers["ta"].id


async def test_a_townships_active_ruleset_still_applies_to_every_case(rules, client):
    """Ownership is about who edits: evaluation is what it was, every active version on every event."""
    world = rules
    author, _ = await _author(world, "a_author", "ta")
    actor = await actor_for_user(author)
    draft = await svc.save_draft(actor, "ta_local", source("ta_local", "owned-by-ta"))
    await svc.activate(actor, "ta_local", draft.version)
    case = await new_case(world, grid="b1g1", filer="b1_grid", category="neighbor")
    assert "owned-by-ta" in (await Case.get(id=case.id)).tags
