"""`govern explain`: every policy considered, which applied and why, governed SQL annotated."""

from __future__ import annotations

import json

from govern.cli import main
from govern.policy.explain import explain, format_text
from tests.conftest import TEST_HASH_KEY

SQL = ("SELECT c.name, c.email, SUM(o.total) AS revenue FROM customers c "
       "JOIN orders o ON o.customer_id = c.id GROUP BY c.name, c.email")


def test_filter_mask_and_entity_scope_annotated(quiet_gov):
    eve = quiet_gov.principal("eve")
    e = explain(quiet_gov.bundle, SQL, eve, hash_key=TEST_HASH_KEY)
    assert e.allowed
    # the governed SQL is exactly what the Governor produces
    assert e.governed_sql == quiet_gov.check_sql(SQL, eve).sql
    sql = e.annotated_sql
    assert "/* permissive row filter customers-sales-rep-own-region */" in sql
    assert "/* restrictive row filter orders-sales-own-tenant-only */" in sql
    assert "/* mask customers-email-domain-only-for-sales (partial) */" in sql
    assert "/* entity scope customer-account-manager-own-book (customer via orders.customer_id -> customers.id) */" in sql
    assert "/* governed customers: 9/10 columns granted (1 hidden) */" in sql
    by_id = {(c.kind, c.id, c.table): c for c in e.considered}
    assert by_id[("row_filter", "customers-sales-rep-own-region", "customers")].applied
    skipped = by_id[("row_filter", "customers-auditor-all-rows", "customers")]
    assert not skipped.applied and "needs one of ['auditor']" in skipped.why
    assert by_id[("mask", "customers-email-domain-only-for-sales", "customers")].applied
    assert not by_id[("mask", "customers-national-id-never-shown", "customers")].applied
    assert by_id[("entity_scope", "customer-account-manager-own-book", "orders")].applied
    assert e.applied == quiet_gov.check_sql(SQL, eve).policies


def test_shadowed_mask_and_denied_query_are_explained(quiet_gov):
    ada = quiet_gov.principal("ada")
    e = explain(quiet_gov.bundle, "SELECT name, email FROM employees", ada, hash_key=TEST_HASH_KEY)
    [shadowed] = [c for c in e.considered if c.id == "employees-email-domain-only-except-support-leads"]
    assert not shadowed.applied and "shadowed" in shadowed.why and "employees-email-hashed-for-auditors" in shadowed.why
    denied = explain(quiet_gov.bundle, "SELECT salary FROM employees", quiet_gov.principal("eve"))
    assert not denied.allowed and denied.denied_at == "authorize" and "employees.salary" in denied.reasons[0]
    assert any(c.kind == "denied_columns" and c.applied for c in denied.considered)
    missing = explain(quiet_gov.bundle, "SELECT id FROM support_tickets", {"id": "x", "roles": ["support_agent"]})
    assert not missing.allowed and "employee_id" in " ".join(missing.reasons)
    assert "DENIED" in format_text(missing)


def test_cli(capsys, monkeypatch):
    monkeypatch.setenv("GOVERN_HASH_KEY", TEST_HASH_KEY)
    assert main(["explain", SQL, "--as", "eve"]) == 0
    out = capsys.readouterr().out
    assert "policies considered:" in out and "/* mask customers-email-domain-only-for-sales (partial) */" in out
    assert main(["explain", "SELECT salary FROM employees", "--as", "eve", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["denied_at"] == "authorize"
    assert main(["explain", "SELECT 1", "--as", "nobody"]) == 2
