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
        STATS["not translated"] += 1  # reported in the summary, not counted as passing
        return
    for pid in PRINCIPALS:
        gov = mysql.gov
        decision = gov.check_sql(sql, gov.principal(pid), dialect="mysql")
        if not decision.allowed:
            STATS["denied"] += 1
            try:
                mysql.oracle(sql, pid)
            except Exception:
                continue
            else:
                # govern denies what the views answer: only for constructs denied on MySQL by name
                assert all("not supported on mysql" in r for r in decision.reasons), (pid, decision.reasons)
                STATS["denied, not faithful on MariaDB"] += 1
                continue
        expected, oracle_error = oracle_rows(mysql, sql, pid)
        if oracle_error is not None:
            # the views fail (a column the principal cannot see, ...) but govern allowed: a difference
            # unless govern's query failed too
            with pytest.raises(Exception):
                mysql.governed(decision)
            STATS["both fail"] += 1
            continue
        got = mysql.governed(decision)
        # free text the principal may not see whole comes back as handles: put the text in (read
        # through the principal's filter) to compare with the views
        got = gov.show_free_text(mysql.conn, got, gov.principal(pid), "mysql", masked=False)[0]
        if len(expected) > 1000:
            assert len(got) == 1000
            STATS["capped"] += 1
            continue
        assert normalise(got) == normalise(expected), f"{pid}: rows differ\n{sql}\n{decision.sql}"
        STATS["equal"] += 1


def test_mysql_differential_summary(mysql):
    """Runs after the cases above (file order): the tally is printed, and something was compared."""
    print("\nMariaDB demo differential:", dict(STATS))
    if STATS:
        assert STATS["equal"] > 0


# --------------------------------------------------------------------------- driver plumbing

def test_dialect_of_pymysql(mysql):
    assert dialect_of(mysql.conn) == "mysql"


def test_format_paramstyle_finds_parameters_by_token():
    sql = "SELECT '?', `a?`, x % 2, sha2(CONCAT(CAST(? AS CHAR), 'x%'), 256) FROM t WHERE y LIKE '%?%' AND z = ?"
    out = format_paramstyle(sql)
    assert out == ("SELECT '?', `a?`, x %% 2, sha2(CONCAT(CAST(%s AS CHAR), 'x%%'), 256) FROM t "
                   "WHERE y LIKE '%%?%%' AND z = %s")
    assert (out % ("'k'", "'v'")).count("%") == 4  # exactly two values; every other % kept


def test_execute_over_pymysql_with_hash_masks(mysql):
    # ada's bundle hashes e-mails with the key bound as a parameter (once per `?`), through gov.execute
    gov = mysql.gov
    result = gov.execute(mysql.conn, "SELECT id, email FROM customers WHERE email LIKE '%@%' ORDER BY id LIMIT 3",
                         gov.principal("ada"))
    expected = mysql.oracle("SELECT id, email FROM customers WHERE email LIKE '%@%' ORDER BY id LIMIT 3", "ada")
    assert [tuple(r) for r in result.rows] == [tuple(r) for r in expected]
    assert all(len(r[1]) == 64 for r in result.rows)


def test_introspect_mysql(mysql):
    from govern.demo.dataset import TABLES

    catalog = Catalog.introspect(mysql.conn, schema=mysql.database)
    assert sorted(t.name for t in catalog) == sorted(t.name for t in TABLES)
    for spec in TABLES:
        table = catalog.table(spec.name)
        assert table.schema == mysql.database
        assert table.column_names == tuple(spec.column_names)
        assert table.primary_key == tuple(spec.primary_key)
        assert {(tuple(fk.columns), fk.references.table, tuple(fk.references.columns)) for fk in table.foreign_keys} \
            == {(tuple(c), t, tuple(r)) for c, t, r in spec.foreign_keys}


# --------------------------------------------------------------------------- the error channel

# Predicates that raise on exactly the rows the filter hides (MariaDB raises on DOUBLE and BIGINT
# overflow; division by zero and failed casts give NULL in a SELECT). If the server evaluated them
# before the row filter, the query would fail and tell that hidden rows exist.
ERROR_PROBES = [
    ("eve", "SELECT count(*) FROM orders o WHERE EXP(CASE WHEN o.region <> 'EU' THEN 1000 ELSE 0 END) > 0"),
    ("eve", "SELECT count(*) FROM orders o WHERE o.id + (CASE WHEN o.region <> 'EU' THEN 9223372036854775807 ELSE 0 END) > 0"),
    ("eve", "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE EXP(CASE WHEN c.tenant <> 'acme' THEN 1000 ELSE 0 END) > 0"),
    ("eve", "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE POW(10, CASE WHEN c.account_manager_id <> 1 THEN 400 ELSE 1 END) > 0"),
    ("sam", "SELECT count(*) FROM support_tickets t WHERE EXP(CASE WHEN t.agent_id <> 22 THEN 1000 ELSE 0 END) > 0"),
]
FENCE = " LIMIT 18446744073709551615"


@pytest.mark.parametrize(("pid", "sql"), ERROR_PROBES)
def test_error_channel_fenced(mysql, pid, sql):
    with pytest.raises(Exception, match="out of range"):
        mysql.run(sql)  # the probe raises on the hidden rows of the base tables
    decision = mysql.gov.check_sql(sql, mysql.gov.principal(pid), dialect="mysql")
    assert decision.allowed, decision.reasons
    assert FENCE in decision.sql
    assert mysql.governed(decision)[0][0] > 0  # ran, and saw only the permitted rows
    # The plan: every governed relation is a materialized derived table, and the probe's
    # predicate is attached outside them, never inside.
    plan = json.loads(mysql.run("EXPLAIN FORMAT=JSON " + decision.sql, decision.params)[0][0])
    inner = [block for block in _find(plan, "materialized")]
    assert len(inner) == decision.sql.count(FENCE)
    for block in inner:
        assert "exp(" not in json.dumps(block).lower() and "pow(" not in json.dumps(block).lower()
        assert "9223372036854775807" not in json.dumps(block)


def test_unfenced_relation_leaks_on_mariadb(mysql):
    """The fence is needed: without it MariaDB merges the derived tables and evaluates the probe
    before the tenant filter (it raises), so this test fails if the fence stops being emitted
    or stops mattering unnoticed."""
    pid, sql = ERROR_PROBES[2]
    decision = mysql.gov.check_sql(sql, mysql.gov.principal(pid), dialect="mysql")
    with pytest.raises(Exception, match="out of range"):
        mysql.run(decision.sql.replace(FENCE, ""), decision.params)
    assert mysql.governed(decision)[0][0] > 0


def _find(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            else:
                yield from _find(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _find(v, key)


# --------------------------------------------------------------------------- MariaDB-specific denials

@pytest.mark.parametrize("expr", ["GET_LOCK('a', 1)", "RELEASE_ALL_LOCKS()", "CONNECTION_ID()", "LAST_INSERT_ID()",
                                  "FOUND_ROWS()", "DATABASE()", "USER()", "VERSION()", "SLEEP(1)", "BENCHMARK(9, 1)",
                                  "LOAD_FILE('/etc/passwd')", "EXTRACTVALUE(1, CONCAT('~', name))",
                                  "UPDATEXML(1, CONCAT('~', name), 1)", "MASTER_POS_WAIT('a', 1)", "@@version",
                                  "UUID_SHORT()", "name REGEXP 'a'", "name RLIKE 'a'"])
def test_mysql_denies(expr):
    from tests.conftest import POLICIES as policies

    gov = Governor.from_path(policies, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    decision = gov.check_sql(f"SELECT {expr} FROM customers", gov.principal("lena"), dialect="mysql")
    assert not decision.allowed


def test_mysql_function_list_is_the_servers():
    from govern.sql.safety import dialect_functions

    names = dialect_functions("mysql")
    assert {"sha2", "regexp_replace", "json_extract", "group_concat", "date_format"} <= names
    assert not names & {"get_lock", "sleep", "benchmark", "load_file", "extractvalue", "connection_id", "database"}


def test_mysql_required_in_ci():
    if os.environ.get("CI"):
        assert os.environ.get("GOVERN_REQUIRE_MYSQL") == "1"


@pytest.mark.parametrize("sql", ["SELECT count(*) FROM orders WHERE ordered_at >= DATE('now', '-7 days')",
                                 "SELECT DATE(ordered_at, CONCAT('-', 3, ' days')) FROM orders"])
def test_mysql_denies_truncated_date(sql):
    # sqlglot's MySQL parser keeps only DATE()'s first argument: the query would run as another one
    gov = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    decision = gov.check_sql(sql, gov.principal("lena"), dialect="mysql")
    assert not decision.allowed and any("DATE() with 2 arguments" in r for r in decision.reasons), decision.reasons
    assert gov.check_sql("SELECT DATE(ordered_at) FROM orders", gov.principal("lena"), dialect="mysql").allowed
