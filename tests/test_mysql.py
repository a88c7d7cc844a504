"""Governed SQL on MariaDB / MySQL (PyMySQL): execute, introspection, the fence, the error
channel, and the demo bundle differential against oracle views the server enforces itself.

The demo data is loaded into a database of this run's own (``govern_<hex>``), the oracle
views of each principal into ``govern_<hex>_<principal>``; all are dropped at the end. The
demo bundle names its tables ``main.<table>``; here it is loaded with the catalog's schema
set to the run's database (MySQL's schemas are databases). The queries are the DuckDB
differential's (tests/test_demo_differential.py), transpiled to MySQL by sqlglot; one that
does not transpile is counted "not translated", never as passing.

Skips without a server unless GOVERN_REQUIRE_MYSQL=1 (.ci/run), then fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections import Counter

import pytest
import sqlglot
from sqlglot import exp

from govern import Governor
from govern.audit import AuditTrail
from govern.bundle.catalog import Catalog
from govern.connections import dialect_of, format_paramstyle
from govern.demo.questions import QUESTIONS
from tests.conftest import POLICIES, TEST_HASH_KEY, connect_mysql_or_skip
from tests.demo_oracle import PRINCIPALS, normalise
from tests.oracle.demo_mysql import create_mysql_oracle_views, load_demo_into_mysql, q
from tests.test_sql_adversarial import SAME

CASES = {**SAME, **{f"question: {title}": sql for title, sql in QUESTIONS}}
STATS: Counter = Counter()


class MysqlDemo:
    def __init__(self, conn, database: str, governor: Governor):
        self.conn, self.database, self.gov = conn, database, governor

    def run(self, sql: str, params=None, database: str | None = None):
        cur = self.conn.cursor()
        cur.execute(f"USE {q(database or self.database)}")
        if params:
            cur.execute(format_paramstyle(sql), params)
        else:
            cur.execute(sql)
        return cur.fetchall()

    def governed(self, decision):
        return self.run(decision.sql, decision.params)

    def oracle(self, sql: str, pid: str):
        return self.run(sql, database=f"{self.database}_{pid}")


@pytest.fixture(scope="module")
def mysql(demo_db_path, tmp_path_factory):
    conn = connect_mysql_or_skip()
    database = f"govern_{secrets.token_hex(4)}"
    try:
        load_demo_into_mysql(conn, database, duckdb_path=demo_db_path)
        for pid in PRINCIPALS:
            create_mysql_oracle_views(conn, pid, f"{database}_{pid}", database, TEST_HASH_KEY)
        bundle = tmp_path_factory.mktemp("mysql-bundle") / "policies"
        shutil.copytree(POLICIES, bundle)
        catalog = bundle / "catalog.yaml"
        catalog.write_text(re.sub(r"(?m)^(\s+)schema: main$", rf"\1schema: {database}", catalog.read_text()))
        governor = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
        yield MysqlDemo(conn, database, governor)
    finally:
        cur = conn.cursor()
        for name in [database] + [f"{database}_{pid}" for pid in PRINCIPALS]:
            cur.execute(f"DROP DATABASE IF EXISTS {q(name)}")
        conn.close()


def to_mysql(sql: str) -> str | None:
    """The query in MySQL's dialect, or None when sqlglot cannot transpile it faithfully."""
    try:
        out = sqlglot.transpile(sql, read="duckdb", write="mysql", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except Exception:
        return None
    return out[0] if len(out) == 1 else None


def oracle_rows(mysql, sql: str, pid: str):
    """(rows, None) of the query on the principal's views, or (None, error).

    MariaDB on Linux matches table names case-sensitively, govern's catalog does not: a query
    naming ``CUSTOMERS`` fails on the views but is governed as ``customers``. Such a query is
    compared as its lower-case-table spelling (a table the principal cannot see still has no view).
    """
    try:
        return mysql.oracle(sql, pid), None
    except Exception as err:
        if getattr(err, "args", (None,))[0] != 1146:  # ER_NO_SUCH_TABLE
            return None, err
        folded = sqlglot.parse_one(sql, read="mysql")
        for table in folded.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier):
                table.this.set("this", table.name.lower())
        try:
            return mysql.oracle(folded.sql("mysql"), pid), None
        except Exception as again:
            return None, again


@pytest.mark.parametrize("name", sorted(CASES))
def test_mysql_matches_oracle(name, mysql):
    sql = to_mysql(CASES[name])
    if sql is None:
        STATS["not translated"] += 1
        pytest.skip("sqlglot does not transpile this query to MySQL faithfully (reported, not counted)")
    for pid in PRINCIPALS:
        gov = mysql.gov
        decision = gov.check_sql(sql, gov.principal(pid), dialect="mysql")
        expected, oracle_error = oracle_rows(mysql, sql, pid)
        if not decision.allowed:
            STATS["denied"] += 1
            if oracle_error is None:
                STATS["denied, oracle answers"] += 1
            continue
        if oracle_error is not None:
            # the views fail (a column the principal cannot see, ...) but govern allowed: a difference
            # unless govern's query failed too
            with pytest.raises(Exception):
                mysql.governed(decision)
            STATS["both fail"] += 1
            continue
        got = mysql.governed(decision)
        if len(expected) > 1000:
            assert len(got) == 1000
            STATS["capped"] += 1
            continue
        assert normalise(got) == normalise(expected), f"{pid}: rows differ\n{sql}\n{decision.sql}"
        STATS["equal"] += 1
