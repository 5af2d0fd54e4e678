from __future__ import annotations

import pytest

from zongzhi.platform.rules import ActionSpec, RulesetInvalid, parse_ruleset, ruleset_schema
from zongzhi.platform.rules.actions import ActionRegistry, builtin_actions

DESIGN_EXAMPLE = """\
ruleset: police_docking
rules:
  - id: route-110-dispute-to-township
    priority: 10
    on: case.received
    when:
      all:
        - channel: police
        - category: {in: [neighbor, marriage_family, labor]}
    then:
      - route: {to: township_of_grid}
      - deadline: {resolve_in: {working_days: 5}}
  - id: violence-risk
    on: case.received
    when:
      any:
        - tags: {contains: violence}
        - party.prior_cases_90d: {gte: 3}
    then:
      - flag_risk: {level: high, reason: 民转刑风险}
      - notify: {role: leader}
"""


def errors_of(source: str, **kwargs) -> list[str]:
    with pytest.raises(RulesetInvalid) as info:
        parse_ruleset(source, **kwargs)
    return [str(error) for error in info.value.errors]


def test_design_example_parses() -> None:
    ruleset = parse_ruleset(DESIGN_EXAMPLE)
    assert ruleset.name == "police_docking"
    assert [rule.id for rule in ruleset.rules] == ["route-110-dispute-to-township", "violence-risk"]
    assert ruleset.rules[0].priority == 10 and ruleset.rules[1].priority == 0
    assert ruleset.rules[0].on == ("case.received",)
    assert ruleset.rules[1].then[0].params == {"level": "high", "reason": "民转刑风险"}


def test_unknown_operator_names_rule_field_and_line() -> None:
    source = DESIGN_EXAMPLE.replace("{contains: violence}", "{contians: violence}")
    assert errors_of(source) == [
        "rule 'violence-risk', field 'when.any[0].tags.contians': unknown operator 'contians' "
        "(did you mean 'contains'?) (line 17)"
    ]


def test_every_error_is_reported_at_once() -> None:
    source = DESIGN_EXAMPLE.replace("    priority: 10\n", "    prio: 10\n").replace(
        "notify: {role: leader}", "notfy: {role: leader}"
    )
    source += "  - id: violence-risk\n    on: case.recieved\n    then:\n      - route: {to: 5}\n"
    errors = errors_of(source)
    assert (
        errors[0]
        == "rule 'route-110-dispute-to-township', field 'prio': unknown field 'prio' (did you mean 'priority'?) (line 4)"
    )
    assert "rule 'violence-risk', field 'then[1].notfy': unknown action 'notfy'" in errors[1]
    assert "(line 21)" in errors[1]
    assert (
        errors[2].startswith("rule 'violence-risk', field 'id': duplicate rule id")
        and "(line 22)" in errors[2]
    )
    assert errors[3].startswith("rule 'violence-risk', field 'on': unknown event type 'case.recieved'")
    assert errors[4].startswith("rule 'violence-risk', field 'then[0].route.to': route:")


@pytest.mark.parametrize(
    ("fragment", "replacement", "expected"),
    [
        ("{gte: 3}", "{gte: three}", "field 'when.any[1].party.prior_cases_90d.gte': needs a number"),
        (
            "{gte: 3}",
            "{regex: '(unclosed'}",
            "field 'when.any[1].party.prior_cases_90d.regex': invalid regex",
        ),
        ("{gte: 3}", "[1, 2]", "a list is not a value to compare with; use {in: [...]}"),
        (
            "{level: high, reason: 民转刑风险}",
            "{level: extreme, reason: x}",
            "field 'then[0].flag_risk.level'",
        ),
        ("{level: high, reason: 民转刑风险}", "{level: high}", "'reason' is a required property"),
        ("{contains: violence}", "{in: []}", "'in' needs a non-empty list of values"),
    ],
)
def test_bad_conditions_and_params(fragment: str, replacement: str, expected: str) -> None:
    errors = errors_of(DESIGN_EXAMPLE.replace(fragment, replacement))
    assert len(errors) == 1 and errors[0].startswith("rule 'violence-risk'"), errors
    assert expected in errors[0]
    assert "(line 1" in errors[0] or "(line 2" in errors[0]


def test_unknown_top_level_field_and_missing_rules() -> None:
    errors = errors_of("ruleset: x\nrulez: []\n")
    assert "field 'rulez': unknown field 'rulez' (did you mean 'rules'?) (line 2)" in errors
    assert any("'rules' is required" in e for e in errors)


def test_yaml_syntax_error_has_a_line() -> None:
    assert errors_of("ruleset: x\nrules: [\n")[0].endswith("(line 3)")


def test_on_and_no_are_not_booleans() -> None:
    source = DESIGN_EXAMPLE.replace("channel: police", "channel: no")
    ruleset = parse_ruleset(source)
    assert ruleset.rules[0].when.items[0].value == "no"  # type: ignore[union-attr]


def test_extra_event_types_and_plugin_actions() -> None:
    source = DESIGN_EXAMPLE.replace(
        "on: case.received\n    when:\n      any", "on: court.filed\n    when:\n      any"
    )
    assert "unknown event type 'court.filed'" in errors_of(source)[0]
    assert parse_ruleset(source, extra_event_types={"court.filed"}).rules[1].on == ("court.filed",)

    registry = ActionRegistry(builtin_actions())
    registry.register(ActionSpec("send_to_court", "移送法院", {"type": "object", "required": ["court"]}))
    source = DESIGN_EXAMPLE.replace("notify: {role: leader}", "send_to_court: {court: c1}")
    assert "unknown action 'send_to_court'" in errors_of(source)[0]
    assert parse_ruleset(source, registry=registry).rules[1].then[1].name == "send_to_court"
    with pytest.raises(ValueError):
        registry.register(ActionSpec("route", "x", {"type": "object"}))


def test_schema_is_published_and_validates_the_example() -> None:
    import jsonschema
    import yaml

    schema = ruleset_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(DESIGN_EXAMPLE.replace("on:", "'on':")), schema)
