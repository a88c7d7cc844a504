"""Fixtures for the SQL integrations (LangChain, LlamaIndex, the MCP server, examples/sql_agent.py).

``engine_conn`` is the demo database on each engine: DuckDB (read-only file) and
PostgreSQL (the demo copied into schema ``main`` of this run's own database; skipped
when no server answers, failed under GOVERN_REQUIRE_POSTGRES=1). The integration
libraries are required through ``require``: skipped when missing, failed under
GOVERN_REQUIRE_EXTRAS=1 (CI installs the extras).
"""

from __future__ import annotations

import importlib
import os

import duckdb
import pytest

from govern.demo.questions import QUESTIONS
from tests.conftest import connect_postgres_or_skip

ENGINES = ["duckdb", "postgres"]
PRINCIPALS = ("eve", "lena", "sam", "tara", "ada")
# The corpus of the differential property: the demo's questions (allowed, masked, denied) and a few more.
QUERIES = [sql for _, sql in QUESTIONS] + [
    "SELECT id, email, phone FROM customers ORDER BY id LIMIT 15",
    "SELECT national_id FROM customers",
    "SELECT region, count(*) AS n FROM orders GROUP BY region ORDER BY region",
    "SELECT * FROM assignments ORDER BY agent_id, customer_id LIMIT 10",
    "DELETE FROM customers",
]


def require(module: str):
    if os.environ.get("GOVERN_REQUIRE_EXTRAS", "").strip().lower() in {"1", "true", "yes", "on"}:
        return importlib.import_module(module)  # CI: a missing extra fails instead of skipping
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def demo_pg_loaded(demo_db_path):
    """A PostgreSQL connection string whose database holds the demo in schema main."""
    from tests.conftest import PG_DSN
    from tests.oracle.demo_pg import load_demo_into_postgres

    conn = connect_postgres_or_skip(autocommit=True)
    try:
        load_demo_into_postgres(conn, "main", duckdb_path=demo_db_path)
    finally:
        conn.close()
    return PG_DSN


def open_engine(engine: str, demo_db_path, request):
    if engine == "duckdb":
        return duckdb.connect(str(demo_db_path), read_only=True)
    request.getfixturevalue("demo_pg_loaded")
    return connect_postgres_or_skip(autocommit=True)


@pytest.fixture(params=ENGINES)
def engine_conn(request, demo_db_path):
    conn = open_engine(request.param, demo_db_path, request)
    yield conn
    conn.close()
