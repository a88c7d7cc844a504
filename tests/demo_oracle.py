"""Run a query both ways on the demo data and compare: governed SQL vs hand-written oracle views."""

from __future__ import annotations

import shutil
from collections import Counter
from decimal import Decimal

from tests.oracle.demo_views import create_oracle_views

PRINCIPALS = ("eve", "lena", "sam", "tara", "ada")


def normalise(rows) -> Counter:
    def cell(v):
        if isinstance(v, (float, Decimal)):
            return round(float(v), 6)
        return v

    return Counter(tuple(cell(v) for v in row) for row in rows)


class DuckOracle:
    """The demo database attached read-only as ``demo``; oracle views in the in-memory catalog.

    Keeping the base tables in another catalog means an oracle query cannot fall
    back to them: a table the principal may not see does not exist for it.
    """

    def __init__(self, demo_db_path, tmp_dir, hash_key: str):
        import duckdb

        path = tmp_dir / "oracle.duckdb"
        shutil.copy(demo_db_path, path)
        self.conn = duckdb.connect()
        self.conn.execute(f"ATTACH '{path}' AS demo (READ_ONLY)")
        for pid in PRINCIPALS:
            create_oracle_views(self.conn, pid, f"oracle_{pid}", "duckdb", hash_key=hash_key, source_schema="demo.main")
        self.conn.execute("USE demo")
        self.base = duckdb.connect(str(path), read_only=True)  # a session on the base tables alone

    def governed(self, decision):
        return self.conn.execute(decision.sql, decision.params or None).fetchall()

    @property
    def base_conn(self):
        return self.base

    def oracle(self, sql: str, principal_id: str):
        self.conn.execute(f"USE memory.oracle_{principal_id}")
        try:
            return self.conn.execute(sql).fetchall()
        finally:
            self.conn.execute("USE demo")


class PgOracle:
    """The demo data in PostgreSQL schema ``main`` and oracle schemas beside it."""

    def __init__(self, conn, demo_db_path, hash_key: str):
        from tests.oracle.demo_pg import load_demo_into_postgres

        self.conn = conn
        load_demo_into_postgres(conn, "main", duckdb_path=demo_db_path)
        for pid in PRINCIPALS:
            create_oracle_views(conn, pid, f"oracle_{pid}", "postgres", hash_key=hash_key)

    @property
    def base_conn(self):
        self.conn.execute("SET search_path TO main")
        return self.conn

    def governed(self, decision):
        import psycopg

        self.conn.execute("SET search_path TO main")
        cur = psycopg.RawCursor(self.conn) if decision.params else self.conn.cursor()
        cur.execute(decision.sql, decision.params or None)
        return cur.fetchall()

    def oracle(self, sql: str, principal_id: str):
        self.conn.execute(f"SET search_path TO oracle_{principal_id}")
        try:
            return self.conn.execute(sql).fetchall()
        finally:
            self.conn.execute("SET search_path TO main")
