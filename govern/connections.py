"""Database plumbing shared by the governor, entity scopes and retrieval.

Which SQL dialect a DB-API connection speaks, and a cursor ready to run
governed SQL on it: sqlite3 gets the function ``hash`` masks call, psycopg a
raw cursor that binds ``$1`` natively, a MySQL/MariaDB driver (PyMySQL,
mysql-connector) a cursor that turns governed SQL's ``?`` into its ``%s``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from govern.sql.masks import SQLITE_HASH_FUNCTION


def dialect_of(conn: Any) -> str:
    """The sqlglot dialect of a DB-API connection."""
    module = type(conn).__module__.split(".")[0].lstrip("_")
    try:
        return {"duckdb": "duckdb", "psycopg": "postgres", "sqlite3": "sqlite", "pymysql": "mysql", "mysql": "mysql",
                "MySQLdb": "mysql"}[module]
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
    if has_params and dialect == "mysql":
        return FormatParamCursor(conn.cursor())
    return conn.cursor()


def format_paramstyle(sql: str, dialect: str = "mysql") -> str:
    """``sql`` with its ``?`` bind parameters as ``%s`` and every other ``%`` doubled.

    MySQL drivers (PyMySQL, mysql-connector, mysqlclient) bind with Python's ``%``
    formatting when parameters are given, so a ``%`` in a LIKE pattern or the modulo
    operator must be written ``%%``. The parameters are found by sqlglot's tokenizer,
    so a ``?`` inside a string literal or a quoted name stays as it is.
    """
    from sqlglot.tokens import TokenType

    from govern.sql.dialect import sqlglot_dialect

    tokens = sqlglot_dialect(dialect).tokenize(sql)
    out, at = [], 0
    for token in tokens:
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            out.append(sql[at:token.start].replace("%", "%%"))
            out.append("%s")
            at = token.end + 1
    out.append(sql[at:].replace("%", "%%"))
    return "".join(out)


class FormatParamCursor:
    """A DB-API cursor of a ``format`` paramstyle driver that runs governed SQL with ``?`` parameters."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        if params:
            return self._cursor.execute(format_paramstyle(sql), params)
        return self._cursor.execute(sql)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def _sha256_hex(value: Any) -> str | None:
    return None if value is None else hashlib.sha256(str(value).encode("utf-8")).hexdigest()
