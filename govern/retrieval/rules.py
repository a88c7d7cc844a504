"""Derive the document filter of a principal per collection from the bundle's document rules
(loaded and compiled with the bundle: ``govern.bundle.documents``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from govern.bundle import document_predicate as P
from govern.bundle.compiled import DocumentRules
from govern.bundle.documents import DOCUMENTS_FILE


class FilterDenied(Exception):
    """The principal gets no filter for this collection; ``reasons`` say why."""

    def __init__(self, reasons: list[str], policies: list[str] | None = None):
        self.reasons = reasons
        self.policies = policies or []
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class DocumentFilter:
    """A principal's bound document predicate for one collection: every form from one tree."""

    collection: str
    node: P.Node
    policies: tuple[str, ...]
    fields: frozenset[str]

    def __post_init__(self):
        object.__setattr__(self, "_required", tuple(sorted(self.fields)))  # checked in name order, every call

    def check(self, metadata: Any) -> str | None:
        """None when the document passes, else the reason it is dropped."""
        try:
            if P.evaluate(self.node, metadata, self._required):
                return None
        except (P.Missing, P.Malformed) as err:
            return str(err)
        return f"excluded by document rules {list(self.policies)}"

    def matches(self, metadata: Any) -> bool:
        return self.check(metadata) is None

    def sql(self, dialect: str = "duckdb", table: str | None = None) -> str:
        """WHERE condition for a table of chunks (columns named like the metadata fields)."""
        return P.to_sql(self.node, dialect, table)

    def mongo(self) -> dict:
        return P.to_mongo(self.node)

    def langchain(self) -> Callable[[Any], bool]:
        """LangChain InMemoryVectorStore's filter form: a callable on a Document."""
        return lambda doc: self.matches(getattr(doc, "metadata", None))

    def nnf(self) -> P.Node:
        return P.nnf(self.node)

    def describe(self) -> str:
        return P.describe(self.node)


def document_rules(bundle: Any) -> DocumentRules:
    """The bundle's document rules, loaded with the rest of the bundle (never re-read later:
    a request must see the rules of the bundle it started with)."""
    rules = getattr(bundle, "documents", None)
    if not isinstance(rules, DocumentRules):
        raise TypeError("this bundle was not built by load_bundle: it carries no document rules")
    return rules


def derive_filter(
    rules: DocumentRules,
    collection: str,
    principal: Any,
    roles: frozenset[str],
    scope_keys: Callable[[str], frozenset],
) -> DocumentFilter:
    """Bind the applicable rules for ``principal``; raise FilterDenied with reasons when nothing is permitted."""
    coll = rules.collection(collection)
    if coll is None:
        raise FilterDenied([f"collection {collection!r} has no document rules in {DOCUMENTS_FILE} "
                            f"(declare it; a rule with where: \"TRUE\" gives the grant alone)"])
    applicable = [r for r in coll.rules if r.applies_to(roles)]
    if not any(not r.restrictive for r in applicable):
        raise FilterDenied([f"no document rule of collection {collection!r} applies to roles {sorted(roles)}; "
                            "no documents are permitted"])
    bound: dict[str, P.Node] = {}
    for rule in applicable:
        try:
            bound[rule.id] = P.bind(rule.node, principal.attribute, scope_keys)
        except P.BindError as err:
            if err.kind == "attribute":
                reason = f"principal {principal.id!r} lacks attribute {err.name!r}, which document rule {rule.id!r} needs"
            elif err.kind == "list":
                reason = f"attribute {err.name!r} is a list; document rule {rule.id!r} may use it only as 'FIELD IN (:principal.{err.name})'"
            else:
                reason = f"document rule {rule.id!r}: entity scope {err.name!r} could not be resolved: {err.detail}"
            raise FilterDenied([reason], [rule.id]) from None
    node = P.combine([bound[r.id] for r in applicable if not r.restrictive], [bound[r.id] for r in applicable if r.restrictive])
    policies = tuple(r.id for r in applicable)
    if node == P.FALSE:
        raise FilterDenied([f"document rules {list(policies)} of collection {collection!r} exclude every document "
                            f"for principal {principal.id!r}"], list(policies))
    return DocumentFilter(collection, node, policies, P.fields(node))
