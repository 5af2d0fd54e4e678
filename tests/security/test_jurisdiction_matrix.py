"""The jurisdiction matrix, generated from the schema: township A cannot reach township B.

``schema_walk.guarded_root_fields`` finds, by introspecting the served schema (core and built-in
plugins), every query, mutation and subscription field that takes an ``ID`` anywhere in its
arguments (nested inputs included) or returns a case, person, evidence, decision or audit row.
Each must have an entry in ``REGISTRY`` saying how to call it against township B's objects; every
other root field must be in ``NO_CHECK`` with the reason it needs none. A field added to the schema
without either fails ``test_every_root_field_is_classified``.

``test_township_a_reaches_nothing_of_township_b`` then runs every probe as a user of every role in
township A (``townships.A_ROLES``) and requires of each cell: only ``NOT_FOUND`` / ``FORBIDDEN``
errors or an empty answer (``refused``), none of B's secret strings anywhere in the reply (error
messages included), and not one row written or changed in any table (the audit log aside: logging
a refused attempt is allowed).

To cover a new field, add one line to ``REGISTRY``: ``"query.auditLog": [p("query($id: ID!) {
auditLog(targetId: $id) { id } }", id="b_case")]``; a variable's value ``"b_case"`` (any key of
``Targets.ids``) becomes that object's global ID, and ``control=True`` marks a query that township
B's own staff must get a non-empty answer from (which shows the probe can fail).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tortoise import Tortoise

from tests.platform.readpath.paths import resolvers_only
from tests.security.practices_matrix import PRACTICE_EXTRA, PRACTICE_NO_CHECK, practice_probes
from tests.security.schema_walk import all_root_fields, guarded_root_fields, served_schema
from tests.security.townships import (
    A_ROLES,
    B_CREDIT_CODE,
    B_HOUSE,
    B_PERSON,
    Targets,
    build_targets,
    credit_code,
    ruleset_source,
)
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.schema.context import Context

REFUSED_CODES = {"NOT_FOUND", "FORBIDDEN"}
#: Tables a refused request may write: the audit log (its rows, their subjects and the chain head).
MAY_WRITE = {"audit_log", "audit_chain_head", "audit_subject"}


@dataclass(frozen=True)
class Probe:
    document: str
    variables: dict[str, Any] = field(default_factory=dict)
    expect: str = "refused"  # or "no_leak": an answer is fine, but none of B's in it
    control: bool = False  # township B's staff gets a non-empty answer to the same query
    upload: bool = False  # sent as a multipart upload with one file in $file


def p(document: str, *, expect: str = "refused", control: bool = False, upload: bool = False, **variables):
    return Probe(document, variables, expect, control, upload)


UNIT = "mutation($c: ID!, $u: UnitInput!) { addCaseAssignment(caseId: $c, mode: JOINT, unit: $u) { id } }"
DISPATCH = (
    "mutation($c: ID!, $u: [UnitInput!]!) { dispatchCase(caseId: $c, mode: TRANSFER, units: $u) { id } }"
)
CREATE = "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { number } } }"
CASE_OP = "mutation($c: ID!) {{ {0}(caseId: $c{1}) {{ {2} }} }}"


LINK_MEMBER = (
    "mutation($h: ID!, $m: ID!, $r: String) { linkHouseMember(houseId: $h, personId: $m, role: $r) { code } }"
)
SAVE_UNIT = "mutation($i: OrgUnitInput!) { saveOrgUnit(input: $i) { name } }"
PROBE_CODE = credit_code("91330110MA9Y9Y9Y9")
LINK_CASE = "mutation($c: ID!, $h: ID, $u: ID) { linkCase(caseId: $c, houseId: $h, unitId: $u) { id } }"
RECORD_VISIT = (
    'mutation($g: ID!, $h: ID, $m: ID) { recordVisit(gridId: $g, findings: "x", houseId: $h, personId: $m) '
    "{ id } }"
)
STATION = (
    "mutation($c: ID!, $d: ID!, $r: Residence) { stationDepartment(centerId: $c, departmentId: $d, "
    "residence: $r) { id } }"
)
CREATE_GRID = "mutation($i: NewGridInput!) { createGrid(input: $i) { id } }"
ASSIGN = "mutation($g: ID!, $u: ID!, $a: Boolean!) { assignGridWorker(gridId: $g, userId: $u, assigned: $a) { id } }"
CREATE_USER = "mutation($i: NewUserInput!) { createUser(input: $i) { id } }"
MOVE_USER = "mutation($u: ID!, $c: ID!) { moveUser(userId: $u, centerId: $c) { id } }"


def case_op(name: str, args: str = "", case: str = "b_open", selection: str = "id") -> Probe:
    return p(CASE_OP.format(name, args, selection), c=case)


def create(**input_: Any) -> Probe:
    return p(CREATE, i={"title": "跨镇", "category": "neighbor", **input_})


#: Node probes B's staff gets no answer to either: admin's and auditor's rows, an upload not theirs.
NODE_NO_CONTROL = {"b_pending", "b_delivery", "b_token", "b_audit"}

#: How to call each covered root field against township B ("operation.field": probes).
REGISTRY: dict[str, list[Probe]] = {
    "query.node": [
        p("query($id: ID!) { node(id: $id) { id } }", id=key, control=key not in NODE_NO_CONTROL)
        for key in (
            "b_case",
            "b_person",
            "b_event",
            "b_assignment",
            "b_center",
            "b_village",
            "b_grid",
            "b_user",
            "b_department",
            "b_whistle",
            "b_evidence",
            "b_pending",
            "b_delivery",
            "b_notification",
            "b_house",
            "b_unit",
            "b_visit",
            "b_sweep_task",
            "b_meeting",
            "b_report",
            "b_choice",
            "b_token",
            "b_audit",
        )
    ],
    "query.center": [p("query($id: ID!) { center(id: $id) { name } }", id="b_center", control=True)],
    "query.grids": [
        p("query($c: ID) { grids(centerId: $c) { name } }", c="b_village", control=True),
        p("{ grids { code } }", expect="no_leak"),
    ],
    "query.people": [
        p("query($g: ID) { people(gridId: $g) { edges { node { name } } } }", g="b_grid", control=True),
        p(
            "query($n: String) { people(idNumber: $n) { edges { node { name phone } } } }",
            n=B_PERSON["id_number"],
            control=True,
        ),
        p("{ people(first: 100) { edges { node { name idNumber phone address } } } }", expect="no_leak"),
    ],
    "query.case": [p("query($id: ID!) { case(id: $id) { number } }", id="b_case", control=True)],
    "query.caseByNumber": [
        p("query($n: String!) { caseByNumber(number: $n) { number } }", n="@b_case_number", control=True)
    ],
    "query.cases": [
        p("query($f: CaseFilter) { cases(filter: $f) { edges { node { number } } } }", f=f, control=control)
        for f, control in (
            ({"centerId": "b_center"}, True),
            ({"gridId": "b_grid"}, True),
            ({"assigneeUserId": "b_user"}, False),
            ({"assigneeDepartmentId": "b_department"}, False),
            ({"text": "@b_case_number"}, True),
        )
    ]
    + [
        p(
            "{ cases(first: 100) { edges { node { number title parties { person { name } } } } } }",
            expect="no_leak",
        )
    ],
    "query.evidence": [
        p("query($id: ID!) { evidence(id: $id) { filename } }", id="b_evidence", control=True)
    ],
    "query.evidenceAccessLog": [p("query($id: ID!) { evidenceAccessLog(id: $id) { at } }", id="b_evidence")],
    "query.decisions": [p("query($c: ID!) { decisions(caseId: $c) { ruleId } }", c="b_case", control=True)],
    "query.statistics": [
        p(
            'query($c: ID) { statistics(centerId: $c, period: "2026") { received } }',
            c="b_center",
            control=True,
        )
    ],
    "query.hotSpots": [
        p(
            'query($c: ID) { hotSpots(centerId: $c, period: "2026") { byGrid { key } } }',
            c="b_center",
            control=True,
        )
    ],
    "query.earlyWarning": [
        p(
            "query($c: ID) { earlyWarning(centerId: $c, minCases: 2) { highRiskOpen { number } } }",
            c="b_center",
            control=True,
        ),
        p("{ earlyWarning(minCases: 2) { repeatedParties { person { name phone } } } }", expect="no_leak"),
    ],
    "query.report": [
        p('query($c: ID) { report(period: "2026", centerId: $c) { markdown } }', c="b_center", control=True)
    ],
    "query.policeIncident": [
        p("query($c: ID!) { policeIncident(caseId: $c) { incidentNumber } }", c="b_case")
    ],
    "query.petitionItem": [p("query($c: ID!) { petitionItem(caseId: $c) { itemNumber } }", c="b_case")],
    "query.courtReferral": [
        p("query($c: ID!) { courtReferral(caseId: $c) { caseNumber } }", c="b_case", control=True)
    ],
    "mutation.createCase": [
        create(parties=[{"role": "APPLICANT", "personId": "b_person"}]),
        create(gridId="b_grid"),
        create(centerId="b_center"),
        create(centerId="a_center", gridId="b_grid"),
        create(parties=[{"role": "APPLICANT", "person": {"name": "某", "gridId": "b_grid"}}]),
    ],
    "mutation.assessCase": [case_op("assessCase")],
    "mutation.rejectCase": [case_op("rejectCase", ', reason: "x"')],
    "mutation.dispatchCase": [
        p(DISPATCH, c="a_assessed", u=[unit])
        for unit in ({"centerId": "b_center"}, {"departmentId": "b_department"}, {"userId": "b_user"})
    ]
    + [p(DISPATCH, c="b_open", u=[{"centerId": "a_center"}])],
    "mutation.addCaseAssignment": [
        p(UNIT, c="a_handling", u=unit)
        for unit in ({"centerId": "b_center"}, {"departmentId": "b_department"}, {"userId": "b_user"})
    ],
    "mutation.acceptCase": [case_op("acceptCase")],
    "mutation.returnCase": [case_op("returnCase", ', reason: "x"')],
    "mutation.addCaseProgress": [case_op("addCaseProgress", ', note: "x"')],
    "mutation.superviseCase": [case_op("superviseCase", ', note: "x"')],
    "mutation.resolveCase": [case_op("resolveCase", ', outcome: "x"')],
    "mutation.failCase": [case_op("failCase", ', outcome: "x"')],
    "mutation.closeCase": [case_op("closeCase", case="b_case")],
    "mutation.followUpCase": [case_op("followUpCase", ", satisfaction: 5, executed: true", case="b_case")],
    "mutation.withdrawCase": [case_op("withdrawCase", ', reason: "x"')],
    "mutation.reopenCase": [case_op("reopenCase", ', reason: "x"', case="b_case")],
    "mutation.escalateCase": [case_op("escalateCase")],
    "mutation.routeCase": [
        p(
            "mutation($c: ID!, $t: ID!) { routeCase(caseId: $c, centerId: $t) { id } }",
            c="a_assessed",
            t="b_center",
        ),
        p(
            "mutation($c: ID!, $t: ID!) { routeCase(caseId: $c, centerId: $t) { id } }",
            c="b_open",
            t="a_center",
        ),
    ],
    "mutation.flagCaseRisk": [case_op("flagCaseRisk", ', level: HIGH, reason: "x"')],
    "mutation.tagCase": [case_op("tagCase", ', add: ["x"]')],
    "mutation.setCaseDeadline": [case_op("setCaseDeadline", ', resolveBy: "2030-01-01T00:00:00+08:00"')],
    "mutation.requestEvidenceUpload": [
        case_op(
            "requestEvidenceUpload",
            f', filename: "a.jpg", contentType: "image/jpeg", size: 3, sha256: "{"0" * 64}"',
            selection="url",
        )
    ],
    "mutation.confirmEvidenceUpload": [
        p("mutation($e: ID!) { confirmEvidenceUpload(id: $e) { id } }", e="b_pending")
    ],
    "mutation.completeEvidenceUpload": [
        p(
            'mutation($e: ID!) { completeEvidenceUpload(id: $e, parts: [{number: 1, etag: "x"}]) { id } }',
            e="b_pending",
        )
    ],
    "mutation.uploadEvidence": [
        p(
            "mutation($c: ID!, $file: Upload!) { uploadEvidence(caseId: $c, file: $file) { id } }",
            c="b_open",
            upload=True,
        )
    ],
    "mutation.withdrawEvidence": [
        p('mutation($e: ID!) { withdrawEvidence(id: $e, reason: "x") { id } }', e="b_evidence")
    ],
    "mutation.evidenceDownloadUrl": [
        p("mutation($e: ID!) { evidenceDownloadUrl(id: $e) { url } }", e="b_evidence")
    ],
    "mutation.simulateRuleset": [
        p(
            "mutation($t: SimulationTarget!, $s: String) { simulateRuleset(events: $t, source: $s) { eventId } }",
            t=target,
            s=ruleset_source("probe"),
        )
        for target in ({"eventIds": ["b_event"]}, {"caseIds": ["b_case"]})
    ],
    "mutation.answerWhistle": [
        p('mutation($w: ID!) { answerWhistle(whistleId: $w, answer: "x") }', w="b_whistle")
    ],
    "mutation.addLocalClosure": [
        p('mutation($c: ID!) { addLocalClosure(centerId: $c, day: "2026-10-12", note: "x") }', c="b_center")
    ],
    "mutation.retryDelivery": [
        p("mutation($d: ID!) { retryDelivery(deliveryId: $d) { id } }", d="b_delivery")
    ],
    "mutation.extendPetitionDeadline": [
        p('mutation($c: ID!) { extendPetitionDeadline(caseId: $c, reason: "x") { itemNumber } }', c="b_open")
    ],
    "mutation.requestJudicialConfirmation": [
        p("mutation($c: ID!) { requestJudicialConfirmation(caseId: $c) { caseNumber } }", c="b_case")
    ],
    # Beyond the introspected set: references that are not IDs, and the rule authors' scope (item 8).
    "mutation.saveRulesetDraft": [
        p(
            "mutation($n: String!, $s: String!) { saveRulesetDraft(name: $n, source: $s) { version } }",
            n=name,
            s=ruleset_source(name),
        )
        for name in ("b_local", "core")
    ],
    "mutation.activateRulesetVersion": [
        p("mutation($n: String!) { activateRulesetVersion(name: $n, version: 1) { version } }", n=name)
        for name in ("b_local", "core")
    ],
    "mutation.createPartnerCredential": [
        p(
            'mutation($c: String) { createPartnerCredential(plugin: "court_docking", name: "x", centerCode: $c) { secret } }',
            c="@b_center_code",
        )
    ],
    "subscription.earlyWarning": [
        p(
            "subscription($c: ID) { earlyWarning(centerId: $c, minCases: 2) { highRiskOpen { number } } }",
            c="b_center",
        )
    ],
    "subscription.dispatchBoard": [p("subscription { dispatchBoard { number } }")],
    "query.auditLog": [
        p("query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action target } } } }", f=f)
        for f in ({"actorId": "b_user"}, {"personId": "b_person"}, {"caseId": "b_case"})
    ],
    "query.evidenceAccesses": [
        p("query($f: EvidenceAccessFilter) { evidenceAccesses(filter: $f) { edges { node { at } } } }", f=f)
        for f in ({"userId": "b_user"}, {"caseId": "b_case"}, {"evidenceId": "b_evidence"})
    ],
    "query.apiTokens": [p("query($u: ID!) { apiTokens(userId: $u) { name } }", u="b_user")],
    "mutation.revokeApiToken": [p("mutation($t: ID!) { revokeApiToken(id: $t) { name } }", t="b_token")],
    "mutation.disableUser": [p("mutation($u: ID!) { disableUser(userId: $u) { id } }", u="b_user")],
    "mutation.enableUser": [p("mutation($u: ID!) { enableUser(userId: $u) { id } }", u="b_user")],
    # The registry in grids, the visit log and the directory (issue 13).
    "query.houses": [
        p("query($g: ID) { houses(gridId: $g) { code address } }", g="b_grid", control=True),
        p("{ houses(first: 100) { code address members { person { name phone } } } }", expect="no_leak"),
    ],
    "query.house": [
        p(
            "query($id: ID!) { house(id: $id) { code members { person { name } } } }",
            id="b_house",
            control=True,
        )
    ],
    "query.orgUnits": [
        p("query($g: ID) { orgUnits(gridId: $g) { name contactPhone } }", g="b_grid", control=True),
        p("{ orgUnits(first: 100) { name creditCode contactPhone } }", expect="no_leak"),
    ],
    "query.orgUnit": [
        p("query($id: ID!) { orgUnit(id: $id) { name contactPhone } }", id="b_unit", control=True)
    ],
    "query.keyGroupPeople": [
        p(
            'query($g: ID) { keyGroupPeople(tag: "elderly_alone", gridId: $g) { name keyGroups { note } } }',
            g="b_grid",
            control=True,
        ),
        p('{ keyGroupPeople(tag: "elderly_alone", first: 100) { name phone } }', expect="no_leak"),
    ],
    "query.visits": [
        p("query($g: ID) { visits(gridId: $g) { findings } }", g="b_grid", control=True),
        p("{ visits(first: 100) { findings person { name } } }", expect="no_leak"),
    ],
    "query.visitCoverage": [
        p(
            'query($c: ID) { visitCoverage(centerId: $c, period: "2026") { grid { code } houses visits } }',
            c="b_village",
            control=True,
        )
    ],
    "query.directory": [
        p("query($c: ID) { directory(centerId: $c) { username } }", c="b_center", control=True),
        p("query($d: ID) { directory(departmentId: $d) { username } }", d="b_department"),
        p("{ directory(first: 200) { username displayName } }", expect="no_leak"),
    ],
    "query.mediators": [
        p("query($c: ID) { mediators(centerId: $c) { user { username } } }", c="b_center", control=True)
    ],
    "query.departmentDirectory": [
        p(
            "query($c: ID) { departmentDirectory(centerId: $c) { department { name } } }",
            c="b_center",
            control=True,
        ),
        p("{ departmentDirectory { department { name } stationed { center { name } } } }", expect="no_leak"),
    ],
    "mutation.saveHouse": [
        p(
            "mutation($i: HouseInput!) { saveHouse(input: $i) { code } }",
            i={"code": "H-PROBE", "address": "探针1号", "gridId": "b_grid"},
        ),
        p(
            "mutation($i: HouseInput!) { saveHouse(input: $i) { code } }",
            i={"code": B_HOUSE["code"], "address": "改址", "gridId": "a_grid"},
        ),
    ],
    "mutation.linkHouseMember": [
        p(LINK_MEMBER, h="b_house", m="b_person", r="tenant"),
        p(LINK_MEMBER, h="a_house", m="b_person", r="tenant"),
    ],
    "mutation.saveOrgUnit": [
        p(SAVE_UNIT, i={"name": "探针", "kind": "shop", "creditCode": PROBE_CODE, "gridId": "b_grid"}),
        p(SAVE_UNIT, i={"name": "探针", "kind": "shop", "creditCode": B_CREDIT_CODE, "gridId": "a_grid"}),
    ],
    "mutation.tagPerson": [
        p('mutation($m: ID!) { tagPerson(personId: $m, tag: "elderly_alone") { name } }', m="b_person"),
        p(
            'mutation($m: ID!) { tagPerson(personId: $m, tag: "elderly_alone", on: false) { name } }',
            m="b_person",
        ),
    ],
    "mutation.linkCase": [
        p(LINK_CASE, c="b_open", h="a_house", u=None),
        p(LINK_CASE, c="a_handling", h="b_house", u=None),
        p(LINK_CASE, c="a_handling", h=None, u="b_unit"),
    ],
    "mutation.recordVisit": [
        p(RECORD_VISIT, g="b_grid", h=None, m=None),
        p(RECORD_VISIT, g="a_grid", h="b_house", m=None),
        p(RECORD_VISIT, g="a_grid", h=None, m="b_person"),
    ],
    "mutation.visitToCase": [
        p(
            'mutation($v: ID!) { visitToCase(visitId: $v, title: "x", category: "neighbor") { number } }',
            v="b_visit",
        )
    ],
    # Master data (issue 13): a township admin manages its own tree only.
    "mutation.createCenter": [
        p(
            'mutation($c: ID) { createCenter(code: "330110002099", name: "x", level: VILLAGE, parentId: $c) '
            "{ id } }",
            c="b_center",
        )
    ],
    "mutation.renameCenter": [
        p('mutation($c: ID!) { renameCenter(centerId: $c, name: "x") { id } }', c="b_center")
    ],
    "mutation.setCenterActive": [
        p("mutation($c: ID!) { setCenterActive(centerId: $c, active: false) { id } }", c="b_village")
    ],
    "mutation.setCenterBoundary": [
        p("mutation($c: ID!) { setCenterBoundary(centerId: $c, polygon: null) { id } }", c="b_center")
    ],
    "mutation.stationDepartment": [
        p(STATION, c="b_center", d="b_department", r="ROTATING"),
        p(STATION, c="b_center", d="b_department", r=None),
        p(STATION, c="a_center", d="b_department", r="RESIDENT"),
    ],
    "mutation.createGrid": [
        p(CREATE_GRID, i={"code": "PROBE-1", "name": "x", "centerId": "b_village"}),
        p(CREATE_GRID, i={"code": "PROBE-2", "name": "x", "centerId": "a_village", "parentId": "b_grid"}),
    ],
    "mutation.updateGrid": [p('mutation($g: ID!) { updateGrid(gridId: $g, name: "x") { id } }', g="b_grid")],
    "mutation.assignGridWorker": [
        p(ASSIGN, g="b_grid", u="b_grid_worker", a=False),
        p(ASSIGN, g="a_grid", u="b_grid_worker", a=True),
    ],
    "mutation.createUser": [
        p(
            CREATE_USER,
            i={"username": "probe1", "displayName": "x", "roles": ["STAFF"], "centerId": "b_center"},
        ),
        p(
            CREATE_USER,
            i={
                "username": "probe2",
                "displayName": "x",
                "roles": ["DEPARTMENT"],
                "centerId": "a_center",
                "departmentId": "b_department",
            },
        ),
    ],
    "mutation.setUserRoles": [
        p("mutation($u: ID!) { setUserRoles(userId: $u, roles: [ADMIN]) { id } }", u="b_user")
    ],
    "mutation.moveUser": [
        p(MOVE_USER, u="b_user", c="a_center"),
        p(MOVE_USER, u="a_user", c="b_center"),
    ],
    # Rule authoring (issue 15): impact and statistics within the jurisdiction, B's ruleset not A's.
    "query.ruleStatistics": [
        p('query($c: ID) { ruleStatistics(centerId: $c, period: "2026") { ruleId firings } }', c="b_center")
    ],
    "query.rulesetDiff": [
        p(
            '{ rulesetDiff(name: "b_local", oldVersion: 1, newVersion: 1) { added removed } }',
            expect="no_leak",
        )
    ],
    "mutation.setRulesetEnabled": [
        p("mutation($n: String!) { setRulesetEnabled(name: $n, enabled: false) { name } }", n=name)
        for name in ("b_local", "core")
    ],
    "mutation.simulateRulesetImpact": [
        p(
            "mutation($n: String!, $v: Int) { simulateRulesetImpact(name: $n, version: $v, "
            'since: "2020-01-01T00:00:00Z", until: "2030-01-01T00:00:00Z") '
            "{ events casesChanged byRule { ruleId } examples { caseNumber } } }",
            n=name,
            v=1,
            expect="no_leak",
        )
        for name in ("b_local", "core")
    ],
    "mutation.updateCase": [
        p('mutation($c: ID!) { updateCase(caseId: $c, input: {title: "x"}, reason: "r") { id } }', c="b_open")
    ],
    "mutation.addCaseParty": [
        p(
            'mutation($c: ID!) { addCaseParty(caseId: $c, role: OTHER, person: {name: "x"}) { id } }',
            c="b_open",
        ),
        p(
            "mutation($c: ID!, $p: ID) { addCaseParty(caseId: $c, role: OTHER, personId: $p) { id } }",
            c="a_assessed",
            p="b_person",
        ),
        p(
            'mutation($c: ID!, $g: ID) { addCaseParty(caseId: $c, role: OTHER, person: {name: "x", gridId: $g}) { id } }',
            c="a_assessed",
            g="b_grid",
        ),
    ],
    "mutation.removeCaseParty": [
        p(
            'mutation($c: ID!, $p: ID!) { removeCaseParty(caseId: $c, personId: $p, role: APPLICANT, reason: "r") { id } }',
            c="b_case",
            p="b_person",
        )
    ],
    "query.notifications": [
        p(
            "{ notifications(first: 50) { edges { node { message case { number } } } } }",
            expect="no_leak",
            control=True,
        )
    ],
    "mutation.markNotificationRead": [
        p("mutation($n: ID!) { markNotificationRead(id: $n) { message } }", n="b_notification")
    ],
    "subscription.notificationAdded": [p("subscription { notificationAdded { message } }")],
    # A bulk mutation answers per case; for B's cases every answer must be a refusal that names nothing.
    "mutation.bulkCloseCases": [
        p(
            "mutation($c: [ID!]!) { bulkCloseCases(caseIds: $c) { ok code case { number } } }",
            c=["b_case"],
            expect="no_leak",
        )
    ],
    "mutation.bulkFollowUpCases": [
        p(
            "mutation($c: [ID!]!) { bulkFollowUpCases(caseIds: $c, satisfaction: 5, executed: true) { ok case { id } } }",
            c=["b_case"],
            expect="no_leak",
        )
    ],
    "mutation.bulkDispatchCases": [
        p(
            "mutation($c: [ID!]!, $u: [UnitInput!]!) { bulkDispatchCases(caseIds: $c, mode: SELF, units: $u) { ok } }",
            c=["b_open"],
            u=[],
            expect="no_leak",
        ),
        p(
            "mutation($c: [ID!]!, $u: [UnitInput!]!) { bulkDispatchCases(caseIds: $c, mode: TRANSFER, units: $u) { ok } }",
            c=["a_assessed"],
            u=[{"centerId": "b_center"}],
            expect="no_leak",
        ),
    ],
}

#: Root fields that need no probe, and why.
NO_CHECK: dict[str, str] = {
    "query.me": "the asker's own account; no ID argument, reaches no case or person",
    "query.centers": "the asker's own center tree from their center down; no ID argument",
    "query.departments": "departments (org data, no people or cases), already filtered by jurisdiction.visible",
    "query.codeLists": "static code lists",
    "query.statsDefinitions": "static definitions of the figures",
    "query.rulesets": "rule sources and versions are policy, readable by authors and leaders; no ID argument",
    "query.plugins": "admin-only list of loaded plugins; no ID argument",
    "query.partnerCredentials": "admin-only list of credentials without secrets; no ID argument",
    "query.deliveries": "admin-only; already filtered by jurisdiction.visible(Delivery); no ID argument",
    "mutation.loadOfficialCalendar": "admin-only national calendar; no ID argument, no guarded row",
    "mutation.rotatePartnerSecret": "admin-only credential management by key id (a system secret, not a resident's)",
    "mutation.revokePartnerCredential": "admin-only credential management by key id",
    "query.keyGroups": "the static list of key groups and the roles that may see each; no ID argument",
    "mutation.createDepartment": "county-level admins list the county's agencies; no ID argument, no guarded row",
    "query.unreadNotificationCount": "a count of the asker's own inbox (services.inbox.inbox_of); no ID argument",
    "query.workQueues": "counts of the case list's queue filter, inside the asker's jurisdiction; no ID argument",
    "mutation.markAllNotificationsRead": "the asker's own inbox only; no ID argument",
}

#: Fields covered although introspection does not require it (see their comment in REGISTRY).
EXTRA_COVERED = {
    "mutation.saveRulesetDraft",
    "mutation.activateRulesetVersion",
    "mutation.createPartnerCredential",
    "subscription.dispatchBoard",
    "query.rulesetDiff",
    "mutation.setRulesetEnabled",
    "mutation.simulateRulesetImpact",
    "subscription.notificationAdded",
}


REGISTRY.update(practice_probes(p))
NO_CHECK.update(PRACTICE_NO_CHECK)
EXTRA_COVERED |= set(PRACTICE_EXTRA)


def test_every_root_field_is_classified():
    schema = served_schema()
    guarded = set(guarded_root_fields(schema))
    everything = set(all_root_fields(schema))
    missing = sorted(guarded - set(REGISTRY))
    assert not missing, f"fields that take an ID or return guarded rows have no probe in REGISTRY: {missing}"
    assert set(REGISTRY) == guarded | EXTRA_COVERED, sorted(set(REGISTRY) ^ (guarded | EXTRA_COVERED))
    assert not set(NO_CHECK) & guarded, "a field in NO_CHECK takes an ID or returns guarded rows"
    unclassified = sorted(everything - set(REGISTRY) - set(NO_CHECK))
    assert not unclassified, f"new root fields: add them to REGISTRY or NO_CHECK: {unclassified}"
    stale = sorted((set(REGISTRY) | set(NO_CHECK)) - everything)
    assert not stale, f"entries for fields the schema no longer has: {stale}"


# --- running the probes ---------------------------------------------------------------------------


def _bind(value: Any, targets: Targets, extra: dict[str, str]) -> Any:
    if isinstance(value, str):
        if value.startswith("@"):
            return extra[value[1:]]
        return targets.ids.get(value, value)
    if isinstance(value, list):
        return [_bind(v, targets, extra) for v in value]
    if isinstance(value, dict):
        return {k: _bind(v, targets, extra) for k, v in value.items()}
    return value


async def _fingerprint() -> dict[str, list]:
    """Every row of every table (the fixture's tables are small), the audit log aside."""
    conn = Tortoise.get_connection("default")
    out = {}
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        if table not in MAY_WRITE:
            rows = await conn.execute_query_dict(f'SELECT * FROM "{table}" ORDER BY 1')
            out[table] = [json.dumps(r, sort_keys=True, default=str) for r in rows]
    return out


def _empty(value: Any) -> bool:
    if value in (None, [], False):
        return True
    if isinstance(value, dict):
        if "edges" in value:
            return value["edges"] == []
        return all(_empty(v) for v in value.values())
    return False


def _outcome(body: dict) -> str:
    """How a cell was refused, for the tally: the error code, or ``empty`` / ``answered``."""
    errors = body.get("errors") or []
    if errors:
        return str((errors[0].get("extensions") or {}).get("code"))
    return "empty" if all(_empty(v) for v in (body.get("data") or {}).values()) else "answered"


def _judge(body: dict, name: str, probe: Probe, secrets: list[str]) -> str | None:
    text = json.dumps(body, ensure_ascii=False)
    leaked = [s for s in secrets if s in text]
    if leaked:
        return f"leaked {leaked}"
    errors = body.get("errors") or []
    if errors:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        # A probe that may answer may also be refused for want of a center (VALIDATION).
        allowed = REFUSED_CODES | ({"VALIDATION"} if probe.expect == "no_leak" else set())
        return None if codes <= allowed else f"refused with {codes}: {errors[0].get('message')}"
    if probe.expect == "refused" and not _empty((body.get("data") or {}).get(name)):
        return f"answered {text[:200]}"
    return None


async def _post(client, token: str, probe: Probe, variables: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if not probe.upload:
        response = await client.post(
            "/graphql", json={"query": probe.document, "variables": variables}, headers=headers
        )
    else:
        operations = {"query": probe.document, "variables": {**variables, "file": None}}
        response = await client.post(
            "/graphql",
            headers={**headers, "x-apollo-operation-name": "Upload"},
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def _subscription_refused(client, user, probe: Probe, variables: dict, targets: Targets) -> str | None:
    """A subscription as ``user``: refused at once, or silent while township B's case changes."""
    context = Context(settings=client.app.state.settings, actor=await actor_for_user(user))
    schema = client.app.state.schema
    stream = await schema.subscribe(probe.document, variable_values=variables, context_value=context)
    if not hasattr(stream, "__anext__"):
        return _judge({"errors": [e.formatted for e in stream.errors]}, "", probe, targets.secrets)
    hub = broadcast.hub()
    before = hub.listening
    first = asyncio.ensure_future(stream.__anext__())
    try:
        for _ in range(100):
            if first.done() or hub.listening > before:
                break
            await asyncio.sleep(0.01)
        if not first.done():
            await hub.publish(await _b_message(targets))
        done, _ = await asyncio.wait([first], timeout=0.5)
        if not done:
            return None
        result = first.result()
        body = {"data": result.data, "errors": [e.formatted for e in result.errors or []] or None}
        return _judge(body, probe.document.split("{")[1].split("(")[0].strip(), probe, targets.secrets) or (
            None if result.errors else f"sent {body}"
        )
    finally:
        first.cancel()
        with contextlib.suppress(BaseException):
            await first
        await stream.aclose()


async def _b_message(targets: Targets) -> dict:
    case = await Case.get(number=targets.b_case_number)
    event = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
    return broadcast.message_for(event, case)


@pytest.fixture(params=["compiled", "resolvers"])
def read_path(request, client) -> Iterator[str]:
    """Both read paths: the compiled one (the default) and the resolvers alone."""
    if request.param == "resolvers":
        with resolvers_only(client):
            yield request.param
    else:
        yield request.param


async def test_township_a_reaches_nothing_of_township_b(client, world, read_path):
    targets = await build_targets(world)
    extra = {"b_case_number": targets.b_case_number, "b_center_code": world.centers["tb"].code}
    problems: list[str] = []
    cells = 0
    tally: Counter[str] = Counter()
    for name, probes in REGISTRY.items():
        operation, field_name = name.split(".")
        for i, probe in enumerate(probes):
            variables = _bind(probe.variables, targets, extra)
            before = await _fingerprint()
            for role, username in A_ROLES.items():
                cells += 1
                if operation == "subscription":
                    problem = await _subscription_refused(
                        client, world.users[username], probe, variables, targets
                    )
                    tally["subscription silent" if problem is None else "subscription sent"] += 1
                else:
                    body = await _post(client, world.tokens[username], probe, variables)
                    problem = _judge(body, field_name, probe, targets.secrets)
                    tally[_outcome(body)] += 1
                after = await _fingerprint()
                changed = sorted(t for t in before if before[t] != after[t])
                if changed:
                    problem = (problem or "") + f" wrote to {changed}"
                    before = after
                if problem:
                    problems.append(f"{name}[{i}] as {role}: {problem}")
    probes = sum(len(p) for p in REGISTRY.values())
    print(
        f"jurisdiction matrix: {cells} cells = {probes} probes of {len(REGISTRY)} fields x {len(A_ROLES)} roles"
    )
    print("outcomes:", dict(tally.most_common()))
    assert not problems, "\n".join(problems)
    assert cells >= len(REGISTRY) * len(A_ROLES)


async def test_the_probes_reach_township_b_for_its_own_staff(client, world, read_path):
    """The control: township B's staff gets an answer from each marked probe, so each can fail."""
    targets = await build_targets(world)
    extra = {"b_case_number": targets.b_case_number, "b_center_code": world.centers["tb"].code}
    silent = []
    for name, probes in REGISTRY.items():
        for i, probe in enumerate(probes):
            if not probe.control:
                continue
            body = await _post(client, world.tokens["b_staff"], probe, _bind(probe.variables, targets, extra))
            if body.get("errors") or _empty(body["data"][name.split(".")[1]]):
                silent.append(f"{name}[{i}]: {json.dumps(body, ensure_ascii=False)[:200]}")
    assert not silent, "\n".join(silent)


async def test_the_board_probe_sees_township_b_for_its_own_staff(client, world):
    """The control of the subscription probe: B's staff receives the message A's users do not."""
    targets = await build_targets(world)
    probe = REGISTRY["subscription.dispatchBoard"][0]
    problem = await _subscription_refused(client, world.users["b_staff"], probe, {}, targets)
    assert problem is not None  # it received B's message (and so "leaked" B's case number)
