"""``documents.yaml``: document rules per collection, as pydantic models (unknown keys are errors)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentRule(_Strict):
    """One condition on document metadata, in the row-filter predicate language.

    ``where`` reads metadata fields as columns, ``:principal.NAME`` for the
    principal's attributes and ``entity_scope('ENTITY')`` for the keys of the
    principal's entity scope (``customer_id IN entity_scope('customer')``).
    Permissive rules of the principal's roles combine with OR, restrictive
    ones with AND on top; no applicable permissive rule means no documents.
    """

    id: str = Field(min_length=1)
    roles: list[str] | None = None  # omit = everyone with the collection grant
    where: str = Field(min_length=1)
    restrictive: bool = False
    description: str | None = None


class SqlStoreSpec(_Strict):
    """A collection whose chunks are rows of a catalogued table (``gov.sql_retriever``): what the MCP
    server's ``search_documents`` searches. The chunk query goes through the SQL guard."""

    table: str = Field(min_length=1)
    id_column: str = "id"
    text_column: str = "text"
    metadata_columns: list[str] = Field(default_factory=list)
    search_columns: list[str] | None = None  # keyword match on these (default: the text column)


class CollectionSpec(_Strict):
    description: str | None = None
    id_field: str = Field("id", min_length=1, description="metadata key holding the document id (audit trail)")
    overfetch: int = Field(4, ge=1, le=100, description="fetch k * overfetch when the store takes no filter")
    max_fetch: int = Field(200, ge=1, description="never ask the store for more than this many documents")
    max_k: int = Field(50, ge=1, description="the most documents one call returns; a larger k is clamped to it")
    rules: list[DocumentRule] = Field(default_factory=list)
    sql_store: SqlStoreSpec | None = None  # the chunks are rows of this table (govern mcp: search_documents)


class DocumentsFile(_Strict):
    version: int = 1
    expression_dialect: str = "postgres"
    collections: dict[str, CollectionSpec] = Field(default_factory=dict)
