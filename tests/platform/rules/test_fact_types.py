"""The typed fact: paths a rule reads must exist, and operators and values must fit their types.

Checked where rules are saved and linted (``compile_source``), with the core's and the built-in
plugins' declared fields; the bare language (``parse_ruleset`` without fields) stays untyped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.platforms import running
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.rules import RulesetInvalid, parse_ruleset
from zongzhi.platform.rules.versions import RulesetRejected, compile_source
from zongzhi.platform.wiring.platform import Platform

RULE = """ruleset: typed
rules:
  - id: the-rule
    on: case.received
    when: {when}
    then:
      - tag: {{add: [x]}}
"""


@pytest.fixture(autouse=True)
def builtin_plugins(unit_settings: Settings) -> Iterator[Platform]:
    """A platform with the plugins shipped with zongzhi only."""
    with running(Platform.build(unit_settings, builtin_only=True)) as platform:
        yield platform


def _errors(when: str) -> list[str]:
    with pytest.raises(RulesetRejected) as caught:
        compile_source(RULE.format(when=when))
    return [f"{e['rule']}|{e['field']}|{e['message']}" for e in caught.value.details["errors"]]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{party.cnt: {gte: 5}}", "unknown fact path 'party.cnt' (did you mean 'party.count'?)"),
        (
            "{party.same_pair_case_90d: {gte: 1}}",
            "unknown fact path 'party.same_pair_case_90d' (did you mean 'party.same_pair_cases_90d'?)",
        ),
        ("{payload.violenc: true}", "unknown fact path 'payload.violenc' (did you mean 'payload.violence'?)"),
        ("{category: {gte: 3}}", "'gte' compares numbers, and 'category' is string"),
        ("{severity: '3'}", "'severity' is number: '3' is not a number"),
        ("{severity: {in: [1, '2']}}", "'severity' is number: '2' is not a number"),
        ("{has_location: 1}", "'has_location' is boolean: 1 is not true or false"),
        ("{risk: hgh}", "'hgh' is not a value of 'risk' (did you mean 'high'?)"),
        ("{center.level: {in: [village, towns]}}", "'towns' is not a value of 'center.level' (did you mean 'township'?)"),
        ("{tags: 噪音}", "'tags' is a list: it equals nothing; use {contains: value}"),
        ("{severity: {regex: '3'}}", "'regex' matches strings, and 'severity' is number"),
        ("{has_deadline: {contains: x}}", "'contains' looks into a list or a string, and 'has_deadline' is boolean"),
        ("{payload.item_type: {eq: clam}}", "'clam' is not a value of 'payload.item_type' (did you mean 'claim'?)"),
    ],
)
def test_unknown_paths_and_mistyped_conditions_are_refused(when, message):
    errors = _errors(when)
    assert len(errors) == 1 and errors[0].startswith("the-rule|when.") and errors[0].endswith(message), errors


@pytest.mark.parametrize(
    "when",
    [
        "{party.count: {gte: 5}}",
        "{tags: {contains: 噪音}}",
        "{text: {contains: 漏水}}",
        "{grid.code: {exists: false}}",
        "{payload.violence: true}",
        "{payload.address_calls_30d: {gte: 2}}",
        "{payload.parties: {exists: true}}",
        "{center.level: {in: [village, township]}}",
        "{severity: 3.0}",
    ],
)
def test_well_typed_conditions_pass(when):
    compile_source(RULE.format(when=when))


def test_the_bare_language_stays_untyped():
    parse_ruleset(RULE.format(when="{anything.at_all: {gte: 1}}"))
    with pytest.raises(RulesetInvalid):
        parse_ruleset(RULE.format(when="{x: 1}"), fields={})


def test_lint_names_the_rule_of_a_yaml_syntax_error(tmp_path: Path):
    source = RULE.format(when="{category: labor}") + "  - id: second\n    on: case.received\n    then:\n"
    source += "     - tag: {add: [a]}\n      - tag: {add: [b]}\n"
    (tmp_path / "bad.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "typo.yaml").write_text(RULE.format(when="{party.cnt: {gte: 5}}"), encoding="utf-8")
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp_path), "ZONGZHI_LOG_LEVEL": "WARNING"}
    linted = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "rules", "lint", "bad.yaml", "typo.yaml"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert linted.returncode == 1
    bad, typo = linted.stdout.strip().splitlines()
    assert bad.startswith("bad.yaml:12: rule 'second': not valid YAML (while parsing a block collection"), bad
    assert typo == (
        "typo.yaml:5: rule 'the-rule' field 'when.party.cnt.gte': "
        "unknown fact path 'party.cnt' (did you mean 'party.count'?)"
    )


def test_an_in_over_256_values_is_an_authors_error_naming_the_rule():
    values = ", ".join(f"v{i}" for i in range(257))
    errors = _errors(f"{{title: {{in: [{values}]}}}}")
    assert errors == [
        "the-rule|when|condition too complex: it expands to more than 256 alternatives (257); "
        "split the rule or simplify nested any/not"
    ]
    compile_source(RULE.format(when=f"{{title: {{in: [{values.rsplit(', ', 1)[0]}]}}}}"))
