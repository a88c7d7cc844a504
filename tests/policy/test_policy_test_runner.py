"""The policy test runner: what loads, what is an error, where the cases run, what they cover.

- An expectation a case's input does not evaluate is a load error at its line (never ignored).
- A check that cannot be evaluated makes the case an error, never a pass (a query the database
  rejects, a column the result lacks).
- The SQL case expectations the issue found unevaluated (text_contains, text_excludes,
  needs_review, pii_revealed) fail when wrong.
- `--db FILE` that does not exist is exit 2, nothing built; `--db postgresql://...` runs the
  shipped set on PostgreSQL in a fresh database that is dropped afterwards.
- `--coverage` lists the rules and grants no case exercised, at their lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from govern.cli import main
from govern.policy.testing import CHECKERS, Expect, find_test_files, load_test_files, run_tests
from tests.conftest import PG_DSN, POLICIES, ROOT, TEST_HASH_KEY, require_postgres


def _bundle(tmp_path: Path, tests: dict[str, str]) -> Path:
    bundle = tmp_path / "policies"
    shutil.copytree(POLICIES, bundle, ignore=shutil.ignore_patterns("tests"))
    (bundle / "tests").mkdir()
    for name, text in tests.items():
        (bundle / "tests" / name).write_text(text)
    return bundle


def test_every_expectation_key_has_a_checker_for_some_input():
    assert {k for _, k in CHECKERS} | {"ordered"} == set(Expect.model_fields)


@pytest.mark.parametrize("case, line, message", [
    ("    entity: {entity: customer}\n    expect: {keys: [ALL], needs_review: false}", 5,
     "expectation `needs_review` is not evaluated for an entity case"),
    ("    sql: SELECT id FROM customers\n    expect:\n      allowed: true\n      text: hello", 7,
     "expectation `text` is not evaluated for a sql case (it applies to passage cases"),
    ("    sql: SELECT id FROM customers\n    expect:\n      row_count: 3\n      ordered: true", 7,
     "`ordered` modifies rows or same_as, which the case does not expect"),
    ("    sql: SELECT id FROM customers\n    expect:\n      allowed: false\n      row_count: 0", 7,
     "expectation `row_count` cannot be evaluated on a case expected to be denied"),
    ("    passage: hello\n    expect: {documents: [a]}", 5, "expectation `documents` is not evaluated for a passage case"),
])
def test_an_expectation_the_input_does_not_evaluate_is_a_load_error_at_its_line(tmp_path, case, line, message):
    path = tmp_path / "t.yaml"
    path.write_text("principal: eve\ncases:\n  - name: c\n" + case + "\n")
    cases, problems = load_test_files([path])
    assert cases == []
    assert len(problems) == 1 and problems[0].startswith(f"t.yaml:{line}: case 'c': ") and message in problems[0], problems


SQL_CASES = """
principal: ada
cases:
  - name: text absent from every row
    sql: SELECT id, body FROM support_tickets WHERE id = 3
    expect: {text_contains: ["THIS TEXT IS NOT IN ANY ROW"]}
  - name: a masked name the row holds, excluded
    sql: SELECT id, body FROM support_tickets WHERE id = 3
    expect: {text_excludes: ["<PERSON_1>"]}
  - name: needs review claimed
    sql: SELECT id, body FROM support_tickets WHERE id = 3
    expect: {needs_review: true}
  - name: a reveal ada does not have
    sql: SELECT id, body FROM support_tickets WHERE id = 3
    expect: {pii_revealed: [EMAIL_ADDRESS]}
  - name: a column the result lacks
    sql: SELECT id FROM customers ORDER BY id LIMIT 1
    expect: {values: {nosuch: x}}
  - name: the same cases, right
    sql: SELECT id, body FROM support_tickets WHERE id = 3
    expect: {text_contains: ["<PERSON_1>"], text_excludes: [Maya Schmidt], needs_review: false, pii_masked: [PERSON]}
"""


def test_sql_expectations_are_evaluated_and_can_fail(tmp_path, demo_db_path):
    report = run_tests(_bundle(tmp_path, {"sql.yaml": SQL_CASES}), db=demo_db_path, hash_key=TEST_HASH_KEY)
    status = {r.loaded.case.name: (r.status, [m.check for m in r.mismatches], r.error) for r in report.results}
    assert status["text absent from every row"][:2] == ("fail", ["text_contains"])
    assert status["a masked name the row holds, excluded"][:2] == ("fail", ["text_excludes"])
    assert status["needs review claimed"][:2] == ("fail", ["needs_review"])
    assert status["a reveal ada does not have"][:2] == ("fail", ["pii_revealed"])
    assert status["a column the result lacks"][0] == "error" and "no output column 'nosuch'" in status["a column the result lacks"][2]
    assert status["the same cases, right"][0] == "pass", status["the same cases, right"]


def test_every_sql_case_is_executed_so_a_missing_table_is_an_error(tmp_path):
    """A case expecting only `allowed: true` used to pass on a database without its table."""
    bundle = _bundle(tmp_path, {"a.yaml": "principal: eve\ncases:\n  - name: c\n    sql: SELECT id FROM customers\n    expect: {allowed: true}\n"})
    report = run_tests(bundle, conn=duckdb.connect(), hash_key=TEST_HASH_KEY)  # an empty database
    [result] = report.results
    assert result.status == "error" and "customers" in result.error, result


def test_db_naming_a_missing_file_is_exit_2_and_builds_nothing(tmp_path):
    missing = tmp_path / "nope" / "demo.duckdb"
    proc = subprocess.run([sys.executable, "-m", "govern.cli", "policy", "test", str(POLICIES), "--db", str(missing)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[transformers]")]
    assert lines == [f"govern policy test: --db {missing}: no such database file (build one with "
                     f"`python -m govern.demo.dataset {missing}`, or omit --db to use the demo database)"], proc.stderr
    assert "Traceback" not in proc.stderr and not missing.exists() and not missing.parent.exists()


def test_db_that_is_not_a_duckdb_database_is_exit_2(tmp_path, capsys):
    bogus = tmp_path / "x.duckdb"
    bogus.write_text("not a database")
    assert main(["policy", "test", str(POLICIES), "--db", str(bogus), "--no-progress"]) == 2
    assert "not a DuckDB database" in capsys.readouterr().err


def _pg_url() -> str:
    params = dict(part.split("=", 1) for part in PG_DSN.split())
    return f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{params.get('dbname', 'test')}"


def _pg_databases() -> set[str]:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'govern_policy_test_%'")}


def test_the_shipped_set_runs_on_postgresql_in_a_fresh_database(capsys):
    require_postgres(_pg_databases)
    before = _pg_databases()
    report = run_tests(POLICIES, db=_pg_url(), hash_key=TEST_HASH_KEY)
    assert report.target.startswith("PostgreSQL database govern_policy_test_")
    bad = [(r.loaded.where, r.status, r.error, [m.message for m in r.mismatches]) for r in report.results if r.status in ("fail", "error")]
    assert not bad and not report.problems, bad
    skipped = [r.loaded.where for r in report.results if r.status == "skip"]
    assert all(w.startswith("denied.yaml") for w in skipped) and len(skipped) <= 2, skipped  # DuckDB-only statements
    assert report.count("pass") >= 300
    assert _pg_databases() == before  # dropped


def test_a_wrong_expectation_fails_on_postgresql_too(tmp_path):
    require_postgres(_pg_databases)
    bundle = _bundle(tmp_path, {"a.yaml": "principal: eve\ncases:\n  - name: c\n    sql: SELECT id FROM customers\n"
                                          "    expect: {same_as: SELECT id FROM main.customers}\n"})
    [result] = run_tests(bundle, db=_pg_url(), hash_key=TEST_HASH_KEY).results
    assert result.status == "fail" and [m.check for m in result.mismatches] == ["same_as"]


def test_an_oracle_in_the_targets_dialect(tmp_path, demo_db_path):
    """`same_as: {duckdb: ..., postgres: ...}`: the target's entry runs; no entry is an error."""
    case = ("principal: eve\ncases:\n  - name: c\n    sql: SELECT count(*) AS n FROM customers\n    expect:\n      same_as:\n"
            "        duckdb: SELECT count(*) FROM main.customers WHERE region = 'EU' AND tenant = 'acme' AND account_manager_id = 1\n")
    [ok] = run_tests(_bundle(tmp_path / "a", {"a.yaml": case}), db=demo_db_path, hash_key=TEST_HASH_KEY).results
    assert ok.status == "pass", ok
    [missing] = run_tests(_bundle(tmp_path / "b", {"a.yaml": case.replace("duckdb:", "postgres:")}), db=demo_db_path,
                          hash_key=TEST_HASH_KEY).results
    assert missing.status == "error" and "no oracle for dialect 'duckdb'" in missing.error


def test_coverage_lists_what_no_case_exercised(tmp_path, demo_db_path, capsys):
    eve_only = (POLICIES / "tests" / "eve.yaml").read_text()
    bundle = _bundle(tmp_path, {"eve.yaml": eve_only})
    report = run_tests(bundle, db=demo_db_path, hash_key=TEST_HASH_KEY, coverage=True)
    ids = {(u.kind, u.id) for u in report.uncovered}
    assert ("row_filter", "customers-auditor-all-rows") in ids  # only ada's cases apply it
    assert ("column_mask", "customers-email-hashed-for-auditors") in ids
    assert ("entity_scope", "customer-support-agent-assigned") in ids
    assert ("document_rule", "support_kb/kb-support-agent-own-tickets") in ids
    assert ("grant", "p, auditor, *, select, allow") in ids
    assert ("row_filter", "customers-sales-rep-own-region") not in ids  # eve's cases apply it
    assert ("grant", "p, sales_rep, customers.*, select, allow") not in ids
    rules = (bundle / "rules.yaml").read_text().splitlines()
    [auditor] = [u for u in report.uncovered if u.id == "customers-auditor-all-rows"]
    assert "customers-auditor-all-rows" in rules[auditor.line - 1]
    grants = (bundle / "grants.csv").read_text().splitlines()
    [grant] = [u for u in report.uncovered if u.id == "p, auditor, *, select, allow"]
    assert grants[grant.line - 1].replace(" ", "") == "p,auditor,*,select,allow"
    # The whole shipped set exercises more: strictly fewer gaps.
    full = run_tests(POLICIES, db=demo_db_path, hash_key=TEST_HASH_KEY, coverage=True)
    assert {(u.kind, u.id) for u in full.uncovered} < ids
    code = main(["policy", "test", str(bundle), "--db", str(demo_db_path), "--coverage", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and f"rules.yaml:{auditor.line}: row_filter customers-auditor-all-rows" in out


def test_the_checker_table_is_documented():
    doc = (ROOT / "docs" / "policy-authoring.md").read_text()
    for input_name in ("sql", "passage", "retrieve", "entity"):
        keys = sorted(k for i, k in CHECKERS if i == input_name)
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{input_name}` |"))
        assert sorted(k for k in keys) == sorted(set(k for k in keys if f"`{k}`" in row)), (input_name, [k for k in keys if f"`{k}`" not in row])


def test_db_naming_an_unreachable_postgresql_server_is_exit_2(capsys):
    code = main(["policy", "test", str(POLICIES), "--db", "postgresql://postgres@127.0.0.1:1/test", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("govern policy test: --db: cannot connect to PostgreSQL"), err
