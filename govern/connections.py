"""Database plumbing shared by the governor, entity scopes and retrieval.

Which SQL dialect a DB-API connection speaks, and a cursor ready to run
governed SQL on it: sqlite3 gets the function ``hash`` masks call, psycopg a
raw cursor that binds ``$1`` natively.
"""

from __future__ import annotations

import hashlib
from typing import Any

from govern.sql.masks import SQLITE_HASH_FUNCTION


def dialect_of(conn: Any) -> str:
    """The sqlglot dialect of a DB-API connection."""
    module = type(conn).__module__.split(".")[0].lstrip("_")
    try:
        return {"duckdb": "duckdb", "psycopg": "postgres", "sqlite3": "sqlite"}[module]
    except KeyError:
        raise ValueError(f"cannot tell the SQL dialect of a {module} connection; pass dialect=") from None


def cursor_for(conn: Any, dialect: str, has_params: bool):
    """A cursor of ``conn`` ready for governed SQL of ``dialect`` (with bind parameters when ``has_params``)."""
    if dialect == "sqlite":
        conn.create_function(SQLITE_HASH_FUNCTION, 1, _sha256_hex, deterministic=True)
    if has_params and dialect == "postgres" and type(conn).__module__.startswith("psycopg"):
        import psycopg

        # A raw cursor binds $1 natively and leaves '%' in the query alone. (A wrapper
        # around a connection provides such a cursor from its own cursor().)
        return psycopg.RawCursor(conn)
    return conn.cursor()


def _sha256_hex(value: Any) -> str | None:
    return None if value is None else hashlib.sha256(str(value).encode("utf-8")).hexdigest()
