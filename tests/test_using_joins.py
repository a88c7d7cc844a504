"""Joins USING columns: the governed relations keep the join columns, and a USING equality
whose two sides are of different type families (an implicit cast that can fail on a hidden
row) fences the relations it reads, like any predicate that is not leakproof."""

from __future__ import annotations

import pytest

FENCE = {"duckdb": "MATERIALIZED", "postgres": "OFFSET 0", "sqlite": "LIMIT -1 OFFSET 0"}
EVE = "region = 'EU' AND tenant = 'acme' AND account_manager_id = 1"


@pytest.mark.parametrize("sql, expected", [
    ("SELECT count(*) FROM customers c JOIN (SELECT 'smb' AS segment) s USING (segment)",
     f"SELECT count(*) FROM customers WHERE segment = 'smb' AND {EVE}"),
    ("SELECT count(*) FROM customers c JOIN regions r USING (id)",
     f"SELECT count(*) FROM customers WHERE id IN (SELECT id FROM regions) AND {EVE}"),
])
def test_using_join_keeps_its_columns(sql, expected, quiet_gov, demo_duckdb):
    decision = quiet_gov.check_sql(sql, quiet_gov.principal("eve"), dialect="duckdb")
    assert decision.allowed, decision.reasons
    assert demo_duckdb.execute(decision.sql, decision.params or None).fetchall() == demo_duckdb.execute(expected).fetchall()


@pytest.mark.parametrize("dialect", sorted(FENCE))
def test_cross_family_using_is_fenced(dialect, quiet_gov):
    eve = quiet_gov.principal("eve")
    mixed = quiet_gov.check_sql("SELECT count(*) FROM customers c JOIN (SELECT 1 AS segment) s USING (segment)",
                                eve, dialect=dialect)
    same = quiet_gov.check_sql("SELECT count(*) FROM customers c JOIN (SELECT 'smb' AS segment) s USING (segment)",
                               eve, dialect=dialect)
    assert mixed.allowed and FENCE[dialect] in mixed.sql, mixed.sql
    assert same.allowed and FENCE[dialect] not in same.sql, same.sql
