"""govern.sql.implied: an entity-scope / FK semi-join the query's own join implies is dropped.

The property, judged by the databases themselves: for random queries joining the
demo bundle's governed tables (inner, LEFT, RIGHT, FULL, comma and CROSS joins, on
foreign keys or other columns, the equality alone, AND-ed or inside an OR, with or
without a predicate that is not leakproof, with or without grouping), for every demo
principal, the governed SQL returns the same rows with the rule as without it, on
DuckDB and on PostgreSQL. The demo data holds rows each semi-join hides (orders of
another tenant's customers, items of them), and a test below shows that dropping a
conjunct where the rule must not (R on the preserved side of an outer join) changes
the rows, so the family can fail. Then tests that the rule fires where it should and
not where it must not.
"""

from __future__ import annotations

import importlib
import re
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_HASH_KEY, connect_postgres_or_skip
from tests.corpus.conftest import corpus_duckdb, corpus_hash_key, corpus_pg  # noqa: F401  (fixtures)
from tests.demo_oracle import PRINCIPALS, DuckOracle, PgOracle, normalise

rewrite_pass = importlib.import_module("govern.sql.passes.rewrite")  # the package exports a function of that name
FAMILY = settings(max_examples=150, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# alias -> (table, a few columns every principal may read)
TABLES = {
    "c": ("customers", ["id", "region"]),
    "o": ("orders", ["id", "customer_id", "status"]),
    "i": ("order_items", ["id", "order_id", "product"]),
    "a": ("accounts", ["id", "customer_id"]),
    "t": ("support_tickets", ["id", "customer_id"]),
}
# foreign keys: (alias, column, alias, column)
KEYS = [("o", "customer_id", "c", "id"), ("i", "order_id", "o", "id"), ("a", "customer_id", "c", "id"),
        ("t", "customer_id", "c", "id")]
JOINS = ["JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", ",", "CROSS JOIN"]


@contextmanager
def rule_off():
    with mock.patch.object(rewrite_pass, "implied_by_joins", lambda *args: {}):
        yield


@st.composite
def joined_query(draw, tables=None, foreign_keys=None):
    TABLES = tables or globals()["TABLES"]
    KEYS = foreign_keys or globals()["KEYS"]
    aliases = draw(st.permutations(list(TABLES)))[:draw(st.integers(2, min(3, len(TABLES))))]
    parts = [f"{TABLES[aliases[0]][0]} AS {aliases[0]}"]
    where: list[str] = []
    for n, alias in enumerate(aliases[1:], start=1):
        earlier = aliases[:n]
        keys = [(x, xc, y, yc) for x, xc, y, yc in KEYS if {x, y} <= set(earlier) | {alias} and alias in (x, y)]
        if keys and draw(st.booleans()) or keys and draw(st.booleans()):
            x, xc, y, yc = draw(st.sampled_from(keys))
        else:
            other = draw(st.sampled_from(earlier))
            x, xc, y, yc = alias, TABLES[alias][1][0], other, TABLES[other][1][0]
        equality = draw(st.sampled_from([f"{x}.{xc} = {y}.{yc}", f"{y}.{yc} = {x}.{xc}"]))
        shape = draw(st.sampled_from(["alone", "alone", "and", "or"]))
        if shape == "and":
            equality = f"{equality} AND {alias}.{TABLES[alias][1][0]} > {literal(TABLES, alias, draw(st.integers(0, 40)))}"
        elif shape == "or":
            equality = f"({equality} OR {alias}.{TABLES[alias][1][0]} = {literal(TABLES, alias, draw(st.integers(1, 30)))})"
        kind = draw(st.sampled_from(JOINS))
        table = f"{TABLES[alias][0]} AS {alias}"
        if kind in (",", "CROSS JOIN"):
            parts.append(f"{kind} {table}" if kind == "CROSS JOIN" else f", {table}")
            where.append(equality)
        else:
            parts.append(f"{kind} {table} ON {equality}")
    columns = [f"{a}.{c}" for a in aliases for c in TABLES[a][1]]
    chosen = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=4, unique=True))
    extra = draw(st.sampled_from(["", "leakproof", "leaky", "leaky_select"]))
    first, last = f"{aliases[0]}.{TABLES[aliases[0]][1][0]}", f"{aliases[-1]}.{TABLES[aliases[-1]][1][0]}"
    if extra == "leakproof":
        where.append(f"{last} > {literal(TABLES, aliases[-1], draw(st.integers(0, 20)))}")
    elif extra == "leaky":  # a cast of a column: not leakproof (it fences every filtered relation)
        where.append(f"CAST({first} AS VARCHAR(40)) > '{draw(st.integers(0, 20))}'")
    elif extra == "leaky_select":  # not leakproof; in the outermost select list it may stay
        chosen.append(f"CAST({last} AS VARCHAR(40))")
    grouped = draw(st.booleans())
    items = chosen + (["COUNT(*)"] if grouped else [])
    sql = "SELECT " + ", ".join(items) + " FROM " + " ".join(parts)
    if where:
        sql += " WHERE " + " AND ".join(where)
    if grouped:
        sql += " GROUP BY " + ", ".join(str(n + 1) for n in range(len(chosen)))
    # every output column in ORDER BY: the first 1,000 rows (cap_rows) are the same rows both ways
    return sql + " ORDER BY " + ", ".join(str(n + 1) for n in range(len(items)))


def literal(tables, alias: str, number: int) -> str:
    """A constant of the type of the alias's first column (the corpus has text keys)."""
    return f"'{number}'" if len(tables[alias]) > 2 and tables[alias][2] == "text" else str(number)


def rows_both_ways(gov, engine, sql, dialect, principal):
    with_rule = gov.check_sql(sql, gov.principal(principal), dialect=dialect)
    with rule_off():
        without = gov.check_sql(sql, gov.principal(principal), dialect=dialect)
    assert with_rule.allowed == without.allowed, (sql, with_rule.reasons, without.reasons)
    if not with_rule.allowed:
        return None, None, with_rule, without
    return outcome(engine, with_rule), outcome(engine, without), with_rule, without


def outcome(engine, decision):
    """The rows, or the kind of error the engine raised (PostgreSQL plans no FULL JOIN on an OR)."""
    try:
        return normalise(engine.governed(decision))
    except Exception as err:  # the same query must fail the same way both ways
        return ("error", type(err).__name__)


def check_family(gov, engine, sql, dialect):
    for principal in PRINCIPALS:
        got, expected, with_rule, without = rows_both_ways(gov, engine, sql, dialect, principal)
        if got is None:
            continue
        assert got == expected, (
            f"{principal} on {dialect}: rows differ\nwith the rule: {with_rule.sql}\nwithout: {without.sql}")


@pytest.fixture(scope="module")
def duck(demo_db_path, tmp_path_factory):
    return DuckOracle(demo_db_path, tmp_path_factory.mktemp("duck_implied"), TEST_HASH_KEY)


@pytest.fixture(scope="module")
def pg(demo_db_path):
    conn = connect_postgres_or_skip(autocommit=True)
    yield PgOracle(conn, demo_db_path, TEST_HASH_KEY)
    conn.close()


@FAMILY
@given(sql=joined_query())
def test_duckdb_same_rows_with_and_without_the_rule(sql, quiet_gov, duck):
    check_family(quiet_gov, duck, sql, "duckdb")


@FAMILY
@given(sql=joined_query())
def test_postgres_same_rows_with_and_without_the_rule(sql, quiet_gov, pg):
    check_family(quiet_gov, pg, sql, "postgres")


# the corpus bundles with entity scopes: their member tables and foreign keys
CORPUS = {
    "car_dealership": ({"c": ("customers", ["id"]), "s": ("sales", ["id", "customer_id"]),
                        "p": ("payments_received", ["id", "sale_id"])},
                       [("s", "customer_id", "c", "id"), ("p", "sale_id", "s", "id")]),
    "broker": ({"c": ("sbcustomer", ["sbcustid"], "text"), "t": ("sbtransaction", ["sbtxid", "sbtxcustid"], "text")},
               [("t", "sbtxcustid", "c", "sbcustid")]),
}
corpus_cases = st.sampled_from(sorted(CORPUS)).flatmap(
    lambda db: st.tuples(st.just(db), joined_query(*CORPUS[db])))


def check_corpus(engine, db: str, sql: str) -> bool:
    from tests.corpus import harness

    gov = harness.governor(db)
    fired = False
    for pid in harness.principals(db):
        principal = harness.principal(db, pid)
        with_rule = gov.check_sql(sql, principal, dialect=engine.dialect)
        with rule_off():
            without = gov.check_sql(sql, principal, dialect=engine.dialect)
        assert with_rule.allowed == without.allowed, (sql, with_rule.reasons, without.reasons)
        if not with_rule.allowed:
            continue
        fired = fired or with_rule.sql != without.sql
        outcomes = []
        for decision in (with_rule, without):
            try:
                outcomes.append(normalise(engine.run_base(db, decision.sql, decision.params)))
            except Exception as err:  # noqa: BLE001 - the same failure both ways is the same outcome
                outcomes.append(("error", type(err).__name__))
        assert outcomes[0] == outcomes[1], (f"{db} {pid} on {engine.dialect}: rows differ\n"
                                            f"with the rule: {with_rule.sql}\nwithout: {without.sql}")
    return fired


@FAMILY
@given(case=corpus_cases)
def test_corpus_bundles_same_rows_with_and_without_the_rule_duckdb(case, corpus_duckdb):
    check_corpus(corpus_duckdb, *case)


@FAMILY
@given(case=corpus_cases)
def test_corpus_bundles_same_rows_with_and_without_the_rule_postgres(case, corpus_pg):
    check_corpus(corpus_pg, *case)


def test_the_family_fires(quiet_gov):
    """The generated queries do exercise the rule: it drops a conjunct in many of them."""
    fired = []

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(sql=joined_query())
    def collect(sql):
        for principal in ("eve", "lena"):
            d = quiet_gov.check_sql(sql, quiet_gov.principal(principal), dialect="postgres")
            with rule_off():
                e = quiet_gov.check_sql(sql, quiet_gov.principal(principal), dialect="postgres")
            fired.append(d.allowed and d.sql != e.sql)

    collect()
    print(f"fired {sum(fired)} of {len(fired)}")
    assert sum(fired) >= 10, f"the rule fired in {sum(fired)} of {len(fired)} generated cases"


def test_the_family_catches_a_wrong_drop(quiet_gov, duck):
    """With the rule made wrong (every join treated as inner, so a preserved side loses its
    conjunct too), the family finds rows that differ: it can fail."""
    implied = importlib.import_module("govern.sql.implied")

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(sql=joined_query())
    def family(sql):
        check_family(quiet_gov, duck, sql, "duckdb")

    with mock.patch.object(implied, "_kind", lambda join: "INNER"):
        with pytest.raises(AssertionError, match="rows differ"):
            family()


# ------------------------------------------------------------------ where it fires, where it must not

def governed_sql(gov, principal: str, sql: str, dialect: str = "postgres") -> str:
    decision = gov.check_sql(sql, gov.principal(principal), dialect=dialect)
    assert decision.allowed, decision.reasons
    return decision.sql


def relation_of(sql: str, alias: str) -> str:
    """The text of the governed relation named ``alias`` in governed SQL."""
    match = re.search(r"\(SELECT [^()]*?FROM \"main\"\.\"(\w+)\"(?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\) AS "
                      + alias + r"\b", sql)
    assert match, f"no relation {alias} in {sql}"
    return match.group(0)


BENCH_JOIN = ("SELECT c.name, o.id, i.product FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
              "JOIN order_items AS i ON i.order_id = o.id WHERE c.id = 50000")


@pytest.mark.parametrize("dialect", ["postgres", "duckdb", "sqlite", "mysql"])
def test_lenas_three_table_join_plans_three_relations(quiet_gov, dialect):
    sql = governed_sql(quiet_gov, "lena", BENCH_JOIN, dialect)
    assert sql.upper().count("SELECT") == 4, sql  # the query and three relations: no semi-join left
    assert "tenant" in sql  # her customers keep their own filter


def test_eves_join_keeps_what_the_join_does_not_imply(quiet_gov):
    sql = governed_sql(quiet_gov, "eve", BENCH_JOIN)
    orders, items = relation_of(sql, "o"), relation_of(sql, "i")
    assert "region" in orders and " IN " not in orders  # her region filter on orders is not a semi-join
    assert "WHERE" not in items  # items: the one semi-join, into orders she sees, is implied by i.order_id = o.id


@pytest.mark.parametrize("sql", [
    "SELECT o.id FROM customers AS c LEFT JOIN orders AS o ON o.customer_id = c.id",  # R the nullable side
    "SELECT o.id FROM orders AS o RIGHT JOIN customers AS c ON o.customer_id = c.id",
    "SELECT o.id FROM customers AS c, orders AS o WHERE o.customer_id = c.id",
    "SELECT o.id FROM customers AS c CROSS JOIN orders AS o WHERE c.id = o.customer_id ORDER BY o.id",
    "SELECT o.id, COUNT(*) FROM customers AS c JOIN orders AS o ON o.customer_id = c.id GROUP BY o.id",
    # the outermost select list, GROUP BY, ORDER BY run on the final rows: anything may stand there
    "SELECT o.id, SUM(o.total), MAX(c.id * 2) FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
    "GROUP BY o.id ORDER BY SUM(o.total) / 2",
    "SELECT o.id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id AND o.id > 3 LEFT JOIN accounts AS a "
    "ON a.customer_id = c.id",
])
def test_fires(quiet_gov, sql):
    assert "IN (" not in relation_of(governed_sql(quiet_gov, "lena", sql), "o")


@pytest.mark.parametrize("sql", [
    # R (orders) is the preserved side of an outer join
    "SELECT o.id FROM orders AS o LEFT JOIN customers AS c ON o.customer_id = c.id",
    "SELECT o.id FROM customers AS c RIGHT JOIN orders AS o ON o.customer_id = c.id",
    "SELECT o.id FROM orders AS o FULL JOIN customers AS c ON o.customer_id = c.id",
    # an inner join after an outer one: the equality in WHERE does not commute with the RIGHT join
    "SELECT o.id FROM customers AS c JOIN orders AS o ON TRUE RIGHT JOIN accounts AS a ON a.id = o.id "
    "WHERE o.customer_id = c.id",
    # the equality inside an OR, or under NOT
    "SELECT o.id FROM customers AS c JOIN orders AS o ON (o.customer_id = c.id OR o.id = 1)",
    "SELECT o.id FROM customers AS c JOIN orders AS o ON NOT (o.customer_id <> c.id)",
    # R fenced: a predicate that may raise anywhere in the query
    "SELECT o.id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id WHERE CAST(c.name AS INT) = 1",
    "SELECT o.id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id WHERE o.total / 0 > 1",
    # an expression that may raise reads R (PostgreSQL may evaluate it at R's scan under an outer join)
    "SELECT d.v FROM customers AS x LEFT JOIN (SELECT 1 / (o.total - 5) AS v FROM customers AS c "
    "JOIN orders AS o ON o.customer_id = c.id) AS d ON TRUE",
    # ... or any expression below the outermost select list that may raise, whatever it reads: it may
    # run below the join, or run or not depending on whether a join input is empty
    "SELECT count(*) FROM regions AS r LEFT JOIN (SELECT o.region, c.id * 2 AS v FROM customers AS c "
    "JOIN orders AS o ON o.customer_id = c.id) AS d ON d.region = r.code",
    "SELECT d.id FROM (SELECT o.id, SUM(o.total) AS s FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
    "GROUP BY o.id) AS d",
    "SELECT o.id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
    "UNION ALL SELECT e.id * 2 FROM employees AS e",
    # a scalar subquery reading R raises on more than one row: judged where it stands
    "SELECT count(*) FROM regions AS r LEFT JOIN (SELECT o.region, (SELECT e.id FROM employees AS e "
    "WHERE e.region = o.region) AS v FROM customers AS c JOIN orders AS o ON o.customer_id = c.id) AS d "
    "ON d.region = r.code",
    # the partner is another table (accounts, not customers), or a derived table / CTE over customers
    "SELECT o.id FROM accounts AS a JOIN orders AS o ON o.customer_id = a.customer_id",
    "SELECT o.id FROM (SELECT id FROM customers) AS c JOIN orders AS o ON o.customer_id = c.id",
    "WITH k AS (SELECT id FROM customers) SELECT o.id FROM k JOIN orders AS o ON o.customer_id = k.id",
    # the equality on another column than the semi-join's
    "SELECT o.id FROM customers AS c JOIN orders AS o ON o.id = c.id",
    # the equality correlated from an outer block, not in R's own block
    "SELECT c.id FROM customers AS c WHERE EXISTS (SELECT 1 FROM orders AS o, accounts AS a "
    "WHERE o.customer_id = c.id AND a.id = o.id)",
    # R read in a block without the join (a CTE read twice), the join outside it
    "WITH x AS (SELECT o.id, o.customer_id FROM orders AS o) SELECT x.id FROM x JOIN customers AS c "
    "ON x.customer_id = c.id UNION ALL SELECT x.id FROM x",
    # USING / NATURAL joins
    "SELECT o.id FROM customers AS c JOIN orders AS o USING (id)",
])
def test_does_not_fire(quiet_gov, sql):
    orders = relation_of(governed_sql(quiet_gov, "lena", sql), "o")
    assert "IN (SELECT customers.id FROM main.customers WHERE customers.tenant = 'globex')" in orders, orders


def test_a_partner_with_another_predicate_implies_nothing(quiet_gov):
    """The partner must be governed with (at least) the subquery's conditions: eve's orders
    ask for customers of her tenant and her book; lena's customers are only her tenant."""
    from dataclasses import replace

    from govern.sql.decision import SqlContext
    from govern.sql.implied import implied_conjuncts
    from govern.sql.passes import PASSES

    rewrite = rewrite_pass
    bundle = quiet_gov.bundle
    sql = "SELECT o.id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id"

    def context(principal):
        principal = quiet_gov.principal(principal)
        ctx = SqlContext(sql=sql, principal=principal, dialect="postgres", bundle=bundle,
                         roles=bundle.grants.expand_roles(tuple(principal.roles)))
        for step in PASSES[:PASSES.index(rewrite.rewrite)]:
            step(ctx)
        return ctx

    eve, lena = context("eve"), context("lena")
    needed = rewrite.columns_needed(eve)

    def facts(ctx, index):
        ref = ctx.references[index]
        template = rewrite.relation_template(ctx, ref.table)
        return replace(rewrite.governed_template(ctx, ref.table, template), read=needed[index], fenced=False)

    def implied(ctx, governed):  # no memo: the facts are mixed from two principals on purpose
        return implied_conjuncts(ctx.analysis, governed, ctx.judge, bundle.catalog, "postgres")

    assert implied(eve, [facts(eve, 0), facts(eve, 1)]) == {1: frozenset({1})}  # her own customers: implied
    assert implied(eve, [facts(lena, 0), facts(eve, 1)]) == {}  # lena's customers: not
    # the other way round the subquery asks for less than the partner holds: implied
    assert implied(lena, [facts(eve, 0), facts(lena, 1)]) == {1: frozenset({0})}


# ------------------------------------------------------------------ the error channel (tests/test_error_channel_worlds.py)

from tests.test_error_channel_worlds import (  # noqa: E402  (the worlds fixture and its probes)
    CUSTOMER_GUARDS, ENGINES, RAISING, assert_same_in_both_worlds, guards, two_worlds)

# Joins the rule acts on, with a raising expression {e} (or predicate {p}) guarded on a row of
# orders ({o}: true on a row hidden from eve in one world only, among them orders hidden only by
# the tenant semi-join the rule drops) or of customers ({c}). Where the expression reads orders,
# the conjunct must stay (or the relation be fenced); where it reads only customers, the rule
# fires and the expression must still never see a row of orders the semi-join hid.
JOIN = "customers c JOIN orders o ON o.customer_id = c.id"
JOINED_PLACES = {
    "select_o": "SELECT o.id, {eo} AS v FROM " + JOIN,
    "select_c": "SELECT o.id, {ec} AS v FROM " + JOIN,
    "order_o": "SELECT o.id FROM " + JOIN + " ORDER BY {eo}, o.id LIMIT 3",
    "order_c": "SELECT o.id FROM " + JOIN + " ORDER BY {ec}, o.id LIMIT 3",
    "where_o": "SELECT count(*) FROM " + JOIN + " WHERE {po}",
    "where_c": "SELECT count(*) FROM " + JOIN + " WHERE {pc}",
    "on_c": "SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id AND {pc}",
    "left_select_o": "SELECT c.id, {eo} AS v FROM customers c LEFT JOIN orders o ON o.customer_id = c.id",
    "left_on_c": "SELECT count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND {pc}",
    "outer_derived_o": ("SELECT count(*) FROM regions r LEFT JOIN (SELECT o.id, o.region, {eo} AS v FROM " + JOIN
                        + ") d ON d.region = r.code"),
    "outer_derived_c": ("SELECT count(*) FROM regions r LEFT JOIN (SELECT o.id, o.region, {ec} AS v FROM " + JOIN
                        + ") d ON d.region = r.code"),
    "grouped_o": "SELECT c.id, sum({eo}) FROM " + JOIN + " GROUP BY c.id",
    "grouped_c": "SELECT o.id, max({ec}) FROM " + JOIN + " GROUP BY o.id",
    "items_o": ("SELECT i.product, {eo} AS v FROM customers c JOIN orders o ON o.customer_id = c.id "
                "JOIN order_items i ON i.order_id = o.id"),
}


def compose_joined(worlds, engine: str, guard: int, raising: int, place: str) -> str:
    order_guard = guards(worlds)[guard % len(guards(worlds))].format(a="o")
    customer_guard = CUSTOMER_GUARDS[guard % len(CUSTOMER_GUARDS)].format(a="c")
    eo = RAISING[engine][raising % len(RAISING[engine])].format(g=order_guard)
    ec = RAISING[engine][raising % len(RAISING[engine])].format(g=customer_guard)
    return JOINED_PLACES[place].format(eo=eo, ec=ec, po=f"{eo} IS NOT NULL", pc=f"{ec} IS NOT NULL")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("place", sorted(JOINED_PLACES))
def test_hidden_rows_never_change_the_outcome_of_implied_joins(engine, place, two_worlds):
    """Every guard x every raising expression of the engine, in every place (exhaustive, not sampled)."""
    for raising in range(len(RAISING[engine])):
        for guard in range(len(guards(two_worlds))):
            assert_same_in_both_worlds(two_worlds, engine, compose_joined(two_worlds, engine, guard, raising, place))


@pytest.mark.parametrize("place", sorted(JOINED_PLACES))
def test_the_rule_fires_only_where_nothing_may_raise_on_orders(place, quiet_gov, two_worlds):
    sql = compose_joined(two_worlds, "postgres", 0, 1, place)
    orders = relation_of(governed_sql(quiet_gov, "eve", sql), "o")
    dropped = "account_manager_id" not in orders
    final = {"select_o", "select_c", "order_o", "order_c", "grouped_o", "grouped_c", "left_select_o", "items_o"}
    assert dropped == (place in final), orders


@pytest.mark.parametrize("engine", ENGINES)
def test_the_worlds_catch_a_rule_that_ignores_what_may_raise(engine, two_worlds):
    """With the error-channel conditions switched off (fenced relations and raising expressions
    allowed), some place of the family raises in one world only: the family can fail."""
    implied = importlib.import_module("govern.sql.implied")
    failures = 0
    with mock.patch.object(implied, "_safe", lambda governed: True), \
            mock.patch.object(implied, "_nothing_may_raise", lambda *args: True):
        for place in ("where_o", "on_c", "outer_derived_o", "outer_derived_c", "left_on_c"):
            for raising in range(len(RAISING[engine])):
                for guard in range(len(guards(two_worlds))):
                    try:
                        assert_same_in_both_worlds(two_worlds, engine,
                                                   compose_joined(two_worlds, engine, guard, raising, place))
                    except AssertionError:
                        failures += 1
    assert failures > 0


def test_the_corpus_family_fires(corpus_hash_key):
    """The rule does act on the corpus bundles' entity scopes in the generated joins."""
    from tests.corpus import harness

    fired = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(case=corpus_cases)
    def collect(case):
        db, sql = case
        gov = harness.governor(db)
        for pid in harness.principals(db):
            d = gov.check_sql(sql, harness.principal(db, pid), dialect="postgres")
            with rule_off():
                e = gov.check_sql(sql, harness.principal(db, pid), dialect="postgres")
            fired.append((db, d.allowed and d.sql != e.sql))

    collect()
    for db in CORPUS:
        assert sum(f for d, f in fired if d == db) >= 3, f"{db}: the rule fired {sum(f for d, f in fired if d == db)} times"
