"""Load the text-to-SQL corpus databases into PostgreSQL, DuckDB and SQLite.

* PostgreSQL: each corpus database goes into its own schema ``corpus_<db>``.
  The DDL is parsed with sqlglot, identifiers normalised, every table
  reference re-qualified with the target schema (the files use ``public.`` or
  no schema at all) and re-emitted for PostgreSQL. Loading is idempotent: the
  schema carries a ``COMMENT`` marker (DDL digest + load date, because the
  data uses ``CURRENT_DATE``/``NOW()``); when the marker matches, nothing is
  done, otherwise the schema is dropped (CASCADE) and reloaded. Loads run
  under a PostgreSQL advisory lock so that concurrent test processes do not
  race.
* DuckDB: the same ASTs, transpiled to DuckDB (SERIAL -> INTEGER, and the
  corpus' ``TO_CHAR(ts, '%Y%m%d %H:%i:%s')``, which is not a valid DuckDB
  format, becomes ``STRFTIME(ts, '%Y%m%d %H:%M:%S')``), into schemas
  ``corpus_<db>`` of one in-memory database.
* SQLite: rows copied from the DuckDB load into a fresh in-memory SQLite
  database per corpus database (dates as ISO text, booleans as 0/1, decimals
  as REAL), since the PostgreSQL DDL/data does not transpile to SQLite.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
from typing import Any, Callable, Iterable

from sqlglot import exp

from . import ddl

import os

# GOVERN_TEST_PG overrides the server (as in tests/conftest.py), e.g. to check the skip path.
PG_DSN = os.environ.get("GOVERN_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test")
LOADER_VERSION = "1"
_LOCK_KEY = 0x60_7E_C0_4B  # pg_advisory_lock key for corpus/oracle loads


def corpus_schema(db: str) -> str:
    return f"corpus_{db}"


# --------------------------------------------------------------------------- PostgreSQL


def pg_connect(dsn: str = PG_DSN, timeout: float = 3.0):
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=int(max(1, timeout)))
    conn.execute("SET statement_timeout = '20s'")
    return conn


def _pg_marker(conn, schema: str) -> str | None:
    row = conn.execute(
        "SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n WHERE nspname = %s",
        (schema,),
    ).fetchone()
    return row[0] if row else None


def pg_ensure_schema(conn, schema: str, marker: str, build: Callable[[Any], None]) -> bool:
    """(Re)create ``schema`` with ``build(conn)`` unless it already carries ``marker``.

    Returns True when the schema was (re)built.
    """
    from psycopg import sql

    if _pg_marker(conn, schema) == marker:
        return False
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        if _pg_marker(conn, schema) == marker:  # somebody else built it meanwhile
            return False
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            build(conn)
            conn.execute(
                sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(schema), sql.Literal(marker))
            )
        return True
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def corpus_marker(db: str) -> str:
    return f"govern-corpus v{LOADER_VERSION} {ddl.ddl_digest(db)} {dt.date.today().isoformat()}"


def load_postgres(conn, dbs: Iterable[str] = ddl.DATABASES) -> None:
    for db in dbs:
        schema = corpus_schema(db)

        def build(c, db=db, schema=schema):
            for stmt in ddl.parse_ddl(db):
                c.execute(ddl.qualify(stmt, schema).sql("postgres"))

        pg_ensure_schema(conn, schema, corpus_marker(db), build)


# --------------------------------------------------------------------------- DuckDB


def _duckdb_fixups(stmt: exp.Expression) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.SERIAL:
            return exp.DataType.build("INTEGER")
        if isinstance(node, exp.TimeToStr):
            return exp.Anonymous(
                this="STRFTIME", expressions=[node.this, exp.Literal.string("%Y%m%d %H:%M:%S")]
            )
        return node

    return stmt.transform(fix)


def duckdb_statements(db: str, schema: str | None = None) -> list[str]:
    schema = schema or corpus_schema(db)
    return [_duckdb_fixups(ddl.qualify(s, schema)).sql("duckdb") for s in ddl.parse_ddl(db)]


def load_duckdb(con=None, dbs: Iterable[str] = ddl.DATABASES):
    import duckdb

    con = con if con is not None else duckdb.connect(":memory:")
    for db in dbs:
        schema = corpus_schema(db)
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
        for stmt in duckdb_statements(db, schema):
            con.execute(stmt)
    return con


# --------------------------------------------------------------------------- SQLite


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    return v


_SQLITE_TYPES = {
    "BIGINT": "INTEGER", "INTEGER": "INTEGER", "SMALLINT": "INTEGER", "BOOLEAN": "INTEGER",
    "DOUBLE": "REAL", "FLOAT": "REAL", "REAL": "REAL", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
}


def _sqlite_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "REAL"
    return _SQLITE_TYPES.get(t, "TEXT")


def copy_relations_to_sqlite(duck_con, relations: dict[str, str], target: sqlite3.Connection | None = None):
    """Materialise DuckDB relations (name -> qualified DuckDB relation) as SQLite tables."""
    target = target or sqlite3.connect(":memory:", check_same_thread=False)
    for name, rel in relations.items():
        desc = duck_con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        cols = ", ".join(f'"{c[0]}" {_sqlite_type(c[1])}' for c in desc)
        target.execute(f'CREATE TABLE "{name}" ({cols})')
        rows = duck_con.execute(f"SELECT * FROM {rel}").fetchall()
        marks = ", ".join("?" for _ in desc)
        target.executemany(
            f'INSERT INTO "{name}" VALUES ({marks})', [tuple(_sqlite_value(v) for v in r) for r in rows]
        )
    target.commit()
    return target


def load_sqlite(duck_con, db: str) -> sqlite3.Connection:
    schema = corpus_schema(db)
    names = [
        r[0]
        for r in duck_con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]
        ).fetchall()
    ]
    return copy_relations_to_sqlite(duck_con, {n: f"{schema}.{n}" for n in names})
