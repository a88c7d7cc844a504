"""Red-team round (policy bundle): loading, lint, policy tests, explain and hot reload.

One test (or parametrized group) per confirmed finding of the round, asserting
the specified behaviour: a bundle loads whole or not at all; every error names
the file and line and says what is wrong; policy SQL passes the same guard as
user SQL and reads only what its rule may read; a missing principal attribute is
a clear denial; lint finds typos; hot reload never exposes a half-written or
mixed bundle. Where the round allowed two outcomes, the test pins the one chosen.
"""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from govern import Governor, Principal
from govern.audit import AuditTrail
from govern.bundle import load_bundle
from govern.errors import PolicyLoadError
from govern.policy.lint import lint_bundle
from govern.policy.reload import BundleWatcher
from tests.conftest import POLICIES, TEST_HASH_KEY
from tests.policy.conftest import BundleCopy


@pytest.fixture()
def demo(demo_bundle) -> BundleCopy:
    return demo_bundle


def gov_of(path, **kw) -> Governor:
    kw.setdefault("hash_key", TEST_HASH_KEY)
    return Governor.from_path(path, audit=AuditTrail.null(), **kw)


def load_problems(path) -> list[str]:
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(path)
    return err.value.problems


def loads(path) -> bool:
    try:
        load_bundle(path)
        return True
    except PolicyLoadError:
        return False


def lint_errors(path) -> list:
    return [f for f in lint_bundle(path).findings if f.severity == "error"]


EXTRA_MASK = '''column_masks:
  - id: rt-mask
    table: customers
    column: name
    roles: [sales_rep]
    mask: expression
    expression: "{expr}"
'''

REGION_FILTER = '    where: "region = :principal.region"\n  - id: customers-sales-lead-every-region'


def expression_line(demo: BundleCopy) -> int:
    """The line of the rt-mask rule's `expression:` in rules.yaml."""
    lines = (demo.path / "rules.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index("  - id: rt-mask")
    return next(i for i, text in enumerate(lines[start:], start + 1) if text.strip().startswith("expression:"))


def with_region_filter(demo: BundleCopy, where: str) -> BundleCopy:
    return demo.replace("rules.yaml", REGION_FILTER, f'    where: "{where}"\n  - id: customers-sales-lead-every-region')


# ---------------------------------------------------------------- 1. reading files


@pytest.mark.parametrize("name", ["rules.yaml", "catalog.yaml", "principals.yaml", "grants.csv", "model.conf", "documents.yaml"])
def test_non_utf8_file_is_a_policy_load_error_naming_the_file(demo, name):
    path = demo.path / name
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    found = load_problems(demo.path)  # today: a raw UnicodeDecodeError escapes
    assert any(p.startswith(f"{name}:") for p in found), found


def test_lint_reports_a_non_utf8_bundle_instead_of_crashing(demo):
    path = demo.path / "rules.yaml"
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    report = lint_bundle(demo.path)  # today: UnicodeDecodeError
    assert not report.loaded and any(f.code == "load-error" and f.file == "rules.yaml" for f in report.findings)


def test_recursive_yaml_alias_is_a_policy_load_error(demo):
    demo.replace("rules.yaml", "limits:\n  max_rows: 1000", "limits: &a\n  max_rows: 1000\n  functions: *a")
    found = load_problems(demo.path)  # today: RecursionError
    assert any(p.startswith("rules.yaml:") for p in found), found


# ---------------------------------------------------------------- 2. grants / model


def test_principal_named_in_g_line_is_rejected(demo):
    # govern expands a principal's roles, never its id: `g, eve, blocked` would be silently
    # ignored (the deny never applies), so it is a load error naming the line.
    demo.append("grants.csv", "g, eve, blocked\np, blocked, customers.*, select, deny")
    line = len((demo.path / "grants.csv").read_text().splitlines()) - 1
    found = load_problems(demo.path)
    assert any(p.startswith(f"grants.csv:{line}:") and "'eve' is a principal id" in p for p in found), found


def test_role_cycle_is_an_error(demo):
    # sales_rep -> sales_lead -> sales_rep: every sales_rep silently inherits sales_lead's TRUE filters.
    demo.append("grants.csv", "g, sales_rep, sales_lead")
    line = len((demo.path / "grants.csv").read_text().splitlines())
    found = load_problems(demo.path)
    assert any(p.startswith("grants.csv:") and "role cycle" in p and f"{line}" in p for p in found), found
    report = lint_bundle(demo.path)
    assert not report.loaded and any("cycle" in f.message and f.file == "grants.csv" for f in report.findings if f.severity == "error")


def test_three_role_cycle_is_an_error(demo):
    demo.append("grants.csv", "g, a, b\ng, b, c\ng, c, a\np, a, regions.*, select, allow")
    found = load_problems(demo.path)
    assert any("role cycle" in p and "a -> b -> c -> a" in p for p in found), found


def test_empty_role_name_in_grants_is_a_load_error(demo):
    demo.append("grants.csv", "p, , customers.*, select, allow")
    found = load_problems(demo.path)
    assert any(p.startswith("grants.csv:") for p in found), found


def test_model_accepted_by_the_shape_check_must_work_at_request_time(demo):
    # The shape check ignores whitespace; casbin turns `&&` into `and` textually, so the
    # matcher below becomes `r_subandglobMatch(...)`: every query is an internal error.
    demo.replace("model.conf", "m = p.sub in r.sub && globMatch(r.obj, p.obj) && r.act == p.act",
                 "m = p.sub in r.sub&&globMatch(r.obj,p.obj)&&r.act==p.act")
    line = next(i for i, text in enumerate((demo.path / "model.conf").read_text().splitlines(), 1) if text.startswith("m "))
    found = load_problems(demo.path)  # fails at load, with the matcher's line, not on every request
    assert any(p.startswith(f"model.conf:{line}:") for p in found), found
    assert "SyntaxError" not in lint_bundle(demo.path).to_dict().__repr__() or not lint_bundle(demo.path).loaded


@pytest.mark.parametrize("old, new", [
    ("e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
     "e = some(where(p.eft==allow))&&!some(where(p.eft==deny))"),
    ("e = some", "e : some"),
])
def test_model_errors_name_the_line(demo, old, new):
    demo.replace("model.conf", old, new)
    found = load_problems(demo.path)
    line = next(i for i, text in enumerate((demo.path / "model.conf").read_text().splitlines(), 1) if text.startswith("e "))
    assert any(p.startswith(f"model.conf:{line}:") for p in found), found


# ---------------------------------------------------------------- 3. rule SQL


@pytest.mark.parametrize("where", [
    "region IN (SELECT column0 FROM read_csv('/etc/passwd'))",
    "pg_read_file('/etc/passwd') IS NOT NULL",
    "region = current_setting('govern.secret')",
    "my_udf(region) = 1",
])
def test_row_filter_calling_a_denied_or_unknown_function_is_a_load_error(demo, where):
    with_region_filter(demo, where)
    found = load_problems(demo.path)  # today: loads; READ_CSV/PG_READ_FILE reach the governed SQL
    assert any(p.startswith("rules.yaml:18:") for p in found), found


def test_row_filter_subquery_reading_an_unknown_column_is_a_load_error(demo):
    with_region_filter(demo, "region IN (SELECT nosuchcol FROM employees)")
    found = load_problems(demo.path)
    assert any(p.startswith("rules.yaml:18:") and "nosuchcol" in p for p in found), found


def test_multi_statement_row_filter_is_a_load_error(demo):
    with_region_filter(demo, "region = :principal.region; DROP TABLE customers")
    found = load_problems(demo.path)  # today: loads; every query then fails with an internal error
    assert any(p.startswith("rules.yaml:18:") for p in found), found


def test_mask_expression_reading_a_column_the_role_is_denied_is_caught(demo):
    # eve (sales_rep) is denied customers.national_id; a mask for her on `name` reads it.
    # A mask expression may read only the column it masks: a load error naming the line.
    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr="national_id"))
    found = load_problems(demo.path)
    assert any(p.startswith(f"rules.yaml:{expression_line(demo)}:") and "national_id" in p for p in found), found


@pytest.mark.parametrize("expr", ["name || email", "coalesce(name, customers.region)", "(SELECT max(name) FROM employees)"])
def test_mask_expression_reading_any_other_column_or_table_is_a_load_error(demo, expr):
    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr=expr))
    found = load_problems(demo.path)
    assert any(p.startswith(f"rules.yaml:{expression_line(demo)}:") for p in found), found


def test_row_filter_subquery_over_a_system_catalog_is_a_load_error(demo):
    with_region_filter(demo, "region IN (SELECT table_name FROM information_schema.tables)")
    found = load_problems(demo.path)
    assert any(p.startswith("rules.yaml:18:") for p in found), found


@pytest.mark.parametrize("expr", ["pg_read_file('/etc/passwd')", "current_setting('govern.secret')", "my_udf(name)"])
def test_mask_expression_calling_a_denied_or_unknown_function_is_a_load_error(demo, expr):
    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr=expr))
    found = load_problems(demo.path)
    assert any(p.startswith(f"rules.yaml:{expression_line(demo)}:") and "function" in p for p in found), found


def test_function_allowed_by_limits_is_accepted_in_policy_sql(demo):
    # The same allowlist as user queries: limits.functions extends it for rules too.
    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr="my_udf(name)"))
    demo.replace("rules.yaml", "limits:\n  max_rows: 1000", "limits:\n  max_rows: 1000\n  functions: [my_udf]")
    assert loads(demo.path)


def test_missing_attribute_in_a_mask_expression_is_a_clear_denial(demo):
    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr="name || :principal.nosuch"))
    gov = gov_of(demo.path)
    decision = gov.check_sql("SELECT name FROM customers", gov.principal("eve"))
    assert not decision.allowed
    assert any("nosuch" in r and "internal error" not in r for r in decision.reasons), decision.reasons


def test_explain_reports_a_missing_mask_attribute_instead_of_raising(demo):
    from govern.policy.explain import explain

    demo.replace("rules.yaml", "column_masks:\n", EXTRA_MASK.format(expr="name || :principal.nosuch"))
    bundle = load_bundle(demo.path)
    result = explain(bundle, "SELECT name FROM customers", bundle.principals["eve"], hash_key=TEST_HASH_KEY)  # today: KeyError
    assert not result.allowed


def test_list_attribute_misuse_names_the_rule(demo):
    gov = gov_of(demo.path)
    eve = Principal("eve2", ["sales_rep"], {"region": ["EU", "NA"], "tenant": "acme", "employee_id": 1})
    decision = gov.check_sql("SELECT id FROM customers", eve)
    assert not decision.allowed
    assert any("customers-sales-rep-own-region" in r for r in decision.reasons), decision.reasons  # today: rule '?'


# ---------------------------------------------------------------- 4. catalog / principals


def test_duplicate_principal_id_is_a_load_error(demo):
    demo.replace("principals.yaml", "  - id: lena ", "  - id: eve ")  # second 'eve' silently wins (sales_lead)
    found = load_problems(demo.path)
    assert any(p.startswith("principals.yaml:") and "eve" in p for p in found), found


def test_duplicate_catalog_column_is_a_load_error(demo):
    demo.replace("catalog.yaml", "      - {name: code, type: VARCHAR}\n",
                 "      - {name: code, type: VARCHAR}\n      - {name: CODE, type: INTEGER}\n")
    found = load_problems(demo.path)
    assert any(p.startswith("catalog.yaml:") and "code" in p.lower() for p in found), found


def test_keys_naming_unknown_columns_or_tables_are_load_errors(demo):
    demo.replace("catalog.yaml", "{columns: [region], references: {table: regions, columns: [code]}}",
                 "{columns: [nosuch], references: {table: nowhere, columns: [x]}}")
    found = load_problems(demo.path)
    assert any(p.startswith("catalog.yaml:") and "nowhere" in p for p in found), found


# ---------------------------------------------------------------- 5. lint gaps


def test_lint_denied_columns_role_typo_is_an_error(demo):
    # The typo drops the employees.salary deny: eve can read salaries, lint exits 0.
    demo.replace("rules.yaml", "    columns: [salary]\n    roles: [sales_rep]", "    columns: [salary]\n    roles: [sales_repp]")
    errors = lint_errors(demo.path)
    assert any(f.code == "unknown-role" and f.file == "rules.yaml" and "sales_rep'?" in f.message for f in errors), \
        [(f.code, f.severity, f.message) for f in lint_bundle(demo.path).findings]
    from govern.cli import main

    assert main(["policy", "lint", str(demo.path)]) == 1  # errors fail the command


def test_lint_document_rule_role_typo_is_an_error(demo):
    # A typo in the roles of a restrictive document rule drops the tenant restriction.
    text = (demo.path / "documents.yaml").read_text()
    old = "      - id: playbooks-sales-own-tenant-only\n        roles: [sales_rep]"
    assert old in text
    (demo.path / "documents.yaml").write_text(text.replace(old, "      - id: playbooks-sales-own-tenant-only\n        roles: [sales_repp]"))
    assert any(f.code == "unknown-role" and f.file == "documents.yaml" for f in lint_errors(demo.path)), \
        [(f.code, f.file) for f in lint_bundle(demo.path).findings]


def test_lint_flags_a_filter_attribute_no_principal_has(demo):
    with_region_filter(demo, "region = :principal.regoin")
    errors = lint_errors(demo.path)
    assert any(f.code == "unknown-attribute" and "regoin" in f.message and f.line == 18 for f in errors), \
        [(f.code, f.message[:60]) for f in lint_bundle(demo.path).findings]


def test_lint_flags_an_entity_scope_attribute_no_principal_has(demo):
    demo.replace("rules.yaml", 'where: "account_manager_id = :principal.employee_id"', 'where: "account_manager_id = :principal.employe_id"')
    assert any(f.code == "unknown-attribute" and "employe_id" in f.message for f in lint_errors(demo.path))


def test_lint_flags_a_role_no_principal_holds(demo):
    demo.append("grants.csv", "p, ghost, regions.*, select, allow")
    report = lint_bundle(demo.path)
    assert any("ghost" in f.message and f.code == "role-not-held" and f.severity == "warning" for f in report.findings), \
        [(f.code, f.message[:60]) for f in report.findings]


def test_lint_grant_role_typo_no_principal_holds_is_an_error(demo):
    demo.append("grants.csv", "p, auditr, employees.salary, select, deny")
    assert any(f.code == "unknown-role" and f.file == "grants.csv" and "'auditor'" in f.message for f in lint_errors(demo.path))


@pytest.mark.parametrize("old, new", [("principals.yaml", "principal.yaml"), ("documents.yaml", "documents.yml")])
def test_lint_flags_unexpected_files(demo, old, new):
    (demo.path / old).rename(demo.path / new)
    report = lint_bundle(demo.path)
    assert any(f.code == "unexpected-file" and f.severity == "error" and f.file == new and old in f.message for f in report.findings), \
        [(f.code, f.message[:60]) for f in report.findings]


# ---------------------------------------------------------------- 6. policy tests


def test_policy_test_output_never_shows_the_hash_key(demo, demo_db_path):
    from govern.policy.testing import format_text, run_tests

    tests = demo.path / "tests"
    tests.mkdir()
    (tests / "leak.yaml").write_text(
        "principal: ada\ncases:\n- name: oracle selects the key\n  sql: SELECT id FROM customers ORDER BY id LIMIT 1\n"
        "  expect:\n    allowed: true\n    same_as: SELECT $hash_key AS id\n", encoding="utf-8")
    key = "s3cr3t-hash-key-do-not-print"
    report = run_tests(demo.path, hash_key=key, db=demo_db_path)
    assert not report.ok  # the case fails (and its diff is shown) ...
    for text in (format_text(report, verbose=True), json.dumps(report.to_dict(), default=str)):
        assert key not in text  # ... without the key


def test_case_without_expectations_does_not_pass_silently(demo, demo_db_path):
    from govern.policy.testing import run_tests

    tests = demo.path / "tests"
    tests.mkdir()
    (tests / "vacuous.yaml").write_text(
        "principal: eve\ncases:\n- name: asserts nothing\n  sql: SELECT national_id FROM customers\n  expect: {}\n", encoding="utf-8")
    report = run_tests(demo.path, db=demo_db_path)  # an existing file: a missing --db is an error, never built
    assert not report.ok, "a case with `expect: {}` checks nothing and is reported as passed"


# ---------------------------------------------------------------- 7. hot reload


def test_reload_never_pairs_a_bundle_with_another_bundles_hash_key(tmp_path, monkeypatch):
    a = tmp_path / "a"
    b = tmp_path / "b"
    shutil.copytree(POLICIES, a, ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(POLICIES, b, ignore=shutil.ignore_patterns("tests"))
    BundleCopy(b).replace("rules.yaml", "  hash_key_env: GOVERN_HASH_KEY", "  hash_key_env: GOVERN_HASH_KEY_B")
    monkeypatch.setenv("GOVERN_HASH_KEY", "key-A")
    monkeypatch.setenv("GOVERN_HASH_KEY_B", "key-B")
    gov = Governor.from_path(a, audit=AuditTrail.null())
    ada = gov.principal("ada")
    want = {}
    for path in (a, b):
        gov.reload(path)
        d = gov.check_sql("SELECT email FROM customers", ada)
        want[d.bundle_hash] = tuple(d.params)
    assert len(set(want.values())) == 2
    stop = threading.Event()
    mixed: list = []

    def worker():
        while not stop.is_set():
            d = gov.check_sql("SELECT email FROM customers", ada)
            if want.get(d.bundle_hash) != tuple(d.params):
                mixed.append((d.bundle_hash, d.params))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(80):
            gov.reload(a if i % 2 else b)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not mixed, f"{len(mixed)} decisions carry one bundle's hash with the other bundle's key: {mixed[:2]}"


def test_watcher_does_not_swap_in_a_file_that_is_still_being_written(demo):
    gov = gov_of(demo.path)
    eve = gov.principal("eve")
    watcher = BundleWatcher(gov, demo.path)
    sql = "SELECT name, salary FROM employees"
    assert not gov.check_sql(sql, eve).allowed
    full = (demo.path / "rules.yaml").read_text(encoding="utf-8")
    cut = full.index("  # --- accounts")
    with open(demo.path / "rules.yaml", "w", encoding="utf-8") as f:
        f.write(full[:cut])  # an editor flushed its first chunk (a valid YAML prefix: no masks, no denied_columns)
        f.flush()
        watcher.poll()
        during = gov.check_sql(sql, eve).allowed
        f.write(full[cut:])
    assert not during, "the watcher swapped in a half-written rules.yaml: eve read employees.salary"
    assert not watcher.poll().changed  # the finished file is the bundle in force again
    demo.append("rules.yaml", "# an edit")
    assert watcher.poll().settling  # a change is seen once ...
    assert watcher.poll().reloaded  # ... and reloaded once it has settled
    assert not gov.check_sql(sql, eve).allowed


def test_reload_keeps_the_catalog_the_governor_was_built_with(demo):
    catalog = load_bundle(demo.path).catalog
    (demo.path / "catalog.yaml").unlink()
    gov = gov_of(demo.path, catalog=catalog)
    gov.reload()  # today: PolicyLoadError "catalog.yaml: missing" -- hot reload can never work with an introspected catalog
    assert gov.bundle.catalog.table("customers") is not None


def test_failed_reload_of_an_unreadable_bundle_keeps_the_old_one_and_is_audited(demo, tmp_path):
    trail = tmp_path / "trail.jsonl"
    gov = Governor.from_path(demo.path, audit=trail, hash_key=TEST_HASH_KEY)
    before = gov.bundle.content_hash
    path = demo.path / "grants.csv"
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    with pytest.raises(PolicyLoadError) as err:
        gov.reload()
    assert any(p.startswith("grants.csv:") and "UTF-8" in p for p in err.value.problems)
    assert gov.bundle.content_hash == before
    loads_ = [json.loads(line) for line in trail.read_text().splitlines() if '"policy_load"' in line]
    assert loads_ and loads_[-1]["decision"] == "deny"
    watcher = BundleWatcher(gov, demo.path)
    assert watcher.poll().settling
    assert watcher.poll().problems  # a problem, never a raw exception


def test_lint_never_crashes_on_a_model_casbin_cannot_run(demo):
    demo.replace("model.conf", "m = p.sub in r.sub && globMatch(r.obj, p.obj) && r.act == p.act",
                 "m = p.sub in r.sub&&globMatch(r.obj,p.obj)&&r.act==p.act")
    report = lint_bundle(demo.path)
    assert not report.loaded and any(f.file == "model.conf" and f.code == "load-error" for f in report.findings)
