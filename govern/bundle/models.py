"""The policy files as pydantic models. Unknown keys are errors everywhere."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from govern.bundle.attributes import AttributeSpec, PrincipalSchema
from govern.pii.settings import PiiSettings
from govern.principal import Principal


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---- catalog.yaml -------------------------------------------------------------------


class ColumnSpec(Strict):
    name: str = Field(min_length=1)
    type: str = "VARCHAR"
    pii: str | None = None
    free_text: bool = False
    description: str | None = None


class ForeignKeyTarget(Strict):
    table: str
    columns: list[str] = Field(min_length=1)


class ForeignKeySpec(Strict):
    columns: list[str] = Field(min_length=1)
    references: ForeignKeyTarget

    @model_validator(mode="after")
    def _same_arity(self) -> ForeignKeySpec:
        if len(self.columns) != len(self.references.columns):
            raise ValueError("foreign key columns and referenced columns differ in number")
        return self


class TableSpec(Strict):
    schema_: str | None = Field(default=None, alias="schema")
    columns: list[ColumnSpec] = Field(min_length=1)
    primary_key: list[str] = []
    foreign_keys: list[ForeignKeySpec] = []
    description: str | None = None


class CatalogFile(Strict):
    tables: dict[str, TableSpec]


# ---- rules.yaml ---------------------------------------------------------------------


class RowFilterRule(Strict):
    id: str = Field(min_length=1)
    table: str
    roles: list[str] | None = None
    where: str = Field(min_length=1)
    restrictive: bool = False
    description: str | None = None


MaskKind = Literal["null", "redact", "partial", "hash", "expression"]


class ColumnMaskRule(Strict):
    id: str = Field(min_length=1)
    table: str
    column: str
    roles: list[str] | None = None
    except_roles: list[str] = []
    mask: MaskKind
    keep_last: int = Field(default=4, ge=0, le=64)
    replacement: str = "[REDACTED]"
    expression: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _expression_iff_expression_mask(self) -> ColumnMaskRule:
        if self.mask == "expression" and not self.expression:
            raise ValueError("mask 'expression' needs an 'expression'")
        if self.mask != "expression" and self.expression is not None:
            raise ValueError(f"'expression' is only used by mask 'expression', not {self.mask!r}")
        return self


class DeniedColumnsRule(Strict):
    id: str = Field(min_length=1)
    table: str
    columns: list[str] = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    description: str | None = None


IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


class EntityMember(Strict):
    """A member table of an entity and its foreign-key path to the entity's key.

    ``path`` is a list of hops ``"column -> table.column"``: the first starts at
    the member table, each next one at the previous hop's target, and the last
    one ends at the entity's key column. Omitted: suggested from the catalog's
    foreign keys (the unique shortest path; an ambiguous one is a load error).
    """

    table: str
    path: list[str] | None = Field(default=None, min_length=1)
    description: str | None = None


class EntitySpec(Strict):
    name: str = Field(pattern=IDENTIFIER)
    table: str
    key: str | None = None  # default: the table's single-column primary key
    members: list[EntityMember] = []  # a bare table name is {table: NAME} (path from the foreign keys)
    description: str | None = None

    @field_validator("members", mode="before")
    @classmethod
    def _bare_names(cls, value):
        if isinstance(value, list):
            return [{"table": m} if isinstance(m, str) else m for m in value]
        return value


class EntityLookup(Strict):
    table: str  # e.g. assignments
    key: str  # its column holding the entity's key, e.g. customer_id
    where: str = Field(min_length=1)  # over the lookup table's columns, with :principal.NAME placeholders


class EntityScopeRule(Strict):
    """Which instances of an entity a principal sees: exactly one of where / lookup / keys."""

    id: str = Field(min_length=1)
    entity: str
    roles: list[str] | None = None  # omit = everyone
    where: str | None = Field(default=None, min_length=1)  # predicate on the entity's key table
    lookup: EntityLookup | None = None
    keys: str | None = Field(default=None, pattern=IDENTIFIER)  # principal attribute holding a list of keys
    description: str | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> EntityScopeRule:
        given = [k for k in ("where", "lookup", "keys") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an entity scope needs exactly one of 'where', 'lookup', 'keys' (got {given or 'none'})")
        return self


class Limits(Strict):
    max_rows: int | None = Field(default=1000, ge=1)
    statements: list[Literal["select"]] = ["select"]
    # Functions sqlglot does not model that this bundle allows besides govern's own list
    # (they must only compute on their arguments: no SQL from strings, no I/O, no state).
    functions: list[str] = []
    # Work govern may spend analysing one query before it denies it as too complex
    # (each step is a node visited or a name looked up; ordinary queries take hundreds).
    max_analysis_steps: int = Field(default=500_000, ge=1_000)
    # Longest query text accepted (characters).
    max_query_chars: int = Field(default=100_000, ge=100)
    # Most base-table references one query may make (each becomes a governed relation, so
    # this also bounds the size of the governed SQL and of its check).
    max_table_references: int = Field(default=64, ge=1)
    # PostgreSQL: the planner's estimated total cost (EXPLAIN) above which execute denies a query before
    # running it, naming the estimate and this limit. Other engines give no estimate: not applied there.
    max_cost: float | None = Field(default=None, gt=0)
    # govern serve: each principal's requests per minute (answered 429 with Retry-After beyond it); none = no limit.
    requests_per_minute: int | None = Field(default=None, ge=1)
    # govern serve, govern mcp and the SQL adapters: longest a governed query may run on the database
    # (a statement timeout), milliseconds.
    statement_timeout_ms: int = Field(default=30_000, ge=1)


class AuditSettings(Strict):
    # Where the governor writes its audit trail: a path relative to the bundle directory (or
    # absolute); never relative to the directory a program happens to run in. $GOVERN_AUDIT_PATH
    # or an explicit `audit=` / `--audit` takes precedence; with none of them the governor refuses to start.
    trail: str | None = None
    # Replace SQL literals (strings, numbers) in the recorded SQL text by '?' and keep a keyed digest
    # of the original (extra.input_digest): a `LIKE '%4111 1111 1111 1111%'` never lands in the trail.
    redact_sql_literals: bool = True


class Settings(Strict):
    hash_key_env: str = "GOVERN_HASH_KEY"
    audit: AuditSettings = AuditSettings()
    # Parse every governed statement back and check it reaches only the tables,
    # functions and parameters govern put there (defence in depth; about doubles
    # check_sql's cost, ~0.5 ms a query).
    verify_output: bool = True


class RulesFile(Strict):
    version: Literal[1]
    expression_dialect: str = "postgres"
    row_filters: list[RowFilterRule] = []
    column_masks: list[ColumnMaskRule] = []
    denied_columns: list[DeniedColumnsRule] = []
    entities: list[EntitySpec] = []
    entity_scopes: list[EntityScopeRule] = []
    limits: Limits = Limits()
    settings: Settings = Settings()
    # PII engine settings (govern.pii.PiiSettings); absent means the defaults.
    pii: PiiSettings = PiiSettings()


# ---- principals.yaml ----------------------------------------------------------------


class PrincipalsFile(Strict):
    # The attribute schema (govern.bundle.attributes): absent means principals are not checked.
    attributes: dict[str, AttributeSpec] | None = None
    unknown_attributes: Literal["deny", "allow"] = "deny"
    principals: list[Principal] = []

    def schema(self) -> PrincipalSchema | None:
        if self.attributes is None:
            return None
        return PrincipalSchema(attributes=self.attributes, unknown_attributes=self.unknown_attributes)
