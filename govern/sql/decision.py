"""The decision object every SQL pass reads and writes, and what callers get back."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from govern.bundle.catalog import Table
from govern.bundle.loader import Bundle
from govern.principal import Principal
from govern.sql.dialect import sqlglot_dialect


class SqlDecision(BaseModel):
    """The outcome of governing one SQL statement for one principal.

    ``allowed`` False is never an empty result: ``reasons`` says what was denied
    and why (naming the table, column, attribute or construct).
    ``params`` are the bind parameters the governed SQL needs (the key of
    ``hash`` masks); pass them positionally when executing ``sql``.
    """

    model_config = ConfigDict(frozen=True)

    allowed: bool
    sql: str | None
    reasons: list[str]
    policies: list[str]
    tables: list[str]
    columns: list[str]
    audit_id: str | None
    dialect: str
    params: list[str] = Field(default=[], exclude=True)  # the hash key: never serialized
    bundle_hash: str | None = None
    notes: list[str] = []  # what the caller should know beyond allow / deny (e.g. an unclassified catalog)

    def __repr__(self) -> str:  # params hold a secret: keep it out of reprs and logs
        return (f"SqlDecision(allowed={self.allowed}, reasons={self.reasons}, policies={self.policies}, "
                f"tables={self.tables}, audit_id={self.audit_id!r}, sql={self.sql!r})")

    __str__ = __repr__


@dataclass
class TableRef:
    """One base-table reference in the user's query."""

    node: exp.Table
    table: Table | None = None


@dataclass
class SqlContext:
    """Mutable state threaded through the passes of one request."""

    sql: str
    principal: Principal
    dialect: str
    bundle: Bundle
    hash_key: str | None = None
    handle_key: str | None = None  # the secret of opaque handles: the hash key, else the governor's own
    roles: frozenset[str] = frozenset()
    tree: exp.Expression | None = None
    tokens: list | None = None  # the query's tokens, as parsed (sqlglot Tokens)
    nodes: list | None = None  # every node of the parsed tree in tree.walk() order (the parse pass's walk)
    references: list[TableRef] = field(default_factory=list)
    cte_references: list[exp.Table] = field(default_factory=list)
    cte_bindings: list[tuple[exp.Table, exp.CTE]] = field(default_factory=list)  # CTE reference -> its CTE
    analysis: object | None = None  # govern.sql.scope.Analysis: every column reference bound (authorize)
    tables: list[str] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    policies: list[str] = field(default_factory=list)
    uses_hash_key: bool = False
    uses_handles: bool = False  # free text shown as opaque handles (govern.sql.handles)
    uses_key: bool = False  # the governed SQL reads the key parameter (hash masks, handles)
    # reference index -> leakproof conjuncts to copy inside its fence, for the references that
    # need one (plan_fences); None: not analysed, so every filtered relation is fenced.
    fences: dict[int, list] | None = None
    judge: object | None = None  # govern.sql.leakproof.Judge over the analysis (plan_fences), reused by rewrite
    parameter_count: int = 0  # `?` placeholders in the governed SQL (sqlite hash masks)
    relations: list = field(default_factory=list)  # (stand-in Var, rendered relation SQL) per governed reference
    skeleton_sql: str | None = None  # the governed SQL with markers for the relations (verify_output)
    governed_sql: str | None = None

    @property
    def sqlglot_dialect(self) -> Dialect:
        """The shared sqlglot Dialect for ``dialect`` (raises ValueError for an unknown name)."""
        return sqlglot_dialect(self.dialect)

    def applied(self, *policy_ids: str) -> None:
        for pid in policy_ids:
            if pid not in self.policies:
                self.policies.append(pid)
