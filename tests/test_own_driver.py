"""`d.params` with your own driver: `gov.cursor(conn)` runs check_sql's SQL and params as they are,
on DuckDB, PostgreSQL (psycopg 3) and SQLite, with the same rows `gov.execute` returns.

The queries read hash-masked columns (the key is a bind parameter, `$1` or `?` once per use),
masked and filtered columns, and free text (opaque handles, shown with gov.show_free_text).
"""

from __future__ import annotations

import pytest

QUERIES = [
    "SELECT id, email FROM customers ORDER BY id",                      # hash mask for the auditor: the key is a parameter
    "SELECT c.email, e.email FROM customers c JOIN employees e ON e.id = c.account_manager_id ORDER BY c.id, e.id",
    "SELECT name, phone, email FROM customers WHERE email IS NOT NULL ORDER BY id",
    "SELECT id, body FROM support_tickets ORDER BY id LIMIT 20",         # free text: handles, then masked text
]


# Each query with principals who may run it (eve may not read ticket bodies: tara, the support lead, may).
CASES = [(sql, who) for sql in QUERIES[:3] for who in ("ada", "eve")] + [(QUERIES[3], "ada"), (QUERIES[3], "tara")]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("sql,who", CASES)
def test_cursor_runs_governed_sql_with_params(free_text_worlds, dialect, who, sql):
    world = free_text_worlds(dialect).a
    gov, conn = world.gov, world.conn
    principal = gov.principal(who)
    d = gov.check_sql(sql, principal, dialect=dialect)
    assert d.allowed, d.reasons
    cur = gov.cursor(conn)
    cur.execute(d.sql, d.params)
    rows = [tuple(r) for r in cur.fetchall()]
    rows, _, _ = gov.show_free_text(conn, rows, principal)
    assert rows == gov.execute(conn, sql, principal, dialect=dialect).rows
    assert rows


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
def test_the_hash_key_is_needed_and_used(free_text_worlds, dialect):
    """The auditor's hash mask really reads the parameter: the cursor is needed, and the params matter."""
    world = free_text_worlds(dialect).a
    gov, conn = world.gov, world.conn
    d = gov.check_sql("SELECT email FROM customers ORDER BY id LIMIT 5", gov.principal("ada"), dialect=dialect)
    assert d.allowed and d.params
    cur = gov.cursor(conn)
    cur.execute(d.sql, d.params)
    keyed = cur.fetchall()
    cur = gov.cursor(conn)
    cur.execute(d.sql, ["another key"] * len(d.params))
    assert cur.fetchall() != keyed
