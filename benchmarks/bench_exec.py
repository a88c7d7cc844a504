"""Governed SQL against native row-level security and hand-written filters, executed, side by side.

Builds the demo schema (govern/demo/dataset.py, policies/) scaled up inside the
database itself with ``generate_series`` (``--scale 1``: customers 100k,
accounts 150k, orders 1M, order_items 2.5M, support_tickets 400k; primary-key,
foreign-key and date indexes) in a schema of its own with a random suffix
(dropped at the end), on PostgreSQL and on DuckDB. Then, for every demo
principal (policies/principals.yaml) and every query shape (point lookups, FK
filters, key joins, top-10, GROUP BY, correlated EXISTS, a predicate that is
not leakproof, and the demo questions of govern/demo/questions.py) it times,
interleaved, the median of at least ``--repeat`` runs (more for fast variants,
up to ``--budget`` seconds and 41 runs each) of

governed
    ``Governor.check_sql(sql, principal, dialect).sql`` (the bundle's rewrite,
    fenced where govern.sql.passes.fence says so), run as the table owner;
hand-written
    the same query with each table's row filter written inline (AND-ed into
    the WHERE of its block, or the ON of a LEFT JOIN) and the same masks as
    expressions in place of the masked columns;
native RLS (PostgreSQL only)
    the query as written, run as the principal's role under the DDL
    ``govern compile --target postgres-rls`` writes (govern.compile_rls:
    ``CREATE POLICY`` per table and role set, principal attributes read with
    ``current_setting('govern.NAME')``, semi-join key sets read through
    SECURITY DEFINER functions, masking views where a mask applies); a case
    that reads a column reported as not compiled has no such variant.

It prints a line per case (times in ms, the ratios, and whether each plan uses
an index, from EXPLAIN) and a summary: median and worst ratio and how many
cases are within target (PostgreSQL governed / RLS <= 1.05, DuckDB governed /
hand-written <= 1.1). Queries a principal is denied are counted, not timed.
Every variant caps rows at the bundle's ``max_rows`` as govern does, and the
variants of a case must return the same rows (``ROWS DIFFER`` otherwise;
tests/test_bench_exec.py runs this at a tiny scale). DuckDB runs on one thread
unless ``--duckdb-threads`` says otherwise, PostgreSQL without parallel workers
unless ``--pg-parallel-workers`` says otherwise (the same for every variant: on two
cores, whether a plan starts workers follows the planner's row estimates, which a
view or a function changes without changing the work); ``--keep`` leaves the PostgreSQL
schema and roles in place to read plans.

    python benchmarks/bench_exec.py [--scale 1] [--repeat 5] [--engines postgres,duckdb]
                                    [--principals eve,ada] [--shapes point,fk] [--timeout 60]

PostgreSQL at 127.0.0.1:5432 (user postgres, database test; ``GOVERN_PG_DSN``
overrides). Use a small ``--scale`` (0.02) while developing.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402
from govern.compile_rls import compile_rls, reads_not_compiled  # noqa: E402
from govern.demo.dataset import TABLES, create_table_sql  # noqa: E402
from govern.demo.questions import QUESTIONS  # noqa: E402

POLICIES = ROOT / "policies"
PG_DSN = os.environ.get("GOVERN_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
HASH_KEY = "bench-exec-hash-key-0123456789"
BASE_ROWS = {"customers": 100_000, "accounts": 150_000, "orders": 1_000_000, "order_items": 2_500_000,
             "support_tickets": 400_000}
TARGET = {"postgres": 1.05, "duckdb": 1.1}

# --------------------------------------------------------------------------- data, in SQL

_PRODUCTS = ["Laptop Pro 14", "USB-C Dock", "27in Monitor", "Wireless Mouse", "Office Chair", "Standing Desk",
             "Support Plan Gold", "Tablet 11", "Phone Case", "Smartphone X", "Charger 65W", "Router AX"]


def _pick(expr: str, values: list[str]) -> str:
    """CASE over ``expr % len(values)`` picking a string (deterministic, both engines)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _region(customer: str) -> str:
    return _pick(customer, ["EU", "NA", "APAC", "LATAM"])


def load_sql(schema: str, n: dict[str, int]) -> list[str]:
    """INSERT ... SELECT statements that fill the schema (valid in PostgreSQL and DuckDB)."""
    s = schema
    C, A, O, I, T = (n[k] for k in ("customers", "accounts", "orders", "order_items", "support_tickets"))
    cust = "(1 + (g * 7919) % {C})".format(C=C)
    out = [f"INSERT INTO {s}.regions VALUES (1, 'EU', 'Europe'), (2, 'NA', 'North America'), "
           f"(3, 'APAC', 'Asia-Pacific'), (4, 'LATAM', 'Latin America')"]
    # employees: the fixed layout of govern/demo/dataset.py (roles and regions by id)
    role = ("CASE WHEN g <= 16 THEN 'account_manager' WHEN g <= 20 THEN 'sales_lead' WHEN g <= 32 THEN "
            "'support_agent' WHEN g <= 36 THEN 'support_lead' WHEN g <= 39 THEN 'analyst' ELSE 'auditor' END")
    k = ("CASE WHEN g <= 16 THEN g - 1 WHEN g <= 20 THEN g - 17 WHEN g <= 32 THEN g - 21 WHEN g <= 36 THEN g - 33 "
         "WHEN g <= 39 THEN g - 37 ELSE 0 END")
    out.append(f"INSERT INTO {s}.employees SELECT CAST(g AS INTEGER), 'Employee ' || CAST(g AS VARCHAR), "
               f"'employee' || CAST(g AS VARCHAR) || '@corp.example.com', {role}, {_pick(k, ['EU', 'NA', 'APAC', 'LATAM'])}, "
               f"CAST(50000 + (g * 977) % 60000 AS DECIMAL(10,2)), DATE '2015-01-01' + CAST((g * 53) % 3000 AS INTEGER) "
               f"FROM generate_series(CAST(1 AS BIGINT), 40) AS t(g)")
    # customers: region cycles with id; account manager of the same region (ids r+1, r+5, r+9, r+13)
    out.append(
        f"INSERT INTO {s}.customers SELECT CAST(g AS INTEGER), 'Customer ' || CAST(g AS VARCHAR), "
        f"'c' || CAST(g AS VARCHAR) || '@example.com', '+1 415-555-' || CAST(1000 + g % 9000 AS VARCHAR), "
        f"CAST(100000000 + (g * 7) % 899999999 AS VARCHAR), {_region('g')}, "
        f"CAST(1 + g % 4 + 4 * ((g / 4) % 4) AS INTEGER), "
        f"CASE WHEN (g * 31) % 100 < 45 THEN 'acme' WHEN (g * 31) % 100 < 80 THEN 'globex' ELSE 'initech' END, "
        f"{_pick('g * 13', ['consumer', 'consumer', 'smb', 'enterprise'])}, "
        f"DATE '2018-01-01' + CAST((g * 17) % 2500 AS INTEGER) FROM generate_series(CAST(1 AS BIGINT), {C}) AS t(g)")
    out.append(
        f"INSERT INTO {s}.accounts SELECT CAST(g AS INTEGER), CAST({cust} AS INTEGER), "
        f"'DE89370400440532' || CAST(100000 + g % 900000 AS VARCHAR), CAST((g * 7919) % 1000000 / 10.0 AS DECIMAL(12,2)), "
        f"{_pick('g', ['active', 'active', 'active', 'closed', 'frozen'])}, "
        f"DATE '2019-01-01' + CAST((g * 11) % 2000 AS INTEGER), {_region(cust)} "
        f"FROM generate_series(CAST(1 AS BIGINT), {A}) AS t(g)")
    out.append(
        f"INSERT INTO {s}.orders SELECT CAST(g AS INTEGER), CAST({cust} AS INTEGER), {_region(cust)}, "
        f"DATE '2022-01-01' + CAST((g * 37) % 1096 AS INTEGER), "
        f"{_pick('g * 7', ['delivered', 'delivered', 'delivered', 'shipped', 'pending', 'cancelled'])}, "
        f"CAST((g * 104729) % 500000 / 100.0 AS DECIMAL(12,2)) FROM generate_series(CAST(1 AS BIGINT), {O}) AS t(g)")
    out.append(
        f"INSERT INTO {s}.order_items SELECT CAST(g AS INTEGER), CAST(1 + (g * 104729) % {O} AS INTEGER), "
        f"{_pick('g * 3', _PRODUCTS)}, CAST(1 + g % 5 AS INTEGER), CAST(10 + (g * 31) % 2000 AS DECIMAL(10,2)) "
        f"FROM generate_series(CAST(1 AS BIGINT), {I}) AS t(g)")
    # tickets: an agent of the customer's region (ids 21 + r + 4j)
    agent = f"(21 + ({cust}) % 4 + 4 * (g % 3))"
    out.append(
        f"INSERT INTO {s}.support_tickets SELECT CAST(g AS INTEGER), CAST({cust} AS INTEGER), CAST({agent} AS INTEGER), "
        f"{_region(cust)}, TIMESTAMP '2022-01-01 00:00:00' + CAST((g * 7919) % 94608000 AS INTEGER) * INTERVAL '1 second', "
        f"{_pick('g * 5', ['open', 'pending', 'closed', 'closed', 'resolved'])}, "
        f"{_pick('g * 3', ['low', 'normal', 'normal', 'high', 'urgent'])}, "
        f"'Ticket ' || CAST(g AS VARCHAR) || ' about order', "
        f"'Customer wrote in about ticket ' || CAST(g AS VARCHAR) || '; please call back.' "
        f"FROM generate_series(CAST(1 AS BIGINT), {T}) AS t(g)")
    # assignments: every customer to one agent of its region
    out.append(
        f"INSERT INTO {s}.assignments SELECT CAST(21 + g % 4 + 4 * ((g / 4) % 3) AS INTEGER), CAST(g AS INTEGER) "
        f"FROM generate_series(CAST(1 AS BIGINT), {C}) AS t(g)")
    return out


INDEXES = [("customers", "account_manager_id"), ("customers", "region"), ("accounts", "customer_id"),
           ("orders", "customer_id"), ("orders", "ordered_at"), ("order_items", "order_id"),
           ("support_tickets", "customer_id"), ("support_tickets", "agent_id"), ("support_tickets", "opened_at"),
           ("assignments", "customer_id")]


def build(conn, engine: str, schema: str, n: dict[str, int]) -> None:
    run = conn.execute
    run(f"CREATE SCHEMA {schema}")
    for table in TABLES:
        run(create_table_sql(dataclasses.replace(table, foreign_keys=()), schema))
    for statement in load_sql(schema, n):
        run(statement)
    for table, column in INDEXES:
        run(f"CREATE INDEX {table}_{column}_idx ON {schema}.{table} ({column})")
    if engine == "postgres":
        for table in TABLES:  # foreign keys after the load: validated in one pass each
            for i, (cols, ref, ref_cols) in enumerate(table.foreign_keys):
                run(f"ALTER TABLE {schema}.{table.name} ADD CONSTRAINT {table.name}_fk{i} FOREIGN KEY "
                    f"({', '.join(cols)}) REFERENCES {schema}.{ref} ({', '.join(ref_cols)})")
        for table in TABLES:
            run(f"ANALYZE {schema}.{table.name}")


# --------------------------------------------------------------------------- shapes

def shapes(n: dict[str, int]) -> list[tuple[str, str]]:
    c = n["customers"] // 2 + 1  # an EU customer (region cycles with id: id % 4 == 1 is NA, 0 EU)
    c -= c % 4
    o = n["orders"] // 2 + 3
    return [
        ("point:orders", f"SELECT * FROM orders WHERE id = {o}"),
        ("point:customers", f"SELECT id, name, email, region FROM customers WHERE id = {c}"),
        ("fk:orders", f"SELECT id, ordered_at, status, total FROM orders WHERE customer_id = {c}"),
        ("fk:tickets", f"SELECT id, status, priority, opened_at FROM support_tickets WHERE customer_id = {c}"),
        ("join:orders-items", f"SELECT o.id, o.total, i.product, i.quantity FROM orders AS o "
                              f"JOIN order_items AS i ON i.order_id = o.id WHERE o.customer_id = {c}"),
        ("join:3-tables", f"SELECT c.name, o.id, i.product FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
                          f"JOIN order_items AS i ON i.order_id = o.id WHERE c.id = {c}"),
        ("top10:orders", "SELECT id, customer_id, total FROM orders ORDER BY id DESC LIMIT 10"),
        ("top10:tickets", "SELECT id, status, opened_at FROM support_tickets ORDER BY opened_at DESC LIMIT 10"),
        ("groupby:orders", "SELECT status, COUNT(*) AS n, SUM(total) AS revenue FROM orders "
                           "WHERE ordered_at >= DATE '2024-06-01' GROUP BY status"),
        ("exists:correlated", f"SELECT c.id, c.region FROM customers AS c WHERE c.id BETWEEN {c} AND {c + 400} AND "
                              f"EXISTS (SELECT 1 FROM orders AS o WHERE o.customer_id = c.id AND o.status = 'cancelled')"),
        ("leaky:orders", f"SELECT id, total FROM orders WHERE customer_id = {c} AND total / 2 > 10"),
    ] + [(f"q{i}:{title[:38]}", sql) for i, (title, sql) in enumerate(QUESTIONS, start=1)]


# --------------------------------------------------------------------------- the bundle, per principal

def bench_bundle(tmp: Path, schema: str) -> Path:
    """policies/ with the catalog's schema set to the benchmark's own."""
    target = tmp / "policies"
    shutil.copytree(POLICIES, target)
    catalog = target / "catalog.yaml"
    catalog.write_text(re.sub(r"schema: main\b", f"schema: {schema}", catalog.read_text()))
    return target


class Principal:
    """What the baselines need of one principal: its relations (projections, filter) per table."""

    def __init__(self, gov: Governor, pid: str, dialect: str):
        self.gov, self.pid, self.dialect = gov, pid, dialect
        self.principal = gov.principal(pid)
        self.roles = gov.bundle.grants.expand_roles(tuple(self.principal.roles))
        self.relations: dict[str, tuple[dict[str, exp.Expression], exp.Expression | None]] = {}
        for table in TABLES:
            decision = gov.check_sql(f"SELECT * FROM {table.name}", self.principal, dialect=dialect)
            if not decision.allowed:
                continue
            select = sqlglot.parse_one(decision.sql, read=dialect).find(exp.From).this.this
            assert isinstance(select, exp.Select), decision.sql
            projections = {(p.alias or p.name).lower(): (p.this if isinstance(p, exp.Alias) else p)
                           for p in select.expressions}
            where = select.args.get("where")
            self.relations[table.name] = (projections, where.this if where is not None else None)

    def schema(self) -> dict:
        return {t: {c: "TEXT" for c in projections} for t, (projections, _) in self.relations.items()}


def _retable(node: exp.Expression, table: str, alias: str) -> exp.Expression:
    """A copy with the relation's own columns (``"t"."x"`` outside nested queries) renamed to ``alias``."""
    copy = node.copy()
    for column in list(copy.find_all(exp.Column)):
        if column.table.lower() == table.lower() and column.find_ancestor(exp.Select) is None:
            column.set("table", exp.to_identifier(alias, quoted=True))
    return copy


def inline(sql: str, who: Principal, with_filters: bool, cap: int) -> str:
    """The hand-written query: masks in place of masked columns, and (with_filters) each row filter inline."""
    tree = qualify(sqlglot.parse_one(sql, read=who.dialect), schema=who.schema(), dialect=who.dialect,
                   quote_identifiers=True, validate_qualify_columns=False)
    for scope in traverse_scope(tree):
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        for alias, source in scope.selected_sources.items():
            node, source = source
            if not isinstance(source, exp.Table) or source.name not in who.relations:
                continue
            projections, where = who.relations[source.name]
            for column in scope.columns:
                if column.table == alias and column.name.lower() in projections:
                    shown = projections[column.name.lower()]
                    if not (isinstance(shown, exp.Column) and shown.name.lower() == column.name.lower()):
                        column.replace(exp.Paren(this=_retable(shown, source.name, alias)))
            if not with_filters or where is None:
                continue
            predicate = exp.Paren(this=_retable(where, source.name, alias))
            join = source.find_ancestor(exp.Join)
            if join is not None and join.parent is select and (join.args.get("side") or "").upper() == "LEFT":
                join.set("on", exp.and_(join.args["on"], predicate))
            else:
                select.where(predicate, copy=False)
    if tree.args.get("limit") is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
    return tree.sql(dialect=who.dialect)


# --------------------------------------------------------------------------- native RLS (PostgreSQL)

def rls_setup(conn, gov: Governor, schema: str):
    """The bundle compiled to PostgreSQL RLS (govern.compile_rls) and applied; the roles and view schemas
    are named after the benchmark's schema, so cleanup can find them."""
    compiled = compile_rls(gov.bundle, schema=schema, prefix=schema)
    for statement in compiled.statements:
        conn.execute(statement)
    return compiled


# --------------------------------------------------------------------------- timing

class Runner:
    def __init__(self, engine: str, conn, schema: str, paths: dict[str, str] | None = None):
        self.engine, self.conn, self.schema = engine, conn, schema
        self.paths = paths or {}  # RLS role -> its search_path (its masking views first)

    @contextlib.contextmanager
    def as_role(self, role: str | None, settings: dict | None):
        """PostgreSQL: run as the RLS role (its search_path, the principal's attributes as settings), then back."""
        if not role:
            yield
            return
        self.conn.execute(f'SET ROLE "{role}"')
        self.conn.execute(f"SET search_path TO {self.paths.get(role, self.schema)}")
        try:
            for name, value in (settings or {}).items():
                self.conn.execute(f"SELECT set_config('govern.{name}', %s, false)",
                                  [json.dumps(value) if isinstance(value, list) else str(value)])
            yield
        finally:
            self.conn.execute("RESET ROLE")
            self.conn.execute(f"SET search_path TO {self.schema}")

    def run(self, sql: str, params: list, role: str | None = None, settings: dict | None = None) -> float:
        return self._run(sql, params, role, settings)[0]

    def rows(self, sql: str, params: list, role: str | None = None, settings: dict | None = None) -> list:
        return self._run(sql, params, role, settings)[1]

    def _run(self, sql: str, params: list, role: str | None, settings: dict | None) -> tuple[float, list]:
        if self.engine == "postgres":
            import psycopg
            with self.as_role(role, settings):
                cur = psycopg.RawCursor(self.conn)
                t = time.perf_counter()
                cur.execute(sql, params or None, prepare=False)  # one text, other relations per role (search_path)
                rows = cur.fetchall()
                return time.perf_counter() - t, rows
        t = time.perf_counter()
        rows = self.conn.execute(sql, params or None).fetchall()
        return time.perf_counter() - t, rows

    def uses_index(self, sql: str, params: list, role: str | None = None, settings: dict | None = None) -> bool:
        if self.engine == "postgres":
            import psycopg
            with self.as_role(role, settings):
                cur = psycopg.RawCursor(self.conn)
                # a generic plan for $1 would differ from the custom plan the query gets: inline the key
                text = sql.replace("$1", "'" + HASH_KEY + "'") if params else sql
                cur.execute("EXPLAIN " + text)
                plan = "\n".join(r[0] for r in cur.fetchall())
            return bool(re.search(r"Index (Only )?Scan|Bitmap Index Scan", plan))
        plan = "\n".join(str(r[-1]) for r in self.conn.execute("EXPLAIN " + sql, params or None).fetchall())
        return "Index Scan" in plan or "INDEX_SCAN" in plan


def connect(engine: str):
    if engine == "postgres":
        import psycopg
        conn = psycopg.connect(PG_DSN, autocommit=True)
        return conn
    import duckdb
    return duckdb.connect(":memory:")


def main(argv: list[str] | None = None) -> int:
    results = bench(argv)
    summary(results)
    return 0


def bench(argv: list[str] | None = None) -> list[dict]:
    """Build, time and clean up; one dict per (engine, principal, shape)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1M orders, 2.5M order items (default)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per variant (median), at least 5")
    parser.add_argument("--engines", default="postgres,duckdb")
    parser.add_argument("--principals", default=None, help="comma-separated ids (default: all demo principals)")
    parser.add_argument("--shapes", default=None, help="comma-separated prefixes of shape names")
    parser.add_argument("--budget", type=float, default=0.3,
                        help="seconds per variant: fast cases get more rounds (at most 41), never fewer than --repeat")
    parser.add_argument("--timeout", type=float, default=60.0, help="statement timeout, seconds (PostgreSQL)")
    parser.add_argument("--duckdb-threads", type=int, default=1,
                        help="DuckDB worker threads (default 1: steadier timings on a shared machine)")
    parser.add_argument("--pg-parallel-workers", type=int, default=0,
                        help="PostgreSQL max_parallel_workers_per_gather (default 0, as DuckDB's one thread: on a "
                             "2-core machine whether a plan starts workers is decided by estimates, not by governance)")
    parser.add_argument("--json", default=None, help="also write the cases to this file")
    parser.add_argument("--show-sql", action="store_true", help="print each variant's SQL")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema and roles (to read plans)")
    args = parser.parse_args(argv)
    n = {k: max(40, int(v * args.scale)) for k, v in BASE_ROWS.items()}
    schema = f"bench_exec_{secrets.token_hex(4)}"
    print(f"schema {schema}; rows: " + ", ".join(f"{k} {v:,}" for k, v in n.items()))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        gov = Governor.from_path(bench_bundle(Path(tmp), schema), audit=AuditTrail.null(), hash_key=HASH_KEY)
        cap = gov.bundle.rules.limits.max_rows or 10**9
        pids = args.principals.split(",") if args.principals else list(gov.bundle.principals)
        cases = [s for s in shapes(n) if not args.shapes or any(s[0].startswith(p) for p in args.shapes.split(","))]
        for engine in args.engines.split(","):
            conn = connect(engine)
            rls_roles: list[str] = []
            t0 = time.perf_counter()
            try:
                build(conn, engine, schema, n)
                principals = {pid: Principal(gov, pid, engine) for pid in pids}
                compiled = rls_setup(conn, gov, schema) if engine == "postgres" else None
                if compiled is not None:
                    rls_roles = list(compiled.roles)
                roles = {pid: compiled.principals[pid] for pid in pids} if compiled is not None else {}
                paths = {}
                for r in rls_roles:  # the role's masking views first, then the tables
                    views = compiled.view_schemas.get(r)
                    paths[r] = f'"{views}", {schema}' if views else schema
                if engine == "postgres":
                    conn.execute(f"SET statement_timeout = {int(args.timeout * 1000)}")
                    conn.execute(f"SET max_parallel_workers_per_gather = {int(args.pg_parallel_workers)}")
                    conn.execute(f"SET search_path TO {schema}")
                else:
                    conn.execute(f"SET threads = {args.duckdb_threads}")
                    conn.execute(f"USE memory.{schema}")
                print(f"\n{engine}: built in {time.perf_counter() - t0:.1f} s")
                results += run_engine(Runner(engine, conn, schema, paths), gov, principals, roles, cases, cap, args,
                                      compiled)
            finally:
                if not (args.keep and engine == "postgres"):
                    cleanup(conn, engine, schema, rls_roles)
                conn.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


def run_engine(runner: Runner, gov: Governor, principals, roles, cases, cap, args, compiled=None) -> list[dict]:
    engine = runner.engine
    out = []
    header = f"{'principal':9} {'shape':44} {'gov ms':>9} {'hand ms':>9} {'rls ms':>9} {'g/hand':>7} {'g/rls':>7}  index g/h/r"
    print(header)
    for pid, who in principals.items():
        settings = {k: v for k, v in who.principal.attributes.items()}
        for name, sql in cases:
            decision = gov.check_sql(sql, who.principal, dialect=engine)
            if not decision.allowed:
                out.append({"engine": engine, "principal": pid, "shape": name, "denied": True})
                continue
            variants = {"governed": (decision.sql, list(decision.params or []), None)}
            hand = inline(sql, who, True, cap)
            variants["hand"] = (hand, [HASH_KEY] if "$1" in hand else [], None)
            mine = [n for n in compiled.not_compiled if n.role == roles[pid]] if compiled is not None else []
            if engine == "postgres" and not reads_not_compiled(sql, mine):
                tree = sqlglot.parse_one(sql, read="postgres")
                if tree.args.get("limit") is None:
                    tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
                variants["rls"] = (tree.sql(dialect="postgres"), [], roles[pid])
            if args.show_sql:
                for v, (text, _, _) in variants.items():
                    print(f"  -- {v}: {text}")
            times = {v: [] for v in variants}
            failed = {}
            answers = {}
            for v, (text, params, role) in variants.items():  # warm-up, and the rows each variant returns
                try:
                    answers[v] = runner.rows(text, params, role, settings)
                except Exception as error:  # a timeout: recorded, not timed again
                    failed[v] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            same = len({repr(sorted(map(repr, rows))) for rows in answers.values()}) <= 1
            # at least --repeat rounds; more for fast queries (up to --budget seconds per variant), so a
            # sub-millisecond case is a median of many runs rather than of 5 noisy ones
            # at least --repeat runs each; a fast variant runs more (up to --budget seconds, 41 runs), so a
            # millisecond query is a median of many runs even when another variant takes seconds
            warm = {v: runner.run(text, params, role, settings) for v, (text, params, role) in variants.items()
                    if v not in failed}
            target = {v: max(args.repeat, min(41, int(args.budget / max(t, 1e-6)))) for v, t in warm.items()}
            order = [item for item in variants.items() if item[0] not in failed]
            while any(len(times[v]) < target[v] for v, _ in order):
                random.shuffle(order)  # interleaved, and no variant always first (or right after another)
                for v, (text, params, role) in order:
                    if len(times[v]) < target[v]:
                        times[v].append(runner.run(text, params, role, settings))
            med = {v: (statistics.median(ts) * 1000 if ts else args.timeout * 1000) for v, ts in times.items()}
            index = {v: runner.uses_index(text, params, role, settings) for v, (text, params, role) in variants.items()}
            row = {"engine": engine, "principal": pid, "shape": name, "ms": med, "index": index, "failed": failed,
                   "same_rows": same,
                   "gov_hand": med["governed"] / med["hand"] if med["hand"] else None,
                   "gov_rls": med["governed"] / med["rls"] if med.get("rls") else None}
            out.append(row)
            flags = "/".join("i" if index[v] else "-" for v in variants)
            rls_ms = f"{med['rls']:9.2f}" if "rls" in med else f"{'':9}"
            g_rls = f"{row['gov_rls']:7.2f}" if row["gov_rls"] else f"{'':7}"
            print(f"{pid:9} {name:44} {med['governed']:9.2f} {med['hand']:9.2f} {rls_ms} {row['gov_hand']:7.2f} {g_rls}  {flags}"
                  + (f"  FAILED {failed}" if failed else ""), flush=True)
    return out


def summary(results: list[dict]) -> None:
    print("\n| | median | worst | within target | cases |\n|---|---|---|---|---|")
    for engine, key, label in (("postgres", "gov_rls", "PostgreSQL, governed / native RLS"),
                               ("postgres", "gov_hand", "PostgreSQL, governed / hand-written"),
                               ("duckdb", "gov_hand", "DuckDB, governed / hand-written")):
        ratios = [r[key] for r in results if r["engine"] == engine and not r.get("denied") and r.get(key)]
        if not ratios:
            continue
        target = TARGET[engine]
        within = sum(1 for x in ratios if x <= target)
        print(f"| {label} | {statistics.median(ratios):.2f}× | {max(ratios):.2f}× | {within} of {len(ratios)} "
              f"(≤ {target}×) | {len(ratios)} |")
    differ = [r for r in results if not r.get("denied") and not r["same_rows"]]
    print(f"\nCases where the variants return different rows: {len(differ)}"
          + "".join(f"\n  {r['engine']} {r['principal']} {r['shape']}" for r in differ))
    denied = sum(1 for r in results if r.get("denied"))
    print(f"\n{denied} (principal, shape, engine) cases denied by the bundle (not timed).")
    lost = [r for r in results if not r.get("denied") and r["engine"] == "postgres"
            and r["index"].get("rls") and not r["index"]["governed"]]
    print(f"PostgreSQL cases where RLS uses an index and governed does not: {len(lost)}"
          + "".join(f"\n  {r['principal']} {r['shape']}" for r in lost))
    lost = [r for r in results if not r.get("denied") and r["index"].get("hand") and not r["index"]["governed"]]
    print(f"Cases where the hand-written query uses an index and governed does not: {len(lost)}"
          + "".join(f"\n  {r['engine']} {r['principal']} {r['shape']}" for r in lost))


def cleanup(conn, engine: str, schema: str, rls_roles) -> None:
    try:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if engine == "postgres":
            for role in rls_roles:  # each compiled role, and its schema of masking views
                conn.execute(f'DROP SCHEMA IF EXISTS "{role}" CASCADE')
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    except Exception as error:
        print(f"cleanup of {schema} failed: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
