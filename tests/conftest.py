"""Shared fixtures: the demo database, a governor over the demo bundle, PostgreSQL.

PostgreSQL tests skip when no server is reachable, except when
GOVERN_REQUIRE_POSTGRES=1 (set by .ci/run), where that is a failure.
"""

from __future__ import annotations

import atexit
import os
import secrets
from pathlib import Path

import pytest

from govern import Governor
from govern.audit import AuditTrail
from govern.demo.dataset import build_demo_db

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
TEST_HASH_KEY = "test-hash-key-not-a-secret"
BASE_PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


def _own_postgres_database() -> str | None:
    """A database of this test run's own on the server (dropped at exit), so that two runs
    against one server never share schemas. None when no server answers (tests then skip,
    or fail under GOVERN_REQUIRE_POSTGRES=1)."""
    try:
        import psycopg
        from psycopg import sql

        name = f"govern_run_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(BASE_PG_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except Exception:  # no driver, no server
        return None

    def drop() -> None:
        try:
            with psycopg.connect(BASE_PG_DSN, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except Exception:
            pass

    atexit.register(drop)
    return name


# GOVERN_TEST_PG names the server and database to use (then nothing is created or dropped).
if "GOVERN_TEST_PG" not in os.environ:
    _database = _own_postgres_database()
    if _database is not None:
        os.environ["GOVERN_TEST_PG"] = BASE_PG_DSN.replace("dbname=test", f"dbname={_database}")
PG_DSN = os.environ.get("GOVERN_TEST_PG", BASE_PG_DSN)


def postgres_required() -> bool:
    return os.environ.get("GOVERN_REQUIRE_POSTGRES", "").strip().lower() in {"1", "true", "yes", "on"}


def require_postgres(connect):
    """``connect()``, or skip the test when no server answers (fail when GOVERN_REQUIRE_POSTGRES=1).

    The one place that decides skip-or-fail, so no test suite can quietly skip in CI.
    """
    try:
        return connect()
    except Exception as err:  # no driver, no server
        message = f"PostgreSQL not reachable ({type(err).__name__}: {err})"
        if postgres_required():
            pytest.fail(f"GOVERN_REQUIRE_POSTGRES=1 but {message}", pytrace=False)
        pytest.skip(message)


def connect_postgres_or_skip(**kwargs):
    def connect():
        import psycopg

        return psycopg.connect(PG_DSN, **kwargs)

    return require_postgres(connect)


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("demo") / "demo.duckdb")


@pytest.fixture()
def demo_duckdb(demo_db_path):
    import duckdb

    conn = duckdb.connect(str(demo_db_path), read_only=True)
    yield conn
    conn.close()


@pytest.fixture()
def audit_path(tmp_path) -> Path:
    return tmp_path / "audit" / "trail.jsonl"


@pytest.fixture()
def gov(audit_path) -> Governor:
    return Governor.from_path(POLICIES, audit=audit_path, hash_key=TEST_HASH_KEY)


@pytest.fixture(scope="session")
def quiet_gov() -> Governor:
    """A governor with no audit sink, for tests that only look at decisions."""
    return Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)


@pytest.fixture()
def pg_conn():
    conn = connect_postgres_or_skip(autocommit=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def free_text_worlds(demo_db_path, tmp_path_factory):
    """dialect -> two demo databases that differ only in free text (tests/guard_oracle.py)."""
    from tests.guard_oracle import build_worlds

    get, close = build_worlds(demo_db_path, tmp_path_factory.mktemp("free_text_worlds"))
    yield get
    close()


# --------------------------------------------------------------------------- MariaDB / MySQL
# Tests on MariaDB/MySQL skip when no server answers, except under GOVERN_REQUIRE_MYSQL=1
# (.ci/run), where that is a failure. Each run works in databases of its own (govern_<hex>...).
MYSQL_PARAMS = {"host": os.environ.get("GOVERN_TEST_MYSQL_HOST", "127.0.0.1"),
                "port": int(os.environ.get("GOVERN_TEST_MYSQL_PORT", "3306")),
                "user": os.environ.get("GOVERN_TEST_MYSQL_USER", "root"),
                "password": os.environ.get("GOVERN_TEST_MYSQL_PASSWORD", "")}


def mysql_required() -> bool:
    return os.environ.get("GOVERN_REQUIRE_MYSQL", "").strip().lower() in {"1", "true", "yes", "on"}


def connect_mysql_or_skip(**kwargs):
    """A PyMySQL connection (autocommit), or skip (fail under GOVERN_REQUIRE_MYSQL=1)."""
    try:
        import pymysql

        return pymysql.connect(**MYSQL_PARAMS, autocommit=True, charset="utf8mb4", connect_timeout=3, **kwargs)
    except Exception as err:  # no driver, no server
        message = f"MariaDB/MySQL not reachable ({type(err).__name__}: {err})"
        if mysql_required():
            pytest.fail(f"GOVERN_REQUIRE_MYSQL=1 but {message}", pytrace=False)
        pytest.skip(message)
