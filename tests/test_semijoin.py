"""govern.sql.semijoin: a row predicate's semi-joins combined, judged by the database itself.

Hypothesis composes predicates of the shape row filters and entity scopes take
(``x IN (SELECT k FROM T WHERE ...)`` into a primary key or not, a join inside the
subquery, nested semi-joins, OR-ed and negated ones, several on one column) over
the demo catalog; DuckDB evaluates the predicate as written and as simplified on
the demo database, and the rows must be the same. Simplification must also never
add a relation, and must combine the ones it is meant to.
"""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from govern.bundle import load_bundle
from govern.sql.semijoin import simplify_semijoins
from tests.conftest import POLICIES

CATALOG = load_bundle(POLICIES).catalog

# (outer table, its column, target table, target column): semi-joins a row filter could write
LINKS = [
    ("orders", "customer_id", "customers", "id"),
    ("accounts", "customer_id", "customers", "id"),
    ("support_tickets", "customer_id", "customers", "id"),
    ("order_items", "order_id", "orders", "id"),
    ("orders", "customer_id", "accounts", "customer_id"),  # not a key of accounts: never merged
    ("customers", "id", "assignments", "customer_id"),  # part of a composite key: never merged
]
CONDITIONS = {
    "customers": ["{a}.region = 'EU'", "{a}.tenant = 'acme'", "{a}.account_manager_id = 1", "{a}.id < 150",
                  "{a}.segment <> 'smb'", "{a}.id IN (SELECT customer_id FROM main.assignments WHERE agent_id = 22)"],
    "orders": ["{a}.region = 'EU'", "{a}.status = 'delivered'", "{a}.id % 3 = 0", "{a}.total > 500",
               "{a}.customer_id IN (SELECT id FROM main.customers WHERE tenant = 'acme')",
               "{a}.customer_id IN (SELECT k.id FROM main.customers AS k WHERE k.account_manager_id = 1)"],
    "accounts": ["{a}.status = 'active'", "{a}.region = 'NA'", "{a}.balance > 1000"],
    "assignments": ["{a}.agent_id = 22", "{a}.agent_id IN (21, 25)"],
}
JOINS = {  # a join inside the subquery (the demo's tenant rules)
    "orders": "SELECT o.id FROM main.orders AS o JOIN main.customers AS c ON c.id = o.customer_id WHERE {w}",
}
JOIN_CONDITIONS = ["c.tenant = 'acme'", "o.region = 'EU' AND c.tenant = 'globex'", "c.region = o.region",
                   "c.account_manager_id = 1 AND o.status <> 'cancelled'"]


@st.composite
def semijoin(draw, outer: str):
    links = [link for link in LINKS if link[0] == outer]
    _, column, target, key = draw(st.sampled_from(links))
    alias = draw(st.sampled_from([None, "t", target]))
    name = alias or target
    if target in JOINS and draw(st.booleans()):
        body = JOINS[target].format(w=draw(st.sampled_from(JOIN_CONDITIONS)))
    else:
        conditions = draw(st.lists(st.sampled_from(CONDITIONS[target]), min_size=0, max_size=2))
        qualified = draw(st.booleans())
        parts = [c.format(a=name) if qualified else c.format(a=name).replace(f"{name}.", "", 1) for c in conditions]
        where = f" WHERE {' AND '.join(parts)}" if parts else ""
        selected = f"{name}.{key}" if qualified else key
        body = f"SELECT {selected} FROM main.{target}{f' AS {alias}' if alias else ''}{where}"
    return f'"{outer}"."{column}" IN ({body})'


@st.composite
def predicate(draw):
    outer = draw(st.sampled_from(["orders", "accounts", "support_tickets", "order_items", "customers"]))
    conjuncts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["in", "in", "in", "or", "not", "plain"]))
        if kind == "in":
            conjuncts.append(draw(semijoin(outer)))
        elif kind == "or":
            conjuncts.append(f"({draw(semijoin(outer))} OR {draw(semijoin(outer))})")
        elif kind == "not":
            conjuncts.append(f"NOT ({draw(semijoin(outer))})")
        else:
            conjuncts.append(f'"{outer}"."id" % 2 = 0')
    return outer, " AND ".join(conjuncts)


@pytest.fixture(scope="module")
def demo(demo_db_path):
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    yield conn
    conn.close()


def rows(conn, outer: str, condition: exp.Expression) -> list:
    sql = f'SELECT "{outer}"."id" FROM "main"."{outer}" WHERE {condition.sql(dialect="duckdb")} ORDER BY 1'
    return conn.execute(sql).fetchall()


def subqueries(node: exp.Expression) -> int:
    return sum(1 for _ in node.find_all(exp.Select))


def relations(node: exp.Expression) -> int:
    return sum(1 for _ in node.find_all(exp.Table))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=predicate())
def test_simplified_predicate_selects_the_same_rows(case, demo):
    outer, text = case
    original = sqlglot.parse_one(text, read="postgres")
    before = original.sql()
    simplified = simplify_semijoins(original, CATALOG)
    assert original.sql() == before  # the argument is not changed
    assert relations(simplified) <= relations(original)
    assert rows(demo, outer, simplified) == rows(demo, outer, original), simplified.sql()


def test_semi_joins_into_one_key_become_one():
    text = ('"order_items"."order_id" IN (SELECT id FROM main.orders WHERE region = \'EU\') AND '
            '"order_items"."order_id" IN (SELECT o.id FROM main.orders AS o JOIN main.customers AS c ON '
            'c.id = o.customer_id WHERE c.tenant = \'acme\') AND "order_items"."order_id" IN (SELECT "orders"."id" '
            'FROM "main"."orders" WHERE "orders"."customer_id" IN (SELECT "customers"."id" FROM "main"."customers" '
            'WHERE "customers"."account_manager_id" = 1))')
    simplified = simplify_semijoins(sqlglot.parse_one(text, read="postgres"), CATALOG)
    assert subqueries(simplified) == 2  # one into orders, one into customers inside it
    assert isinstance(simplified, exp.In)


@pytest.mark.parametrize("text", [
    # not the key of the subquery's table: two rows may each satisfy one condition
    '"orders"."customer_id" IN (SELECT customer_id FROM main.accounts WHERE status = \'active\') AND '
    '"orders"."customer_id" IN (SELECT customer_id FROM main.accounts WHERE region = \'NA\')',
    # OR-ed and negated semi-joins stay as written
    '"orders"."customer_id" IN (SELECT id FROM main.customers WHERE tenant = \'acme\') OR '
    '"orders"."customer_id" IN (SELECT id FROM main.customers WHERE region = \'EU\')',
    'NOT "orders"."customer_id" IN (SELECT id FROM main.customers WHERE tenant = \'acme\') AND '
    '"orders"."customer_id" IN (SELECT id FROM main.customers WHERE region = \'EU\')',
    # a correlated name (not a column of the subquery's table): not certain, left alone
    '"orders"."customer_id" IN (SELECT id FROM main.customers WHERE region = orders.region) AND '
    '"orders"."customer_id" IN (SELECT id FROM main.customers WHERE tenant = \'acme\')',
    # an outer join inside the subquery
    '"order_items"."order_id" IN (SELECT o.id FROM main.orders AS o LEFT JOIN main.customers AS c ON '
    'c.id = o.customer_id WHERE c.tenant IS NULL)',
])
def test_left_as_written(text):
    original = sqlglot.parse_one(text, read="postgres")
    assert subqueries(simplify_semijoins(original, CATALOG)) == subqueries(original)
