"""Copy the demo DuckDB database into a PostgreSQL schema (same names, same types).

    import psycopg
    pg = psycopg.connect("host=127.0.0.1 user=postgres dbname=test")
    load_demo_into_postgres(pg, "govern_demo")

The schema is dropped (CASCADE) and recreated; tables get the same DDL as in
DuckDB (``govern.demo.dataset.create_table_sql``: INTEGER, VARCHAR, DECIMAL(p,s),
DATE, TIMESTAMP, primary and foreign keys) and are filled with COPY. Commits.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from govern.demo.dataset import TABLES, build_demo_db, create_table_sql

PG_DSN = os.environ.get("GOVERN_TEST_PG", "host=127.0.0.1 user=postgres dbname=test")


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def load_demo_into_postgres(
    pg_conn: Any,
    schema: str,
    *,
    duckdb_path: str | Path | None = None,
    seed: int = 7,
) -> dict[str, int]:
    """Load the demo data into ``schema``; returns table -> row count.

    ``duckdb_path`` is an existing demo database; without it one is built with ``seed``
    in a temporary directory.
    """
    if duckdb_path is None:
        with tempfile.TemporaryDirectory(prefix="govern-demo-") as tmp:
            path = build_demo_db(Path(tmp) / "demo.duckdb", seed=seed)
            return load_demo_into_postgres(pg_conn, schema, duckdb_path=path)

    counts: dict[str, int] = {}
    try:
        src = duckdb.connect(str(duckdb_path), read_only=True)
    except duckdb.ConnectionException:  # already open read-write in this process: share that instance
        src = duckdb.connect(str(duckdb_path))
    try:
        with pg_conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {_q(schema)} CASCADE")
            cur.execute(f"CREATE SCHEMA {_q(schema)}")
            for table in TABLES:  # creation order respects the foreign keys
                cur.execute(create_table_sql(table, schema))
                cols = ", ".join(_q(c) for c in table.column_names)
                order = ", ".join(_q(c) for c in table.primary_key)
                rows = src.execute(f"SELECT {cols} FROM main.{_q(table.name)} ORDER BY {order}").fetchall()
                with cur.copy(f"COPY {_q(schema)}.{_q(table.name)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                counts[table.name] = len(rows)
                cur.execute(f"ANALYZE {_q(schema)}.{_q(table.name)}")
        pg_conn.commit()
    except BaseException:
        pg_conn.rollback()
        raise
    finally:
        src.close()
    return counts
