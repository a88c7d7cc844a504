"""Adapters from policy-test cases to the retrieval wrapper and to entity scopes.

A retrieval case lists its candidate documents inline (what a vector store would
return for the query, best first); the fake store applies the pushed-down filter
when the wrapper passes one (``filter_form``, default ``metadata``) and returns
the first ``k``. The wrapper still re-checks every document and masks its text,
so expectations are on what the application would get.
"""

from __future__ import annotations

from typing import Any


def run_retrieval(gov, spec, principal, conn=None) -> tuple[bool, list[str], list[str], list[str], dict[str, int]]:
    """(allowed, reasons, returned ids, returned texts, masked PII counts)."""
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
        return False, list(decision.reasons), [], [], {}
    return True, list(decision.reasons), list(decision.returned_ids), [text_of(d) for d in result.documents], dict(decision.pii)


def run_entity_scope(gov, principal, entity: str, conn) -> tuple[bool, list[str], list[Any] | str]:
    """(allowed, reasons, keys); keys is the string 'ALL' when the scope is every instance."""
    from govern.errors import Denied

    try:
        scope = gov.entity_scope(principal, entity, conn)
    except Denied as denied:
        return False, list(denied.reasons), []
    if scope.unrestricted:
        return True, [f"every {entity}"], "ALL"
    return True, [f"scopes: {', '.join(scope.scopes) or 'none applies'}"], sorted(scope.keys or ())
