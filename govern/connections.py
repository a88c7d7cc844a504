"""Database plumbing shared by the governor, entity scopes and retrieval.

Which SQL dialect a DB-API connection speaks, and a cursor ready to run
governed SQL on it: sqlite3 gets the function ``hash`` masks call, psycopg a
raw cursor that binds ``$1`` natively.
"""

from __future__ import annotations

import hashlib
import re
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


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def database_message(err: BaseException) -> str:
    """What a caller may see of a database error: its class and the first line of its message,
    with every quoted text and every number replaced by ``?``.

    Engines quote the value a cast or a function failed on, and excerpts of the statement
    (DuckDB's ``LINE 1: ...``, PostgreSQL's DETAIL / CONTEXT lines): the governed SQL with the
    principal's row filter, and values of rows. Neither is the caller's to read; the error's kind
    ("Conversion Error: Could not convert string ? to INT32") is enough to repair a query."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = _QUOTED.sub(lambda m: m.group(0)[0] + "?" + m.group(0)[0], text)
    text = _NUMBER.sub("?", text)
    return f"{type(err).__name__}: {text}"
