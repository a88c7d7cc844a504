"""The demo data and its oracle views in MariaDB / MySQL (databases stand for schemas).

``load_demo_into_mysql(conn, database)`` copies the demo DuckDB database into
``database`` (dropped and recreated): the demo DDL with MySQL types (VARCHAR(255),
TEXT for free text, DATETIME(6) for TIMESTAMP: MySQL's TIMESTAMP converts time zones and
updates itself). ``create_mysql_oracle_views`` writes the hand-written oracle
views of tests/oracle/demo_views.py into one database per principal; they are
created in ANSI mode (``"name"`` quoting, ``||`` concatenation), and the server
stores them in its canonical form, so they read the same in any session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from govern.demo.dataset import TABLES
from tests.oracle.demo_views import DEMO_TABLES, Masks, oracle_definitions, view_sql

MYSQL_TYPES = {"VARCHAR": "VARCHAR(255)", "TIMESTAMP": "DATETIME(6)"}
LONG_TEXT = {"body"}  # free text: TEXT (VARCHAR(255) elsewhere, so keys can reference it)


def q(ident: str) -> str:
    return "`" + ident.replace("`", "``") + "`"


def create_table_mysql(table, database: str) -> str:
    lines = [f"  {q(c)} {'TEXT' if c in LONG_TEXT else MYSQL_TYPES.get(t, t)}{' NOT NULL' if c in table.not_null else ''}" for c, t in table.columns]
    lines.append(f"  PRIMARY KEY ({', '.join(map(q, table.primary_key))})")
    for cols in table.unique:
        lines.append(f"  UNIQUE ({', '.join(map(q, cols))})")
    for cols, ref_table, ref_cols in table.foreign_keys:
        lines.append(f"  FOREIGN KEY ({', '.join(map(q, cols))}) REFERENCES {q(database)}.{q(ref_table)} ({', '.join(map(q, ref_cols))})")
    return f"CREATE TABLE {q(database)}.{q(table.name)} (\n" + ",\n".join(lines) + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"


def load_demo_into_mysql(conn: Any, database: str, *, duckdb_path: str | Path) -> dict[str, int]:
    """Load the demo data into ``database`` (a PyMySQL connection in autocommit); returns table -> rows."""
    src = duckdb.connect(str(duckdb_path), read_only=True)
    counts: dict[str, int] = {}
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS {q(database)}")
        cur.execute(f"CREATE DATABASE {q(database)} CHARACTER SET utf8mb4")
        for table in TABLES:  # creation order respects the foreign keys
            cur.execute(create_table_mysql(table, database))
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            order = ", ".join(f'"{c}"' for c in table.primary_key)
            rows = src.execute(f'SELECT {cols} FROM main."{table.name}" ORDER BY {order}').fetchall()
            marks = ", ".join(["%s"] * len(table.column_names))
            cur.executemany(f"INSERT INTO {q(database)}.{q(table.name)} ({', '.join(map(q, table.column_names))}) "
                            f"VALUES ({marks})", rows)
            counts[table.name] = len(rows)
            cur.execute(f"ANALYZE TABLE {q(database)}.{q(table.name)}")
            cur.fetchall()
        conn.commit()
    finally:
        src.close()
    return counts


def create_mysql_oracle_views(conn: Any, principal_id: str, database: str, source: str, hash_key: str) -> list[str]:
    """The oracle views of ``principal_id`` in ``database`` (recreated), reading ``source``."""
    cur = conn.cursor()
    cur.execute("SET @govern_saved_mode = @@SESSION.sql_mode")
    cur.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI')")
    try:
        cur.execute(f"DROP DATABASE IF EXISTS {q(database)}")
        cur.execute(f"CREATE DATABASE {q(database)} CHARACTER SET utf8mb4")
        definitions = oracle_definitions(principal_id, Masks("mysql", hash_key))
        for table, view in definitions.items():
            assert table in DEMO_TABLES
            cur.execute(view_sql(table, view, schema=database, source_schema=source))
    finally:
        cur.execute("SET SESSION sql_mode = @govern_saved_mode")
    return list(definitions)
