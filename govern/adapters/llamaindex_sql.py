"""LlamaIndex: a governed ``SQLDatabase`` that ``NLSQLTableQueryEngine`` / ``NLSQLRetriever`` use unchanged.

    from govern.adapters.llamaindex_sql import GovernedLlamaSQLDatabase
    db = GovernedLlamaSQLDatabase(gov, conn, principal)     # conn: DuckDB, psycopg 3 or sqlite3
    engine = NLSQLTableQueryEngine(sql_database=db, llm=llm)
    engine.query("How many orders per region?")

Table names and table descriptions come from ``gov.schema_for`` (in LlamaIndex's
"Table 'x' has columns: ..." form, masked columns described, row filtering said, never
how); ``run_sql`` goes through ``gov.execute``. A denial raises ``GovernedSQLError``
carrying the decision and its reasons; the query engine turns it into an
``Error: ...`` node (its ``handle_sql_errors``), so the model sees the reasons.
Every method takes ``principal=`` to override the instance's principal for one call.
Needs ``llama-index-core`` (extra ``govern[llamaindex]``).
"""

from __future__ import annotations

from typing import Any, Iterable

from llama_index.core.utilities.sql_wrapper import SQLDatabase

from govern.adapters.sql_tools import DenialDetails, GovernedSql, display_dialect
from govern.errors import GovernError, QueryDenied, QueryFailed
from govern.principal import Principal

__all__ = ["GovernedLlamaSQLDatabase", "GovernedSQLError"]


class GovernedSQLError(GovernError, DenialDetails):
    """A governed query was denied (``reasons``) or failed; the message is what the model sees."""

    def __init__(self, err: QueryDenied | QueryFailed):
        super().__init__(self.take(err))


class GovernedLlamaSQLDatabase(SQLDatabase):
    """llama-index-core's ``SQLDatabase`` interface over ``gov.schema_for`` and ``gov.execute``."""

    def __init__(self, gov: Any, conn: Any, principal: Principal | dict | None = None, *, dialect: str | None = None,
                 include_tables: list[str] | None = None, max_string_length: int = 300,
                 statement_timeout_ms: int | None = None):
        # No SQLAlchemy engine, no reflection: the schema is the principal's governed one.
        self._governed = GovernedSql(gov, conn, principal, dialect=dialect, statement_timeout_ms=statement_timeout_ms)
        self._include_tables = set(include_tables or ())
        self._ignore_tables: set[str] = set()
        self._max_string_length = max_string_length
        self._schema = None
        self._sample_rows_in_table_info = 0
        self._custom_table_info = None

    def for_principal(self, principal: Principal | dict) -> GovernedLlamaSQLDatabase:
        """The same database for another principal (the connection is shared)."""
        other = GovernedLlamaSQLDatabase(self._governed.gov, self._governed.conn, principal, dialect=self._governed.dialect,
                                         include_tables=sorted(self._include_tables) or None,
                                         max_string_length=self._max_string_length)
        other._governed = self._governed.for_principal(principal)
        return other

    @property
    def governed(self) -> GovernedSql:
        return self._governed

    @property
    def engine(self):
        raise NotImplementedError("a governed database has no SQLAlchemy engine: queries go through gov.execute")

    @property
    def metadata_obj(self):
        raise NotImplementedError("a governed database has no SQLAlchemy metadata: use get_single_table_info")

    @property
    def dialect(self) -> str:
        return display_dialect(self._governed.dialect)

    def get_usable_table_names(self, *, principal: Principal | dict | None = None) -> Iterable[str]:
        names = self._governed.schema(principal).table_names
        if self._include_tables:
            names = [n for n in names if n in self._include_tables]
        return sorted(names)

    def _table(self, table_name: str, principal):
        table = self._governed.schema(principal).table(table_name)
        if table is None or (self._include_tables and table.name not in self._include_tables):
            raise ValueError(f"no table {table_name!r} is visible (visible: {', '.join(self.get_usable_table_names(principal=principal))})")
        return table

    def get_table_columns(self, table_name: str, *, principal: Principal | dict | None = None) -> list[dict]:
        """The visible columns, as SQLAlchemy's inspector lists them (name, type, comment: what a mask shows)."""
        return [{"name": c.name, "type": c.type, "nullable": True, "comment": c.masked or (
                 "free text shown with PII masked" if c.free_text else None)} for c in self._table(table_name, principal).columns]

    def get_single_table_info(self, table_name: str, *, principal: Principal | dict | None = None) -> str:
        table = self._table(table_name, principal)
        columns = []
        for c in table.columns:
            note = c.masked or ("free text: shown with PII masked; SQL cannot filter on its text" if c.free_text else None)
            columns.append(f"{c.name} ({c.type}): '{note}'" if note else f"{c.name} ({c.type})")
        text = f"Table '{table.name}' has columns: {', '.join(columns)}, "
        if table.no_rows:
            text += "with comment: (rows are filtered by policy: no row is visible to you) "
        elif table.rows_filtered:
            text += "with comment: (rows are filtered by policy: only the rows you are permitted to see) "
        fks = [f"{fk['columns']} -> {fk['references']['table']}.{fk['references']['columns']}" for fk in table.foreign_keys]
        text += (" and foreign keys: " + ", ".join(fks) if fks else "") + "."
        for reason in table.denied:
            text += f" Every query on this table is denied for you: {reason}."
        return text

    def insert_into_table(self, table_name: str, data: dict) -> None:
        raise NotImplementedError("a governed database is read-only: only SELECT statements are governed")

    def run_sql(self, command: str, *, principal: Principal | dict | None = None) -> tuple[str, dict]:
        """Run ``command`` through ``gov.execute``: (rows as text, {"result": rows, "col_keys": columns}).

        Raises GovernedSQLError (reasons attached) when denied or failed."""
        try:
            result = self._governed.execute(command, principal)
        except (QueryDenied, QueryFailed) as err:
            raise GovernedSQLError(err) from None
        rows = [tuple(self.truncate_word(v, length=self._max_string_length) for v in row) for row in result.rows]
        return str(rows), {"result": rows, "col_keys": list(result.columns)}
