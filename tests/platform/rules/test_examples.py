"""Rule tests inside a ruleset: lint, saveRulesetDraft, activation and CI run the ``tests:``."""

from __future__ import annotations

import pytest

from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Ruleset, RulesetVersion
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.rules.versions import RulesetRejected, compile_source
from zongzhi.platform.wiring.runtime import core_rules_source

SOURCE = """ruleset: group_disputes
rules:
  - id: group-labor
    on: case.received
    when:
      all:
        - category: labor
        - party.applicants: {{gte: 5}}
    then:
      - flag_risk: {{level: high, reason: 群体性劳动争议}}
tests:
  - name: six workers
    fact: {{type: case.received, category: labor, party: {{applicants: 6}}}}
    fires: [group-labor]
  - name: two workers
    fact: {{type: case.received, category: labor, party: {{applicants: {two}}}}}
    does_not_fire: [{rule}]
"""
SAVE = "mutation($n: String!, $s: String!) { saveRulesetDraft(name: $n, source: $s) { version status } }"
ACTIVATE = "mutation($n: String!, $v: Int!) { activateRulesetVersion(name: $n, version: $v) { status } }"


def _errors(source: str) -> list[dict]:
    with pytest.raises(RulesetRejected) as caught:
        compile_source(source)
    return caught.value.details["errors"]


def test_passing_examples_compile():
    compile_source(SOURCE.format(two=2, rule="group-labor"))


def test_a_failing_example_names_itself_what_was_expected_and_what_fired():
    (error,) = _errors(SOURCE.format(two=5, rule="group-labor"))
    assert error == {
        "rule": None,
        "field": "tests[1]",
        "message": "example 'two workers' failed: expected group-labor not to fire; fired: group-labor",
        "line": 15,
    }


def test_examples_must_name_rules_and_fact_paths_that_exist():
    source = SOURCE.format(two=2, rule="group-labr").replace("applicants: 6", "aplicants: 6")
    messages = sorted(e["message"] for e in _errors(source))
    assert messages == [
        "no rule 'group-labr' in this ruleset (did you mean 'group-labor'?)",
        "unknown fact path 'party.aplicants' (did you mean 'party.applicants'?)",
    ]


def test_an_example_needs_an_expectation():
    source = SOURCE.format(two=2, rule="group-labor").replace("    does_not_fire: [group-labor]\n", "")
    assert [e["field"] for e in _errors(source)] == ["tests[1]"]


def test_every_shipped_ruleset_has_examples_and_they_pass(settings: Settings):
    """CI: the core's and the built-in plugins' rulesets carry examples, all passing."""
    loaded = plugins.load(settings, builtin_only=True)
    shipped = [("core", core_rules_source())]
    for impl in loaded.hook.zongzhi_rulesets.get_hookimpls():
        shipped += impl.function()
    for name, source in shipped:
        assert "\ntests:\n" in source, f"ruleset {name} has no examples"
        assert compile_source(source)[0] == name


async def test_save_refuses_and_activation_refuses_failing_examples(rules, client):
    world = rules
    author = world.tokens["rule_author"]
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, author, SAVE, {"n": "group_disputes", "s": SOURCE.format(two=5, rule="group-labor")})
    assert refused.value.code == "RULESET_INVALID"
    assert refused.value.errors[0]["extensions"]["errors"][0]["field"] == "tests[1]"
    assert not await Ruleset.filter(name="group_disputes").exists()

    saved = await gql(client, author, SAVE, {"n": "group_disputes", "s": SOURCE.format(two=2, rule="group-labor")})
    assert saved["saveRulesetDraft"] == {"version": 1, "status": "draft"}
    # A version stored before its examples broke (written here directly, as an older release would have).
    ruleset = await Ruleset.get(name="group_disputes")
    await RulesetVersion.create(
        ruleset=ruleset, version=2, source=SOURCE.format(two=5, rule="group-labor"), compiled={}
    )
    with pytest.raises(GraphQLErrors) as blocked:
        await gql(client, author, ACTIVATE, {"n": "group_disputes", "v": 2})
    assert blocked.value.code == "RULESET_INVALID"
    assert (await RulesetVersion.get(ruleset=ruleset, version=2)).status == "draft"
    await gql(client, author, ACTIVATE, {"n": "group_disputes", "v": 1})
