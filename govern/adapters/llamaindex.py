"""LlamaIndex adapter: a retriever that governs every retrieval for one principal.

    from govern.adapters.llamaindex import GovernedLlamaIndexRetriever
    retriever = GovernedLlamaIndexRetriever(gov, index, "support_kb", principal, similarity_top_k=4)
    nodes = retriever.retrieve("customer was charged twice")   # NodeWithScore, text and metadata masked
    result = retriever.governed("...")                          # nodes + RetrievalDecision

The principal's document rules are pushed down as ``MetadataFilters`` where the
simple vector store can evaluate them safely: the equality / membership
conditions of a top-level AND (range conditions are left to the post-filter;
weakening a pre-filter never leaks, the post-filter checks every node), or an
OR of such conditions. Otherwise the index is over-fetched. A denied call raises
:class:`govern.retrieval.RetrievalDenied` (never an empty list).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from govern.principal import Principal
from govern.retrieval import DocumentFilter, GovernedRetriever, RetrievalResult, wrap_retriever
from govern.bundle import document_predicate as P

__all__ = ["GovernedLlamaIndexRetriever", "metadata_filters"]

_EQUALITY = {"=": FilterOperator.EQ, "!=": FilterOperator.NE}


def _leaf(node: P.Node) -> MetadataFilter | None:
    if isinstance(node, P.Cmp) and node.op in _EQUALITY:
        return MetadataFilter(key=node.left.name, value=node.right.value, operator=_EQUALITY[node.op])
    if isinstance(node, P.In):
        values: list = []
        for item in node.items:
            values += sorted(item.keys, key=repr) if isinstance(item, P.KeySet) else [item.value]
        return MetadataFilter(key=node.left.name, value=values, operator=FilterOperator.NIN if node.negated else FilterOperator.IN)
    return None


def metadata_filters(flt: DocumentFilter) -> MetadataFilters | None:
    """A flat ``MetadataFilters`` no stricter than the principal's filter; ValueError when there is none."""
    node = flt.nnf()
    if node == P.TRUE:
        return None
    if isinstance(node, P.And):
        leaves = [f for f in (_leaf(i) for i in node.items) if f is not None]
        if not leaves:
            raise ValueError("no equality or membership condition to push down")
        return MetadataFilters(filters=leaves, condition=FilterCondition.AND)
    if isinstance(node, P.Or):
        leaves = [_leaf(i) for i in node.items]
        if any(f is None for f in leaves):
            raise ValueError("an OR branch cannot be pushed down")
        return MetadataFilters(filters=leaves, condition=FilterCondition.OR)
    leaf = _leaf(node)
    if leaf is None:
        raise ValueError("condition cannot be pushed down")
    return MetadataFilters(filters=[leaf])


def _text(nws: NodeWithScore) -> str:
    return nws.node.get_content()


def _metadata(nws: NodeWithScore) -> Any:
    return nws.node.metadata


def _map_strings(nws: NodeWithScore, fn, id_field: str = "id") -> NodeWithScore:
    """A copy of the node with its text, its metadata and its relationships' metadata masked (ids kept)."""
    from govern.retrieval.documents import map_metadata

    node = nws.node
    update: dict[str, Any] = {"metadata": map_metadata(node.metadata, fn, {"id", id_field})}
    if isinstance(getattr(node, "text", None), str):
        update["text"] = fn(node.text)
    relationships = getattr(node, "relationships", None)
    if relationships:
        def related(info):
            if isinstance(info, list):
                return [related(i) for i in info]
            meta = getattr(info, "metadata", None)
            return info.model_copy(update={"metadata": map_metadata(meta, fn, {"id", id_field})}) if meta else info
        update["relationships"] = {key: related(info) for key, info in relationships.items()}
    return NodeWithScore(node=node.model_copy(update=update), score=nws.score)


class GovernedLlamaIndexRetriever(BaseRetriever):
    """Governed retrieval over a ``VectorStoreIndex`` (or any LlamaIndex retriever) for one principal."""

    def __init__(self, governor: Any, source: Any, collection: str, principal: Principal | dict, *,
                 similarity_top_k: int = 4, conversation: str | None = None, push_down: bool = True, **options: Any):
        super().__init__()
        self.principal = principal if isinstance(principal, Principal) else Principal.model_validate(principal)
        self.similarity_top_k, self.conversation = similarity_top_k, conversation
        if isinstance(source, BaseRetriever):  # a ready retriever: no k, no filter; over-fetch is up to it
            fn, extra = (lambda query, **_: source.retrieve(query)), {"k_param": None}
        else:  # a VectorStoreIndex
            def fn(query: str, k: int, filter: MetadataFilters | None = None):
                return source.as_retriever(similarity_top_k=k, filters=filter).retrieve(query)
            extra = {"filter_form": metadata_filters} if push_down else {}
        self._governed: GovernedRetriever = wrap_retriever(
            governor, fn, collection=collection, k=similarity_top_k, text=_text, metadata=_metadata,
            map_strings=_map_strings, **extra, **options)

    def governed(self, query: str, *, k: int | None = None, correlation_id: str | None = None) -> RetrievalResult:
        """Nodes and the decision; raises RetrievalDenied when the principal may not retrieve."""
        return self._governed(query, self.principal, k=k or self.similarity_top_k, conversation=self.conversation,
                              correlation_id=correlation_id)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return list(self.governed(query_bundle.query_str).documents)
