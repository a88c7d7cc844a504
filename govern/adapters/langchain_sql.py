"""LangChain: a governed ``SQLDatabase`` that ``SQLDatabaseToolkit`` and ``create_sql_agent`` use unchanged.

    from govern.adapters.langchain_sql import GovernedSQLDatabase
    db = GovernedSQLDatabase(gov, conn, principal)          # conn: DuckDB, psycopg 3 or sqlite3
    toolkit = SQLDatabaseToolkit(db=db, llm=llm)            # langchain-community's, unchanged
    agent = create_sql_agent(llm, toolkit=toolkit)

Table names and table info come from ``gov.schema_for`` (only what the principal may
see; masked columns say what the mask shows; sample rows, when asked for, through
``gov.execute``); ``run`` goes through ``gov.execute`` (rows masked, one audit record a
query). A denial raises ``GovernedQueryError`` (a ``SQLAlchemyError``, so code that
catches the database's errors catches it) carrying the decision and its reasons;
``run_no_throw`` returns them as ``"Error: ..."`` so the agent can rewrite its query.
Every method takes ``principal=`` to override the instance's principal for one call.
Needs ``langchain-community`` (extra ``govern[langchain]``).
"""

from __future__ import annotations

from typing import Any, Iterable, Literal

from langchain_community.utilities.sql_database import SQLDatabase, truncate_word
from sqlalchemy.exc import SQLAlchemyError

from govern.adapters.sql_tools import DenialDetails, GovernedSql, denial_text, display_dialect
from govern.errors import QueryDenied, QueryFailed
from govern.principal import Principal

__all__ = ["GovernedSQLDatabase", "GovernedQueryError"]


class GovernedQueryError(SQLAlchemyError, DenialDetails):
    """A governed query was denied (``reasons``) or failed; the message is what the model sees."""

    def __init__(self, err: QueryDenied | QueryFailed):
        super().__init__(self.take(err))

    def __str__(self) -> str:  # SQLAlchemyError's str adds a link to its docs
        return self.args[0]


class GovernedSQLDatabase(SQLDatabase):
    """langchain-community's ``SQLDatabase`` interface over ``gov.schema_for`` and ``gov.execute``."""

    def __init__(self, gov: Any, conn: Any, principal: Principal | dict | None = None, *, dialect: str | None = None,
                 sample_rows_in_table_info: int = 0, max_string_length: int = 300,
                 include_tables: list[str] | None = None, statement_timeout_ms: int | None = None):
        # No SQLAlchemy engine and no reflection: the schema is the principal's governed one.
        self._governed = GovernedSql(gov, conn, principal, dialect=dialect, statement_timeout_ms=statement_timeout_ms)
        self._sample_rows_in_table_info = sample_rows_in_table_info
        self._max_string_length = max_string_length
        self._include_tables = set(include_tables or ())
        self._ignore_tables: set[str] = set()
        self._indexes_in_table_info = False
        self._custom_table_info = None
        self._schema = None

    @classmethod
    def wrapping(cls, governed: GovernedSql, **options: Any) -> GovernedSQLDatabase:
        db = cls(governed.gov, governed.conn, governed.principal, dialect=governed.dialect, **options)
        db._governed = governed
        return db

    def for_principal(self, principal: Principal | dict) -> GovernedSQLDatabase:
        """The same database for another principal (the connection is shared)."""
        return self.wrapping(self._governed.for_principal(principal), sample_rows_in_table_info=self._sample_rows_in_table_info,
                             max_string_length=self._max_string_length, include_tables=sorted(self._include_tables) or None)

    @property
    def governed(self) -> GovernedSql:
        return self._governed

    @property
    def dialect(self) -> str:
        return display_dialect(self._governed.dialect)

    def get_usable_table_names(self, *, principal: Principal | dict | None = None) -> Iterable[str]:
        names = self._governed.schema(principal).table_names
        if self._include_tables:
            names = [n for n in names if n in self._include_tables]
        return sorted(names)

    def get_table_names(self, *, principal: Principal | dict | None = None) -> Iterable[str]:
        return self.get_usable_table_names(principal=principal)

    @property
    def table_info(self) -> str:
        return self.get_table_info()

    def get_table_info(self, table_names: list[str] | None = None, get_col_comments: bool = False, *,
                       principal: Principal | dict | None = None) -> str:
        """CREATE TABLE text of the principal's visible tables (ValueError naming a table it cannot see)."""
        schema = self._governed.schema(principal)
        usable = self.get_usable_table_names(principal=principal)
        names = list(usable) if table_names is None else [n.strip() for n in table_names]
        missing = [n for n in names if schema.table(n) is None or (self._include_tables and schema.table(n).name not in usable)]
        if missing:
            raise ValueError(f"table_names {set(missing)} not found in database")
        parts = []
        for name in names:
            text = schema.text_for([name])
            if self._sample_rows_in_table_info:
                text += "\n\n/*\n" + self._sample_rows(schema.table(name), principal) + "\n*/"
            parts.append(text)
        header = f"-- every result is capped at {schema.max_rows} rows\n\n" if schema.max_rows else ""
        return header + "\n\n".join(parts)

    def _sample_rows(self, table, principal) -> str:
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        sql = f'SELECT {columns} FROM "{table.name}" LIMIT {int(self._sample_rows_in_table_info)}'
        head = f"{self._sample_rows_in_table_info} rows from {table.name} table:\n" + "\t".join(c.name for c in table.columns)
        try:
            rows = self._governed.execute(sql, principal).rows
        except (QueryDenied, QueryFailed) as err:
            return f"{head}\n(sample rows unavailable: {denial_text(err)})"
        return head + "\n" + "\n".join("\t".join(truncate_word(str(v), length=100) for v in row) for row in rows)

    def get_table_info_no_throw(self, table_names: list[str] | None = None, *, principal: Principal | dict | None = None) -> str:
        try:
            return self.get_table_info(table_names, principal=principal)
        except ValueError as err:
            return f"Error: {err}"

    def _execute(self, command: Any, fetch: str = "all", *, parameters: dict | None = None,
                 execution_options: dict | None = None, principal: Principal | dict | None = None) -> list[dict]:
        if not isinstance(command, str):
            raise TypeError("a governed database runs SQL text only (no SQLAlchemy executables)")
        if parameters:
            raise ValueError("a governed database takes no bind parameters: values are written in the SQL")
        try:
            result = self._governed.execute(command, principal)
        except (QueryDenied, QueryFailed) as err:
            raise GovernedQueryError(err) from None
        rows = [dict(zip(result.columns, row)) for row in result.rows]
        if fetch == "one":
            return rows[:1]
        if fetch != "all":
            raise ValueError("fetch must be 'all' or 'one' on a governed database")
        return rows

    def run(self, command: Any, fetch: Literal["all", "one", "cursor"] = "all", include_columns: bool = False, *,
            parameters: dict | None = None, execution_options: dict | None = None,
            principal: Principal | dict | None = None) -> str | list:
        """Run ``command`` through ``gov.execute``; the rows as text, like ``SQLDatabase.run``.

        Raises GovernedQueryError (reasons attached) when denied or failed."""
        result = self._execute(command, fetch, parameters=parameters, principal=principal)
        res = [{column: truncate_word(value, length=self._max_string_length) for column, value in r.items()} for r in result]
        if not include_columns:
            res = [tuple(row.values()) for row in res]
        return str(res) if res else ""

    def run_no_throw(self, command: str, fetch: Literal["all", "one"] = "all", include_columns: bool = False, *,
                     parameters: dict | None = None, execution_options: dict | None = None,
                     principal: Principal | dict | None = None) -> str | list:
        """Like ``run``, but a denial or failure comes back as ``"Error: <reasons>"`` for the model."""
        try:
            return self.run(command, fetch, include_columns, parameters=parameters, principal=principal)
        except (SQLAlchemyError, ValueError, TypeError) as err:
            return f"Error: {err}"

    def get_context(self, *, principal: Principal | dict | None = None) -> dict[str, Any]:
        return {"table_info": self.get_table_info_no_throw(principal=principal),
                "table_names": ", ".join(self.get_usable_table_names(principal=principal))}
