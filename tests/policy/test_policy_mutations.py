"""Policy tests that can fail: mutate each expectation kind of the shipped set, and `govern policy test` fails.

For every (case input, expectation key) the shipped set (policies/tests) uses, one case using it
is copied with that one expectation made wrong, from what the case actually produced: a row
count off by one, a text that is in no row, a text that is in the output excluded, a PII type
that is not shown claimed as revealed, a policy that applied claimed as not applied, an oracle
that returns nothing, a flipped needs_review, ... All mutants run in one `govern policy test`
(the CLI, JSON report) and each must fail, on the check of the mutated key. A key the checker
table accepts that the shipped set never uses is reported by the coverage test below.
"""

from __future__ import annotations

import json
import shutil
from copy import deepcopy

import pytest
import yaml

from govern.audit import AuditTrail
from govern.cli import main
from govern.governor import Governor
from govern.policy.testing import (CHECKERS, MODIFIERS, ON_DENIED, LoadedCase, PrincipalSpec, Runner, find_test_files,
                                   load_test_files, normalise_row, open_demo_db)
from govern.bundle.yaml_source import load_yaml
from tests.conftest import POLICIES, TEST_HASH_KEY

ABSENT = "THIS TEXT IS NOT IN ANY ROW"


def _mutant(loaded: LoadedCase, key: str, outcome, entities: list[str]):
    """The case's expectations with ``key`` made wrong, or None when this case cannot host that mutation."""
    e = loaded.case.expect
    data = e.model_dump(exclude_unset=True)
    value = getattr(e, key)
    rows = [list(normalise_row(r)) for r in outcome.rows] if outcome.rows is not None else None
    if key == "allowed":
        if any(k not in ON_DENIED for k in e.given()):
            return None  # flipping to denied would not load (result expectations on a denied case)
        data[key] = not value
    elif key == "reason":
        data[key] = ([value] if isinstance(value, str) else list(value)) + ["NO SUCH REASON"]
    elif key in ("policies", "tables", "columns", "documents", "documents_include"):
        data[key] = list(value) + ["no_such_thing"]
    elif key == "not_policies":
        if not outcome.policies:
            return None
        data[key] = list(value) + [outcome.policies[0]]
    elif key in ("rows", "rows_include"):
        if rows is None:
            return None
        data[key] = list(value) + [["MUTANT"] * len(outcome.columns)]
    elif key == "rows_exclude":
        if not rows:
            return None
        data[key] = list(value) + [rows[0]]
    elif key == "row_count":
        data[key] = value + 1
    elif key == "min_rows":
        data[key] = len(outcome.rows) + 1
    elif key == "max_rows":
        if not outcome.rows:
            return None
        data[key] = len(outcome.rows) - 1
    elif key in ("same_as", "keys_same_as"):
        produced = outcome.rows if key == "same_as" else outcome.keys
        if not produced or produced == "ALL" or not isinstance(value, str):
            return None
        data[key] = f"SELECT * FROM ({value.strip().rstrip(';')}) AS mutant WHERE false"
    elif key in ("values", "values_not", "null"):
        index = {c.lower(): i for i, c in enumerate(outcome.columns)}
        filled = [c for c in outcome.columns if any(r[index[c.lower()]] is not None for r in outcome.rows)]
        if not filled:
            return None
        data[key] = {"values": {filled[0]: "^MUTANT NEVER MATCHES$"}, "values_not": {filled[0]: "."}, "null": [filled[0]]}[key]
    elif key == "pii_masked":
        masked = {t for t, n in (outcome.pii_masked or {}).items() if n}
        if isinstance(value, dict):
            data[key] = {**value, next(iter(value)): value[next(iter(value))] + 1} if value else {entities[0]: 1}
        else:
            extra = next((t for t in entities if t not in masked), None)
            if extra is None:
                return None
            data[key] = list(value) + [extra]
    elif key == "pii_revealed":
        extra = next((t for t in entities if t not in outcome.revealed_of()), None)
        if extra is None:
            return None
        data[key] = list(value) + [extra]
    elif key == "text":
        data[key] = value + " MUTANT"
    elif key == "text_contains":
        data[key] = list(value) + [ABSENT]
    elif key == "text_excludes":
        words = [w for w in (outcome.text or "").split() if len(w) > 3]
        if not words:
            return None
        data[key] = list(value) + [words[0]]
    elif key == "needs_review":
        data[key] = not value
    elif key == "documents_exclude":
        if not outcome.documents:
            return None
        data[key] = list(value) + [outcome.documents[0]]
    elif key == "keys":
        data[key] = [1] if outcome.keys == "ALL" else list(value) + [-999]
    elif key == "keys_include":
        if outcome.keys == "ALL":
            return None  # every key is included
        data[key] = list(value) + [-999]
    elif key == "keys_exclude":
        if outcome.keys == "ALL" or not outcome.keys:
            return None
        data[key] = list(value) + [outcome.keys[0]]
    else:
        raise AssertionError(f"no mutation for expectation {key!r}: add one here")
    return data


def _case_dict(loaded: LoadedCase, source_data: dict, expect: dict) -> dict:
    raw = next(c for c in source_data["cases"] if c["name"] == loaded.case.name)
    case = deepcopy(raw)
    case["expect"] = expect
    case["kind"] = loaded.kind
    ref = loaded.principal_ref
    case["principal"] = ref if isinstance(ref, str) else ref.model_dump(exclude_defaults=True)
    case.pop("skip", None)
    return case


@pytest.fixture(scope="module")
def mutants(demo_db_path, tmp_path_factory):
    cases, problems = load_test_files(find_test_files(POLICIES))
    assert not problems
    gov = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    conn = open_demo_db(demo_db_path)
    runner = Runner(gov, conn)
    entities = list(gov.bundle.rules.pii.entities)
    sources = {}
    made: dict[tuple[str, str], dict] = {}
    origins: dict[str, LoadedCase] = {}  # mutant name -> the case it was made from
    try:
        for loaded in cases:
            if loaded.case.skip:
                continue
            todo = [k for k in loaded.case.expect.given() if k not in MODIFIERS and (loaded.case.input, k) not in made]
            if not todo:
                continue
            outcome = runner.outcome(loaded)
            if loaded.file not in sources:
                sources[loaded.file] = load_yaml(POLICIES / "tests" / loaded.file).data
            for key in todo:
                expect = _mutant(loaded, key, outcome, entities)
                if expect is not None:
                    name = f"MUTANT {loaded.case.input}.{key}: {loaded.case.name}"
                    made[(loaded.case.input, key)] = _case_dict(loaded, sources[loaded.file], expect) | {"name": name}
                    origins[name] = loaded
    finally:
        conn.close()
    used = {(c.case.input, k) for c in cases if not c.case.skip for k in c.case.expect.given() if k not in MODIFIERS}
    bundle = tmp_path_factory.mktemp("mutants") / "policies"
    shutil.copytree(POLICIES, bundle, ignore=shutil.ignore_patterns("tests"))
    (bundle / "tests").mkdir()
    for i, ((input_name, key), case) in enumerate(sorted(made.items())):
        (bundle / "tests" / f"m{i:02d}_{input_name}_{key}.yaml").write_text(yaml.safe_dump({"cases": [case]}, sort_keys=False))
    return bundle, made, used, origins


def test_every_expectation_kind_of_the_shipped_set_has_a_mutant(mutants):
    _, made, used, _ = mutants
    assert used - set(made) == set(), f"expectation kinds in use that no case could be mutated for: {sorted(used - set(made))}"


# A passage is denied only for a principal that does not fit the bundle's attribute schema, and the
# demo bundle declares none: shown on the clinic bundle below instead.
SHOWN_ELSEWHERE = {("passage", "allowed"), ("passage", "reason")}


def test_the_shipped_set_uses_every_key_of_the_checker_table(mutants):
    """So the mutants above prove every checker can fail (a checker no shipped case uses is unproven)."""
    _, _, used, _ = mutants
    assert set(CHECKERS) - used == SHOWN_ELSEWHERE, sorted(set(CHECKERS) - used)


CLINIC_CASE = """
cases:
  - name: a passage for a principal whose clinic_id is not an integer
    principal: {id: mallory, roles: [doctor], attributes: {clinic_id: one}}
    passage: Call me at 555-0100.
    expect: {EXPECT}
"""


@pytest.mark.parametrize("expect, status", [
    ("{allowed: false, reason: 'attribute clinic_id must be an integer'}", "pass"),
    ("{allowed: true}", "fail"),
    ("{allowed: false, reason: 'NO SUCH REASON'}", "fail"),
])
def test_passage_allowed_and_reason_can_fail(tmp_path, expect, status):
    from govern.policy.testing import run_tests

    bundle = tmp_path / "clinic"
    shutil.copytree(POLICIES.parent / "tests" / "bundles" / "clinic", bundle)
    (bundle / "tests").mkdir()
    (bundle / "tests" / "passage.yaml").write_text(CLINIC_CASE.replace("{EXPECT}", expect))
    import duckdb

    report = run_tests(bundle, conn=duckdb.connect(), hash_key=TEST_HASH_KEY)
    assert [r.status for r in report.results] == [status], [(r.error, r.mismatches) for r in report.results]


def test_govern_policy_test_fails_on_every_mutant(mutants, demo_db_path, tmp_path, capsys):
    bundle, made, _, origins = mutants
    out = tmp_path / "report.json"
    code = main(["policy", "test", str(bundle), "--db", str(demo_db_path), "--format", "json", "-o", str(out), "--no-progress"])
    report = json.loads(out.read_text())
    assert code == 1, capsys.readouterr()
    assert report["problems"] == [], report["problems"]
    by_name = {r["name"]: r for r in report["results"]}
    assert len(by_name) == len(made)
    passed = []
    for (input_name, key), case in made.items():
        result = by_name[case["name"]]
        if result["status"] != "fail":
            passed.append((input_name, key, result["status"], result.get("error")))
            continue
        checks = {m["check"] for m in result["mismatches"]}
        assert any(c == key or c.startswith(key.split("_")[0]) for c in checks), (input_name, key, checks)
    assert not passed, f"mutants that did not fail: {passed}"


def test_the_unmutated_copies_pass(mutants, demo_db_path, tmp_path):
    """The mutants are minimal: each unmutated copy passes (so a failure is the mutation's)."""
    from govern.policy.testing import run_tests

    bundle, made, _, origins = mutants
    originals = tmp_path / "policies"
    shutil.copytree(bundle, originals)
    for path in (originals / "tests").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        case = data["cases"][0]
        original = origins[case["name"]]
        case["expect"] = original.case.expect.model_dump(exclude_unset=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    report = run_tests(originals, db=demo_db_path, hash_key=TEST_HASH_KEY)
    assert report.ok and len(report.results) == len(made), [(r.loaded.case.name, r.status, r.error, r.mismatches) for r in report.results if r.status != "pass"]
