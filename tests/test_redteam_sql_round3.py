"""Red-team round 3 reproducers for the SQL governor: every test asserts the SAFE behaviour.

A failing test is a live finding (severity and what leaks in its docstring); a passing
test is an attack that held. Rounds 1 and 2: tests/test_redteam_sql.py,
tests/test_redteam_sql_round2.py (fixtures reused).

Findings (fail until fixed):
  * HIGH    Free-text opacity is keyed on column *names*: a star-expanded body reached
            under another name or through a source authorize cannot follow is computed on
            freely - derived-table / CTE column alias lists (`(SELECT * FROM support_tickets)
            AS x(a,...,i)`), LATERAL (SELECT t.*) l(...), and a star through a set operation
            (`FROM (SELECT * FROM support_tickets UNION ALL ...) u` then reverse(body)).
            reverse(body) defeats the result scan: raw card numbers / IBANs / SSNs reach
            sam, tara and ada (DuckDB and PostgreSQL); predicates probe the raw text.
  * HIGH    DuckDB PIVOT / UNPIVOT subqueries: sqlglot cannot traverse their scope, so
            authorize checks no column inside them. `SELECT * FROM (PIVOT support_tickets
            ON body USING count(*) GROUP BY id)` turns every raw body into a *column name*:
            QueryResult.columns (never PII-scanned) and the audit record's columns_shown
            carry full card numbers, national ids, IBANs, phones. ON reverse(body),
            USING max(reverse(body)), UNPIVOT + star all compute on the raw text.
  * MEDIUM  Positional ORDER BY over a star (`SELECT * FROM support_tickets ORDER BY 9`):
            sorts by the raw body. UNION ALL a guess row and binary-search: the raw text is
            extracted character by character (15-digit card number in ~100 queries).
  * LOW     Exact-match probes on the raw free text: NATURAL JOIN with a guess row,
            INTERSECT / EXCEPT / UNION against a guess, row comparison IN / < ANY (SELECT *).
  * LOW     A lone surrogate in the query text (e.g. a JSON "\\ud800" escape) makes
            check_sql raise UnicodeEncodeError instead of denying; gov.execute runs the
            query on the database and then raises, with no audit record of the execution.
  * LOW     An unknown bare word is accepted when a star-derived table is in scope, so
            `user` / `current_role` (server state; denied as current_user) read the database
            role name (PostgreSQL, DuckDB), and SQLite's `$name` bind parameter (parsed as a
            column) passes the bind-parameter check into the governed SQL.
"""

from __future__ import annotations

import re
import sqlite3
import string

import duckdb
import pytest

from govern import Principal
from govern.audit import AuditTrail
from govern.errors import QueryDenied, QueryFailed
from tests.conftest import POLICIES, TEST_HASH_KEY, demo_db_path  # noqa: F401  (fixture, for running outside tests/)
from tests.test_redteam_sql import decide, duck, governed_postgres, outcome, qgov  # noqa: F401  (fixtures)
from tests.guard_oracle import assert_free_text_safe

PG_SCHEMA = "rt3_round3"
# 12+ digits, optionally separated by spaces or dashes: card numbers, IBAN digits (forwards
# or reversed). The masked result of a plain `SELECT body` has none (calibrated below).
LONG_DIGITS = re.compile(r"\d(?:[ -]?\d){11,}")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


# --------------------------------------------------------------------------- fixtures / helpers

@pytest.fixture(scope="module")
def pg3(demo_db_path, tmp_path_factory):  # noqa: F811
    """(connection, governor) with the demo loaded into schema rt3_round3 and a bundle pointing at it."""
    yield from governed_postgres(PG_SCHEMA, demo_db_path, tmp_path_factory)


@pytest.fixture(scope="module")
def sqlite3_demo(demo_db_path, tmp_path_factory):  # noqa: F811
    src = duckdb.connect(str(demo_db_path), read_only=True)
    dst = sqlite3.connect(str(tmp_path_factory.mktemp("rt3_sqlite") / "demo.sqlite"))
    for (table,) in src.execute("SELECT table_name FROM information_schema.tables").fetchall():
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


def conn_gov(dialect, qgov, duck, pg3):  # noqa: F811
    return pg3 if dialect == "postgres" else (duck, qgov)


def result(gov, conn, sql, who, dialect=None):
    """gov.execute's QueryResult (free text PII-masked), or None when denied / failed."""
    principal = who if isinstance(who, Principal) else gov.principal(who)
    try:
        return gov.execute(conn, sql, principal, dialect)
    except (QueryDenied, QueryFailed):
        return None


def executed(gov, conn, sql, who, dialect=None):
    r = result(gov, conn, sql, who, dialect)
    return None if r is None else r.rows


def text_of(rows) -> str:
    return "\n".join(repr(r) for r in rows or ())


def long_digits(text: str) -> list[str]:
    return LONG_DIGITS.findall(text)


# =========================================================================== FINDINGS

# --- HIGH 1: a star-expanded free-text column renamed or passed through a set operation

STAR_RENAMES = [
    "SELECT reverse(i) AS r FROM (SELECT * FROM support_tickets) AS x(a, b, c, d, e, f, g, h, i)",
    "WITH x(a, b, c, d, e, f, g, h, i) AS (SELECT * FROM support_tickets) SELECT reverse(i) AS r FROM x",
    "SELECT reverse(body) AS r FROM (SELECT * FROM support_tickets UNION ALL SELECT * FROM support_tickets WHERE false) u",
    "SELECT reverse(u.body) AS r FROM (SELECT * FROM support_tickets INTERSECT SELECT * FROM support_tickets) u",
    "WITH u AS (SELECT * FROM support_tickets UNION SELECT * FROM support_tickets) SELECT reverse(body) AS r FROM u",
    "SELECT reverse(l.i) AS r FROM support_tickets t, LATERAL (SELECT t.*) AS l(a, b, c, d, e, f, g, h, i)",
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("who", ["sam", "ada"])
@pytest.mark.parametrize("sql", STAR_RENAMES)
def test_star_renamed_free_text_is_not_computed_on(sql, who, dialect, qgov, duck, pg3):
    """HIGH. The opacity rule follows a column by name through `SELECT *`; a column alias list,
    a set operation or a LATERAL (SELECT t.*) hides that `i` / `body` is support_tickets.body,
    so reverse() runs on the raw text and the reversed card numbers pass the PII scan."""
    conn, gov = conn_gov(dialect, qgov, duck, pg3)
    rows = executed(gov, conn, sql, who, dialect)
    assert not long_digits(text_of(rows)), f"raw free text leaked: {long_digits(text_of(rows))[:3]}"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", [
    "SELECT a FROM (SELECT * FROM support_tickets) AS x(a, b, c, d, e, f, g, h, i) WHERE i LIKE '%4111%'",
    "SELECT id FROM (SELECT * FROM support_tickets UNION ALL SELECT * FROM support_tickets WHERE false) u WHERE body LIKE '%4111%'",
])
def test_star_renamed_free_text_probe_does_not_see_the_text(sql, dialect, qgov, free_text_worlds):
    """HIGH (probe form). A LIKE on the renamed raw body: the row count answered 'does a ticket hold 4111...'.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal("sam"))


# --- HIGH 2: DuckDB PIVOT / UNPIVOT subqueries are never column-checked

PIVOT_LEAKS = [
    "SELECT * FROM (PIVOT support_tickets ON body USING count(*) GROUP BY id)",
    "SELECT * FROM (PIVOT support_tickets ON body USING count(*))",
    "SELECT * FROM (PIVOT support_tickets ON reverse(body) USING count(*) GROUP BY id)",
    "SELECT * FROM (PIVOT support_tickets ON status USING max(reverse(body)) GROUP BY id)",
    "SELECT reverse(v) AS r FROM (SELECT * FROM (UNPIVOT support_tickets ON body, subject INTO NAME k VALUE v))",
]


@pytest.mark.parametrize("who", ["sam", "ada"])
@pytest.mark.parametrize("sql", PIVOT_LEAKS)
def test_duckdb_pivot_does_not_carry_free_text_out(sql, who, qgov, duck):
    """HIGH. Columns inside a PIVOT / UNPIVOT subquery are not checked at all (sqlglot's
    traverse_scope cannot enter them). PIVOT ON body makes each raw body a result *column name*:
    QueryResult.columns is not PII-scanned and is written to the audit trail (columns_shown)."""
    res = result(qgov, duck, sql, who)
    leaked = "" if res is None else "\n".join(res.columns) + "\n" + text_of(res.rows)
    assert not long_digits(leaked) and not SSN.search(leaked), f"raw free text leaked: {long_digits(leaked)[:3]}"


def test_duckdb_pivot_is_accounted_in_decision_columns(qgov):
    """HIGH (bookkeeping). A query that reads support_tickets.body must say so in decision.columns, or be denied."""
    decision = decide(qgov, "SELECT * FROM (PIVOT support_tickets ON body USING count(*) GROUP BY id)", "sam", "duckdb")
    assert not decision.allowed or "support_tickets.body" in decision.columns, decision.columns


def test_duckdb_pivot_does_not_write_raw_pii_to_audit(demo_db_path, tmp_path):  # noqa: F811
    """HIGH. The audit record of gov.execute lists columns_shown: with PIVOT ON body, raw PII."""
    from govern import Governor

    trail = tmp_path / "audit" / "trail.jsonl"
    gov = Governor.from_path(POLICIES, audit=trail, hash_key=TEST_HASH_KEY)
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        gov.execute(conn, "SELECT * FROM (PIVOT support_tickets ON body USING count(*) GROUP BY id)", gov.principal("sam"))
    except (QueryDenied, QueryFailed):
        pass
    finally:
        conn.close()
    audit = trail.read_text()
    assert "378282246310005" not in audit and not SSN.search(audit), "raw ticket PII written to the audit trail"


# --- MEDIUM: positional ORDER BY over a star sorts by the raw free text (extraction oracle)

@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", ["SELECT * FROM support_tickets ORDER BY 9", "SELECT t.* FROM support_tickets t ORDER BY 9, 1",
                                 "SELECT * FROM support_tickets UNION ALL SELECT * FROM support_tickets ORDER BY 9"])
def test_positional_order_over_star_does_not_sort_by_the_text(sql, dialect, qgov, free_text_worlds):
    """MEDIUM. Position 9 of support_tickets' star is body: the rows came back sorted by raw body.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal("sam"))


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_sort_oracle_cannot_extract_a_card_number(dialect, qgov, duck, pg3):
    """MEDIUM (end to end). Ticket 8 (sam's) starts 'My card 378282246310005 ...'; the result shows
    '[CARD]'. UNION ALL a guess row, ORDER BY 9, and see whether the guess sorts before ticket 8:
    a binary search per character recovers the raw number (about 100 queries)."""
    conn, gov = conn_gov(dialect, qgov, duck, pg3)

    def guess_sorts_first(prefix: str) -> bool | None:
        literal = "'" + prefix.replace("'", "''") + "'"
        sql = (f"SELECT * FROM support_tickets UNION ALL "
               f"SELECT -1, 0, 0, 'x', NULL, 'x', 'x', 'x', {literal} ORDER BY 9, 1")
        rows = executed(gov, conn, sql, "sam", dialect)
        if rows is None:
            return None
        ids = [r[0] for r in rows]
        return ids.index(-1) < ids.index(8)

    alphabet = sorted(set(string.digits + string.ascii_letters + " "))
    prefix = "My card "
    for _ in range(15):
        lo, hi = 0, len(alphabet) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            answer = guess_sorts_first(prefix + alphabet[mid])
            if answer is None:
                return  # denied: held
            lo, hi = (mid, hi) if answer else (lo, mid - 1)
        prefix += alphabet[lo]
    assert "378282246310005" not in prefix, f"extracted {prefix!r}"


# --- LOW: exact-match probes on the raw free text

@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("sql", [
    "SELECT x.id FROM support_tickets x NATURAL JOIN (SELECT CAST('guess' AS VARCHAR) AS body) g",
    "SELECT * FROM support_tickets t NATURAL JOIN support_tickets u",
    "SELECT body FROM support_tickets INTERSECT SELECT 'guess'",
    "SELECT body FROM support_tickets EXCEPT SELECT 'guess'",
    "SELECT body FROM support_tickets UNION SELECT 'guess'",
    "SELECT 1 WHERE (1, 2) IN (SELECT * FROM support_tickets)",
])
def test_free_text_exact_match_probes_do_not_see_the_text(sql, dialect, qgov, free_text_worlds):
    """LOW. Each compared the raw body with a value the query supplies (NATURAL JOIN joins on every
    common column incl. body; set operations and row IN compare whole rows): membership of a guess.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal("sam"))


# --- LOW: a lone surrogate crashes check_sql / leaves an execution unaudited

@pytest.mark.parametrize("sql", ["SELECT '\ud800' AS x", "SELECT id FROM regions -- \udfff"])
def test_lone_surrogate_is_a_clean_denial(sql, qgov):
    """LOW. hashlib.sha256(sql.encode()) in the audit fields raises UnicodeEncodeError outside the
    pipeline's fail-closed try: check_sql raises instead of returning a decision."""
    decision = qgov.check_sql(sql, qgov.principal("eve"), dialect="duckdb")
    assert decision is not None


def test_lone_surrogate_execution_is_audited_or_not_run(demo_db_path, tmp_path):  # noqa: F811
    """LOW. gov.execute runs the governed SQL first and computes the audit fields afterwards: the
    query reaches the database, then the call raises and no audit record is written."""
    from govern import Governor

    trail = tmp_path / "audit" / "trail.jsonl"
    gov = Governor.from_path(POLICIES, audit=trail, hash_key=TEST_HASH_KEY)
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        gov.execute(conn, "SELECT id FROM regions -- \ud800", gov.principal("eve"))
    except (QueryDenied, QueryFailed):
        pass
    except UnicodeError:
        pytest.fail("execute ran the query and raised UnicodeEncodeError without an audit record")
    finally:
        conn.close()
    assert trail.exists() and trail.read_text().strip()


# --- LOW: unknown bare words accepted when a star-derived table is in scope

@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("word", ["user", "current_role"])
def test_server_state_bare_words_are_denied(word, dialect, qgov, pg3):
    """LOW. `SELECT current_user` is denied, but `user` / `current_role` parse as columns and pass as
    'maybe a column of the derived table' when a SELECT * source is in scope: the DB role name."""
    gov = pg3[1] if dialect == "postgres" else qgov
    assert not decide(gov, f"SELECT {word} AS v FROM (SELECT * FROM regions) x", "eve", dialect).allowed


def test_sqlite_dollar_parameter_is_denied(qgov):
    """LOW. In SQLite `$k` is a bind parameter; sqlglot parses it as a column, which passes next to a
    star-derived table. Today execution fails only because the binding count does not match."""
    assert not decide(qgov, "SELECT $k AS v FROM (SELECT * FROM regions) x", "ada", "sqlite").allowed


# =========================================================================== HELD

def test_held_plain_body_is_masked(qgov, duck):
    rows = executed(qgov, duck, "SELECT body FROM support_tickets", "sam")
    assert rows and not long_digits(text_of(rows))


@pytest.mark.parametrize("sql", [
    "SELECT reverse(b) FROM (SELECT * RENAME (body AS b) FROM support_tickets) x",
    "SELECT * FROM (PIVOT (SELECT id, status, body FROM support_tickets) ON status USING max(reverse(body)))",
    "SELECT * FROM (UNPIVOT (SELECT reverse(body) AS r, id FROM support_tickets) ON r INTO NAME k VALUE v)",
    "SELECT * FROM (SUMMARIZE customers)", "SELECT * FROM (DESCRIBE customers)", "SELECT * FROM customers UNPIVOT (v FOR k IN (name, email))",
])
def test_held_duckdb_constructs(sql, qgov):
    assert not decide(qgov, sql, "sam", "duckdb").allowed


@pytest.mark.parametrize("sql", [
    "SELECT * FROM support_tickets t ASOF JOIN support_tickets u ON t.id >= u.id AND reverse(t.body) IS NOT NULL",
    "SELECT * FROM support_tickets t SEMI JOIN support_tickets u ON t.id = u.id AND reverse(t.body) IS NOT NULL",
    "SELECT sum(1) FILTER (WHERE reverse(body) LIKE 'a') FROM support_tickets",
    "SELECT id FROM support_tickets t ORDER BY t", "SELECT count(DISTINCT t) FROM support_tickets t",
])
def test_held_duckdb_free_text_constructs(sql, qgov, free_text_worlds):
    """Denied while free text entered the query raw; now the body is a handle (see guard_oracle)."""
    assert_free_text_safe(free_text_worlds("duckdb"), sql, qgov.principal("sam"))


@pytest.mark.parametrize("sql", [
    "SELECT * FROM (PIVOT customers ON region USING count(*))", "SELECT * FROM customers POSITIONAL JOIN orders",
    "SELECT * FROM customers ASOF JOIN orders ON customers.id >= orders.customer_id", "SELECT (FROM customers SELECT count(*))",
    "SELECT * FROM customers USING SAMPLE 10",
])
def test_held_duckdb_sources_are_governed(sql, qgov, duck):
    rows = outcome(qgov, duck, sql, "eve", "duckdb")
    leaked = text_of(rows)
    assert not SSN.search(leaked) and "globex" not in leaked and "initech" not in leaked


# =========================================================================== FIXES KEEP UTILITY

@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM (SELECT id FROM regions) AS x(a) ORDER BY a", "SELECT id FROM regions ORDER BY id"),
    ("WITH x(a, b) AS (SELECT id, code FROM regions) SELECT b FROM x ORDER BY a", "SELECT code FROM regions ORDER BY id"),
    ("SELECT x.id FROM (SELECT * FROM regions) x ORDER BY 1", "SELECT id FROM regions ORDER BY id"),
])
def test_column_alias_lists_resolve(sql, expected, qgov, duck):
    """A derived table's column alias list names its columns (it was an 'unknown column' before)."""
    got = executed(qgov, duck, sql, "ada", "duckdb")
    assert got is not None and [tuple(r) for r in got] == duck.execute(expected).fetchall()


@pytest.mark.parametrize("sql, allowed", [
    ("SELECT * FROM support_tickets ORDER BY id", True),          # a star at the root, ordered by a key: fine
    ("SELECT body FROM support_tickets UNION ALL SELECT body FROM support_tickets", True),
    ("SELECT * FROM (SELECT * FROM support_tickets) x", True),      # body is a handle wherever it goes
    ("SELECT t.id FROM support_tickets t NATURAL JOIN (SELECT 1 AS id) k", True),  # a natural join on handles
    ("SELECT user AS v FROM regions", False),
])
def test_free_text_rules_are_precise(sql, allowed, qgov):
    decision = decide(qgov, sql, "sam", "duckdb")
    assert decision.allowed is allowed, decision.reasons
    if not allowed:
        assert decision.reasons and all(r for r in decision.reasons)
