"""Red-team round 2 reproducers for the SQL governor: every test asserts the SAFE behaviour.

A failing test is a live finding (severity and what leaks in its docstring); a passing
test is an attack that held. Round 1 is tests/test_redteam_sql.py (fixtures reused).

Findings (fail until fixed):
  * HIGH    DuckDB column selectors the authorize pass never sees as columns:
            COLUMNS('body'), COLUMNS(*), `* LIKE 'bod%'`, `* SIMILAR TO`, `*COLUMNS(..)`,
            positional `#9`, and method-call syntax (`body.reverse()`, `t.body.replace(..)`,
            `t.to_json()`): the free-text column is computed on AND left out of
            decision.columns, so gov.execute does not scan the result at all - raw card
            numbers, SSNs, IBANs reach a principal with no PII reveal (sam, ada).
  * HIGH    PostgreSQL `t.*` inside an expression ((t.*)::text, to_jsonb(t.*), to_json(t.*),
            concat_ws('|', t.*), ARRAY[t.*]): whole-row text of support_tickets incl. body,
            unscanned (same decision.columns gap), also usable in WHERE as a probe.
  * MEDIUM  DuckDB WHERE on a select-list alias of the free-text column
            (`SELECT id, body AS b ... WHERE b LIKE '%4111%'`) and WHERE COLUMNS('body') /
            body.contains(..): a predicate over the raw text (a probe for a card number).
  * LOW     ordering / dedup on the raw free text still possible: `(SELECT body ...) ORDER BY 1`,
            DuckDB `ORDER BY #1`, `WINDOW w AS (ORDER BY <alias>)`, `DISTINCT ON (body)`.
  * LOW     render cache key conflates True / 1 / 1.0 (bool is an int in Python): a principal
            gets SQL rendered for another principal's differently-typed value.
  * LOW     PostgreSQL reg* casts ('pg_authid'::regclass, 'postgres'::regrole) probe the
            system catalog (existence of tables / roles outside the bundle).
  * LOW     verify_output's footprint is blind to typed functions (read_csv, current_user),
            table functions, and to a CTE that captures a schema-less lookup table name while
            reading the base table itself (counts net to zero): it would pass such output.
"""

from __future__ import annotations

import re

import duckdb
import pytest
import sqlglot  # noqa: F401
from sqlglot import exp  # noqa: F401

from govern import Governor, Principal
from govern.audit import AuditTrail
from govern.errors import QueryDenied, QueryFailed
from govern.sql.passes.verify_output import footprint, parse_back
from tests.conftest import POLICIES, TEST_HASH_KEY
from tests.test_redteam_sql import decide, duck, governed_postgres, outcome, qgov  # noqa: F401  (fixtures)
from tests.guard_oracle import assert_free_text_safe

ROOT_MINI = POLICIES.parent / "tests" / "bundles" / "mini"
PG_SCHEMA = "rt3_round2"
# 12+ digits, optionally separated by spaces or dashes: card numbers, IBAN digits (forwards
# or reversed). Phones (<= 11 digits here) and order numbers do not match. The masked result of
# a plain `SELECT body` has none (test_held_plain_body_is_masked calibrates this).
LONG_DIGITS = re.compile(r"\d(?:[ -]?\d){11,}")


# --------------------------------------------------------------------------- fixtures / helpers

@pytest.fixture(scope="module")
def pg2(demo_db_path, tmp_path_factory):
    """(connection, governor) with the demo loaded into schema rt3_round2 and a bundle pointing at it."""
    yield from governed_postgres(PG_SCHEMA, demo_db_path, tmp_path_factory)


@pytest.fixture(scope="module")
def mini():
    """The schema-less mini bundle over an in-memory DuckDB: u1 is a member of project 1 only."""
    gov = Governor.from_path(ROOT_MINI, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    conn = duckdb.connect()
    conn.execute("CREATE TABLE projects(id INT, name VARCHAR, owner_email VARCHAR, tenant VARCHAR, secret VARCHAR, budget INT)")
    conn.execute("INSERT INTO projects VALUES (1,'p1','a@x.com','a','s1',10),(2,'p2','b@x.com','b','s2',2000),(3,'p3','c@x.com','a','s3',5)")
    conn.execute("CREATE TABLE members(project_id INT, user_id VARCHAR)")
    conn.execute("INSERT INTO members VALUES (1, 'u1')")
    conn.execute("CREATE TABLE notes(id INT, project_id INT, body VARCHAR, tenant VARCHAR)")
    yield gov, conn
    conn.close()


def executed(gov, conn, sql, who):
    """Rows as gov.execute returns them (free text PII-masked), or None when denied / failed."""
    principal = who if isinstance(who, Principal) else gov.principal(who)
    try:
        return gov.execute(conn, sql, principal).rows
    except (QueryDenied, QueryFailed):
        return None


def text_of(rows) -> str:
    return "\n".join(repr(r) for r in rows or ())


def long_digits(rows) -> list[str]:
    return LONG_DIGITS.findall(text_of(rows))


# =========================================================================== FINDINGS

# --- HIGH 1: DuckDB column selectors and method calls bypass free-text opacity and the result scan

DUCK_SELECTOR_LEAKS = [
    "SELECT COLUMNS('body') FROM support_tickets",
    "SELECT COLUMNS(*) FROM support_tickets",
    "SELECT COLUMNS(t.*) FROM support_tickets t",
    "SELECT COLUMNS(c -> c LIKE 'bod%') FROM support_tickets",
    "SELECT * LIKE 'bod%' FROM support_tickets",
    "SELECT * SIMILAR TO 'bod.*' FROM support_tickets",
    "SELECT reverse(COLUMNS('body')) FROM support_tickets",
    "SELECT upper(COLUMNS('bod.*')) FROM support_tickets",
    "SELECT max(COLUMNS('body')) FROM support_tickets",
    "SELECT reverse(*COLUMNS('body')) FROM support_tickets",
    "SELECT struct_pack(*COLUMNS('body')) FROM support_tickets",
    "SELECT reverse(#9) FROM support_tickets",
    "SELECT body.reverse() FROM support_tickets",
    "SELECT (body).reverse() FROM support_tickets",
    "SELECT t.body.reverse() FROM support_tickets t",
    "SELECT body.replace('-', ' ') FROM support_tickets",
    "SELECT t.to_json() FROM support_tickets t",
    "SELECT support_tickets.to_json() FROM support_tickets",
    "SELECT x FROM support_tickets t, LATERAL (SELECT t.body.reverse() AS x)",
]


@pytest.mark.parametrize("who", ["sam", "ada"])
@pytest.mark.parametrize("sql", DUCK_SELECTOR_LEAKS)
def test_duckdb_selectors_do_not_carry_free_text_pii_out(sql, who, qgov, duck):
    """HIGH. sam (support agent) and ada (auditor) may see ticket bodies only PII-masked.
    COLUMNS(...), `* LIKE`, `#n` and `x.f()` reach body without an exp.Column, so authorize
    neither applies the opacity rule nor records support_tickets.body in decision.columns,
    and gov.execute then skips the PII scan: raw card numbers come back (reversed or not)."""
    rows = executed(qgov, duck, sql, who)
    assert not long_digits(rows), f"raw free text leaked: {long_digits(rows)[:3]}"


@pytest.mark.parametrize("sql", ["SELECT COLUMNS('body') FROM support_tickets", "SELECT body.reverse() FROM support_tickets",
                                 "SELECT t.to_json() FROM support_tickets t", "SELECT reverse(#9) FROM support_tickets"])
def test_duckdb_selectors_are_accounted_in_decision_columns(sql, qgov):
    """HIGH (root cause). A query that reads support_tickets.body must say so in decision.columns
    (the audit record and the result scan both rely on it) - or be denied."""
    decision = decide(qgov, sql, "sam", "duckdb")
    assert not decision.allowed or "support_tickets.body" in decision.columns, decision.columns


# --- HIGH 2: PostgreSQL `t.*` inside expressions

PG_STAR_LEAKS = [
    "SELECT (t.*)::text FROM support_tickets t",
    "SELECT to_jsonb(t.*) FROM support_tickets t",
    "SELECT to_json(t.*) FROM support_tickets t",
    "SELECT concat_ws('|', t.*) FROM support_tickets t",
    "SELECT array_to_string(ARRAY[t.*], '|') FROM support_tickets t",
    "SELECT reverse((t.*)::text) FROM support_tickets t",
]


@pytest.mark.parametrize("sql", PG_STAR_LEAKS)
def test_postgres_star_in_expression_does_not_carry_free_text_pii_out(sql, pg2):
    """HIGH. `t.*` inside a cast / function / array on PostgreSQL is the whole governed row as
    one value: body's raw text, computed on, and unscanned (body not in decision.columns)."""
    conn, gov = pg2
    rows = executed(gov, conn, sql, "sam")
    assert not long_digits(rows), f"raw free text leaked: {long_digits(rows)[:3]}"


# --- MEDIUM: predicates over the raw free text (probes)

DUCK_PROBES = [
    "SELECT id, body AS b FROM support_tickets WHERE b LIKE '%4111%'",
    "SELECT support_tickets.body AS b FROM support_tickets WHERE b LIKE '%4111%'",
    "SELECT * FROM support_tickets WHERE COLUMNS('body') LIKE '%4111%'",
    "SELECT id FROM support_tickets WHERE body.contains('4111')",
]


@pytest.mark.parametrize("sql", DUCK_PROBES)
def test_duckdb_free_text_probe_does_not_see_the_text(sql, qgov, free_text_worlds):
    """MEDIUM. DuckDB lets WHERE use a select-list alias (and COLUMNS / method calls): the
    predicate ran on the raw body, so the row count answered 'does a ticket hold card 4111...'.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    worlds = free_text_worlds("duckdb")
    assert_free_text_safe(worlds, sql, qgov.principal("sam"))


def test_postgres_star_text_probe_does_not_see_the_text(qgov, free_text_worlds):
    """MEDIUM. `WHERE (t.*)::text LIKE '%4242%'` probed the raw body on PostgreSQL.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    worlds = free_text_worlds("postgres")
    assert_free_text_safe(worlds, "SELECT count(*) FROM support_tickets t WHERE (t.*)::text LIKE '%4242%'",
                          qgov.principal("sam"))


# --- LOW: ordering / dedup on the raw free text

@pytest.mark.parametrize("dialect, sql", [
    ("duckdb", "(SELECT body FROM support_tickets) ORDER BY 1"),
    ("postgres", "(SELECT body FROM support_tickets) ORDER BY 1"),
    ("duckdb", "SELECT body FROM support_tickets ORDER BY #1"),
    ("duckdb", "SELECT body AS b, row_number() OVER w AS r FROM support_tickets WINDOW w AS (ORDER BY b) ORDER BY r"),
    ("duckdb", "SELECT DISTINCT ON (body) body FROM support_tickets"),
    ("postgres", "SELECT DISTINCT ON (body) body FROM support_tickets"),
])
def test_free_text_output_is_not_ordered_or_deduplicated_by_its_text(dialect, sql, qgov, free_text_worlds):
    """LOW. The opacity rule denied `ORDER BY 1` / `GROUP BY 1` / alias reuse, but these forms
    still sorted or de-duplicated on the raw text (observed: rows came back sorted by raw body).
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal("sam"))


# --- LOW: render cache key conflates equal-but-differently-typed values

def test_render_cache_does_not_conflate_bool_and_int():
    """LOW. binding_key uses Python equality/hash: True == 1 == 1.0. After a principal with
    employee_id=True, one with employee_id=1 gets `agent_id = TRUE` (PostgreSQL: error, a
    denial of service), and in the other order the True principal gets employee 1's rows
    where its own SQL would have failed closed."""
    gov = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    sql = "SELECT agent_id FROM assignments"
    as_bool = Principal("b", ["support_agent"], {"region": "NA", "employee_id": True})
    as_int = Principal("i", ["support_agent"], {"region": "NA", "employee_id": 1})
    first = gov.check_sql(sql, as_bool, dialect="postgres").sql
    second = gov.check_sql(sql, as_int, dialect="postgres").sql
    fresh = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    assert second == fresh.check_sql(sql, as_int, dialect="postgres").sql, (first, second)


# --- LOW: PostgreSQL reg* casts read the system catalog

@pytest.mark.parametrize("sql", ["SELECT 'pg_authid'::regclass::oid", "SELECT 'postgres'::regrole",
                                 f"SELECT CAST('{PG_SCHEMA}.customers' AS regclass)"])
def test_postgres_reg_casts_are_denied(sql, pg2):
    """LOW. Casts to regclass / regrole / regproc resolve names against pg_catalog: a probe for
    tables, roles and functions outside the bundle (system catalogs are otherwise denied)."""
    conn, gov = pg2
    assert outcome(gov, conn, sql, "sam", "postgres") is None


# --- LOW: verify_output blind spots (defence in depth)

@pytest.mark.parametrize("tampered", ["SELECT * FROM read_csv('/etc/passwd')", "SELECT current_user",
                                      "SELECT * FROM generate_series(1, 2)"])
def test_verify_output_footprint_sees_typed_and_table_functions(tampered):
    """LOW. footprint counts only base tables, exp.Anonymous calls and parameters: a governed
    SQL text carrying read_csv(...) (a typed sqlglot class) or a table function would pass."""
    assert footprint(parse_back("SELECT 1", "duckdb")) != footprint(parse_back(tampered, "duckdb"))


def test_verify_output_footprint_sees_cte_capturing_a_lookup(mini):
    """LOW. With a schema-less catalog, a CTE named like a lookup table that itself reads the base
    table keeps the table count equal while the governed relation's lookup now reads the CTE."""
    gov, _ = mini
    governed = decide(gov, "SELECT id FROM projects", "u1", "postgres").sql
    tampered = "WITH members AS (SELECT 2 AS project_id, 'u1' AS user_id FROM members LIMIT 1) " + governed
    assert footprint(parse_back(governed, "postgres")) != footprint(parse_back(tampered, "postgres"))


# =========================================================================== HELD

def test_held_plain_body_is_masked(qgov, duck):
    """Calibration: the plain projection is scanned and masked (no long digit runs)."""
    rows = executed(qgov, duck, "SELECT body FROM support_tickets", "sam")
    assert rows and not long_digits(rows)


@pytest.mark.parametrize("sql", [
    "SELECT body AS b, reverse(b) AS r FROM support_tickets", "SELECT body FROM support_tickets ORDER BY 1",
    "SELECT body, count(*) FROM support_tickets GROUP BY 1", "SELECT body FROM support_tickets GROUP BY ALL",
    "SELECT body FROM support_tickets ORDER BY ALL", "SELECT body AS id FROM support_tickets ORDER BY id",
    "SELECT body AS b FROM support_tickets QUALIFY b LIKE '%a%'",
    "SELECT body AS b FROM support_tickets GROUP BY b HAVING b LIKE '%a%'",
    "SELECT body AS b, count(*) OVER (PARTITION BY b) FROM support_tickets",
    "SELECT body AS b FROM support_tickets UNION ALL SELECT 'x' ORDER BY b",
    "SELECT body AS b FROM support_tickets UNION ALL SELECT 'x' ORDER BY 1",
    "SELECT DISTINCT ON (body LIKE '%4111%') id FROM support_tickets",
    "SELECT * REPLACE (reverse(body) AS body) FROM support_tickets",
    "SELECT body AS b FROM support_tickets t JOIN support_tickets u ON b = u.body",
    "SELECT body AS b, row_number() OVER w AS r FROM support_tickets WINDOW w AS (ORDER BY body)",
])
def test_held_free_text_reuse_does_not_see_the_text(sql, qgov, free_text_worlds):
    assert_free_text_safe(free_text_worlds("duckdb"), sql, qgov.principal("sam"))


@pytest.mark.parametrize("sql", ["SELECT t.text FROM support_tickets t", "SELECT t.row_to_json FROM support_tickets t",
                                 "SELECT (t).body FROM support_tickets t", "SELECT ROW(t.*) FROM support_tickets t",
                                 "SELECT body COLLATE \"C\" FROM support_tickets"])
def test_held_postgres_whole_row_notations(sql, pg2):
    conn, gov = pg2
    assert not long_digits(executed(gov, conn, sql, "sam"))


@pytest.mark.parametrize("sql", [
    "SELECT getenv('HOME')", "SELECT nextval('s')", "SELECT currval('s')", "SELECT setseed(0.5)", "SELECT which_secret('s3://x', 's3')",
    "SELECT current_query()", "SELECT json_serialize_sql('SELECT 1')", "SELECT sql_auto_complete('SEL')", "SELECT current_catalog()",
    "SELECT current_database()", "SELECT current_user", "SELECT txid_current()", "SELECT read_text('/etc/passwd')",
    "SELECT '/etc/passwd'.read_text()", "SELECT list_aggr(['/etc/hostname'], 'max')",
    "SELECT count(*) FROM range(10)", "SELECT count(*) FROM generate_series(1, 10)", "SELECT len(getvariable('x'))",
    "SELECT current_setting('threads')", "SELECT stats(1)", "SELECT pg_typeof(1)",
])
def test_held_duckdb_stateful_or_reading_functions_are_denied(sql, qgov):
    assert not decide(qgov, sql, "ada", "duckdb").allowed


@pytest.mark.parametrize("sql", ["SELECT json_transform('{}', '{}')", "SELECT list_reduce([1, 2], lambda a, b: a)",
                                 "SELECT now(), date_part('year', DATE '2024-01-02')"])
def test_duckdb_functions_that_only_compute_are_allowed(sql, qgov):
    """Held as 'unknown function' while the allowlist was hand-made; DuckDB's own catalog marks
    them free of side effects (govern/sql/functions/duckdb.txt): pure functions of their arguments."""
    assert decide(qgov, sql, "ada", "duckdb").allowed


@pytest.mark.parametrize("sql", [
    "SELECT nextval('x')", "SELECT to_regclass('pg_authid')", "SELECT current_query()", "SELECT inet_server_addr()",
    "SELECT query_to_xml('select 1', true, false, '')", "SELECT json_populate_record(NULL::int, '{}')", "SELECT ROW(1)",
    "SELECT xmlparse(document '<a/>')",
])
def test_held_postgres_functions_are_denied(sql, pg2):
    conn, gov = pg2
    assert outcome(gov, conn, sql, "sam", "postgres") is None


@pytest.mark.parametrize("sql", [
    "WITH members AS (SELECT 2 AS project_id, 'u1' AS user_id) SELECT id FROM projects",
    'WITH "MEMBERS" AS (SELECT 2 AS project_id, \'u1\' AS user_id) SELECT id FROM projects',
    "SELECT * FROM (WITH members AS (SELECT 2 AS project_id, 'u1' AS user_id) SELECT id FROM projects) x",
    "WITH RECURSIVE members(project_id, user_id) AS (SELECT 2, 'u1' UNION ALL SELECT project_id, user_id FROM members WHERE false) "
    "SELECT id FROM projects",
    "SELECT id FROM projects WHERE id IN (WITH members AS (SELECT 2 AS project_id, 'u1' AS user_id) SELECT id FROM projects)",
    "WITH x AS (SELECT 2 AS project_id, 'u1' AS user_id) SELECT p.id FROM x AS members, projects p",
    "SELECT p.id FROM (SELECT 2 AS project_id, 'u1' AS user_id) AS members, projects p",
    "WITH members_cte1 AS (SELECT 2 AS project_id, 'u1' AS user_id), members AS (SELECT 2 AS project_id, 'u1' AS user_id) "
    "SELECT id FROM projects",
])
def test_held_schema_less_lookup_cannot_be_captured(sql, mini):
    """The mini bundle has no schema: its row-filter lookup reads `members` unqualified. A user CTE,
    derived table or alias named members never becomes what the lookup reads (u1 sees project 1 only)."""
    gov, conn = mini
    decision = decide(gov, sql, "u1", "duckdb")
    assert decision.allowed
    assert {r[0] for r in conn.execute(decision.sql).fetchall()} <= {1}


def test_held_render_cache_separates_principal_ids(mini):
    gov, _ = mini
    alice = Principal("alice", ["member"], {"tenants": ["a"]})
    bob = Principal("bob", ["member"], {"tenants": ["a"]})
    a = gov.check_sql("SELECT id FROM projects", alice, dialect="postgres").sql
    b = gov.check_sql("SELECT id FROM projects", bob, dialect="postgres").sql
    assert "'alice'" in a and "'bob'" in b and "'alice'" not in b


@pytest.mark.parametrize("sql", ["SELECT unnest((SELECT list(national_id) FROM customers))",
                                 "SELECT json_object('a', national_id) FROM customers", "SELECT hash(national_id) FROM customers"])
def test_held_allowlisted_functions_see_only_masked_values(sql, qgov, duck):
    """national_id is null-masked for every role: unnest of a subquery, json_object and hash see the mask."""
    rows = outcome(qgov, duck, sql, "ada", "duckdb")
    raw = {r[0] for r in duck.execute("SELECT national_id FROM customers").fetchall()}
    assert not any(v in text_of(rows) for v in raw)
