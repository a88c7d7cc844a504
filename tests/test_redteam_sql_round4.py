"""Red-team round 4 reproducers for the SQL governor: every test asserts the SAFE behaviour.

A failing test is a live finding (severity and what leaks in its docstring); a passing
test is an attack that held. Rounds 1-3: tests/test_redteam_sql.py, tests/test_redteam_sql_round2.py,
tests/test_redteam_sql_round3.py (fixtures reused). Round 4 focused on masked columns, row
filters / entity scopes / row cap, dialects, and crashes.

Findings (fail until fixed):
  * MEDIUM  Exponential time in authorize: a chain of CTEs each `SELECT * FROM <previous>`
            makes _through / _candidates re-walk every earlier CTE for every star (a CTE scope's
            sources include all CTEs before it), doubling per CTE. 22 CTEs (624 characters) take
            ~5 s, 25 CTEs (711 characters) ~43 s, 30 CTEs minutes - in check_sql and gov.execute,
            any principal, any dialect, holding a CPU (and the GIL) the whole time.
  * MEDIUM  Sequence advancement through the SELECT-only gate on dialects govern emits for but does
            not differential-test: T-SQL `NEXT VALUE FOR dbo.s` (typed sqlglot NextValueFor), Oracle
            `s.NEXTVAL`, Snowflake `s.nextval` are allowed (the round-1 setval/nextval fix covers only
            PostgreSQL's function spelling).
  * LOW     A column whose qualifier names no source in scope is never checked: `SELECT zzz.national_id
            FROM customers` is ALLOWED for eve (national_id denied) with no reason; it only fails at the
            database (and on Oracle / Snowflake `seq.NEXTVAL` is exactly such a column).
  * LOW     Server-state / catalog functions sqlglot types and govern does not deny: Snowflake
            CURRENT_STATEMENT, CURRENT_IP_ADDRESS, CURRENT_CLIENT, CURRENT_SESSION, CURRENT_ACCOUNT,
            CURRENT_WAREHOUSE, CURRENT_ORGANIZATION_USER, CURRENT_AVAILABLE_ROLES, CURRENT_SECONDARY_ROLES,
            CURRENT_REGION (CURRENT_USER / CURRENT_ROLE are denied); T-SQL OBJECT_ID('...') (catalog probe);
            Snowflake TO_FILE('@stage/...') (stage file metadata).
  * LOW     Quadratic time in authorize on long flat expressions: every column walks up the whole
            (left-deep) OR / || chain (find_ancestor, and _opaque_reasons' scope lookup). 5000 `id = n`
            OR-ed (64 KB) ~3 s, 10000 (128 KB) ~12 s.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import POLICIES, TEST_HASH_KEY  # noqa: F401
from tests.test_redteam_sql import decide, qgov  # noqa: F401  (fixtures)

BUDGET_S = 40.0  # check_sql may cost this many times a bare parse + generate of the same query (it is ~3-10x)


def _timed(gov, sql, who, dialect):
    """(decision, check_sql's time as a multiple of a bare sqlglot parse + generate of the same text).

    A ratio measured side by side in one run, not wall-clock seconds: the machine's load cancels out.
    """
    import sqlglot

    started = time.perf_counter()
    try:
        sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect)
    except Exception:  # noqa: BLE001 - the bare side only sets the scale
        pass
    bare = max(time.perf_counter() - started, 1e-3)
    started = time.perf_counter()
    decision = decide(gov, sql, who, dialect)
    return decision, (time.perf_counter() - started) / bare


# =========================================================================== FINDINGS

# --- MEDIUM: exponential authorize time on chained star CTEs

def chained_star_ctes(n: int, table: str = "regions", column: str = "code") -> str:
    ctes = ", ".join(f"c{i} AS (SELECT * FROM {table if i == 0 else f'c{i - 1}'})" for i in range(n))
    return f"WITH {ctes} SELECT {column} FROM c{n - 1}"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
def test_chained_star_ctes_are_governed_in_bounded_time(dialect, qgov):
    """MEDIUM (DoS). 22 CTEs, 624 characters: ~5 s today (each further CTE doubles it; 25 take ~43 s).
    A correct answer (allowed or denied) must come back within the budget."""
    sql = chained_star_ctes(22)
    assert len(sql) < 700
    decision, elapsed = _timed(qgov, sql, "sam", dialect)
    assert elapsed < BUDGET_S, f"check_sql took {elapsed:.1f}x a bare parse for a {len(sql)}-character query (allowed={decision.allowed})"


def test_chained_star_ctes_over_a_masked_table_in_bounded_time(qgov):
    """MEDIUM (DoS). Same shape over customers for eve (the masked email at the end of the chain)."""
    decision, elapsed = _timed(qgov, chained_star_ctes(21, "customers", "email"), "eve", "duckdb")
    assert elapsed < BUDGET_S, f"check_sql took {elapsed:.1f}x a bare parse"


# --- MEDIUM: sequences advanced through the SELECT-only gate (check_sql-only dialects)

@pytest.mark.parametrize("dialect, sql", [
    ("tsql", "SELECT NEXT VALUE FOR dbo.s"),
    ("tsql", "SELECT c.id, NEXT VALUE FOR dbo.s AS n FROM customers c"),
    ("oracle", "SELECT s.NEXTVAL FROM customers"),
    ("snowflake", "SELECT s.nextval FROM customers"),
])
def test_sequence_increment_is_denied(dialect, sql, qgov):
    """MEDIUM. NEXT VALUE FOR / seq.NEXTVAL change sequence state (a write) and name an object
    outside the catalog; PostgreSQL's nextval()/setval() are already denied."""
    decision = decide(qgov, sql, "eve", dialect)
    assert not decision.allowed, decision.sql


# --- LOW: a qualified column whose qualifier is not in scope is never checked

@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("sql", [
    "SELECT zzz.national_id FROM customers",
    "SELECT customers.national_id FROM orders",
    "SELECT id FROM customers WHERE zzz.national_id LIKE '1%'",
])
def test_unknown_qualifier_is_denied_with_reason(sql, dialect, qgov):
    """LOW. eve may not select customers.national_id, yet check_sql says allowed (no reason): the
    qualifier resolves to no source, so authorize checks nothing. Databases then fail the query, but
    the decision is wrong, and on Oracle / Snowflake `seq.NEXTVAL` is such a column."""
    decision = decide(qgov, sql, "eve", dialect)
    assert not decision.allowed and decision.reasons


# --- LOW: server-state and catalog functions on check_sql-only dialects

@pytest.mark.parametrize("dialect, sql", [
    ("snowflake", "SELECT CURRENT_STATEMENT()"),
    ("snowflake", "SELECT CURRENT_IP_ADDRESS()"),
    ("snowflake", "SELECT CURRENT_CLIENT()"),
    ("snowflake", "SELECT CURRENT_SESSION()"),
    ("snowflake", "SELECT CURRENT_ACCOUNT()"),
    ("snowflake", "SELECT CURRENT_WAREHOUSE()"),
    ("snowflake", "SELECT CURRENT_ORGANIZATION_USER()"),
    ("snowflake", "SELECT CURRENT_AVAILABLE_ROLES()"),
    ("snowflake", "SELECT CURRENT_SECONDARY_ROLES()"),
    ("snowflake", "SELECT CURRENT_REGION()"),
    ("snowflake", "SELECT TO_FILE('@stage/x')"),
    ("tsql", "SELECT OBJECT_ID('dbo.secret_table')"),
])
def test_server_state_functions_are_denied(dialect, sql, qgov):
    """LOW. Like CURRENT_USER / CURRENT_ROLE (denied): session, account, client address, the SQL text,
    roles; OBJECT_ID probes the catalog for objects outside the bundle; TO_FILE reads stage metadata."""
    assert not decide(qgov, sql, "eve", dialect).allowed


# --- LOW: quadratic authorize time on long flat expressions

@pytest.mark.parametrize("sql", [
    "SELECT id FROM customers WHERE " + " OR ".join(f"id = {i}" for i in range(8000)),
    "SELECT " + " || ".join("name" for _ in range(8000)) + " FROM customers",
])
def test_long_flat_expression_is_governed_in_bounded_time(sql, qgov):
    """LOW (DoS). ~100 KB of OR-ed comparisons: ~7 s today, quadratic (parse alone: ~0.2 s)."""
    decision, elapsed = _timed(qgov, sql, "eve", "duckdb")
    assert elapsed < BUDGET_S, f"check_sql took {elapsed:.1f}x a bare parse for {len(sql)} characters (allowed={decision.allowed})"


# =========================================================================== HELD (regression guards)

@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,
    "SELECT " + "NOT " * 5000 + "TRUE",
    "SELECT " + "abs(" * 500 + "1" + ")" * 500,
    "SELECT id FROM customers WHERE id IN (" + ",".join(str(i) for i in range(50000)) + ")",
])
def test_held_pathological_input_is_a_clean_decision(sql, qgov):
    decision, elapsed = _timed(qgov, sql, "eve", "duckdb")
    assert decision is not None and elapsed < BUDGET_S


@pytest.mark.parametrize("dialect, sql", [
    ("tsql", "SELECT TOP 5000 id FROM order_items"), ("tsql", "SELECT TOP 100 PERCENT id FROM order_items"),
    ("tsql", "SELECT id FROM order_items ORDER BY id OFFSET 0 ROWS FETCH NEXT 5000 ROWS ONLY"),
    ("mysql", "SELECT id FROM order_items LIMIT 10, 5000"), ("snowflake", "SELECT TOP 5000 id FROM order_items"),
    ("clickhouse", "SELECT id FROM order_items LIMIT 5000 BY id"), ("oracle", "SELECT id FROM order_items FETCH FIRST 5000 ROWS ONLY"),
])
def test_held_row_cap_on_other_dialects(dialect, sql, qgov):
    import sqlglot
    from sqlglot import exp

    decision = decide(qgov, sql, "ada", dialect)
    assert decision.allowed
    tree = sqlglot.parse_one(decision.sql, read=dialect)
    caps = [int(n.name) for node in (tree.args.get("limit"), tree.args.get("fetch")) if node is not None
            for n in node.find_all(exp.Literal)]
    assert caps and min(caps) <= 1000, decision.sql


@pytest.mark.parametrize("dialect", ["tsql", "mysql", "snowflake", "bigquery", "clickhouse"])
def test_held_other_dialects_carry_filters_and_masks(dialect, qgov):
    decision = decide(qgov, "SELECT email, name FROM customers", "eve", dialect)
    assert decision.allowed
    sql = decision.sql
    assert "'acme'" in sql and "'EU'" in sql and "'***'" in sql and "= 1" in sql
