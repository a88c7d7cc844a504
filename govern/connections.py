"""Database plumbing shared by the governor, entity scopes and retrieval.

Which SQL dialect a DB-API connection speaks, and a cursor ready to run
governed SQL on it: sqlite3 gets the function ``hash`` masks call, psycopg a
raw cursor that binds ``$1`` natively, a MySQL/MariaDB driver (PyMySQL,
mysql-connector) a cursor that turns governed SQL's ``?`` into its ``%s``, and a
SparkSession a cursor over ``spark.sql`` once its configuration is checked
(``spark_cursor``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from govern.sql.masks import SQLITE_HASH_FUNCTION


def dialect_of(conn: Any) -> str:
    """The sqlglot dialect of a DB-API connection."""
    module = type(conn).__module__.split(".")[0].lstrip("_")
    if module == "pyspark":
        return "spark"
    try:
        return {"duckdb": "duckdb", "psycopg": "postgres", "sqlite3": "sqlite", "pymysql": "mysql", "mysql": "mysql",
                "MySQLdb": "mysql"}[module]
    except KeyError:
        raise ValueError(f"cannot tell the SQL dialect of a {module} connection; pass dialect=") from None


def cursor_for(conn: Any, dialect: str, has_params: bool):
    """A cursor of ``conn`` ready for governed SQL of ``dialect`` (with bind parameters when ``has_params``)."""
    if dialect == "spark" and type(conn).__module__.startswith("pyspark"):
        return spark_cursor(conn)
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


# Spark SQL settings a governed query relies on: with ANSI mode on, a division by zero, an
# overflow or a failed cast raises, and Spark gives no fence to keep a predicate from running on
# rows a filter hides (its optimizer pushes filters freely), so such an error would tell that a
# hidden row exists. With it off they yield NULL (or wrap); functions that raise regardless
# (raise_error, assert_true, ...) are not on govern's allowlist.
SPARK_REQUIRED_CONF = {"spark.sql.ansi.enabled": "false"}


class SessionRefused(RuntimeError):
    """The session's configuration does not hold what governed SQL needs on it."""


def spark_cursor(session):
    """A DB-API-like cursor over ``session.sql``; refuses a session whose configuration does not hold
    SPARK_REQUIRED_CONF (checked here, before every governed query runs)."""
    for key, wanted in SPARK_REQUIRED_CONF.items():
        value = str(session.conf.get(key, None)).strip().lower()
        if value != wanted:
            raise SessionRefused(f"refusing to run governed SQL on this Spark session: {key} is {value!r}, govern "
                                 f"requires {wanted!r} (errors raised on hidden rows would reveal them)")
    return SparkCursor(session)


class SparkCursor:
    """``execute`` / ``description`` / ``fetchall`` over a SparkSession; ``?`` parameters bound by Spark."""

    def __init__(self, session):
        self._session = session
        self._frame = None
        self.description = None

    def execute(self, sql, params=None):
        self._frame = self._session.sql(sql, args=list(params)) if params else self._session.sql(sql)
        self.description = [(name, None, None, None, None, None, None) for name in self._frame.columns]

    def fetchall(self):
        return [tuple(row) for row in self._frame.collect()]

    def close(self):
        self._frame = None


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
