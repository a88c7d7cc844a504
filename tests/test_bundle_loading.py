"""A bundle loads whole or not at all, and every error names the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govern import Governor, PolicyLoadError
from govern.audit import AuditTrail
from govern.bundle import load_bundle

MINI = Path(__file__).parent / "bundles" / "mini"


@pytest.fixture()
def bundle(tmp_path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(MINI, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def problems(bundle: Path) -> list[str]:
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle)
    return err.value.problems


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_mini_bundle_loads(bundle):
    loaded = load_bundle(bundle)
    assert set(loaded.principals) == {"u1", "u2", "admin_a", "v", "aud"}
    assert loaded.content_hash.startswith("sha256:")


def test_unknown_key_names_file_and_line(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, "    restrictive: true", "    restrictive: true\n    restricitve: true")
    found = problems(bundle)
    assert any(p.startswith(f"rules.yaml:{line_of(rules, 'restricitve')}:") and "unknown key" in p for p in found), found


def test_unknown_table_and_column(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, "    table: notes\n", "    table: notez\n")
    edit(rules, "    column: secret\n", "    column: secrett\n")
    found = problems(bundle)
    assert any(f"rules.yaml:{line_of(rules, 'notez')}:" in p and "unknown table 'notez'" in p for p in found), found
    assert any(f"rules.yaml:{line_of(rules, 'secrett')}:" in p and "no column 'secrett'" in p for p in found), found


def test_every_problem_reported_at_once(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, "    table: notes\n", "    table: notez\n")
    edit(bundle / "grants.csv", "p, viewer, projects.*, select, allow", "p, viewer, projects.*, select, maybe")
    found = problems(bundle)
    assert any("notez" in p for p in found) and any(p.startswith("grants.csv:") and "maybe" in p for p in found), found


def test_unparseable_filter(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, 'where: "budget < 1000"', 'where: "budget < < 1000 AND"')
    found = problems(bundle)
    assert any(f"rules.yaml:{line_of(rules, 'budget < <')}:" in p and "cannot parse" in p for p in found), found


def test_filter_column_not_in_table(bundle):
    edit(bundle / "rules.yaml", 'where: "budget < 1000"', 'where: "costs < 1000"')
    assert any("no column 'costs'" in p for p in problems(bundle))


def test_statement_instead_of_expression(bundle):
    edit(bundle / "rules.yaml", 'where: "budget < 1000"', 'where: "DELETE FROM projects"')
    assert any("statement" in p for p in problems(bundle))


def test_stray_placeholder(bundle):
    edit(bundle / "rules.yaml", 'where: "budget < 1000"', 'where: "budget < :limit"')
    assert any(":principal.NAME" in p for p in problems(bundle))


def test_duplicate_rule_id(bundle):
    edit(bundle / "rules.yaml", "id: projects-auditor-all", "id: projects-tenant-admin")
    assert any("already used" in p for p in problems(bundle))


def test_duplicate_yaml_key(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, "  max_rows: 50", "  max_rows: 50\n  max_rows: 100000")
    found = problems(bundle)
    assert any(f"rules.yaml:{line_of(rules, 'max_rows: 100000')}:" in p and "duplicate key" in p for p in found), found


def test_yaml_syntax_error(bundle):
    edit(bundle / "catalog.yaml", "  members:", "  members: [")
    assert any(p.startswith("catalog.yaml:") and "syntax" in p for p in problems(bundle))


def test_redact_on_number(bundle):
    edit(bundle / "rules.yaml", "    mask: expression\n    expression: \"budget - budget % 100\"", "    mask: redact")
    assert any("'redact' needs a text column" in p for p in problems(bundle))


def test_unknown_mask_kind(bundle):
    rules = bundle / "rules.yaml"
    edit(rules, "    mask: redact\n    roles: [lead]", "    mask: scramble\n    roles: [lead]")
    found = problems(bundle)
    assert any(p.startswith(f"rules.yaml:{line_of(rules, 'scramble')}:") and "column_masks.2.mask" in p for p in found), found


def test_expression_mask_may_not_read_other_tables(bundle):
    edit(bundle / "rules.yaml", 'expression: "budget - budget % 100"', 'expression: "(SELECT max(budget) FROM projects)"')
    found = problems(bundle)
    assert any("statement" in p or "subqueries are not allowed" in p for p in found), found
    edit(bundle / "rules.yaml", '"(SELECT max(budget) FROM projects)"', '"budget + (SELECT max(budget) FROM projects)"')
    assert any("subqueries are not allowed" in p for p in problems(bundle))


def test_grants_line_errors(bundle):
    grants = bundle / "grants.csv"
    edit(grants, "g, lead, member", "g, lead")
    edit(grants, "p, auditor, *, select, allow", "p, auditor, *, delete, allow")
    found = problems(bundle)
    assert any(f"grants.csv:{line_of(grants, 'g, lead')}:" in p for p in found), found
    assert any("unknown action 'delete'" in p for p in found), found


def test_model_shape_checked(bundle):
    edit(bundle / "model.conf", "!some(where (p.eft == deny))", "true")
    assert any(p.startswith("model.conf:") and "policy_effect" in p for p in problems(bundle))


def test_missing_files(bundle):
    (bundle / "grants.csv").unlink()
    (bundle / "catalog.yaml").unlink()
    found = problems(bundle)
    assert any("grants.csv: missing" in p for p in found) and any("catalog.yaml: missing" in p for p in found)


def test_not_a_directory(tmp_path):
    with pytest.raises(PolicyLoadError):
        load_bundle(tmp_path / "nope")


def test_hash_mask_without_key_refuses_to_start(bundle, monkeypatch):
    monkeypatch.delenv("GOVERN_HASH_KEY", raising=False)
    with pytest.raises(PolicyLoadError, match="owner-email-hash-auditor"):
        Governor.from_path(bundle, audit=AuditTrail.null())


def test_hash_key_from_environment(bundle, monkeypatch):
    monkeypatch.setenv("GOVERN_HASH_KEY", "from-env")
    assert Governor.from_path(bundle, audit=AuditTrail.null()).check_sql("SELECT id FROM projects", {"id": "aud", "roles": ["auditor"]}).allowed


def test_catalog_introspected_from_connection(bundle):
    import duckdb

    from govern.bundle import Catalog

    conn = duckdb.connect()
    conn.execute("CREATE TABLE projects (id INTEGER, name VARCHAR, owner_email VARCHAR, tenant VARCHAR, secret VARCHAR, budget INTEGER)")
    conn.execute("CREATE TABLE members (project_id INTEGER, user_id VARCHAR)")
    conn.execute("CREATE TABLE notes (id INTEGER, project_id INTEGER, body VARCHAR, tenant VARCHAR)")
    (bundle / "catalog.yaml").unlink()
    catalog = Catalog.introspect(conn)
    assert catalog.table("projects").column_names == ("id", "name", "owner_email", "tenant", "secret", "budget")
    loaded = load_bundle(bundle, catalog=catalog)
    assert loaded.catalog.table("notes", "main") is not None


def test_catalog_introspected_from_sqlite():
    import sqlite3

    from govern.bundle import Catalog

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    table = Catalog.introspect(conn).table("T")
    assert table.column_names == ("id", "name") and table.primary_key == ("id",)


def test_catalog_introspected_from_postgres():
    from govern.bundle import Catalog
    from tests.conftest import connect_postgres_or_skip

    conn = connect_postgres_or_skip(autocommit=True)
    try:
        conn.execute("DROP SCHEMA IF EXISTS govern_introspect CASCADE")
        conn.execute("CREATE SCHEMA govern_introspect")
        conn.execute("CREATE TABLE govern_introspect.accounts (id integer PRIMARY KEY, owner text, balance numeric(12, 2))")
        table = Catalog.introspect(conn, schema="govern_introspect").table("accounts", "govern_introspect")
        assert table.column_names == ("id", "owner", "balance")
        assert table.schema == "govern_introspect"
    finally:
        conn.execute("DROP SCHEMA IF EXISTS govern_introspect CASCADE")
        conn.close()


def test_yaml_1_1_booleans_stay_strings(tmp_path):
    """`region: NO` (Norway) must not become False: only true/false are booleans in policy files."""
    from govern.bundle.yaml_source import load_yaml

    path = tmp_path / "principals.yaml"
    path.write_text("principals:\n  - {id: ole, roles: [sales_rep], attributes: {region: NO, tenant: on, active: true}}\n")
    attributes = load_yaml(path).data["principals"][0]["attributes"]
    assert attributes == {"region": "NO", "tenant": "on", "active": True}
