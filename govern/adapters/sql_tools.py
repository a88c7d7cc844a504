"""The governed SQL tools every integration shares (LangChain, LlamaIndex, the MCP server).

One governor, one DB-API connection (DuckDB, psycopg 3, sqlite3), and a
principal given per instance or per call, never by the model:

    tools = GovernedSql(gov, conn, principal)
    tools.schema().text                  # what the principal may see (gov.schema_for)
    tools.execute("SELECT ...").rows     # gov.execute: governed, masked, audited
    denial_text(err)                     # a QueryDenied / QueryFailed as text a model can repair from

A denial is never an empty result: it raises ``QueryDenied`` whose reasons name the
column, table or construct, and ``denial_text`` turns it into the message a tool
returns to the model. The statement timeout (``limits.statement_timeout_ms`` of the
bundle unless given) is enforced by the engine: PostgreSQL's ``statement_timeout``,
DuckDB's and SQLite's ``interrupt()``. Calls on one connection are serialized.
"""

from __future__ import annotations

import threading
from typing import Any

from govern.connections import dialect_of
from govern.errors import QueryDenied, QueryFailed
from govern.principal import Principal

__all__ = ["GovernedSql", "denial_text", "display_dialect"]

# The names frameworks use for dialects in prompts (SQLAlchemy's), from sqlglot's.
_DISPLAY = {"postgres": "postgresql"}


def display_dialect(dialect: str) -> str:
    return _DISPLAY.get(dialect, dialect)


def denial_text(err: Exception) -> str:
    """What a tool tells the model when its query is refused or fails (no data in it)."""
    if isinstance(err, QueryDenied):
        reasons = "\n".join(f"- {r}" for r in err.decision.reasons)
        return (f"query denied by governance policy:\n{reasons}\n"
                "Rewrite the query using only the tables and columns of the schema you were given.")
    if isinstance(err, QueryFailed):
        return f"query failed in the database: {err.message}"
    return f"{type(err).__name__}: {err}"


class GovernedSql:
    """Governed schema and queries over one connection for a principal (per instance or per call)."""

    def __init__(self, gov: Any, conn: Any, principal: Principal | dict | None = None, *, dialect: str | None = None,
                 statement_timeout_ms: int | None = None):
        self.gov = gov
        self.conn = conn
        self.dialect = dialect or dialect_of(conn)
        self.principal = _as_principal(principal) if principal is not None else None
        self._timeout = statement_timeout_ms
        self.lock = threading.RLock()  # one connection: one statement at a time (share it with other users of conn)

    def for_principal(self, principal: Principal | dict) -> GovernedSql:
        """The same governor and connection (and its lock) for another principal."""
        other = GovernedSql(self.gov, self.conn, principal, dialect=self.dialect, statement_timeout_ms=self._timeout)
        other.lock = self.lock
        return other

    def principal_of(self, principal: Principal | dict | None = None) -> Principal:
        if principal is not None:
            return _as_principal(principal)
        if self.principal is None:
            raise ValueError("no principal: pass principal= to this call or to the constructor")
        return self.principal

    @property
    def statement_timeout_ms(self) -> int | None:
        if self._timeout is not None:
            return self._timeout
        return getattr(self.gov.bundle.rules.limits, "statement_timeout_ms", None)

    def schema(self, principal: Principal | dict | None = None):
        """``gov.schema_for`` in this connection's dialect."""
        return self.gov.schema_for(self.principal_of(principal), self.dialect)

    def execute(self, sql: str, principal: Principal | dict | None = None, *, correlation_id: str | None = None):
        """``gov.execute`` under the statement timeout; raises QueryDenied / QueryFailed."""
        who = self.principal_of(principal)
        timeout = self.statement_timeout_ms
        with self.lock:
            timer, conn = None, self.conn
            if timeout and self.dialect == "postgres":
                conn.execute(f"SET statement_timeout = {int(timeout)}")
            elif timeout and hasattr(conn, "interrupt"):
                if self.dialect == "duckdb":  # a DuckDB cursor is a connection of its own: interrupt those
                    conn = _InterruptibleCursors(conn)
                timer = threading.Timer(timeout / 1000, conn.interrupt)
                timer.daemon = True
                timer.start()
            try:
                return self.gov.execute(conn, sql, who, self.dialect, correlation_id=correlation_id)
            except QueryFailed:
                if self.dialect == "postgres" and not getattr(self.conn, "autocommit", True):
                    self.conn.rollback()  # an aborted transaction would refuse every later query
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                if isinstance(conn, _InterruptibleCursors):
                    conn.close_cursors()


class _InterruptibleCursors:
    """A DuckDB connection whose cursors (each a connection of its own) ``interrupt()`` reaches too."""

    def __init__(self, conn: Any):
        self._conn = conn
        self._cursors: list = []

    def cursor(self):
        cursor = self._conn.cursor()
        self._cursors.append(cursor)
        return cursor

    def interrupt(self) -> None:
        for cursor in [self._conn, *self._cursors]:
            cursor.interrupt()

    def close_cursors(self) -> None:
        """Close the cursors the statement opened (each a DuckDB connection of its own): one left open
        after its parent connection is closed can abort the interpreter at exit (DuckDB 2.0)."""
        cursors, self._cursors = self._cursors, []
        for cursor in cursors:
            cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _as_principal(principal: Principal | dict) -> Principal:
    return principal if isinstance(principal, Principal) else Principal.model_validate(principal)


class DenialDetails:
    """What a denied or failed governed query tells the model: ``decision``, ``reasons``, ``denied``
    (mixed into each framework's own error class)."""

    def take(self, err: QueryDenied | QueryFailed) -> str:
        self.decision = err.decision
        self.reasons = list(err.decision.reasons) if isinstance(err, QueryDenied) else [err.message]
        self.denied = isinstance(err, QueryDenied)
        return denial_text(err)
