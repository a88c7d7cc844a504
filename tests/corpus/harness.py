"""Differential harness: governed SQL on the base tables vs. the original query on oracle views.

For each corpus query, principal and engine:

1. the query is put in the engine's dialect (as is when it is already in that
   dialect, otherwise ``sqlglot.transpile(read=<query dialect>, write=<engine>)``);
2. ``decision = Governor.check_sql(query, principal, dialect=<engine dialect>)``;
3. the original query runs against the principal's oracle views (only the
   oracle schema on the search path), and, when allowed, ``decision.sql`` with
   ``decision.params`` runs against the base tables (only the corpus schema on
   the search path);
4. result rows are compared as multisets (floats/decimals rounded).

Outcome statuses (``FAILING`` ones fail the test):

=====================  ===================================================================
equal                  same multiset of rows
equal_limit_ties       top-level LIMIT with ties: governed rows have the oracle's row count
                       and are a sub-multiset of the oracle result without the LIMIT
denied_oracle_fails    denied with a reason, and the oracle run errors too (policy hides it)
denied_oracle_ok       denied with a reason although the oracle returns rows (over-denial:
                       acceptable, listed for review)
same_error             the oracle and the governed SQL fail with the same error although the
                       query runs on the base tables (PostgreSQL loses the GROUP BY primary
                       key functional dependency through a view or a derived table)
not_comparable         the query cannot be compared: it does not transpile to the engine's
                       dialect, or it errors on the base tables too (unrelated to the
                       policy) and the governed SQL errors as well
different       FAIL   both ran, rows differ
leak            FAIL   the governed SQL returned rows where the oracle errors
governed_error  FAIL   the oracle returned rows, the governed SQL errored
error_not_denied FAIL  the oracle errors because of the policy (the query runs on the base
                       tables), govern allowed the query and its SQL errors: it should deny
denied_no_reason FAIL  denied with no reason
check_error     FAIL   check_sql raised instead of returning a decision
=====================  ===================================================================
"""

from __future__ import annotations

import collections
import dataclasses
import decimal
import functools
import hashlib
import sqlite3
from pathlib import Path
from typing import Any, Iterable

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from . import ddl, load, oracle

POLICY_DIR = Path(__file__).parent / "policies"
ENGINES = ("postgres", "duckdb", "sqlite", "mysql")
FAILING = frozenset({"different", "leak", "governed_error", "error_not_denied", "denied_no_reason", "check_error"})
STATUSES = (
    "equal", "equal_limit_ties", "denied_oracle_fails", "denied_oracle_ok", "not_comparable", "same_error",
    "different", "leak", "governed_error", "error_not_denied", "denied_no_reason", "check_error",
)
FLOAT_DIGITS = 4


# --------------------------------------------------------------------------- outcome


@dataclasses.dataclass
class Outcome:
    db: str
    engine: str
    principal: str
    index: int  # line number (0-based) in queries.jsonl
    dialect: str  # the query's own dialect
    status: str
    query: str  # the query as run on the engine (transpiled when needed)
    governed_sql: str | None = None
    reasons: list[str] = dataclasses.field(default_factory=list)
    detail: str = ""
    policy_effect: bool | None = None  # for equal outcomes: do the ungoverned rows differ?

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def describe(self) -> str:
        lines = [
            f"[{self.db}/{self.engine}/{self.principal}] query #{self.index} ({self.dialect}): {self.status}",
            f"  query:    {self.query}",
        ]
        if self.governed_sql:
            lines.append(f"  governed: {self.governed_sql}")
        if self.reasons:
            lines.append(f"  reasons:  {'; '.join(self.reasons)}")
        if self.detail:
            lines.append("  detail:   " + self.detail.replace("\n", "\n            "))
        return "\n".join(lines)


# --------------------------------------------------------------------------- rows


def _norm_value(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (float, decimal.Decimal)):
        f = round(float(v), FLOAT_DIGITS)
        return 0.0 if f == 0 else f
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def normalise(rows: Iterable[tuple]) -> collections.Counter:
    return collections.Counter(tuple(_norm_value(v) for v in row) for row in rows)


def _diff_text(governed: collections.Counter, expected: collections.Counter, limit: int = 6) -> str:
    extra = governed - expected
    missing = expected - governed
    parts = [f"governed {sum(governed.values())} rows, oracle {sum(expected.values())} rows"]
    if extra:
        parts.append("only governed: " + repr(list(extra.elements())[:limit]))
    if missing:
        parts.append("only oracle:   " + repr(list(missing.elements())[:limit]))
    return "\n".join(parts)


# --------------------------------------------------------------------------- engines


class EngineError(Exception):
    pass


class PostgresEngine:
    name = dialect = "postgres"

    def __init__(self, conn):
        import psycopg

        self.conn = conn
        self._raw = psycopg.RawCursor  # $1-style parameters, '%' left alone

    def setup(self, dbs: Iterable[str]) -> None:
        load.load_postgres(self.conn, dbs)
        for db in dbs:
            for p in oracle.principals(db):
                oracle.install_postgres(self.conn, db, p)

    def _run(self, schema: str, sql: str, params) -> list[tuple]:
        import psycopg

        try:
            with self._raw(self.conn) as cur:
                cur.execute(f'SET search_path TO "{schema}"')
                cur.execute(sql, params or None)
                return cur.fetchall()
        except psycopg.Error as err:
            raise EngineError(f"{type(err).__name__}: {str(err).strip().splitlines()[0]}") from None

    def run_base(self, db, sql, params=None):
        return self._run(load.corpus_schema(db), sql, params)

    def run_oracle(self, db, principal, sql):
        return self._run(oracle.oracle_schema(db, principal), sql, None)


class DuckDBEngine:
    name = dialect = "duckdb"

    def __init__(self, con=None):
        import duckdb

        self.con = con if con is not None else duckdb.connect(":memory:")

    def setup(self, dbs: Iterable[str]) -> None:
        load.load_duckdb(self.con, dbs)
        for db in dbs:
            for p in oracle.principals(db):
                oracle.install_duckdb(self.con, db, p)

    def _run(self, schema: str, sql: str, params) -> list[tuple]:
        import duckdb

        try:
            self.con.execute(f"SET search_path = '{schema}'")
            return self.con.execute(sql, list(params) if params else None).fetchall()
        except duckdb.Error as err:
            raise EngineError(f"{type(err).__name__}: {str(err).strip().splitlines()[0]}") from None

    def run_base(self, db, sql, params=None):
        return self._run(load.corpus_schema(db), sql, params)

    def run_oracle(self, db, principal, sql):
        return self._run(oracle.oracle_schema(db, principal), sql, None)


def _sqlite_sha256(value):
    if value is None:
        return None
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


class SQLiteEngine:
    """Base tables and oracle relations copied from a DuckDB load (see load.py / oracle.py)."""

    name = dialect = "sqlite"

    def __init__(self, duck: DuckDBEngine):
        self.duck = duck
        self.base: dict[str, sqlite3.Connection] = {}
        self.oracles: dict[tuple[str, str], sqlite3.Connection] = {}

    def setup(self, dbs: Iterable[str]) -> None:
        for db in dbs:
            con = load.load_sqlite(self.duck.con, db)
            # the function govern's sqlite hash mask calls: sha256 hex of its (already keyed) argument
            con.create_function("govern_sha256", 1, _sqlite_sha256, deterministic=True)
            self.base[db] = con
            for p in oracle.principals(db):
                self.oracles[(db, p)] = oracle.materialise_sqlite(self.duck.con, db, p)

    @staticmethod
    def _run(con, sql, params):
        try:
            return con.execute(sql, tuple(params) if params else ()).fetchall()
        except (sqlite3.Error, OverflowError, ValueError) as err:
            raise EngineError(f"{type(err).__name__}: {err}") from None

    def run_base(self, db, sql, params=None):
        return self._run(self.base[db], sql, params)

    def run_oracle(self, db, principal, sql):
        return self._run(self.oracles[(db, principal)], sql, None)


class MysqlEngine:
    """MariaDB / MySQL: base tables copied from the DuckDB load into ``<prefix>_c_<db>``, oracle views
    (oracle.py's, rendered for MySQL and transpiled from PostgreSQL by sqlglot) into
    ``<prefix>_o_<db>_<principal>``; every database is this run's own and dropped by ``close``."""

    name = dialect = "mysql"
    TYPES = {"TIMESTAMP": "DATETIME(6)", "SERIAL": "BIGINT", "REAL": "DOUBLE", "BOOLEAN": "BOOLEAN"}

    def __init__(self, conn, duck: DuckDBEngine, prefix: str):
        self.conn, self.duck, self.prefix = conn, duck, prefix
        self.databases: list[str] = []

    def base_db(self, db: str) -> str:
        return f"{self.prefix}_c_{db}"

    def oracle_db(self, db: str, principal: str) -> str:
        return f"{self.prefix}_o_{db}_{principal}"

    def _create(self, name: str) -> None:
        cur = self.conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self.databases.append(name)

    def setup(self, dbs: Iterable[str]) -> None:
        cur = self.conn.cursor()
        for db in dbs:
            base = self.base_db(db)
            self._create(base)
            for table, cols in ddl.tables(db).items():
                defs = ", ".join(f"`{c}` {self.TYPES.get(t.sql('postgres'), t.sql('mysql'))}" for c, t in cols)
                cur.execute(f"CREATE TABLE `{base}`.`{table}` ({defs}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
                rows = self.duck.con.execute(f"SELECT * FROM {load.corpus_schema(db)}.{table}").fetchall()
                if rows:
                    marks = ", ".join(["%s"] * len(cols))
                    cur.executemany(f"INSERT INTO `{base}`.`{table}` VALUES ({marks})", rows)
            for p in oracle.principals(db):
                target = self.oracle_db(db, p)
                self._create(target)
                for table, body in oracle.VIEWS[db][p].items():
                    select = sqlglot.transpile(oracle.render(body, "mysql", base), read="postgres", write="mysql")[0]
                    cur.execute(f"CREATE VIEW `{target}`.`{table}` AS {select}")

    def close(self) -> None:
        cur = self.conn.cursor()
        for name in self.databases:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        self.conn.close()

    def _run(self, database: str, sql: str, params) -> list[tuple]:
        import pymysql

        from govern.connections import format_paramstyle

        try:
            cur = self.conn.cursor()
            cur.execute(f"USE `{database}`")
            if params:
                cur.execute(format_paramstyle(sql), list(params))
            else:
                cur.execute(sql)
            return list(cur.fetchall())
        except pymysql.Error as err:
            raise EngineError(f"{type(err).__name__}: {err}") from None

    def run_base(self, db, sql, params=None):
        return self._run(self.base_db(db), sql, params)

    def run_oracle(self, db, principal, sql):
        return self._run(self.oracle_db(db, principal), sql, None)


# --------------------------------------------------------------------------- governance


@functools.lru_cache(maxsize=None)
def governor(db: str):
    import govern
    from govern.audit import AuditTrail

    # No audit sink: thousands of decisions per run must not land in the repository's audit/ trail.
    # The hash key comes from $GOVERN_HASH_KEY (rules.yaml settings.hash_key_env), set by the fixtures.
    return govern.Governor.from_path(POLICY_DIR / db, audit=AuditTrail.null())


@functools.lru_cache(maxsize=None)
def principal_specs(db: str) -> dict[str, dict]:
    data = yaml.safe_load((POLICY_DIR / db / "principals.yaml").read_text(encoding="utf-8"))
    return {p["id"]: p for p in data["principals"]}


@functools.lru_cache(maxsize=None)
def principal(db: str, pid: str):
    import govern

    spec = principal_specs(db)[pid]
    return govern.Principal(id=spec["id"], roles=spec.get("roles", []), attributes=spec.get("attributes") or {})


def principals(db: str) -> list[str]:
    ids = list(principal_specs(db))
    assert sorted(ids) == sorted(oracle.principals(db)), f"{db}: principals.yaml and oracle.py disagree"
    return ids


CASE_SENSITIVE_ENGINES = frozenset({"mysql"})


def engine_query(q: dict, engine: str) -> str:
    if q["dialect"] == engine:
        return q["sql"]
    if engine in CASE_SENSITIVE_ENGINES:
        # The source dialect folds unquoted names to lower case (so does the corpus DDL); MariaDB on
        # Linux matches table names and aliases as written: carry the folding over explicitly.
        tree = normalize_identifiers(sqlglot.parse_one(q["sql"], read=q["dialect"]), dialect=q["dialect"])
        return tree.sql(engine, unsupported_level=sqlglot.ErrorLevel.RAISE)
    out = sqlglot.transpile(q["sql"], read=q["dialect"], write=engine, unsupported_level=sqlglot.ErrorLevel.RAISE)
    if len(out) != 1:
        raise ValueError(f"{len(out)} statements")
    return out[0]


def _without_top_limit(sql: str, dialect: str) -> str | None:
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Query) or not tree.args.get("limit"):
        return None
    tree.set("limit", None)
    tree.set("offset", None)
    return tree.sql(dialect=dialect)


def queries_for(db: str) -> list[dict]:
    return [q for q in ddl.queries() if q["db"] == db]


def _same_error(a: str, b: str) -> bool:
    return a.split("\n")[0].strip() == b.split("\n")[0].strip()


def check_query(eng, db: str, pid: str, q: dict) -> Outcome:
    def out(status, query, **kw):
        return Outcome(db=db, engine=eng.name, principal=pid, index=q["index"], dialect=q["dialect"],
                       status=status, query=query, **kw)

    try:
        sql = engine_query(q, eng.dialect)
    except Exception as err:  # the query cannot be expressed in the engine's dialect
        sql = None
        transpile_error = f"transpile {q['dialect']}->{eng.dialect} failed: {type(err).__name__}: {err}"

    # oracle first: what may this principal see?
    oracle_rows = oracle_error = None
    if sql is not None:
        try:
            oracle_rows = eng.run_oracle(db, pid, sql)
        except EngineError as err:
            oracle_error = str(err)
    else:
        oracle_error = transpile_error

    if sql is None:
        return out("not_comparable", q["sql"], detail=transpile_error)

    try:
        decision = governor(db).check_sql(sql, principal(db, pid), dialect=eng.dialect)
    except Exception as err:
        return out("check_error", sql, detail=f"{type(err).__name__}: {err}")

    if not decision.allowed:
        reasons = list(decision.reasons or [])
        if not reasons:
            return out("denied_no_reason", sql, detail=f"oracle: {oracle_error or 'ok'}")
        status = "denied_oracle_fails" if oracle_error else "denied_oracle_ok"
        detail = f"oracle: {oracle_error}" if oracle_error else f"oracle returned {len(oracle_rows)} rows"
        return out(status, sql, reasons=reasons, detail=detail)

    gsql = decision.sql
    params = decision.params or None
    try:
        governed_rows = eng.run_base(db, gsql, params)
        governed_error = None
    except EngineError as err:
        governed_rows, governed_error = None, str(err)

    if oracle_error is not None:
        if governed_error is not None:
            try:
                eng.run_base(db, sql)
            except EngineError as err:  # the query itself does not run here: nothing to compare
                return out("not_comparable", sql, governed_sql=gsql,
                           detail=f"oracle: {oracle_error}\ngoverned: {governed_error}\nbase: {err}")
            if _same_error(oracle_error, governed_error):
                # e.g. PostgreSQL's GROUP BY <primary key> functional dependency does not survive a
                # view / derived table: the view-based oracle and the rewrite fail alike
                return out("same_error", sql, governed_sql=gsql,
                           detail=f"oracle and governed: {governed_error} (runs on the base tables)")
            # the query runs on the base tables, so the oracle failed because of the policy;
            # govern allowed it and emitted SQL that fails instead of denying with a reason
            return out("error_not_denied", sql, governed_sql=gsql,
                       detail=f"oracle: {oracle_error}\ngoverned: {governed_error}")
        return out("leak", sql, governed_sql=gsql,
                   detail=f"oracle: {oracle_error}\ngoverned returned {len(governed_rows)} rows: "
                          f"{governed_rows[:5]!r}")
    if governed_error is not None:
        return out("governed_error", sql, governed_sql=gsql,
                   detail=f"governed: {governed_error}\noracle returned {len(oracle_rows)} rows")

    g, o = normalise(governed_rows), normalise(oracle_rows)
    if g == o:
        try:
            effect = normalise(eng.run_base(db, sql)) != o
        except EngineError:
            effect = None
        return out("equal", sql, governed_sql=gsql, policy_effect=effect)
    unlimited = _without_top_limit(sql, eng.dialect)
    if unlimited is not None:
        try:
            full = normalise(eng.run_oracle(db, pid, unlimited))
        except EngineError:
            full = None
        if full is not None and sum(g.values()) == sum(o.values()) and not (g - full):
            return out("equal_limit_ties", sql, governed_sql=gsql, detail=_diff_text(g, o))
    return out("different", sql, governed_sql=gsql, detail=_diff_text(g, o))


def run_case(eng, db: str, pid: str) -> list[Outcome]:
    return [check_query(eng, db, pid, q) for q in queries_for(db)]


PROBE_BASE_INDEX = 1000


def probe_queries(db: str, engine: str) -> list[dict]:
    """``SELECT * FROM t`` for every table of the db: compares each governed relation with its
    oracle view directly (columns in order, masks, filters; invisible tables must be denied)."""
    return [
        {"db": db, "dialect": engine, "index": PROBE_BASE_INDEX + i, "sql": f"SELECT * FROM {t}"}
        for i, t in enumerate(ddl.tables(db))
    ]


def run_probes(eng, db: str, pid: str) -> list[Outcome]:
    return [check_query(eng, db, pid, q) for q in probe_queries(db, eng.dialect)]


# --------------------------------------------------------------------------- summary


def summarise(outcomes: list[Outcome]) -> dict[tuple[str, str, str], collections.Counter]:
    table: dict[tuple[str, str, str], collections.Counter] = {}
    for o in outcomes:
        table.setdefault((o.db, o.engine, o.principal), collections.Counter())[o.status] += 1
    return table


_SHORT = {
    "equal": "equal", "equal_limit_ties": "eq~lim", "denied_oracle_fails": "den/oerr",
    "denied_oracle_ok": "den/ook", "not_comparable": "n/c", "same_error": "sameerr", "different": "DIFF", "leak": "LEAK",
    "governed_error": "GERR", "error_not_denied": "ENDEN", "denied_no_reason": "DNR", "check_error": "CHKERR",
}


def format_summary(outcomes: list[Outcome]) -> str:
    table = summarise(outcomes)
    effect = collections.Counter((o.db, o.engine, o.principal) for o in outcomes if o.policy_effect)
    head = ["db", "engine", "principal", "run"] + [_SHORT[s] for s in STATUSES] + ["policy"]
    rows = []
    totals: dict[str, collections.Counter] = {}
    for (db, engine, pid), c in sorted(table.items()):
        c = c + collections.Counter({"policy": effect[(db, engine, pid)]})
        rows.append([db, engine, pid, str(sum(c[s] for s in STATUSES))] + [str(c.get(s, 0)) for s in STATUSES]
                    + [str(c["policy"])])
        totals.setdefault(engine, collections.Counter()).update(c)
    for engine, c in sorted(totals.items()):
        rows.append(["TOTAL", engine, "", str(sum(c[s] for s in STATUSES))] + [str(c.get(s, 0)) for s in STATUSES]
                    + [str(c["policy"])])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda r: "  ".join(v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
    lines = [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]
    legend = ("equal: same rows | eq~lim: same up to LIMIT ties | den/oerr: denied, oracle errors too | "
              "den/ook: denied, oracle has rows | n/c: not comparable (query fails on the engine) | "
              "sameerr: oracle and governed fail alike though the query runs on the base tables | "
              "policy: of the equal ones, how many the policy changed (ungoverned rows differ) | "
              "DIFF/LEAK/GERR/ENDEN/DNR/CHKERR: failures")
    return "\n".join(lines + [legend])


def denial_reasons(outcomes: list[Outcome]) -> collections.Counter:
    return collections.Counter(
        (o.db, o.principal, o.status, "; ".join(o.reasons)) for o in outcomes if o.status.startswith("denied")
    )


class SparkEngine:
    """Spark SQL (a SparkSession in local mode): base tables written by DuckDB as Parquet and registered
    in database ``<prefix>_c_<db>``, oracle views (oracle.py's, rendered for MySQL-style SHA2 and
    transpiled from PostgreSQL by sqlglot) in ``<prefix>_o_<db>_<principal>``."""

    name = dialect = "spark"

    def __init__(self, session, duck: DuckDBEngine, prefix: str, directory: Path):
        self.spark, self.duck, self.prefix, self.directory = session, duck, prefix, directory

    def base_db(self, db: str) -> str:
        return f"{self.prefix}_c_{db}"

    def oracle_db(self, db: str, principal: str) -> str:
        return f"{self.prefix}_o_{db}_{principal}"

    def setup(self, dbs: Iterable[str], principals_of=None) -> None:
        for db in dbs:
            base = self.base_db(db)
            self.spark.sql(f"CREATE DATABASE `{base}`")
            for table in ddl.tables(db):
                path = self.directory / f"{db}.{table}.parquet"
                self.duck.con.execute(f"COPY {load.corpus_schema(db)}.{table} TO '{path}' (FORMAT parquet)")
                self.spark.sql(f"CREATE TABLE `{base}`.`{table}` USING parquet LOCATION '{path}'")
            for p in (principals_of(db) if principals_of else oracle.principals(db)):
                target = self.oracle_db(db, p)
                self.spark.sql(f"CREATE DATABASE `{target}`")
                for table, body in oracle.VIEWS[db][p].items():
                    select = sqlglot.transpile(oracle.render(body, "mysql", base), read="postgres", write="spark")[0]
                    self.spark.sql(f"CREATE VIEW `{target}`.`{table}` AS {select}")

    def _run(self, database: str, sql: str, params) -> list[tuple]:
        try:
            self.spark.catalog.setCurrentDatabase(database)
            frame = self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
            return [tuple(r) for r in frame.collect()]
        except Exception as err:  # pyspark's AnalysisException, Py4JJavaError, ...
            raise EngineError(f"{type(err).__name__}: {str(err).strip().splitlines()[0][:300]}") from None

    def run_base(self, db, sql, params=None):
        return self._run(self.base_db(db), sql, params)

    def run_oracle(self, db, principal, sql):
        return self._run(self.oracle_db(db, principal), sql, None)
