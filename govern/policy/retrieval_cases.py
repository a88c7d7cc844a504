"""Adapters from policy-test cases to the retrieval wrapper and to entity scopes.

A retrieval case lists its candidate documents inline (what a vector store would
return for the query, best first); the fake store applies the pushed-down filter
when the wrapper passes one (``filter_form``, default ``metadata``) and returns
the first ``k``. The wrapper still re-checks every document and masks its text,
so expectations are on what the application would get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RetrievalOutcome:
    allowed: bool
    reasons: list[str]
    policies: list[str]
    documents: list[str] = field(default_factory=list)  # returned ids, in order
    texts: list[str] = field(default_factory=list)  # returned (masked) texts
    pii: dict[str, int] = field(default_factory=dict)  # PII masked in them
    needs_review: bool = False


def run_retrieval(gov, spec, principal, conn=None) -> RetrievalOutcome:
    """What the application would get from a governed retriever over the case's candidate documents."""
    from govern.retrieval.documents import metadata_of, text_of

    documents = list(spec.documents or ())
    if not documents:
        raise ValueError("a retrieval case needs `documents:` (the candidates the store returns, best first)")
    options: dict[str, Any] = dict(spec.options)
    k = int(options.pop("k", len(documents)))
    form = options.pop("filter_form", "metadata")

    def store(query: str, k: int = 4, filter=None):
        hits = [d for d in documents if filter is None or filter(metadata_of(d))]
        return hits[:k]

    retriever = gov.wrap_retriever(store, spec.collection, filter_form=form, on_deny="return", conn=conn, **options)
    result = retriever(spec.query, principal, k=k)
    decision = result.decision
    if not decision.allowed:
        return RetrievalOutcome(False, list(decision.reasons), list(decision.policies))
    return RetrievalOutcome(True, list(decision.reasons), list(decision.policies), list(decision.returned_ids),
                            [text_of(d) for d in result.documents], dict(decision.pii), bool(decision.needs_review))


def run_entity_scope(gov, principal, entity: str, conn) -> tuple[bool, list[str], list[Any] | str, list[str]]:
    """(allowed, reasons, keys, scope ids applied); keys is the string 'ALL' when the scope is every instance."""
    from govern.errors import Denied

    try:
        scope = gov.entity_scope(principal, entity, conn)
    except Denied as denied:
        return False, list(denied.reasons), [], []
    if scope.unrestricted:
        return True, [f"every {entity}"], "ALL", list(scope.scopes)
    return True, [f"scopes: {', '.join(scope.scopes) or 'none applies'}"], sorted(scope.keys or ()), list(scope.scopes)
