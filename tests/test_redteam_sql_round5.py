"""Red-team round 5 reproducers for the SQL governor: every test asserts the SAFE behaviour.

A failing test is a live finding; a passing test is an attack that held. Rounds 1-4:
tests/test_redteam_sql*.py, tests/test_sql_adversarial.py (fixtures reused). Round 5 attacked
the round 3-4 free-text fixes (root-only stars, no positional ORDER/GROUP BY over free text,
no comparing set operations, alias lists, qualifiers, server-state functions).

Findings (fail until fixed):
  * HIGH    Parenthesized output positions: `ORDER BY (9)` / `ORDER BY ((9))` / `GROUP BY (9)` are
            positional on DuckDB, PostgreSQL and SQLite (their parsers drop the parentheses), but
            sqlglot keeps a Paren node, so _reuses_by_position / _opaque_output_reuse (which look
            for a bare Literal) miss them. SQLite also treats `ORDER BY 9 COLLATE NOCASE` as
            positional. With UNION ALL a guess row this is the round-3 sort oracle again: the raw
            card number 378282246310005 in ticket 8 is extracted in 90 queries by sam on all
            three engines (tara / ada / eve-on-subject alike). Same for an explicit root
            `SELECT id, body ... ORDER BY (2)`.
  * HIGH    Set-operation ORDER BY by the *first arm's* output name when the free text sits in a
            later arm: `SELECT -1 AS id, 'guess' AS k UNION ALL SELECT id, body FROM support_tickets
            ORDER BY k, id` (or a root `SELECT * FROM support_tickets` as the second arm). The name
            k resolves to no base column and _opaque_output_reuse only matches the free-text
            column's own name, so the rows are sorted by raw body: same 90-query extraction on all
            three engines. DuckDB also accepts expressions there: `ORDER BY k LIKE '%3782...%' DESC
            LIMIT 1` is a one-query substring probe; DuckDB `UNION ALL BY NAME` + `ORDER BY body`
            with the star on the left arm is allowed too.
  * LOW     (false denial) A derived-table alias list with fewer names than columns hides the
            remaining names: `SELECT code FROM (SELECT * FROM regions) x(a)` is denied as an
            unknown column; DuckDB and PostgreSQL keep the unnamed columns' names.
"""

from __future__ import annotations

import string

import pytest

from govern.errors import QueryDenied, QueryFailed
from tests.conftest import POLICIES, TEST_HASH_KEY, demo_db_path  # noqa: F401
from tests.test_redteam_sql import decide, duck, governed_postgres, qgov, sqlite_demo  # noqa: F401
from tests.guard_oracle import assert_free_text_safe

PG_SCHEMA = "rt5"
CARD = "378282246310005"  # in ticket 8 (sam's, NA); the masked result shows [CARD]
TS = "CAST(NULL AS TIMESTAMP)"


@pytest.fixture(scope="module")
def pg5(demo_db_path, tmp_path_factory):  # noqa: F811
    """(connection, governor) with the demo loaded into schema rt5 and a bundle pointing at it."""
    yield from governed_postgres(PG_SCHEMA, demo_db_path, tmp_path_factory)


def gov_for(dialect, qgov, pg5):  # noqa: F811
    return pg5[1] if dialect == "postgres" else qgov


def conn_gov(dialect, qgov, duck, pg5, sqlite_demo):  # noqa: F811
    if dialect == "postgres":
        return pg5
    return (sqlite_demo if dialect == "sqlite" else duck), qgov


def extract(gov, conn, dialect, template, who="sam", digits=15):
    """Binary-search ticket 8's raw body through a sort: True when the guess row (-1) sorts first."""
    def guess_sorts_first(prefix):
        literal = "'" + prefix.replace("'", "''") + "'"
        try:
            rows = gov.execute(conn, template.format(lit=literal), gov.principal(who), dialect).rows
        except (QueryDenied, QueryFailed):
            return None
        ids = [r[0] for r in rows]
        return ids.index(-1) < ids.index(8)

    alphabet = sorted(set(string.digits + string.ascii_letters + " "))
    prefix = "My card "
    for _ in range(digits):
        lo, hi = 0, len(alphabet) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            answer = guess_sorts_first(prefix + alphabet[mid])
            if answer is None:
                return prefix  # denied: held
            lo, hi = (mid, hi) if answer else (lo, mid - 1)
        prefix += alphabet[lo]
    return prefix


# =========================================================================== FINDINGS

# --- HIGH 1: parenthesized output positions are still positions

PAREN_POSITIONS = [
    ("sam", "SELECT * FROM support_tickets ORDER BY (9)"),
    ("sam", "SELECT * FROM support_tickets ORDER BY ((9)), id"),
    ("sam", "SELECT t.* FROM support_tickets t ORDER BY (9) DESC"),
    ("sam", "SELECT id, body FROM support_tickets ORDER BY (2)"),
    ("sam", "SELECT id, body AS b FROM support_tickets ORDER BY (2)"),
    ("sam", f"SELECT * FROM support_tickets UNION ALL SELECT -1, 0, 0, 'x', {TS}, 'x', 'x', 'x', 'guess' ORDER BY (9), (1)"),
    ("ada", "SELECT * FROM support_tickets ORDER BY (9)"),
    ("tara", "SELECT * FROM support_tickets ORDER BY (9)"),
    ("eve", "SELECT * FROM support_tickets ORDER BY (8)"),   # eve: body denied, subject (8th) free text
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("who, sql", PAREN_POSITIONS)
def test_parenthesized_position_over_free_text_does_not_sort_by_it(who, sql, dialect, qgov, free_text_worlds):
    """HIGH. `(9)` is output position 9 on all three engines (parentheses are dropped by their
    parsers); sqlglot keeps Paren(Literal 9), which the positional checks did not look through.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal(who))


@pytest.mark.parametrize("dialect, sql", [
    ("duckdb", "SELECT * FROM support_tickets GROUP BY (1), (2), (3), (4), (5), (6), (7), (8), (9)"),
    ("sqlite", "SELECT * FROM support_tickets GROUP BY (9)"),
    ("sqlite", "SELECT * FROM support_tickets ORDER BY 9 COLLATE NOCASE, id"),  # SQLite: positional too
])
def test_other_position_spellings_over_free_text_do_not_see_it(dialect, sql, qgov, free_text_worlds):
    """HIGH (same root cause). GROUP BY (n) grouped by the raw text; SQLite skips COLLATE when it
    looks for an output position.
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal("sam"))


# --- HIGH 2: a set operation's ORDER BY names the first arm's column; free text in a later arm

SET_OP_ORDER = [
    ("sam", "duckdb postgres sqlite", "SELECT -1 AS id, 'guess' AS k UNION ALL SELECT id, body FROM support_tickets ORDER BY k, id"),
    ("sam", "duckdb postgres sqlite", "(SELECT -1 AS id, 'guess' AS k) UNION ALL (SELECT id, body FROM support_tickets) ORDER BY k"),
    ("sam", "duckdb postgres sqlite",
     f"SELECT -1 AS id, 0 AS c, 0 AS a, 'x' AS r, {TS} AS o, 'x' AS s, 'x' AS p, 'x' AS sj, 'guess' AS k "
     "UNION ALL SELECT * FROM support_tickets ORDER BY k, id"),
    ("ada", "duckdb postgres sqlite", "SELECT -1 AS id, 'guess' AS k UNION ALL SELECT id, body FROM support_tickets ORDER BY k"),
    ("eve", "duckdb postgres sqlite", "SELECT -1 AS id, 'guess' AS k UNION ALL SELECT id, subject FROM support_tickets ORDER BY k"),
    ("sam", "duckdb", f"SELECT -1 AS id, '{'x'}' AS k UNION ALL SELECT id, body FROM support_tickets "
                      f"ORDER BY k LIKE '%{CARD}%' DESC, id LIMIT 1"),
    ("sam", "duckdb", "SELECT * FROM support_tickets UNION ALL BY NAME SELECT 'guess' AS body, -1 AS id ORDER BY body, id"),
]


@pytest.mark.parametrize("who, dialect, sql", [(who, dialect, sql) for who, dialects, sql in SET_OP_ORDER
                                               for dialect in dialects.split()])  # where the database takes the spelling
def test_set_operation_order_by_over_free_text_does_not_sort_by_it(who, sql, dialect, qgov, free_text_worlds):
    """HIGH. ORDER BY k sorted the union by the raw body of the second arm (k is only the first arm's
    name for that output column); DuckDB even allows predicates on it (one-query substring probe).
    Since free text became opaque handles in the query (govern.sql.handles) the construct is
    allowed; what must hold is that the answer does not depend on the raw text (two worlds that
    differ only in free text give the same governed result) and that no raw value comes out.
    """
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal(who))


# --- HIGH end to end: the raw card number is extracted through either gap

ORACLES = {
    "paren-position": f"SELECT * FROM support_tickets UNION ALL SELECT -1, 0, 0, 'x', {TS}, 'x', 'x', 'x', {{lit}} ORDER BY (9), (1)",
    "first-arm-name": "SELECT -1 AS id, {lit} AS k UNION ALL SELECT id, body FROM support_tickets ORDER BY k, id",
    "first-arm-name-star": (f"SELECT -1 AS id, 0 AS c, 0 AS a, 'x' AS r, {TS} AS o, 'x' AS s, 'x' AS p, 'x' AS sj, {{lit}} AS k "
                            "UNION ALL SELECT * FROM support_tickets ORDER BY k, id"),
}


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("oracle", sorted(ORACLES))
def test_sort_oracle_cannot_extract_a_card_number(oracle, dialect, qgov, duck, pg5, sqlite_demo):
    """HIGH (end to end). Today each oracle recovers 'My card 378282246310005' in 90 queries."""
    conn, gov = conn_gov(dialect, qgov, duck, pg5, sqlite_demo)
    prefix = extract(gov, conn, dialect, ORACLES[oracle])
    assert CARD not in prefix, f"extracted {prefix!r}"


# --- LOW (false denial): fewer alias-list names than columns

@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_short_alias_list_keeps_other_column_names(dialect, qgov, duck, pg5):
    """LOW (utility). DuckDB and PostgreSQL name the columns an alias list does not cover by their
    own names; govern denies `code` as an unknown column."""
    decision = decide(gov_for(dialect, qgov, pg5), "SELECT a, code FROM (SELECT * FROM regions) x(a)", "ada", dialect)
    assert decision.allowed, decision.reasons


# =========================================================================== HELD (regression guards)

@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("who, sql", [
    ("sam", "SELECT * FROM support_tickets ORDER BY 9.0"),
    ("sam", "SELECT * FROM support_tickets ORDER BY +9"),
    ("sam", "SELECT * FROM support_tickets UNION ALL SELECT -1, 0, 0, 'x', NULL, 'x', 'x', 'x', 'g' ORDER BY body"),
    ("sam", "SELECT instr(\"BODY\", '3782') AS i FROM support_tickets"),
    ("sam", "SELECT id FROM support_tickets ORDER BY \"Body\""),
    ("sam", "SELECT reverse(main.support_tickets.body) AS r FROM main.support_tickets"),
])
def test_held_round5_free_text(who, sql, dialect, qgov, free_text_worlds):
    """Denied while free text entered the query raw; now the body is a handle: whatever the query
    computes, it does not depend on the raw text and shows no raw value."""
    if dialect == "postgres":
        sql = sql.replace("main.", "")  # the two PostgreSQL worlds are two schemas
    assert_free_text_safe(free_text_worlds(dialect), sql, qgov.principal(who))


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
@pytest.mark.parametrize("who, sql", [("ada", "SELECT current_catalog"), ("ada", "SELECT session_user"),
                                      ("ada", "SELECT current_query()")])
def test_held_round5(who, sql, dialect, qgov, pg5):
    assert not decide(gov_for(dialect, qgov, pg5), sql, who, dialect).allowed


@pytest.mark.parametrize("sql", ["SELECT * REPLACE (reverse(body) AS body) FROM support_tickets",
                                 "SELECT * EXCLUDE (id) FROM support_tickets ORDER BY 8",
                                 "SELECT * FROM support_tickets ORDER BY ALL DESC"])
def test_held_duckdb_star_modifiers(sql, qgov, free_text_worlds):
    assert_free_text_safe(free_text_worlds("duckdb"), sql, qgov.principal("sam"))


def test_held_recursive_cte_alias_list_works(qgov, duck):
    decision = decide(qgov, "WITH RECURSIVE r(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM r WHERE a < 3) SELECT a FROM r", "ada", "duckdb")
    assert decision.allowed, decision.reasons
