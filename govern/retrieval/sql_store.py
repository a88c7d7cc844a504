"""A governed SQL table of chunks: the chunk query itself goes through the SQL guard.

    search = gov.sql_retriever(conn, "support_tickets", "support_kb", text_column="body",
                               metadata_columns=["customer_id", "agent_id", "region", "status"])
    result = search("refund double charge", principal, k=4, conversation="c-17")

Per call the GovernedRetriever checks the collection grant and derives the
principal's DocumentFilter; the store then composes, with sqlglot expressions only,

    SELECT id, text, metadata... FROM table
    WHERE <the DocumentFilter>            -- predicate.to_sql_expression: typed literals, NOT NULL on every field read
    ORDER BY <score> DESC, id LIMIT k

and hands it to ``gov.check_sql``: the table must be in the catalog and granted,
and its row filters, entity scopes, column masks and denied columns apply on top
of the document rules (a denial is a RetrievalDenied with the guard's reasons).
The governed SQL runs on ``conn``; the wrapper then re-checks every row against
the document rules, masks every string (with the conversation's pseudonyms) and
audits, linking the check_sql record (``decision.store_audit_ids``).

Relevance: ``score`` is None (keyword match on ``search_columns``), an SQL
expression string, or a callable ``query -> sqlglot expression | str``; query
text only ever becomes sqlglot literals. For a vector column use
``vector_distance(column, embed, dialect)`` with ``descending=False``.
"""

from __future__ import annotations

import json
import math
import re
from functools import reduce
from typing import Any, Callable, Iterable

import sqlglot
from sqlglot import exp

from govern.connections import cursor_for, dialect_of
from govern.errors import GovernError, QueryDenied, QueryFailed
from govern.bundle import document_predicate as P
from govern.retrieval.rules import DocumentFilter
from govern.retrieval.wrapper import GovernedRetriever

Score = Callable[[str], "exp.Expression | str"]
_WORD = re.compile(r"[^\W_]+")  # letters and digits: never a quote, LIKE wildcard or escape


class ChunkStoreError(GovernError, ValueError):
    """The chunk store is misconfigured (unknown table or column, a score that does not parse); names what is wrong."""


class ChunkRows(list):
    """The rows of one chunk query as documents, plus the audit id of its check_sql decision."""

    def __init__(self, documents: Iterable[dict], audit_ids: Iterable[str]):
        super().__init__(documents)
        self.audit_ids = [i for i in audit_ids if i]


def keyword_score(*columns: str, max_words: int = 16) -> Score:
    """``query -> SUM over columns x words of CASE WHEN lower(col) LIKE '%word%' THEN 1 ELSE 0 END``.

    Words are runs of letters and digits, lower-cased, at most ``max_words``;
    each becomes a string literal node (never SQL text). No words: a constant.
    """
    def score(query: str) -> exp.Expression:
        words = list(dict.fromkeys(_WORD.findall(query.lower())))[:max_words]
        terms = [exp.Case(ifs=[exp.If(this=exp.Like(this=exp.Lower(this=exp.column(c, quoted=True)),
                                                    expression=exp.Literal.string(f"%{w}%")),
                                      true=exp.Literal.number(1))], default=exp.Literal.number(0))
                 for c in columns for w in words]
        return reduce(lambda a, b: exp.Add(this=a, expression=b), terms) if terms else exp.Literal.number(0)

    return score


def vector_distance(column: str, embed: Callable[[str], list[float]], dialect: str = "postgres") -> Score:
    """``query -> cosine distance between column and embed(query)``: order ascending (``descending=False``).

    PostgreSQL (pgvector): ``COSINE_DISTANCE(col, CAST('[...]' AS VECTOR))``; DuckDB:
    ``LIST_COSINE_DISTANCE(col, CAST([...] AS DOUBLE[]))``. The vector is built from
    finite floats only. (Write pgvector's ``<=>`` as cosine_distance: sqlglot reads
    ``<=>`` as IS NOT DISTINCT FROM.)
    """
    if dialect not in ("postgres", "duckdb"):
        raise ChunkStoreError(f"vector_distance supports postgres (pgvector) and duckdb, not {dialect!r}")

    def score(query: str) -> exp.Expression:
        vector = [float(x) for x in embed(query)]
        if not vector or not all(math.isfinite(x) for x in vector):
            raise ChunkStoreError("the query embedding must be a non-empty list of finite numbers")
        if dialect == "postgres":
            value = exp.cast(exp.Literal.string(json.dumps(vector)), exp.DataType.build("VECTOR", dialect="postgres"))
        else:
            value = exp.cast(exp.Array(expressions=[exp.Literal.number(repr(x)) for x in vector]),
                             exp.DataType.build("DOUBLE[]", dialect="duckdb"))
        return exp.CosineDistance(this=exp.column(column, quoted=True), expression=value)

    return score


def parse_score(text: str, dialect: str) -> exp.Expression:
    """An SQL expression for ORDER BY, or ChunkStoreError naming why it is not one."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except Exception as err:
        raise ChunkStoreError(f"cannot parse score expression {text!r} as {dialect} SQL: {str(err).splitlines()[0]}") from None
    if isinstance(tree, (exp.Query, exp.DDL, exp.DML, exp.Command)):
        raise ChunkStoreError(f"score must be an expression, not a statement: {text!r}")
    if "<=>" in text and tree.find(exp.NullSafeEQ):
        raise ChunkStoreError(f"score {text!r}: sqlglot reads '<=>' as IS NOT DISTINCT FROM, not pgvector's cosine "
                              "distance; write cosine_distance(column, vector) (or use vector_distance())")
    return tree


class SqlChunkStore:
    """A catalogued table of chunks, searched through ``gov.check_sql`` (see the module docstring).

    Call it through a GovernedRetriever (``gov.sql_retriever``), which passes the
    principal's DocumentFilter and the principal; ``compose`` shows the SQL it
    would hand to the guard.
    """

    def __init__(self, gov: Any, conn: Any, table: str, *, schema: str | None = None, id_column: str = "id",
                 text_column: str = "text", metadata_columns: Iterable[str] = (), dialect: str | None = None,
                 score: Score | str | None = None, search_columns: Iterable[str] | None = None, descending: bool = True):
        self.gov, self.conn, self.table, self.schema = gov, conn, table, schema
        self.dialect = dialect or dialect_of(conn)
        self.id_column, self.text_column = id_column, text_column
        # Free text the principal may not see whole is shown masked, unless the caller masks
        # every passage itself (sql_retriever's wrapper does).
        self.masked_later = False
        self.metadata_columns = tuple(dict.fromkeys(metadata_columns))
        self.descending = descending
        entry = self._catalog_table()
        search = tuple(search_columns) if search_columns is not None else (text_column,)
        for column in (id_column, text_column, *self.metadata_columns, *search):
            if entry.column(column) is None:
                raise ChunkStoreError(f"table {table} has no column {column!r} in the bundle's catalog")
        if score is None:
            score = keyword_score(*search)
        elif isinstance(score, str):
            fixed = parse_score(score, self.dialect)  # fail at construction, not per call
            score = lambda query: fixed.copy()  # noqa: E731
        elif not callable(score):
            raise ChunkStoreError("score must be None, an SQL expression string or a callable query -> expression")
        self.score = score

    def _catalog_table(self):
        entry = self.gov.bundle.catalog.table(self.table, self.schema)
        if entry is None:
            label = f"{self.schema}.{self.table}" if self.schema else self.table
            raise ChunkStoreError(f"table {label} is not in the bundle's catalog (catalog.yaml): the chunk store "
                                  "reads only tables the SQL guard governs")
        return entry

    def compose(self, query: str, k: int, flt: DocumentFilter) -> tuple[str, list[str], list[str]]:
        """(SQL for check_sql, selected columns, metadata keys): built on the AST, never by string editing."""
        entry = self._catalog_table()
        unknown = sorted(f for f in flt.fields if entry.column(f) is None)
        if unknown:
            raise ChunkStoreError(f"document rules {list(flt.policies)} read metadata field(s) {unknown}, "
                                  f"which table {self.table} has no column for")
        metadata = list(dict.fromkeys([*self.metadata_columns, *sorted(flt.fields)]))  # the post-filter re-checks them
        columns = list(dict.fromkeys([self.id_column, self.text_column, *metadata]))
        score = self.score(query)
        if isinstance(score, str):
            score = parse_score(score, self.dialect)
        if not isinstance(score, exp.Expression):
            raise ChunkStoreError(f"score returned {type(score).__name__}, not a sqlglot expression or SQL text")
        order = [] if isinstance(score, exp.Literal) else [exp.Ordered(this=score, desc=self.descending, nulls_first=False)]
        select = (exp.select(*(exp.column(c, quoted=True) for c in columns))
                  .from_(exp.table_(self.table, db=self.schema, quoted=True))
                  .where(P.to_sql_expression(flt.node), copy=False)
                  .order_by(*order, exp.Ordered(this=exp.column(self.id_column, quoted=True)), copy=False)
                  .limit(int(k), copy=False))
        return select.sql(dialect=self.dialect), columns, metadata

    def search(self, query: str, k: int = 4, filter: DocumentFilter | None = None, principal: Any = None,
               correlation_id: str | None = None) -> ChunkRows:
        """Documents ``{"id", "text", "metadata"}`` of the governed chunk query; QueryDenied when the guard denies it."""
        if not isinstance(filter, DocumentFilter) or principal is None:
            raise ChunkStoreError("SqlChunkStore.search runs only through a GovernedRetriever (gov.sql_retriever), "
                                  "which passes the principal and its DocumentFilter")
        sql, columns, metadata = self.compose(query, k, filter)
        decision = self.gov.check_sql(sql, principal, dialect=self.dialect, correlation_id=correlation_id)
        if not decision.allowed:
            raise QueryDenied(decision)
        documents = []
        for row in self._run(decision, principal):
            values = dict(zip(columns, row))
            documents.append({"id": values[self.id_column], "text": values[self.text_column],
                              "metadata": {name: values[name] for name in metadata}})
        return ChunkRows(documents, [decision.audit_id])

    __call__ = search

    def _run(self, decision: Any, principal: Any) -> list[tuple]:
        try:
            cursor = cursor_for(self.conn, decision.dialect, bool(decision.params))
            cursor.execute(decision.sql, decision.params) if decision.params else cursor.execute(decision.sql)
            rows = [tuple(r) for r in cursor.fetchall()]
            # Free text the principal may not see whole comes back as opaque handles: show it masked.
            return self.gov.show_free_text(self.conn, rows, principal, decision.dialect, masked=not self.masked_later)[0]
        except Exception as err:  # a driver message can quote data: mask it, never chain it (as Governor.execute)
            gov = self.gov
            message = gov.pii_engine().mask(str(err), reveal=gov.revealed_types(principal)).text
            raise QueryFailed(decision, f"{type(err).__name__}: {message}") from None


_STORE_OPTIONS = ("schema", "id_column", "text_column", "metadata_columns", "dialect", "score", "search_columns", "descending")
_FIXED = ("filter_form", "filter_param", "k_param", "principal_param", "correlation_param", "sql_dialect", "sql_table",
          "map_strings", "with_text", "text", "metadata")


def sql_retriever(gov: Any, conn: Any, table: str, collection: str, **options: Any) -> GovernedRetriever:
    """``gov.sql_retriever``: a GovernedRetriever over a SqlChunkStore (store options by name, the rest to the wrapper).

    Masking cannot be switched off: the database returns chunk text unmasked and
    the wrapper's masking (with the conversation's pseudonyms) is what masks it.
    """
    fixed = sorted(set(options) & set(_FIXED))
    if fixed:
        raise TypeError(f"sql_retriever sets {fixed} itself")
    if options.get("mask", True) is not True:
        raise ValueError("sql_retriever always masks: chunk text comes from the database unmasked")
    store = SqlChunkStore(gov, conn, table, **{k: options.pop(k) for k in _STORE_OPTIONS if k in options})
    options.setdefault("conn", conn)  # entity_scope('...') in document rules resolves its keys here
    retriever = GovernedRetriever(gov, store.search, collection, filter_form="filter", principal_param="principal",
                                  correlation_param="correlation_id", **options)
    retriever.store = store
    store.masked_later = True  # the retriever masks every passage (with the conversation's pseudonyms)
    return retriever
