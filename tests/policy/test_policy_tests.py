"""The policy test runner: the labelled set passes in CI, and failures are reported with diffs."""

from __future__ import annotations

import json
import textwrap
from xml.etree import ElementTree as ET

import pytest

from govern.cli import main
from govern.policy.testing import find_test_files, format_text, junit_xml, load_test_files, run_tests
from tests.conftest import POLICIES, TEST_HASH_KEY


@pytest.fixture(scope="module")
def labelled(demo_db_path):
    return run_tests(POLICIES, db=demo_db_path, hash_key=TEST_HASH_KEY)


def test_labelled_set_passes_with_at_least_200_cases(labelled):
    failures = format_text(labelled)
    assert labelled.ok, failures
    ran = labelled.count("pass")
    assert ran >= 200, f"only {ran} cases passed"
    kinds = labelled.by_kind()
    for kind in ("allowed", "denied", "row_filter", "mask", "entity_scope", "pii_passage", "retrieval"):
        assert kinds.get(kind, 0) >= 10, kinds
    assert set(labelled.by_principal()) >= {"eve", "lena", "sam", "tara", "ada"}


def test_cli_runs_the_labelled_set(demo_db_path, tmp_path, capsys):
    out = tmp_path / "junit.xml"
    code = main(["policy", "test", str(POLICIES), "--db", str(demo_db_path), "--format", "junit", "-o", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr()
    root = ET.parse(out).getroot()
    assert int(root.get("tests")) >= 200 and root.get("failures") == "0" and root.get("errors") == "0"


BROKEN = """
principal: eve
kind: row_filter
cases:
  - name: wrong oracle
    sql: SELECT id FROM customers
    expect:
      same_as: SELECT id FROM main.customers WHERE region = 'EU'
  - name: wrong exact rows
    sql: SELECT count(*) FROM customers WHERE region = 'NA'
    expect:
      rows: [[3]]
  - name: expected denied but allowed
    sql: SELECT id FROM customers
    expect:
      allowed: false
      reason: national_id
  - name: wrong reason
    sql: SELECT national_id FROM customers
    expect:
      allowed: false
      reason: salary
  - name: mask pattern
    sql: SELECT email FROM customers
    expect:
      values: {email: "@"}
  - name: passes
    sql: SELECT code FROM regions
    expect:
      rows_include: [[EU]]
      rows_exclude: [[XX]]
  - name: passage type not masked
    passage: "Call +1 604-555-0187"
    expect:
      pii_masked: [PHONE_NUMBER]
"""


@pytest.fixture()
def broken_bundle(demo_bundle):
    demo_bundle.write("tests/broken.yaml", BROKEN)
    return demo_bundle.path


def test_failures_are_reported_with_diffs(broken_bundle, demo_db_path):
    report = run_tests(broken_bundle, db=demo_db_path, hash_key=TEST_HASH_KEY)
    status = {r.loaded.case.name: r for r in report.results}
    assert status["passes"].status == "pass"
    assert {n for n, r in status.items() if r.status == "fail"} == {
        "wrong oracle", "wrong exact rows", "expected denied but allowed", "wrong reason", "mask pattern", "passage type not masked"}
    text = format_text(report)
    # the oracle diff lists rows the oracle has and govern did not return (other tenants, other books)
    oracle = status["wrong oracle"].mismatches[0]
    assert oracle.check == "same_as" and "missing" in oracle.message and "\n- (" in oracle.diff
    assert "- (3)" in status["wrong exact rows"].mismatches[0].diff and "+ (0)" in status["wrong exact rows"].mismatches[0].diff
    assert "expected denied, got allowed" in text
    assert "reason does not mention ['salary']" in text
    assert "do not match /@/" in text
    assert "types not masked in the passage: ['PHONE_NUMBER']" in text
    assert "FAIL broken.yaml:" in text and "6 failed" in text


def test_junit_report_of_failures(broken_bundle, demo_db_path):
    root = ET.fromstring(junit_xml(run_tests(broken_bundle, db=demo_db_path, hash_key=TEST_HASH_KEY)).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite.get("name") == "broken.yaml" and suite.get("failures") == "6"
    failure = suite.find("testcase[@name='wrong oracle']/failure")
    assert failure is not None and "oracle" in failure.get("message") and "- (" in failure.text


def test_cli_exit_code_and_json_on_failure(broken_bundle, demo_db_path, capsys):
    assert main(["policy", "test", str(broken_bundle), "--db", str(demo_db_path), "--format", "json", "--no-progress"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["fail"] == 6 and data["summary"]["pass"] == 1


def test_bad_test_file_names_file_and_line(demo_bundle, demo_db_path):
    demo_bundle.write("tests/bad.yaml", textwrap.dedent("""
        principal: eve
        cases:
          - name: typo in a key
            sql: SELECT 1
            expect:
              allowd: true
          - name: two inputs
            sql: SELECT 1
            passage: hi
            expect: {}
    """))
    cases, problems = load_test_files(find_test_files(demo_bundle.path))
    assert any(p.startswith("bad.yaml:7:") and "unknown key" in p for p in problems), problems
    assert any("exactly one input" in p for p in problems), problems
    report = run_tests(demo_bundle.path, db=demo_db_path, hash_key=TEST_HASH_KEY)
    assert not report.ok


def test_unknown_principal_is_an_error_not_a_pass(demo_bundle, demo_db_path):
    demo_bundle.write("tests/who.yaml", "cases:\n  - {name: nobody, principal: zed, sql: SELECT 1, expect: {allowed: true}}\n")
    [result] = run_tests(demo_bundle.path, db=demo_db_path, hash_key=TEST_HASH_KEY).results
    assert result.status == "error" and "zed" in result.error


def test_progress_bar_renders(demo_bundle, demo_db_path, capsys):
    demo_bundle.write("tests/one.yaml", "principal: eve\ncases:\n  - {name: regions, sql: SELECT code FROM regions, expect: {row_count: 4}}\n")
    report = run_tests(demo_bundle.path, db=demo_db_path, hash_key=TEST_HASH_KEY, progress=True)
    assert report.ok
    assert "policy tests" in capsys.readouterr().err
