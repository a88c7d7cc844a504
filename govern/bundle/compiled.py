"""The compiled policy: what a bundle's rules become at load, and what requests read.

Plain types, one home for all of them: ``bundle/compile.py`` (row filters,
column masks), ``bundle/entities.py`` (entity scopes) and
``bundle/documents.py`` (document rules) build them; the SQL engine
(``sql/relation.py``, ``sql/masks.py``) and retrieval read them. Nothing here
imports a layer above the policy model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from govern.bundle import document_predicate as P
from govern.bundle.document_models import CollectionSpec

# ---- SQL rules: row filters, entity scopes, column masks --------------------------


@dataclass(frozen=True)
class CompiledFilter:
    id: str
    table: str
    roles: frozenset[str] | None
    restrictive: bool
    predicate: exp.Expression  # parsed at load; unqualified columns qualified with the table name

    def applies_to(self, roles: frozenset[str]) -> bool:
        return self.roles is None or bool(roles & self.roles)


@dataclass(frozen=True)
class Hop:
    """One foreign-key step of an entity path: ``table.column -> target.target_column``."""

    table: str
    column: str
    target: str
    target_column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} -> {self.target}.{self.target_column}"


@dataclass(frozen=True)
class EntityBinding:
    """One entity a table belongs to (as its key table or as a member), scopes compiled for this table.

    Each scope is a CompiledFilter whose predicate reads this table's row: on the
    key table the scope itself, on a member the semi-join along ``path``
    (``customer_id IN (SELECT id FROM customers WHERE ...)``). A scope meaning
    every instance (``where: "TRUE"``) has the predicate TRUE.
    """

    entity: str
    table: str  # the entity's key table
    key: str  # its key column
    path: tuple[Hop, ...]  # () on the key table itself
    scopes: tuple[CompiledFilter, ...]
    # Per scope, the scope as a predicate on the key table (None: every instance), and the
    # table reference of each hop's target: several scopes of a member combine into one
    # semi-join, `customer_id IN (SELECT id FROM customers WHERE s1 OR id IN (lookup))`.
    key_predicates: tuple = ()
    hop_tables: tuple = ()


@dataclass
class TablePolicy:
    """Everything the bundle says about one table, indexed at load time."""

    filters: list[CompiledFilter] = field(default_factory=list)
    masks: dict[str, list[CompiledMask]] = field(default_factory=dict)  # lower column -> rules in file order
    entities: list[EntityBinding] = field(default_factory=list)  # only entities that have scopes


def role_set(roles: list[str] | None) -> frozenset[str] | None:
    """A rule's ``roles:`` as compiled: None (everyone) or the set."""
    return None if roles is None else frozenset(roles)


TEXT_TYPES = ("VARCHAR", "TEXT", "CHAR", "STRING", "BPCHAR", "CHARACTER", "NVARCHAR", "CLOB")


@dataclass(frozen=True)
class CompiledMask:
    id: str
    table: str
    column: str
    kind: str
    roles: frozenset[str] | None
    except_roles: frozenset[str]
    keep_last: int = 4
    replacement: str = "[REDACTED]"
    expression: exp.Expression | None = None  # `expression` masks: parsed at load
    label: str | None = None  # the PII type a classification mask stands for (`<EMAIL_ADDRESS_...>`)
    prefix: str = "***"  # what a partial mask shows before the kept characters
    hash_chars: int = 16  # hex characters a typed hash keeps

    def applies_to(self, roles: frozenset[str]) -> bool:
        if roles & self.except_roles:
            return False
        return self.roles is None or bool(roles & self.roles)


def is_text_type(type_name: str) -> bool:
    return type_name.upper().startswith(TEXT_TYPES)


# ---- document rules (documents.yaml) ---------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    id: str
    roles: frozenset[str] | None
    restrictive: bool
    node: P.Node  # unbound
    attributes: frozenset[str]
    scopes: frozenset[str]

    def applies_to(self, roles: frozenset[str]) -> bool:
        return self.roles is None or bool(roles & self.roles)


@dataclass(frozen=True)
class Collection:
    name: str
    spec: CollectionSpec
    rules: tuple[CompiledRule, ...]


@dataclass(frozen=True)
class DocumentRules:
    """The compiled ``documents.yaml`` of a bundle (empty when the file is absent)."""

    collections: dict[str, Collection] = field(default_factory=dict)
    path: Path | None = None

    def collection(self, name: str) -> Collection | None:
        return self.collections.get(name)
