"""The error channel, proved by a two-worlds oracle: hidden rows cannot change what a principal sees.

Two databases ("worlds") differ only in rows eve may not see: of customers and orders
she cannot see, world A and world B hold different values in columns she *is* granted
(status, total, segment), world A holds hidden rows that world B lacks and the other way
round. Her visible rows are identical. Hypothesis composes queries in which an
expression that raises (per engine: a failing cast, a division by zero, JSON parsing of
invalid text, ``error()``, an integer overflow) is guarded by a ``CASE`` that is true on
hidden rows of one world only, and stands in WHERE, JOIN ON, HAVING, a correlated EXISTS
or IN subquery (its select list, a set-operation arm, a window's ORDER BY, an ORDER BY
under LIMIT), a derived table, a CTE, a scalar subquery, the select list or ORDER BY ...
LIMIT. Property: ``gov.execute`` gives the same outcome in both worlds (the same rows,
or both fail with the same masked message, or both are denied). If an engine evaluated
the guarded expression on one hidden row, one world would raise and the other not.

Engines: DuckDB (files), SQLite (files) and PostgreSQL (two schemas with a random
suffix, each with a bundle copy whose catalog names it; skipped or failed like every
PostgreSQL test). The family is derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import collections
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern import Governor
from govern.errors import QueryDenied, QueryFailed
from tests.conftest import POLICIES, connect_postgres_or_skip
from tests.guard_oracle import _norm, governor, sqlite_copy

ENGINES = ["duckdb", "postgres", "sqlite"]
WORLD_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Rows only one world holds (hidden from eve: not her tenant), and the world-specific mark
# written into the hidden rows' granted columns.
ONLY_A, ONLY_B = 900001, 900002
MARK = {"a": ("a-", 100000), "b": ("b-", -100000)}


@dataclass
class World:
    name: str
    dialect: str
    conn: Any
    gov: Governor


def _visible(conn, gov: Governor, table: str) -> list[int]:
    return sorted(r[0] for r in gov.execute(conn, f"SELECT id FROM {table}", gov.principal("eve"), "duckdb").rows)


def _make_duckdb_world(demo_db_path: Path, target: Path, name: str, deleted: list[int]) -> Path:
    """A copy of the demo whose rows hidden from eve carry world ``name``'s marks."""
    shutil.copy(demo_db_path, target)
    gov = governor()
    conn = duckdb.connect(str(target))
    vis = {t: _visible(conn, gov, t) for t in ("customers", "orders")}
    prefix, offset = MARK[name]
    keep_c = ", ".join(map(str, vis["customers"]))
    keep_o = ", ".join(map(str, vis["orders"]))
    conn.execute(f"UPDATE customers SET segment = '{prefix}' || segment WHERE id NOT IN ({keep_c})")
    conn.execute(f"UPDATE orders SET status = '{prefix}' || status, total = total + {offset} "
                 f"WHERE id NOT IN ({keep_o})")
    if deleted:  # hidden orders (and their hidden items) only the other world holds
        ids = ", ".join(map(str, deleted))
        conn.execute(f"DELETE FROM order_items WHERE order_id IN ({ids})")
        conn.execute(f"DELETE FROM orders WHERE id IN ({ids})")
    extra = ONLY_A if name == "a" else ONLY_B
    # a hidden customer of the principal's region but another tenant, and an order of it in her
    # region: hidden only by the tenant semi-join, where unfenced plans leak
    conn.execute(f"INSERT INTO customers (id, name, email, phone, national_id, region, account_manager_id, tenant, "
                 f"segment, created_at) SELECT {extra}, name, email, phone, national_id, 'EU', account_manager_id, "
                 f"'globex', '{prefix}enterprise', created_at FROM customers WHERE id = {vis['customers'][0]}")
    conn.execute(f"INSERT INTO orders (id, customer_id, region, ordered_at, status, total) SELECT {extra}, {extra}, "
                 f"'EU', ordered_at, '{prefix}pending', {offset} + 1 FROM orders WHERE id = {vis['orders'][0]}")
    conn.close()
    return target


class TwoWorlds:
    """dialect -> (world A, world B), built on first use."""

    def __init__(self, demo_db_path: Path, tmp: Path):
        self.tmp = tmp
        self.opened: list = []
        self.schemas: list = []
        self.built: dict[str, tuple[World, World]] = {}
        base = duckdb.connect(str(demo_db_path), read_only=True)
        gov = governor()
        vis = set(_visible(base, gov, "orders"))
        # hidden EU orders of other tenants (hidden by the semi-join alone): some exist only in A or B
        semi = [r[0] for r in base.execute("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
                                           "WHERE o.region = 'EU' AND c.tenant <> 'acme' ORDER BY o.id").fetchall()]
        base.close()
        semi = [i for i in semi if i not in vis]
        self.only_in_a, self.only_in_b, self.hidden_in_both = semi[1:3], semi[3:5], semi[0]
        self.files = {"a": _make_duckdb_world(demo_db_path, tmp / "ecw_a.duckdb", "a", self.only_in_b),
                      "b": _make_duckdb_world(demo_db_path, tmp / "ecw_b.duckdb", "b", self.only_in_a)}

    def __call__(self, dialect: str) -> tuple[World, World]:
        if dialect not in self.built:
            self.built[dialect] = tuple(self._world(name, dialect) for name in ("a", "b"))
        return self.built[dialect]

    def _world(self, name: str, dialect: str) -> World:
        path = self.files[name]
        if dialect == "duckdb":
            conn = duckdb.connect(str(path), read_only=True)
            self.opened.append(conn)
            return World(name, dialect, conn, governor())
        if dialect == "sqlite":
            conn = sqlite_copy(path, self.tmp / f"ecw_{name}.sqlite", False)
            self.opened.append(conn)
            return World(name, dialect, conn, governor())
        from tests.oracle.demo_pg import load_demo_into_postgres

        conn = connect_postgres_or_skip()
        conn.autocommit = False
        schema = f"ecw_{name}_{secrets.token_hex(4)}"
        load_demo_into_postgres(conn, schema, duckdb_path=path)
        self.opened.append(conn)
        self.schemas.append((conn, schema))
        copy = self.tmp / f"bundle_{schema}"
        shutil.copytree(POLICIES, copy)
        catalog = copy / "catalog.yaml"
        catalog.write_text(catalog.read_text().replace("schema: main", f"schema: {schema}"))
        return World(name, dialect, conn, governor(copy))

    def close(self) -> None:
        for conn, schema in self.schemas:
            try:
                conn.rollback()
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.commit()
            except Exception:  # noqa: BLE001 - best effort; the run's own database is dropped at exit anyway
                pass
        for conn in self.opened:
            conn.close()


@pytest.fixture(scope="module")
def two_worlds(demo_db_path, tmp_path_factory):
    worlds = TwoWorlds(demo_db_path, tmp_path_factory.mktemp("error_channel_worlds"))
    yield worlds
    worlds.close()


def outcome(world: World, sql: str) -> tuple:
    """("rows", multiset) | ("error", masked message) | ("denied", reasons) of ``gov.execute`` for eve."""
    try:
        result = world.gov.execute(world.conn, sql, world.gov.principal("eve"), world.dialect)
        out = ("rows", collections.Counter(tuple(_norm(v) for v in row) for row in result.rows))
    except QueryDenied as err:
        out = ("denied", tuple(err.decision.reasons))
    except QueryFailed as err:
        out = ("error", err.message)
    if world.dialect == "postgres":
        world.conn.rollback()
    return out


# --------------------------------------------------------------------------- the family

# Guards on a hidden row's columns, true on hidden rows of one world only; {a} is the alias.
def guards(worlds: TwoWorlds) -> list[str]:
    return [
        "{a}.status LIKE 'a-%'", "{a}.status LIKE 'b-%'", "{a}.total > 50000", "{a}.total < -50000",
        f"{{a}}.id = {ONLY_A}", f"{{a}}.id = {ONLY_B}",
        f"{{a}}.id = {worlds.only_in_a[0]}", f"{{a}}.id = {worlds.only_in_b[0]}",
        f"{{a}}.id = {worlds.hidden_in_both} AND {{a}}.status LIKE 'a-%'",
        "{a}.customer_id IN (SELECT c9.id FROM customers c9 WHERE c9.segment LIKE 'a-%')",
    ]


CUSTOMER_GUARDS = ["{a}.segment LIKE 'a-%'", "{a}.segment LIKE 'b-%'", f"{{a}}.id = {ONLY_A}", f"{{a}}.id = {ONLY_B}"]

# Numeric expressions that raise exactly when the guard {g} holds, per engine.
RAISING = {
    "postgres": ["CAST(CASE WHEN {g} THEN 'x' ELSE '1' END AS INTEGER)",
                 "1 / (CASE WHEN {g} THEN 0 ELSE 1 END)",
                 "json_array_length(CAST(CASE WHEN {g} THEN 'x' ELSE '[]' END AS JSON))",
                 "sqrt(CASE WHEN {g} THEN -1 ELSE 1 END)"],
    "duckdb": ["CAST(CASE WHEN {g} THEN 'x' ELSE '1' END AS INTEGER)",
               "CASE WHEN {g} THEN error('hidden row') ELSE 1 END",
               "json_array_length(CASE WHEN {g} THEN 'x' ELSE '[]' END)",
               "CAST(CASE WHEN {g} THEN 300 ELSE 1 END AS TINYINT)"],
    "sqlite": ["abs(CASE WHEN {g} THEN -9223372036854775807 - 1 ELSE 1 END)",
               "json_array_length(CASE WHEN {g} THEN 'x' ELSE '[]' END)",
               "length(zeroblob(CASE WHEN {g} THEN 2000000000 ELSE 1 END))",
               "length(json(CASE WHEN {g} THEN 'x' ELSE '[]' END))"],
}

# Where the raising expression {e} (or predicate {p} = "{e} IS NOT NULL") stands; {t} {a} the table,
# {k} a key of a hidden row (hidden only by a semi-join for orders).
PLACES = {
    "where": "SELECT count(*) FROM {t} {a} WHERE {p}",
    "where_keyed": "SELECT {a}.id FROM {t} {a} WHERE {a}.id = {k} AND {p}",
    # a conjunct that is not leakproof fences the relation, and leakproof ones are copied inside the fence
    "where_fenced": "SELECT count(*) FROM {t} {a} WHERE {a}.id > -1 AND {g} AND {p}",
    "join_on": "SELECT count(*) FROM regions r JOIN {t} {a} ON {a}.region = r.code AND {p}",
    "join_on_other": "SELECT count(*) FROM employees e JOIN {t} {a} ON {p}",
    "having": "SELECT {a}.id, count(*) FROM {t} {a} GROUP BY {gb} HAVING {p}",
    "having_agg": "SELECT {a}.region, count(*) FROM {t} {a} GROUP BY {a}.region HAVING max({e}) > 0",
    "exists": "SELECT count(*) FROM regions r WHERE EXISTS (SELECT 1 FROM {t} {a} WHERE {a}.region = r.code AND {p})",
    "in_subquery": "SELECT count(*) FROM regions r WHERE r.code IN (SELECT {a}.region FROM {t} {a} WHERE {p})",
    "corr_select": "SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND {a}.id IN (SELECT r.id * {e} FROM regions r)",
    "corr_setop": "SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND EXISTS (SELECT 1 FROM regions r UNION SELECT {e})",
    "corr_window": ("SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND "
                    "EXISTS (SELECT row_number() OVER (ORDER BY {e}) FROM regions r)"),
    "corr_order_limit": ("SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND "
                         "{a}.id IN (SELECT r.id FROM regions r ORDER BY {e} LIMIT 5)"),
    "corr_unkeyed": "SELECT count(*) FROM {t} {a} WHERE EXISTS (SELECT 1 FROM regions r UNION SELECT {e})",
    # other clauses of a correlated subquery that read the outer (hidden) row
    "corr_group_by": "SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND EXISTS (SELECT 1 FROM regions r GROUP BY {e})",
    "corr_having": ("SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND "
                    "EXISTS (SELECT 1 FROM regions r HAVING count(*) > {e} - 2)"),
    "corr_join_on": ("SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND "
                     "EXISTS (SELECT 1 FROM regions r JOIN employees e ON {p})"),
    "corr_derived": "SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND EXISTS (SELECT 1 FROM (SELECT {e} AS v) x)",
    "corr_agg_filter": ("SELECT count(*) FROM {t} {a} WHERE {a}.id = {k} AND "
                        "{a}.id IN (SELECT sum(r.id) FILTER (WHERE {p}) FROM regions r)"),
    "derived": "SELECT count(*) FROM (SELECT {a}.id, {e} AS v FROM {t} {a}) d WHERE d.v IS NOT NULL",
    "derived_keyed": "SELECT d.id FROM (SELECT {a}.id, {e} AS v FROM {t} {a}) d WHERE d.id = {k} AND d.v > 0",
    "cte": "WITH d AS (SELECT {a}.id, {e} AS v FROM {t} {a}) SELECT count(*) FROM d WHERE d.v > 0",
    "cte_twice": ("WITH d AS (SELECT {a}.id, {e} AS v FROM {t} {a}) "
                  "SELECT count(*) FROM d d1 JOIN d d2 ON d1.id = d2.id WHERE d1.v > 0"),
    "scalar_sub": "SELECT r.code, (SELECT count(*) FROM {t} {a} WHERE {a}.region = r.code AND {p}) FROM regions r",
    "select": "SELECT {a}.id, {e} AS v FROM {t} {a}",
    "order_limit": "SELECT {a}.id FROM {t} {a} ORDER BY {e}, {a}.id LIMIT 3",
    "semi_join": "SELECT count(*) FROM orders o2 WHERE o2.customer_id IN (SELECT {a}.customer_id FROM {t} {a} WHERE {p})",
    "join_key": ("SELECT count(*) FROM orders o2 JOIN {t} {a} ON o2.id = {a}.id "
                 "WHERE o2.id = {k} AND {p}"),
}


def compose(worlds: TwoWorlds, engine: str, table: str, guard: int, raising: int, place: str) -> str:
    alias = "o" if table == "orders" else "c"
    pool = guards(worlds) if table == "orders" else CUSTOMER_GUARDS
    g = pool[guard % len(pool)].format(a=alias)
    e = RAISING[engine][raising % len(RAISING[engine])].format(g=g)
    key = worlds.hidden_in_both if table == "orders" else ONLY_A
    grouped = (f"{alias}.id, {alias}.status, {alias}.total, {alias}.customer_id" if table == "orders"
               else f"{alias}.id, {alias}.segment")  # every column a guard reads: HAVING runs per row
    sql = PLACES[place].format(t=table, a=alias, e=e, p=f"{e} IS NOT NULL", k=key, gb=grouped, g=g)
    if table == "customers":
        sql = sql.replace(f"{alias}.customer_id", f"{alias}.id")
    return sql


shapes = st.tuples(st.sampled_from(["orders", "orders", "customers"]), st.integers(0, 9), st.integers(0, 3),
                   st.sampled_from(sorted(PLACES)))


def assert_same_in_both_worlds(worlds: TwoWorlds, engine: str, sql: str) -> tuple:
    a, b = worlds(engine)
    out_a, out_b = outcome(a, sql), outcome(b, sql)
    assert out_a[0] == out_b[0], (f"{engine}: {sql!r} for eve: {out_a[0]} in world A, {out_b[0]} in world B "
                                  f"({out_a[1] if out_a[0] != 'rows' else out_b[1]}): a hidden row was evaluated")
    if out_a[0] == "rows":
        assert out_a[1] == out_b[1], (f"{engine}: {sql!r} for eve: rows differ between worlds "
                                      f"(A only {list((out_a[1] - out_b[1]).elements())[:3]}, "
                                      f"B only {list((out_b[1] - out_a[1]).elements())[:3]})")
    else:
        assert out_a[1] == out_b[1], f"{engine}: {sql!r}: {out_a[0]} differs between worlds: {out_a[1]} / {out_b[1]}"
    return out_a


@pytest.mark.parametrize("engine", ENGINES)
@WORLD_SETTINGS
@given(shape=shapes)
def test_hidden_rows_never_change_the_outcome(engine, shape, two_worlds):
    table, guard, raising, place = shape
    assert_same_in_both_worlds(two_worlds, engine, compose(two_worlds, engine, table, guard, raising, place))


# --------------------------------------------------------------------------- the oracle can fail

@pytest.mark.parametrize("engine", ENGINES)
def test_the_worlds_differ_only_in_hidden_rows(engine, two_worlds):
    """Eve's rows are the same in both worlds; the raw tables are not."""
    a, b = two_worlds(engine)
    for table in ("customers", "orders", "order_items"):
        assert outcome(a, f"SELECT * FROM {table}") == outcome(b, f"SELECT * FROM {table}"), table
    prefix = {"postgres": lambda w: w.gov.bundle.catalog.table("orders").schema + "."}.get(engine, lambda w: "")
    raw = []
    for world in (a, b):
        raw.append(world.conn.execute(f"SELECT count(*), sum(total) FROM {prefix(world)}orders").fetchall())
        if engine == "postgres":
            world.conn.rollback()
    assert raw[0] != raw[1]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("raising", range(4))
def test_the_probes_raise_on_hidden_rows_of_one_world_only(engine, raising, two_worlds):
    """Ungoverned, each raising expression fails in world A and runs in world B: the property
    above is not true because the probes never fire."""
    a, b = two_worlds(engine)
    e = RAISING[engine][raising].format(g="o.status LIKE 'a-%'")
    results = []
    for world in (a, b):
        schema = world.gov.bundle.catalog.table("orders").schema if engine == "postgres" else None
        table = f"{schema}.orders" if schema else "orders"
        try:
            world.conn.execute(f"SELECT count(*) FROM {table} o WHERE {e} IS NOT NULL").fetchall()
            results.append("rows")
        except Exception:  # noqa: BLE001
            results.append("error")
        if engine == "postgres":
            world.conn.rollback()
    assert results == ["error", "rows"], (e, results)
