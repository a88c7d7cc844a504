"""Fixtures of the corpus differential tests.

* ``corpus_hash_key``: puts the fixed test key in ``GOVERN_HASH_KEY`` (the
  bundles' ``settings.hash_key_env``) for the session, restoring it after.
* ``corpus_pg``: a PostgreSQL connection (127.0.0.1:5432, user postgres, db
  test) with the corpus schemas and oracle schemas loaded. When no server is
  reachable the tests that use it are skipped -- unless
  ``GOVERN_REQUIRE_POSTGRES=1``, in which case they fail.
* ``corpus_duckdb`` / ``corpus_sqlite``: in-memory engines with the corpus and
  the oracles loaded.

The test module imports these fixtures explicitly (``from tests.corpus.conftest
import ...``) because it lives one directory up; a shared version is meant to
move to ``tests/conftest.py``.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import require_postgres

from . import ddl, harness, load, oracle


def postgres_connection_or_skip(dsn: str = load.PG_DSN):
    """A connection, or skip (fail when GOVERN_REQUIRE_POSTGRES=1) if no server is reachable."""
    return require_postgres(lambda: load.pg_connect(dsn))


@pytest.fixture(scope="session")
def corpus_hash_key():
    previous = os.environ.get("GOVERN_HASH_KEY")
    os.environ["GOVERN_HASH_KEY"] = oracle.HASH_KEY
    yield oracle.HASH_KEY
    if previous is None:
        os.environ.pop("GOVERN_HASH_KEY", None)
    else:
        os.environ["GOVERN_HASH_KEY"] = previous


@pytest.fixture(scope="session")
def corpus_pg(corpus_hash_key):
    conn = postgres_connection_or_skip()
    engine = harness.PostgresEngine(conn)
    engine.setup(ddl.DATABASES)
    yield engine
    conn.close()


@pytest.fixture(scope="session")
def corpus_duckdb(corpus_hash_key):
    engine = harness.DuckDBEngine()
    engine.setup(ddl.DATABASES)
    yield engine
    engine.con.close()


@pytest.fixture(scope="session")
def corpus_mysql(corpus_duckdb):
    """MariaDB / MySQL with the corpus and oracles in databases of this run's own (dropped after);
    skips without a server unless GOVERN_REQUIRE_MYSQL=1."""
    import secrets

    from tests.conftest import connect_mysql_or_skip

    engine = harness.MysqlEngine(connect_mysql_or_skip(), corpus_duckdb, f"govern_{secrets.token_hex(4)}")
    try:
        engine.setup(ddl.DATABASES)
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="session")
def corpus_sqlite(corpus_duckdb):
    engine = harness.SQLiteEngine(corpus_duckdb)
    engine.setup(ddl.DATABASES)
    yield engine
    for con in [*engine.base.values(), *engine.oracles.values()]:
        con.close()
