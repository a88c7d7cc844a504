"""Red-team reproducers for the SQL governor: every test asserts the SAFE behaviour.

A test that fails here is a live finding (see the docstring of each test for the
severity and what leaks); a test that passes is an attack that was held.

Findings (fail until fixed):
  * CRITICAL  raw-text injection through sqlglot Var / user-defined type nodes:
              EXTRACT("<sql>" FROM col), CAST(x AS "<sql>"), x::"<sql>" are emitted
              verbatim, so arbitrary ungoverned SQL reaches the database
              (base tables, denied columns, other tenants' rows, the hash key via $1,
              denylisted functions) - DuckDB, PostgreSQL and SQLite.
  * CRITICAL  PostgreSQL functions that run a SQL string or dump a relation
              (query_to_xml, table_to_xml, schema_to_xml, database_to_xml,
              query_to_xml_and_xmlschema, ts_stat, ts_rewrite): the string is never
              governed.
  * HIGH      DuckDB WITH RECURSIVE: a self-reference in the non-recursive part binds to
              the *base table* in DuckDB, but govern treats it as the CTE, so it is
              never governed: system views (duckdb_tables, duckdb_databases, ...) and
              any table missing from the catalog are readable.
  * MEDIUM    DuckDB `LIMIT n PERCENT` / `LIMIT n%` bypasses limits.max_rows.
  * MEDIUM    PostgreSQL setval()/nextval() pass the SELECT-only gate and change state.
  * LOW       version() / sqlite_version() pass the function denylist (sqlglot class
              name differs from the emitted name); SQLite fts3_tokenizer() discloses a
              pointer; non-finite float attributes are emitted as identifiers (nan, inf);
              SqlDecision.model_dump_json() carries the hash key.
"""

from __future__ import annotations

import re
import shutil
import sqlite3

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from govern import Governor, Principal
from govern.audit import AuditTrail
from govern.connections import cursor_for
from tests.conftest import POLICIES, TEST_HASH_KEY, connect_postgres_or_skip

SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
PG_SCHEMA = "rt_redteam"
MAX_ROWS = 1000


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def qgov() -> Governor:
    return Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)


@pytest.fixture()
def duck(demo_db_path):
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    yield conn
    conn.close()


@pytest.fixture()
def duck_extra(demo_db_path, tmp_path):
    """The demo database plus one table the catalog does not list."""
    path = tmp_path / "extra.duckdb"
    shutil.copy(demo_db_path, path)
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE payroll_secret AS SELECT 'top secret' AS s, 999999 AS amount")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def sqlite_demo(demo_db_path, tmp_path_factory):
    src = duckdb.connect(str(demo_db_path), read_only=True)
    dst = sqlite3.connect(str(tmp_path_factory.mktemp("rt_sqlite") / "demo.sqlite"))
    tables = [r[0] for r in src.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    for table in tables:
        cols = [r[0] for r in src.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
        dst.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
        rows = [tuple(v if v is None or isinstance(v, (int, float, str)) else str(v) for v in r)
                for r in src.execute(f"SELECT * FROM {table}").fetchall()]
        dst.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
    dst.commit()
    src.close()
    yield dst
    dst.close()


def governed_postgres(schema: str, demo_db_path, tmp_path_factory):
    """(connection, governor): the demo loaded into ``schema``, and a bundle copy whose catalog points at it.

    A generator for module fixtures: drops the schema afterwards.
    """
    from tests.oracle.demo_pg import load_demo_into_postgres

    conn = connect_postgres_or_skip()
    load_demo_into_postgres(conn, schema, duckdb_path=demo_db_path)
    conn.autocommit = True
    bundle = tmp_path_factory.mktemp(f"{schema}_bundle") / "policies"
    shutil.copytree(POLICIES, bundle)
    catalog = bundle / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("schema: main", f"schema: {schema}"))
    gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    yield conn, gov
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.close()


@pytest.fixture(scope="module")
def pg(demo_db_path, tmp_path_factory):
    """(connection, governor) with the demo loaded into schema rt_redteam and a bundle pointing at it."""
    yield from governed_postgres(PG_SCHEMA, demo_db_path, tmp_path_factory)


# --------------------------------------------------------------------------- helpers

def decide(gov, sql, who, dialect):
    principal = who if isinstance(who, Principal) else gov.principal(who)
    return gov.check_sql(sql, principal, dialect=dialect)


def run_duck(conn, decision):
    return conn.execute(decision.sql, decision.params).fetchall() if decision.params else conn.execute(decision.sql).fetchall()


def run_pg(conn, decision):
    cur = cursor_for(conn, "postgres", bool(decision.params))
    cur.execute(decision.sql, decision.params or None)
    return cur.fetchall()


def run_sqlite(conn, decision):
    cur = cursor_for(conn, "sqlite", bool(decision.params))
    cur.execute(decision.sql, decision.params) if decision.params else cur.execute(decision.sql)
    return cur.fetchall()


RUNNERS = {"duckdb": run_duck, "postgres": run_pg, "sqlite": run_sqlite}


def outcome(gov, conn, sql, who, dialect):
    """None when denied or when the database refused the governed SQL (fail closed); else the rows."""
    decision = decide(gov, sql, who, dialect)
    if not decision.allowed:
        return None
    try:
        return RUNNERS[dialect](conn, decision)
    except Exception:  # a database error is a fail-closed outcome here
        return None


def text_of(rows) -> str:
    return "\n".join(repr(r) for r in rows or ())


def unquoted(sql: str) -> str:
    """``sql`` with every string literal and quoted identifier blanked out."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return re.sub(r'"(?:[^"]|"")*"', '""', sql)


# =========================================================================== FINDINGS

# --- CRITICAL 1: raw SQL text injected through identifiers/strings sqlglot emits verbatim

INJECTION_MARKER = "(national_id,"
INJECTION_SHAPES = {
    # dialect, query: each smuggles `(SELECT string_agg(national_id ...) FROM <schema>.customers)` into the output
    "duckdb-extract-unit": ("duckdb", 'SELECT EXTRACT("EPOCH FROM created_at) AS a, (SELECT string_agg(national_id, \',\') '
                                      'FROM main.customers) AS leak, EXTRACT(EPOCH" FROM created_at) FROM customers LIMIT 1'),
    "duckdb-cast-type": ("duckdb", 'SELECT CAST(id AS "mytype) AS a, (SELECT string_agg(national_id, \',\') FROM main.customers) '
                                   'AS leak, CAST(1 AS INT") FROM customers LIMIT 1'),
    "duckdb-colon-cast-type": ("duckdb", 'SELECT id::"mytype) AS a, (SELECT string_agg(national_id, \',\') FROM main.customers) '
                                         'AS leak, CAST(1 AS INT" FROM customers LIMIT 1'),
    "postgres-extract-unit": ("postgres", 'SELECT EXTRACT("EPOCH FROM created_at) AS a, (SELECT string_agg(national_id, \',\') '
                                          f'FROM {PG_SCHEMA}.customers) AS leak, EXTRACT(EPOCH" FROM created_at) FROM customers LIMIT 1'),
    "postgres-date-part-string": ("postgres", "SELECT DATE_PART('EPOCH FROM created_at) AS a, (SELECT string_agg(national_id, '','') "
                                              f"FROM {PG_SCHEMA}.customers) AS leak, EXTRACT(EPOCH', created_at) FROM customers LIMIT 1"),
    "sqlite-cast-type": ("sqlite", 'SELECT CAST(id AS "mytype) AS a, (SELECT group_concat(national_id, \',\') FROM main.customers) '
                                   'AS leak, CAST(1 AS mytype") FROM customers LIMIT 1'),
    "sqlite-extract-unit": ("sqlite", 'SELECT EXTRACT("EPOCH FROM created_at) AS a, (SELECT group_concat(national_id, \',\') '
                                      'FROM main.customers) AS leak, EXTRACT(EPOCH" FROM created_at) FROM customers LIMIT 1'),
}


@pytest.mark.parametrize("name", sorted(INJECTION_SHAPES))
def test_injected_text_never_reaches_governed_sql(name, qgov, pg, request):
    """CRITICAL. A quoted identifier / string that sqlglot turns into a Var or a user-defined
    type name is emitted verbatim: whatever SQL it holds runs ungoverned (eve)."""
    dialect, sql = INJECTION_SHAPES[name]
    gov = pg[1] if dialect == "postgres" else qgov
    decision = decide(gov, sql, "eve", dialect)
    assert not decision.allowed or INJECTION_MARKER.lower() not in unquoted(decision.sql).lower(), decision.sql


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
def test_injection_does_not_reveal_denied_column(dialect, qgov, pg, duck, sqlite_demo):
    """CRITICAL. End to end: eve (national_id denied, 17 EU/acme customers) gets every
    customer's national_id through EXTRACT("...") / CAST(x AS "...")."""
    conn, gov = {"duckdb": (duck, qgov), "postgres": pg, "sqlite": (sqlite_demo, qgov)}[dialect]
    key = {"duckdb": "duckdb-extract-unit", "postgres": "postgres-extract-unit", "sqlite": "sqlite-cast-type"}[dialect]
    rows = outcome(gov, conn, INJECTION_SHAPES[key][1], "eve", dialect)
    assert not SSN.search(text_of(rows)), f"national_id leaked: {text_of(rows)[:200]}"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_injection_does_not_reveal_hash_key(dialect, qgov, pg, duck):
    """CRITICAL. The hash key is bound as $1 for ada's hashed email; an injected `$1`
    bypasses the bind-parameter check and returns the key."""
    conn, gov = (duck, qgov) if dialect == "duckdb" else pg
    sql = ('SELECT email, EXTRACT("EPOCH FROM created_at) AS a, CAST($1 AS TEXT) AS k, EXTRACT(EPOCH" FROM created_at) '
           "FROM customers LIMIT 1")
    rows = outcome(gov, conn, sql, "ada", dialect)
    assert TEST_HASH_KEY not in text_of(rows)


# --- CRITICAL 2: PostgreSQL functions that execute SQL strings or dump relations

PG_SQL_RUNNERS = {
    "query_to_xml": "SELECT query_to_xml('select tenant from {s}.customers where tenant <> ''acme''', true, false, '')",
    "query_to_xml_and_xmlschema": "SELECT query_to_xml_and_xmlschema('select tenant from {s}.customers where tenant <> ''acme''', true, false, '')",
    "table_to_xml": "SELECT table_to_xml('{s}.customers', true, false, '')",
    "schema_to_xml": "SELECT schema_to_xml('{s}', true, false, '')",
    "database_to_xml": "SELECT database_to_xml(true, false, '')",
    "ts_stat": "SELECT ts_stat('select to_tsvector(''simple'', tenant) from {s}.customers')",
    "ts_rewrite": "SELECT ts_rewrite('a'::tsquery, 'select to_tsquery(''simple'', ''a''), to_tsquery(''simple'', tenant) "
                  "from {s}.customers where tenant = ''globex'' limit 1')",
}


@pytest.mark.parametrize("name", sorted(PG_SQL_RUNNERS))
def test_postgres_sql_string_functions_do_not_read_ungoverned_rows(name, pg):
    """CRITICAL. The SQL inside the string (or the named relation) is read with the
    connection's privileges: eve sees tenants other than acme (and any column)."""
    conn, gov = pg
    rows = outcome(gov, conn, PG_SQL_RUNNERS[name].format(s=PG_SCHEMA), "eve", "postgres")
    assert "globex" not in text_of(rows).lower()


def test_postgres_query_to_xml_does_not_run_denylisted_functions(pg):
    """CRITICAL. query_to_xml runs pg_read_file / set_config / pg_sleep, which govern denies when written directly."""
    conn, gov = pg
    decision = decide(gov, "SELECT query_to_xml('select current_setting(''server_version'') AS v', true, false, '')", "eve", "postgres")
    assert not decision.allowed


# --- HIGH: DuckDB recursive CTE self-reference binds to the base table

def test_duckdb_recursive_cte_anchor_cannot_read_uncatalogued_table(qgov, duck_extra):
    """HIGH. `payroll_secret` is not in the catalog (direct reference: denied), but
    WITH RECURSIVE payroll_secret AS (SELECT * FROM payroll_secret) reads it."""
    assert not decide(qgov, "SELECT * FROM payroll_secret", "eve", "duckdb").allowed  # held directly
    sql = "WITH RECURSIVE payroll_secret AS (SELECT * FROM payroll_secret) SELECT * FROM payroll_secret"
    rows = outcome(qgov, duck_extra, sql, "eve", "duckdb")
    assert "top secret" not in text_of(rows)


def test_duckdb_recursive_cte_union_anchor_cannot_read_uncatalogued_table(qgov, duck_extra):
    """HIGH. Same through the anchor arm of a real UNION ALL recursive CTE."""
    sql = ("WITH RECURSIVE payroll_secret AS (SELECT s, amount FROM payroll_secret UNION ALL "
           "SELECT s, amount FROM payroll_secret WHERE false) SELECT * FROM payroll_secret")
    rows = outcome(qgov, duck_extra, sql, "eve", "duckdb")
    assert "top secret" not in text_of(rows)


@pytest.mark.parametrize("view, column", [("duckdb_tables", "sql"), ("duckdb_databases", "path"), ("sqlite_master", "sql")])
def test_duckdb_recursive_cte_cannot_read_system_catalog(view, column, qgov, duck, demo_db_path):
    """HIGH. System views govern denies by name are read through a recursive-CTE self-reference
    (DDL of every table, the database file path)."""
    assert not decide(qgov, f"SELECT * FROM {view}", "sam", "duckdb").allowed  # held directly
    rows = outcome(qgov, duck, f"WITH RECURSIVE {view} AS (SELECT * FROM {view}) SELECT {column} FROM {view}", "sam", "duckdb")
    leaked = text_of(rows)
    assert "CREATE TABLE" not in leaked and str(demo_db_path) not in leaked


# --- MEDIUM: row cap bypass

@pytest.mark.parametrize("sql", ["SELECT id FROM order_items LIMIT 100 PERCENT", "SELECT id FROM order_items LIMIT 100%"])
def test_duckdb_limit_percent_respects_max_rows(sql, qgov, duck):
    """MEDIUM. limits.max_rows is 1000; `LIMIT 100 PERCENT` keeps its PERCENT and returns all 5026 rows."""
    rows = outcome(qgov, duck, sql, "ada", "duckdb")
    assert rows is None or len(rows) <= MAX_ROWS


# --- MEDIUM: state-changing functions through the SELECT-only gate

def test_postgres_setval_cannot_change_state(pg):
    """MEDIUM. `SELECT setval(...)` is a write (sequence state) that passes as a SELECT."""
    conn, gov = pg
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {PG_SCHEMA}.rt_seq")
    conn.execute(f"SELECT setval('{PG_SCHEMA}.rt_seq', 1)")
    outcome(gov, conn, f"SELECT setval('{PG_SCHEMA}.rt_seq', 4242)", "eve", "postgres")
    assert conn.execute(f"SELECT last_value FROM {PG_SCHEMA}.rt_seq").fetchone()[0] == 1


# --- LOW

@pytest.mark.parametrize("dialect, sql", [("duckdb", "SELECT version()"), ("postgres", "SELECT version()"),
                                          ("sqlite", "SELECT sqlite_version()")])
def test_denylisted_version_functions_are_denied(dialect, sql, qgov, pg):
    """LOW. `version` and `sqlite_\\w+` are on DENIED_FUNCTIONS, but the check matches sqlglot's
    class name (CURRENT_VERSION), not the emitted name, so they pass."""
    gov = pg[1] if dialect == "postgres" else qgov
    assert not decide(gov, sql, "eve", dialect).allowed


def test_sqlite_fts3_tokenizer_is_denied(qgov):
    """LOW. fts3_tokenizer('simple') returns a native pointer (ASLR disclosure; with two
    arguments, historically code execution)."""
    assert not decide(qgov, "SELECT fts3_tokenizer('simple')", "eve", "sqlite").allowed


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_nonfinite_attribute_stays_a_literal(value, qgov):
    """LOW. A float attribute nan/inf is emitted as the bare word `nan` / `inf`, i.e. a column
    reference (here it errors; next to a column of that name it would compare to it)."""
    eve = Principal("x", ["sales_rep"], {"region": "EU", "tenant": "acme", "employee_id": value})
    decision = decide(qgov, "SELECT count(*) FROM customers", eve, "duckdb")
    if decision.allowed:
        columns = {c.name.lower() for c in sqlglot.parse_one(decision.sql, read="duckdb").find_all(exp.Column)}
        assert not columns & {"nan", "inf", "infinity"}, decision.sql


def test_decision_serialisation_does_not_carry_hash_key(qgov):
    """LOW. __repr__ hides params ("keep it out of reprs and logs"), but model_dump_json()
    - what an app logs or hands to an agent as tool output - includes the key."""
    decision = decide(qgov, "SELECT email FROM customers", "ada", "duckdb")
    assert decision.allowed and TEST_HASH_KEY not in decision.model_dump_json()


# =========================================================================== HELD

WHOLE_ROW = [
    "SELECT c FROM customers c", "SELECT customers FROM customers", "SELECT to_json(c) FROM customers c",
    "SELECT row_to_json(c) FROM customers c", "SELECT c::text FROM customers c", "SELECT CAST(c AS text) FROM customers c",
    "SELECT (c).national_id FROM customers c", "SELECT json_agg(c) FROM customers c", "SELECT * FROM customers c WHERE c = c",
    "SELECT customers.customers FROM customers", "SELECT (SELECT c) FROM customers c",
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", WHOLE_ROW)
def test_held_whole_row_references_show_only_the_governed_row(sql, dialect, qgov, pg, duck):
    """A whole-row reference names the governed relation standing for the table, so the row holds
    the permitted columns only, masked, free text as handles, of eve's rows only (it was denied
    while free text entered the query raw)."""
    conn, gov = (pg[0], pg[1]) if dialect == "postgres" else (duck, qgov)
    rows = outcome(gov, conn, sql, "eve", dialect)
    leaked = text_of(rows)
    assert not SSN.search(leaked) and "globex" not in leaked and "initech" not in leaked


@pytest.mark.parametrize("sql", ["SELECT ROW(c.*) FROM customers c", "SELECT to_jsonb(c.*) FROM customers c",
                                 "SELECT xmlforest(c.*) FROM customers c", "TABLE customers",
                                 "SELECT * FROM customers FETCH FIRST 5000 ROWS ONLY",
                                 "SELECT 1 /* /* */ , national_id */ FROM customers",
                                 "SELECT $x$ ' $x$ || name FROM customers", "SELECT E'\\'' || name FROM customers"])
def test_held_postgres_row_constructs_expose_only_permitted_rows_and_columns(sql, pg):
    conn, gov = pg
    rows = outcome(gov, conn, sql, "eve", "postgres")
    leaked = text_of(rows)
    assert not SSN.search(leaked) and "globex" not in leaked and "initech" not in leaked
    assert rows is None or len(rows) <= 17


DUCK_HELD_ROWS = [
    "FROM customers", "FROM customers SELECT *", "SELECT * EXCLUDE (email) FROM customers", "SELECT COLUMNS('.*') FROM customers",
    "SELECT COLUMNS(c.*) FROM customers c", "SELECT * FROM customers UNION BY NAME SELECT * FROM customers",
    "SELECT * FROM customers NATURAL JOIN customers", "SELECT * FROM customers GROUP BY ALL", "SELECT * FROM customers ORDER BY ALL",
    "SELECT * FROM customers QUALIFY row_number() OVER () < 100", "SELECT * FROM 'customers'", 'SELECT * FROM "MAIN"."CUSTOMERS"',
    "SELECT * FROM (VALUES (1)) v(a), customers", "SELECT * FROM unnest((SELECT list(id) FROM customers))",
    "WITH x AS MATERIALIZED (SELECT * FROM customers) SELECT * FROM x",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT c.* FROM r, customers c",
    "SELECT list_transform([1, 2], customers -> customers) AS l, * FROM customers",
    "SELECT * FROM customers USING SAMPLE 100 PERCENT (bernoulli)",
]


@pytest.mark.parametrize("sql", DUCK_HELD_ROWS)
def test_held_duckdb_syntax_shows_only_eves_customers(sql, qgov, duck):
    rows = outcome(qgov, duck, sql, "eve", "duckdb")
    leaked = text_of(rows)
    assert not SSN.search(leaked) and "globex" not in leaked and "initech" not in leaked


@pytest.mark.parametrize("sql", [
    "PIVOT customers ON region USING count(*)", "SELECT * FROM customers PIVOT (count(*) FOR region IN ('EU', 'NA'))",
    "SUMMARIZE customers", "DESCRIBE customers",
    "SELECT * FROM customers TABLESAMPLE 100%", "SELECT count(*) FROM customers AT (VERSION => 1)",
    "SELECT * REPLACE (national_id AS email) FROM customers", "SELECT *, national_id FROM customers",
    "SELECT struct_pack(a := national_id) FROM customers", "SELECT * FROM (SELECT 1 AS national_id) x JOIN customers USING (national_id)",
    "SELECT count(*) FROM customers c LEFT JOIN LATERAL (SELECT c.national_id) x ON true",
    "SELECT * FROM INFORMATION_SCHEMA.COLUMNS", 'SELECT * FROM "Information_Schema".tables', "SELECT * FROM duckdb_tables",
    "SELECT * FROM system.main.duckdb_tables()", "SELECT * FROM main.sqlite_master", "SELECT * FROM pragma_table_info('customers')",
    "SELECT * FROM query_table('customers')", "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
    "SELECT count(*) FROM demo.main.customers", "SELECT count(*) FROM demo.customers", "SELECT * FROM read_text('/etc/hostname')",
    "SELECT getvariable('x')", "SELECT current_setting('memory_limit')", "SELECT $1", "SELECT ?",
])
def test_held_duckdb_constructs_denied_or_fail_closed(sql, qgov, duck):
    rows = outcome(qgov, duck, sql, "eve", "duckdb")
    assert rows is None, f"{sql!r} returned rows"


@pytest.mark.parametrize("sql", [
    "SELECT * FROM ONLY customers", "SELECT count(*) FROM customers TABLESAMPLE SYSTEM (100)", "SELECT count(*) FROM pg_class",
    'SELECT count(*) FROM "pg_class"', "SELECT count(*) FROM PG_CATALOG.pg_authid", "SELECT * FROM customers c, LATERAL jsonb_each(to_jsonb(c))",
    "SELECT * FROM ts_stat('select 1')", 'SELECT count(*) FROM U&"\\0063ustomers"', "SELECT count(*) FROM public.customers",
    "SELECT pg_sleep(1)", "SELECT txid_current()", "SELECT lo_import('/etc/passwd')", "SELECT current_setting('server_version')",
    "SELECT * INTO rt_copy FROM customers",
])
def test_held_postgres_constructs_denied_or_fail_closed(sql, pg):
    conn, gov = pg
    assert outcome(gov, conn, sql, "eve", "postgres") is None


@pytest.mark.parametrize("sql", [
    "SELECT @k, email FROM customers", "SELECT :k, email FROM customers", "SELECT ?, email FROM customers",
    "SELECT ?1, email FROM customers", "SELECT $k, email FROM customers", "SELECT rowid FROM customers",
    "SELECT * FROM sqlite_schema", "SELECT * FROM temp.sqlite_master", "SELECT * FROM json_each('[1]')",
    "SELECT count(*) FROM customers INDEXED BY foo", "SELECT load_extension('x')",
])
def test_held_sqlite_parameters_and_catalogs(sql, qgov, sqlite_demo):
    rows = outcome(qgov, sqlite_demo, sql, "ada", "sqlite")
    assert rows is None and TEST_HASH_KEY not in text_of(rows)


@pytest.mark.parametrize("dialect, sql", [
    ("postgres", "SELECT id FROM order_items LIMIT ALL"), ("postgres", "SELECT id FROM order_items LIMIT NULL"),
    ("postgres", "SELECT id FROM order_items FETCH FIRST 5000 ROWS ONLY"), ("duckdb", "SELECT id FROM order_items LIMIT 5000"),
    ("duckdb", "SELECT id FROM order_items LIMIT 2500 + 2500"), ("sqlite", "SELECT id FROM order_items LIMIT 10, 5000"),
    ("sqlite", "SELECT id FROM order_items LIMIT -1"),
    ("duckdb", "SELECT id FROM order_items UNION ALL SELECT id FROM order_items LIMIT 5000"),
])
def test_held_row_cap(dialect, sql, qgov, pg, duck, sqlite_demo):
    conn, gov = {"duckdb": (duck, qgov), "postgres": pg, "sqlite": (sqlite_demo, qgov)}[dialect]
    rows = outcome(gov, conn, sql, "ada", dialect)
    assert rows is not None and len(rows) <= MAX_ROWS


ERROR_PROBES = [
    "SELECT count(*) FROM customers WHERE CAST(CASE WHEN tenant <> 'acme' THEN 'x' ELSE '1' END AS INTEGER) = 1",
    "SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id AND CAST(CASE WHEN c.tenant <> 'acme' THEN 'x' ELSE '1' END AS INT) = 1",
    "SELECT count(*) FROM orders o WHERE CAST(CASE WHEN o.region <> 'EU' THEN 'x' ELSE '1' END AS INT) = 1",
    "SELECT count(*) FROM customers c WHERE c.id IN (SELECT customer_id FROM orders WHERE CAST(CASE WHEN region <> 'EU' THEN 'x' ELSE '1' END AS INT) = 1)",
    "SELECT count(*) FROM customers GROUP BY CAST(CASE WHEN tenant <> 'acme' THEN 'x' ELSE '1' END AS INT)",
    "SELECT max(CAST(CASE WHEN tenant <> 'acme' THEN 'x' ELSE '1' END AS INT)) OVER () FROM customers",
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", ERROR_PROBES)
def test_held_error_side_channel(sql, dialect, qgov, pg, duck):
    """A predicate that raises only on rows outside eve's filter never runs on them."""
    conn, gov = (duck, qgov) if dialect == "duckdb" else pg
    decision = decide(gov, sql, "eve", dialect)
    assert decision.allowed
    RUNNERS[dialect](conn, decision)  # raises if a hidden row reached the predicate


@pytest.mark.parametrize("value", ["EU' OR '1'='1", "EU\\' OR 1=1 --", "EU$$ OR TRUE --", "EU\n'--", "EU\\"])
@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_held_principal_values_stay_literals(value, dialect, qgov, pg, duck):
    conn, gov = (duck, qgov) if dialect == "duckdb" else pg
    eve = Principal("x", ["sales_rep"], {"region": value, "tenant": "acme", "employee_id": 1})
    assert outcome(gov, conn, "SELECT count(*) FROM customers", eve, dialect) == [(0,)]


@pytest.mark.parametrize("who, sql", [
    ("eve", "SELECT min(email), max(email) FROM customers"), ("eve", "SELECT a.email FROM customers a JOIN customers b ON a.id = b.id"),
    ("ada", "SELECT email FROM customers ORDER BY email"), ("ada", "SELECT min(phone), max(name) FROM customers"),
    ("eve", "SELECT email FROM customers WHERE email LIKE '%@%'"), ("sam", "SELECT phone FROM customers GROUP BY phone"),
])
def test_held_masks_apply_at_the_scan(who, sql, qgov, duck):
    rows = outcome(qgov, duck, sql, who, "duckdb")
    raw = {r[0] for r in duck.execute("SELECT email FROM customers UNION SELECT phone FROM customers WHERE phone IS NOT NULL").fetchall()}
    if who == "ada":
        raw |= {r[0] for r in duck.execute("SELECT name FROM customers").fetchall()}
    assert rows is not None and not raw & {v for r in rows for v in r}


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_held_current_query_does_not_reveal_hash_key(dialect, qgov, pg, duck):
    conn, gov = (duck, qgov) if dialect == "duckdb" else pg
    rows = outcome(gov, conn, "SELECT current_query(), email FROM customers LIMIT 1", "ada", dialect)
    assert TEST_HASH_KEY not in text_of(rows)


def test_recursive_cte_self_reference_outside_recursive_term_is_governed(qgov, duck):
    """The body of a recursive CTE without UNION names the base table on DuckDB: govern governs it."""
    got = outcome(qgov, duck, "WITH RECURSIVE customers AS (SELECT * FROM customers) SELECT * FROM customers", "eve", "duckdb")
    plain = outcome(qgov, duck, "SELECT * FROM customers", "eve", "duckdb")
    assert got is not None and sorted(got) == sorted(plain)
