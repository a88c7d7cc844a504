"""Generated families of queries for the SQL guard's guarantees, checked on the engines themselves.

Hypothesis composes a *source* through which a sensitive column is reached (the table
itself, a derived table, a column alias list, a CTE, a set operation, a recursive CTE,
UNNEST, LATERAL), a *use* of the column (as is, in a function, a predicate, a join
condition, an ordering, a grouping, an aggregate), a *place* for that use (select list,
WHERE, JOIN ON, ORDER BY + LIMIT, GROUP BY, HAVING, a correlated subquery 1-3 levels deep,
qualified or not, through VALUES and set operations), for each engine (DuckDB, PostgreSQL,
SQLite). Every generated query is checked against an oracle the database answers:

* **free text** (support_tickets.body, shown to sam as an opaque handle): the governed
  result is the same in two databases that differ only in free text, no raw card number,
  IBAN or SSN comes out of ``gov.execute``, and ``decision.columns`` lists the column;
* **a denied column** (customers.national_id for eve): the query is denied with a reason
  that names the column, wherever it is referenced, and nothing runs;
* **the error channel** (see test_error_channel_families): a predicate that raises only on
  rows eve may not see never raises, whether or not govern fences the relation.
"""

from __future__ import annotations

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard_oracle import assert_free_text_safe

ENGINES = ["duckdb", "postgres", "sqlite"]
FAMILY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Sources exposing (k, v) of a table, written in PostgreSQL; {t} is the table, {c} the column.
SOURCES = {
    "table": ("{t}", "id", "{c}"),
    "derived": ("(SELECT * FROM {t})", "id", "{c}"),
    "renamed": ("(SELECT id AS k, {c} AS v FROM {t})", "k", "v"),
    "alias_list": ("(SELECT id, {c} FROM {t}) AS s0(k, v)", "k", "v"),
    "cte": ("cte0", "id", "{c}"),
    "union": ("(SELECT id, {c} FROM {t} UNION ALL SELECT id, {c} FROM {t} WHERE id < 0)", "id", "{c}"),
    "recursive": ("rec0", "k", "v"),
    "unnest": ("(SELECT t0.id AS k, u0.v FROM {t} t0, unnest(ARRAY[t0.{c}]) AS u0(v))", "k", "v"),
    "lateral": ("(SELECT l0.k, l0.v FROM {t} t0, LATERAL (SELECT t0.id AS k, t0.{c} AS v) l0)", "k", "v"),
}
WITH = {
    "cte": "WITH cte0 AS (SELECT id, {c} FROM {t}) ",
    "recursive": "WITH RECURSIVE rec0(k, v, n) AS (SELECT id, {c}, 0 FROM {t} UNION ALL "
                 "SELECT k, v, n + 1 FROM rec0 WHERE n < 1) ",
}
NOT_ON = {"sqlite": {"unnest", "lateral", "alias_list"}}  # SQLite has no LATERAL, UNNEST or alias lists

TEXT_USES = ["{v}", "upper({v})", "length({v})", "substr({v}, 1, 4)", "{v} || 'x'",
             "CASE WHEN {v} LIKE '%4%' THEN 1 ELSE 0 END"]
TEXT_PREDICATES = ["{v} LIKE '%4%'", "length({v}) > 80", "{v} < 'M'", "{v} = 'guess'", "substr({v}, 1, 1) = 'P'",
                   "{v} IS NOT NULL AND {v} LIKE '%@%'"]
PLACES = ["select", "where", "join", "order", "group", "having", "correlated"]


def compose(source: str, use: str, predicate: str, place: str, depth: int, qualified: bool,
            table: str, column: str) -> str:
    """One query reading ``table.column`` through ``source`` and using it at ``place``."""
    text, key, value = SOURCES[source]
    relation = text.format(t=table, c=column)
    if " AS s0(" not in relation:
        relation += " AS s"
    else:
        relation = relation.replace(" AS s0(", " AS s(")
    value = value.format(c=column)
    v = f"s.{value}" if qualified or place in ("correlated", "join") else value
    k = f"s.{key}" if qualified or place in ("correlated", "join") else key
    used, pred = use.format(v=v), predicate.format(v=v)
    prefix = WITH.get(source, "").format(t=table, c=column)
    if place == "select":
        body = f"SELECT {k}, {used} AS x FROM {relation}"
    elif place == "where":
        body = f"SELECT {k} FROM {relation} WHERE {pred}"
    elif place == "join":
        body = f"SELECT {k}, r.code FROM {relation} JOIN regions r ON {pred}"
    elif place == "order":
        body = f"SELECT {k} FROM {relation} ORDER BY {used}, {k} LIMIT 5"
    elif place == "group":
        body = f"SELECT {used} AS x, count(*) AS n FROM {relation} GROUP BY {used}"
    elif place == "having":
        body = f"SELECT {k}, count(*) AS n FROM {relation} GROUP BY {k} HAVING max({used}) IS NOT NULL AND {pred.replace(v, 'max(' + v + ')')}"
    else:  # correlated, through 1-3 levels of VALUES / a set operation / a plain subquery
        inner = f"SELECT count(*) FROM regions r1 WHERE {pred}"
        for level in range(1, depth):
            wrapper = ["SELECT count(*) FROM (VALUES (1)) AS x{n}(one) WHERE EXISTS ({q})",
                       "SELECT count(*) FROM (SELECT 1 AS one UNION ALL SELECT 2) AS x{n} WHERE EXISTS ({q})",
                       "SELECT count(*) FROM regions r{n} WHERE EXISTS ({q})"][level % 3]
            inner = wrapper.format(n=level + 1, q=inner)
        body = f"SELECT {k}, ({inner}) AS x FROM {relation}"
    return prefix + body


def for_engine(sql: str, engine: str) -> str:
    if engine == "postgres":
        return sql
    return sqlglot.transpile(sql, read="postgres", write=engine)[0]


queries = st.builds(
    lambda source, use, predicate, place, depth, qualified: (source, use, predicate, place, depth, qualified),
    st.sampled_from(sorted(SOURCES)), st.sampled_from(TEXT_USES), st.sampled_from(TEXT_PREDICATES),
    st.sampled_from(PLACES), st.integers(1, 3), st.booleans(),
)


@pytest.mark.parametrize("engine", ENGINES)
@FAMILY_SETTINGS
@given(shape=queries)
def test_free_text_never_computed_on(engine, shape, free_text_worlds):
    source, use, predicate, place, depth, qualified = shape
    if source in NOT_ON.get(engine, ()):
        return
    worlds = free_text_worlds(engine)
    sql = for_engine(compose(source, use, predicate, place, depth, qualified, "support_tickets", "body"), engine)
    sam = worlds.a.gov.principal("sam")
    outcome = assert_free_text_safe(worlds, sql, sam)
    decision = worlds.a.gov.check_sql(sql, sam, dialect=engine)
    if decision.allowed:
        assert "support_tickets.body" in decision.columns, (sql, decision.columns)
    else:  # denied is safe, but it must say why
        assert decision.reasons and outcome[0] == "denied"


DENIED_USES = ["{v}", "upper({v})", "length({v})", "{v} || 'x'", "CASE WHEN {v} LIKE '0%' THEN 1 END"]
DENIED_PREDICATES = ["{v} LIKE '0%'", "{v} = '078-05-1120'", "length({v}) > 3", "{v} IS NOT NULL"]


@pytest.mark.parametrize("engine", ENGINES)
@FAMILY_SETTINGS
@given(shape=st.builds(lambda *a: a, st.sampled_from(sorted(SOURCES)), st.sampled_from(DENIED_USES),
                       st.sampled_from(DENIED_PREDICATES), st.sampled_from(PLACES), st.integers(1, 3), st.booleans()))
def test_denied_column_is_denied_by_name_everywhere(engine, shape, free_text_worlds):
    source, use, predicate, place, depth, qualified = shape
    if source in NOT_ON.get(engine, ()):
        return
    world = free_text_worlds(engine).a
    sql = for_engine(compose(source, use, predicate, place, depth, qualified, "customers", "national_id"), engine)
    decision = world.gov.check_sql(sql, world.gov.principal("eve"), dialect=engine)
    assert not decision.allowed, (sql, decision.sql)
    assert any("national_id" in reason for reason in decision.reasons), (sql, decision.reasons)


# --------------------------------------------------------------------------- the error channel

# A condition true on some rows eve may not see and on none she may: her rows' keys, read
# through govern itself, written out (computed once per engine). Rows hidden only by a
# semi-join (orders of customers that are not hers) are where unfenced plans leak.
HIDDEN_KEYS: dict[str, dict[str, str]] = {}


def hidden_condition(world, engine: str, table: str, alias: str) -> str:
    if engine not in HIDDEN_KEYS:
        eve = world.gov.principal("eve")
        keys = {}
        for name in ("customers", "orders"):
            rows = world.gov.execute(world.conn, f"SELECT id FROM {name}", eve, engine).rows
            keys[name] = ", ".join(str(r[0]) for r in sorted(rows)) or "0"
        HIDDEN_KEYS[engine] = keys
    return f"{alias}.id NOT IN ({HIDDEN_KEYS[engine][table]})"


RAISES = {  # an expression that raises exactly when its condition holds, per engine
    "postgres": ["CAST(CASE WHEN {c} THEN 'x' ELSE '1' END AS INTEGER) = 1",
                 "1 / (CASE WHEN {c} THEN 0 ELSE 1 END) = 1",
                 "(CASE WHEN {c} THEN 2147483647 ELSE 1 END) + 1 > 0"],  # integer overflow
    "duckdb": ["CAST(CASE WHEN {c} THEN 'x' ELSE '1' END AS INTEGER) = 1",
               "1 // (CASE WHEN {c} THEN 0 ELSE 1 END) = 1",
               "CASE WHEN {c} THEN error('hidden row') ELSE 1 END = 1",
               "(CASE WHEN {c} THEN 2147483647 ELSE 1 END) + 1 > 0"],  # INTEGER overflow
    "sqlite": ["abs(CASE WHEN {c} THEN -9223372036854775807 - 1 ELSE 1 END) > 0",
               "json_extract(CASE WHEN {c} THEN 'x' ELSE '{{}}' END, '$') IS NOT NULL"],
}
ERROR_PLACES = ["where", "where_and_key", "join_on", "join_other", "constant", "derived", "correlated", "having",
                "select", "exists", "implied"]
# Raise whenever evaluated at all: after `id = <a hidden key>` only a hidden row can reach them.
CONSTANT_RAISES = {"postgres": "1 / (SELECT 0) = 1", "duckdb": "error('hidden row') IS NULL",
                   "sqlite": "json_extract('x', '$') IS NULL"}
HIDDEN_ONE: dict[tuple[str, str], int] = {}


def a_hidden_key(world, engine: str, table: str) -> int:
    """A key of a row eve may not see but that only a semi-join of her filter hides."""
    if (engine, table) not in HIDDEN_ONE:
        visible = {r[0] for r in world.gov.execute(world.conn, f"SELECT id FROM {table}", world.gov.principal("eve"),
                                                   engine).rows}
        column = "region" if table == "orders" else "tenant"
        value = "EU" if table == "orders" else "acme"
        everyone = {r[0] for r in world.gov.execute(world.conn, f"SELECT id FROM {table} WHERE {column} = '{value}'",
                                                    world.gov.principal("ada"), engine).rows}
        HIDDEN_ONE[(engine, table)] = min(everyone - visible)
    return HIDDEN_ONE[(engine, table)]


def error_query(world, engine: str, table: str, raising: str, place: str, extra: bool) -> str:
    other = "orders" if table == "customers" else "customers"
    link = "o.customer_id = c.id"
    alias, other_alias = ("c", "o") if table == "customers" else ("o", "c")
    cond = hidden_condition(world, engine, table, alias)
    boom = raising.format(c=cond)
    key_filter = f" AND {alias}.id > 0" if extra else ""
    if place == "where":
        return f"SELECT count(*) FROM {table} {alias} WHERE {boom}{key_filter}"
    if place == "where_and_key":
        return f"SELECT {alias}.id FROM {table} {alias} WHERE {alias}.id = 7 AND {boom}"
    if place == "join_on":
        return f"SELECT count(*) FROM {table} {alias} JOIN {other} {other_alias} ON {link} AND {boom}{key_filter}"
    if place == "join_other":  # a join on the raising predicate alone (SQLite evaluated it on hidden rows)
        return f"SELECT count(*) FROM regions r JOIN {table} {alias} ON {boom}"
    if place == "constant":
        return (f"SELECT {alias}.id FROM {table} {alias} WHERE {alias}.id = {a_hidden_key(world, engine, table)} "
                f"AND {CONSTANT_RAISES[engine]}")
    if place == "derived":
        inner_cond = hidden_condition(world, engine, table, "d")
        inner = raising.format(c=inner_cond).rsplit("=", 1)[0].rsplit(">", 1)[0].strip()
        return (f"SELECT count(*) FROM (SELECT id, tenant, region, {inner} AS v FROM {table}) d "
                f"WHERE d.v IS NOT NULL{key_filter.replace(alias + '.', 'd.')}") if table == "customers" else (
                f"SELECT count(*) FROM (SELECT id, region, {inner} AS v FROM {table}) d WHERE d.v IS NOT NULL")
    if place == "correlated":
        return (f"SELECT count(*) FROM regions r WHERE EXISTS (SELECT 1 FROM {table} {alias} "
                f"WHERE {alias}.region = r.code AND {boom})")
    if place == "having":  # HAVING on the grouping key, without aggregates: planners move it into WHERE
        return f"SELECT {alias}.id, count(*) FROM {table} {alias} GROUP BY {alias}.id HAVING {boom}"
    if place == "implied":  # a partly pushed plan: the key reaches the fenced relation through the join
        key = a_hidden_key(world, engine, "customers")
        return (f"SELECT {alias}.id FROM orders o JOIN customers c ON o.customer_id = c.id "
                f"WHERE c.id = {key} AND {boom}")
    if place == "exists":
        return f"SELECT count(*) FROM {other} {other_alias} WHERE EXISTS (SELECT 1 FROM {table} {alias} WHERE {link} AND {boom})"
    # the select list runs after every filter: no fence is needed, and nothing may raise either
    expression = boom.rsplit("=", 1)[0].rsplit(">", 1)[0].rsplit(" IS NOT", 1)[0].strip()
    return f"SELECT {alias}.id, {expression} AS v FROM {table} {alias}"


@pytest.mark.parametrize("engine", ENGINES)
@settings(FAMILY_SETTINGS, max_examples=80)
@given(shape=st.builds(lambda *a: a, st.sampled_from(["customers", "orders"]), st.integers(0, 3),
                       st.sampled_from(ERROR_PLACES), st.booleans()))
def test_error_channel_families(engine, shape, free_text_worlds):
    """A predicate that raises only on rows eve may not see never raises for eve: govern either
    fences the relation (the row filter runs first) or proved every predicate leakproof.

    The oracle: the same query, ungoverned, on a copy of the data that holds only eve's rows.
    An error there (a constant the engine evaluates once, before any row) is not a leak; an
    error only on the governed database means a hidden row was evaluated."""
    from govern.errors import QueryDenied, QueryFailed
    from tests.guard_oracle import raises

    table, which, place, extra = shape
    raising = RAISES[engine][which % len(RAISES[engine])]
    world = free_text_worlds(engine).a
    sql = error_query(world, engine, table, raising, place, extra)
    eve = world.gov.principal("eve")
    try:
        world.gov.execute(world.conn, sql, eve, engine)
    except QueryDenied:
        pass  # denied is not a leak
    except QueryFailed as err:
        if engine == "postgres":
            world.conn.rollback()
        if raises(free_text_worlds.visible_only(engine, eve), sql) is None:
            raise AssertionError(f"{sql!r} raised for eve on {engine} but not on her rows alone: hidden rows "
                                 f"were evaluated ({err})") from None


def test_error_probes_raise_on_the_unfenced_plan(free_text_worlds):
    """The family's probes do reach hidden rows when nothing stops them: run on the base tables
    with eve's filter written into the same WHERE (no fence), PostgreSQL raises."""
    world = free_text_worlds("postgres").a
    conn = world.conn
    schema = world.gov.bundle.catalog.table("customers").schema
    for raising in RAISES["postgres"]:
        probe = raising.format(c="c.tenant <> 'acme'")
        with pytest.raises(Exception):
            conn.execute(f"SELECT count(*) FROM {schema}.customers c WHERE {probe} AND c.region = 'EU'").fetchall()
        conn.rollback()


@pytest.mark.parametrize("engine", ENGINES)
def test_fence_only_where_a_predicate_can_leak(engine, free_text_worlds):
    world = free_text_worlds(engine).a
    gov, eve = world.gov, world.gov.principal("eve")
    fence = {"postgres": "OFFSET 0", "duckdb": "MATERIALIZED", "sqlite": "LIMIT -1 OFFSET 0"}[engine]
    plain = gov.check_sql("SELECT * FROM orders WHERE id = 7 AND status = 'open'", eve, dialect=engine)
    assert plain.allowed and fence not in plain.sql
    raising = RAISES[engine][0].format(c="o.region <> 'EU'")
    leaky = gov.check_sql(f"SELECT o.id FROM orders o JOIN customers c ON o.customer_id = c.id "
                          f"WHERE c.id = 7 AND {raising}", eve, dialect=engine)
    # A predicate that may raise fences every filtered relation, not only orders (which it reads):
    # whether it runs at all may depend on customers' rows before their filter (round 6, finding 6).
    assert leaky.allowed and leaky.sql.count(fence) == 2, leaky.sql
    # inside the fences: the constant and the one implied through the join equality, so key indexes are usable
    assert '"customers"."id" = 7' in leaky.sql, leaky.sql

    assert '"orders"."customer_id" = 7' in leaky.sql, leaky.sql
    auditor = gov.check_sql("SELECT * FROM orders o WHERE o.total / o.id > 1", gov.principal("ada"), dialect=engine)
    assert auditor.allowed and fence not in auditor.sql  # nothing hidden from the auditor: no fence


USING_SHAPES = [
    "SELECT count(*) FROM (SELECT tenant AS k FROM customers) a JOIN (SELECT id AS k FROM orders) b USING (k)",
    "SELECT (SELECT count(*) FROM (SELECT tenant AS k FROM customers) a JOIN (SELECT id AS k FROM orders) b "
    "USING (k)) AS n FROM regions",
    "WITH x AS (SELECT count(*) AS n FROM (SELECT tenant AS k FROM customers) a "
    "JOIN (SELECT id AS k FROM orders) b USING (k)) SELECT n FROM x, (SELECT 1 AS q) z",
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("sql", USING_SHAPES)
def test_a_using_join_across_type_families_fences_in_every_block(engine, sql, free_text_worlds):
    """USING / NATURAL compares the two columns (with an implicit cast across type families): that
    comparison can raise, so both sides are fenced, in whichever block the join stands, even when
    the query has no other predicate (it was once checked only in the last block, and only when
    some other predicate was leaky)."""
    world = free_text_worlds(engine).a
    fence = {"postgres": "OFFSET 0", "duckdb": "MATERIALIZED", "sqlite": "LIMIT -1 OFFSET 0"}[engine]
    decision = world.gov.check_sql(sql, world.gov.principal("eve"), dialect=engine)
    assert not decision.allowed or decision.sql.count(fence) == 2, decision.sql
