"""Governed SQL on Spark (pyspark, local mode): gov.execute over a SparkSession, the session check,
the error channel, and the demo bundle differential against per-principal views Spark enforces.

One SparkSession serves the whole module (starting one costs tens of seconds). The demo tables
are Parquet files written by DuckDB from the demo database and registered as tables of a
database of this run's own (``govern_<hex>``); each principal's oracle views live in
``govern_<hex>_<principal>``. The queries are the DuckDB differential's, transpiled to Spark SQL
by sqlglot; one that does not transpile is counted "not translated", never as passing.

Skips without pyspark / Java unless GOVERN_REQUIRE_SPARK=1 (.ci/run), then fails.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections import Counter

import pytest
import sqlglot

from govern import Governor
from govern.audit import AuditTrail
from govern.connections import SessionRefused, dialect_of
from govern.demo.dataset import TABLES
from govern.demo.questions import QUESTIONS
from govern.errors import QueryFailed
from tests.conftest import POLICIES, TEST_HASH_KEY
from tests.demo_oracle import PRINCIPALS, normalise
from tests.oracle.demo_views import oracle_definitions, Masks
from tests.test_sql_adversarial import SAME
from tests.corpus.conftest import corpus_hash_key  # noqa: F401  (fixture used by name)

CASES = {**SAME, **{f"question: {title}": sql for title, sql in QUESTIONS}}
STATS: Counter = Counter()


def spark_required() -> bool:
    return os.environ.get("GOVERN_REQUIRE_SPARK", "").strip().lower() in {"1", "true", "yes", "on"}


def spark_view_sql(table: str, view, database: str, source: str) -> str:
    columns, where = view
    return (f"CREATE VIEW `{database}`.`{table}` AS SELECT {', '.join(columns)} "
            f"FROM (SELECT * FROM `{source}`.`{table}` WHERE {where.replace('{src}', f'`{source}`')}) AS t")


class SparkDemo:
    def __init__(self, session, database: str, governor: Governor):
        self.spark, self.database, self.gov = session, database, governor

    def run(self, sql: str, params=None, database: str | None = None):
        self.spark.catalog.setCurrentDatabase(database or self.database)
        frame = self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
        return [tuple(r) for r in frame.collect()]

    def governed(self, decision):
        return self.run(decision.sql, decision.params)

    def oracle(self, sql: str, pid: str):
        return self.run(sql, database=f"{self.database}_{pid}")


@pytest.fixture(scope="module")
def spark(demo_db_path, tmp_path_factory):
    try:
        from pyspark.sql import SparkSession

        tmp = tmp_path_factory.mktemp("spark")
        session = (SparkSession.builder.master("local[1]").appName("govern-tests")
                   .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
                   .config("spark.sql.ansi.enabled", "false").config("spark.sql.catalogImplementation", "in-memory")
                   .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
                   .config("spark.sql.session.timeZone", "UTC").getOrCreate())
        session.sparkContext.setLogLevel("OFF")  # expected analysis errors would flood the output
    except Exception as err:  # no pyspark, no Java
        message = f"Spark not available ({type(err).__name__}: {err})"
        if spark_required():
            pytest.fail(f"GOVERN_REQUIRE_SPARK=1 but {message}", pytrace=False)
        pytest.skip(message)
    import duckdb

    database = f"govern_{secrets.token_hex(4)}"
    src = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        session.sql(f"CREATE DATABASE `{database}`")
        for table in TABLES:
            path = tmp / f"{table.name}.parquet"
            src.execute(f"COPY main.\"{table.name}\" TO '{path}' (FORMAT parquet)")
            session.sql(f"CREATE TABLE `{database}`.`{table.name}` USING parquet LOCATION '{path}'")
        for pid in PRINCIPALS:
            session.sql(f"CREATE DATABASE `{database}_{pid}`")
            for table, view in oracle_definitions(pid, Masks("spark", TEST_HASH_KEY)).items():
                session.sql(spark_view_sql(table, view, f"{database}_{pid}", database))
        bundle = tmp / "policies"
        shutil.copytree(POLICIES, bundle)
        catalog = bundle / "catalog.yaml"
        catalog.write_text(re.sub(r"(?m)^(\s+)schema: main$", rf"\1schema: {database}", catalog.read_text()))
        governor = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
        yield SparkDemo(session, database, governor)
    finally:
        src.close()
        session.stop()


def to_spark(sql: str) -> str | None:
    try:
        out = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except Exception:
        return None
    return out[0] if len(out) == 1 else None


def test_spark_matches_oracle(spark):
    """Every case and principal in one test (one session, few Spark jobs at a time)."""
    failures = []
    for name in sorted(CASES):
        sql = to_spark(CASES[name])
        if sql is None:
            STATS["not translated"] += 1
            continue
        for pid in PRINCIPALS:
            gov = spark.gov
            decision = gov.check_sql(sql, gov.principal(pid), dialect="spark")
            try:
                expected, oracle_error = spark.oracle(sql, pid), None
            except Exception as err:
                expected, oracle_error = None, err
            if not decision.allowed:
                STATS["denied, oracle fails too" if oracle_error else "denied, oracle answers"] += 1
                continue
            if oracle_error is not None:
                try:
                    spark.governed(decision)
                except Exception:
                    STATS["both fail"] += 1
                    continue
                failures.append(f"{name}/{pid}: the views fail ({str(oracle_error)[:200]}) but governed SQL ran\n{decision.sql}")
                continue
            got = spark.governed(decision)
            got = gov.show_free_text(spark.spark, got, gov.principal(pid), "spark", masked=False)[0]
            if len(expected) > 1000:
                if len(got) != 1000:
                    failures.append(f"{name}/{pid}: cap")
                STATS["capped"] += 1
                continue
            if normalise(got) != normalise(expected):
                failures.append(f"{name}/{pid}: rows differ\n{sql}\n{decision.sql}")
                continue
            STATS["equal"] += 1
    print("\nSpark demo differential:", dict(STATS))
    assert not failures, "\n\n".join(failures[:10])
    assert STATS["equal"] > 0


# --------------------------------------------------------------------------- execute and the session check

def test_dialect_of_spark_session(spark):
    assert dialect_of(spark.spark) == "spark"


def test_execute_on_spark_with_hash_masks(spark):
    # ada's e-mails are hashed with the key bound as a Spark positional parameter
    gov, sql = spark.gov, "SELECT id, email FROM customers WHERE id <= 3"
    spark.spark.catalog.setCurrentDatabase(spark.database)
    result = gov.execute(spark.spark, sql, gov.principal("ada"))
    assert sorted(result.rows) == sorted(spark.oracle(sql, "ada"))
    assert all(len(r[1]) == 64 for r in result.rows)


def test_refuses_a_session_with_ansi_mode_on(spark):
    gov = spark.gov
    spark.spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        with pytest.raises(QueryFailed, match="spark.sql.ansi.enabled"):
            gov.execute(spark.spark, "SELECT id FROM customers", gov.principal("lena"))
    finally:
        spark.spark.conf.set("spark.sql.ansi.enabled", "false")
    assert gov.execute(spark.spark, "SELECT count(*) FROM customers", gov.principal("lena")).rows


def test_spark_cursor_raises_session_refused(spark):
    from govern.connections import spark_cursor

    spark.spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        with pytest.raises(SessionRefused):
            spark_cursor(spark.spark)
    finally:
        spark.spark.conf.set("spark.sql.ansi.enabled", "false")


# --------------------------------------------------------------------------- the error channel

# Raise on exactly the rows the filter hides. With ANSI off, division and casts give NULL, but a
# regular expression built from a column still raises, and so do raise_error / assert_true.
ERROR_PROBES = [
    ("eve", "SELECT count(*) FROM orders o WHERE o.status RLIKE (CASE WHEN o.region <> 'EU' THEN '(' ELSE '.' END)"),
    ("eve", "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE regexp_extract(c.name, CASE WHEN c.tenant <> 'acme' THEN '(' ELSE '(.)' END, 1) <> 'x'"),
]


@pytest.mark.parametrize(("pid", "sql"), ERROR_PROBES)
def test_error_channel_denied_on_spark(spark, pid, sql):
    with pytest.raises(Exception):
        spark.run(sql)  # the probe raises on the hidden rows of the base tables
    decision = spark.gov.check_sql(sql, spark.gov.principal(pid), dialect="spark")
    assert not decision.allowed
    assert any("cannot be kept from evaluating it before the row filter" in r for r in decision.reasons), decision.reasons


@pytest.mark.parametrize("expr", ["raise_error('x')", "assert_true(id < 0)", "java_method('java.lang.Math', 'abs', 1)",
                                  "reflect('java.lang.Math', 'abs', 1)", "input_file_name()", "current_user()",
                                  "version()", "spark_partition_id()"])
def test_spark_denies(expr):
    gov = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    assert not gov.check_sql(f"SELECT {expr} FROM customers", gov.principal("lena"), dialect="spark").allowed


def test_spark_required_in_ci():
    if os.environ.get("CI"):
        assert os.environ.get("GOVERN_REQUIRE_SPARK") == "1"


# --------------------------------------------------------------------------- the corpus on Spark

# One principal per corpus database (the CI budget: every query runs up to three times on Spark);
# the first listed in each bundle, so the choice is fixed.
def test_corpus_differential_on_spark(spark, tmp_path_factory, corpus_hash_key):
    from tests.corpus import ddl, harness

    duck = harness.DuckDBEngine()
    duck.setup(ddl.DATABASES)
    chosen = {db: harness.principals(db)[:1] for db in ddl.DATABASES}
    engine = harness.SparkEngine(spark.spark, duck, f"{spark.database}x", tmp_path_factory.mktemp("corpus-spark"))
    engine.setup(ddl.DATABASES, principals_of=chosen.get)
    outcomes = [o for db in ddl.DATABASES for pid in chosen[db] for o in harness.run_case(engine, db, pid)]
    print("\n" + harness.format_summary(outcomes))
    failures = [o for o in outcomes if o.failed]
    assert not failures, f"{len(failures)} corpus queries differ on Spark:\n\n" + "\n\n".join(o.describe() for o in failures[:15])
