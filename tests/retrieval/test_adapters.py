"""The LangChain and LlamaIndex adapters, with the real libraries and their in-memory vector stores.

They skip when the optional libraries are not installed, unless GOVERN_REQUIRE_EXTRAS=1 (CI), where that fails.
Embeddings are deterministic (hashed bags of words): no model is downloaded.
"""

from __future__ import annotations

import os
import re

import pytest

from govern.retrieval import RetrievalDenied
from govern.retrieval.memory import embed
from tests.retrieval.conftest import playbook_docs

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def require(module: str):
    if os.environ.get("GOVERN_REQUIRE_EXTRAS", "").strip().lower() in {"1", "true", "yes", "on"}:
        import importlib

        return importlib.import_module(module)  # CI: a missing extra fails instead of skipping
    return pytest.importorskip(module)


def docs_with_forbidden_majority():
    docs = playbook_docs(3)
    for d in docs:
        d["text"] = "pricing objection handling " + d["text"]
    return docs


# ---------------------------------------------------------------- LangChain

def test_langchain_retriever_over_in_memory_store(rgov):
    require("langchain_core")
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import InMemoryVectorStore

    from govern.adapters.langchain import GovernedLangChainRetriever

    class HashEmbeddings(Embeddings):
        def embed_documents(self, texts):
            return [embed(t) for t in texts]

        def embed_query(self, text):
            return embed(text)

    docs = docs_with_forbidden_majority()
    store = InMemoryVectorStore(HashEmbeddings())
    store.add_documents([Document(page_content=d["text"], metadata=d["metadata"], id=d["id"]) for d in docs])

    eve = rgov.principal("eve")
    retriever = GovernedLangChainRetriever.from_vectorstore(rgov, store, "playbooks", eve, k=5, conversation="c1")
    out = retriever.invoke("pricing objection handling")
    assert len(out) == 5 and all(isinstance(d, Document) for d in out)
    assert all(d.metadata["tenant"] == "acme" and d.metadata["region"] in ("global", "EU") and d.metadata["classification"] <= 1 for d in out)
    result = retriever.retrieve("pricing objection handling")
    assert result.decision.pushed_down and result.decision.filter_form == "langchain" and not result.decision.dropped
    ada = GovernedLangChainRetriever.from_vectorstore(rgov, store, "playbooks", rgov.principal("ada"), k=5).invoke("pricing")
    assert ada and not any(EMAIL.search(d.page_content) for d in ada), "auditor sees no email"
    assert all(EMAIL.search(d.page_content) for d in store.similarity_search("pricing", k=3)), "store untouched"

    with pytest.raises(RetrievalDenied):
        GovernedLangChainRetriever.from_vectorstore(rgov, store, "playbooks", rgov.principal("sam")).invoke("pricing")

    # A retriever of another kind (no filter, no k): over-fetch is its business, the post-filter still holds.
    raw = store.as_retriever(search_kwargs={"k": 60})
    wrapped = GovernedLangChainRetriever(governor=rgov, collection="playbooks", principal=eve, source=raw, k=5)
    res = wrapped.retrieve("pricing objection handling")
    assert not res.decision.pushed_down and res.decision.dropped
    assert all(d.metadata["tenant"] == "acme" for d in res)


# ---------------------------------------------------------------- LlamaIndex

def test_llamaindex_retriever_over_vector_store_index(rgov):
    require("llama_index.core")
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.schema import NodeWithScore, TextNode

    from govern.adapters.llamaindex import GovernedLlamaIndexRetriever

    class HashEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query):
            return embed(query)

        def _get_text_embedding(self, text):
            return embed(text)

        async def _aget_query_embedding(self, query):
            return embed(query)

    docs = docs_with_forbidden_majority()
    nodes = [TextNode(text=d["text"], metadata=d["metadata"], id_=d["id"]) for d in docs]
    index = VectorStoreIndex(nodes, embed_model=HashEmbedding())

    eve = rgov.principal("eve")
    retriever = GovernedLlamaIndexRetriever(rgov, index, "playbooks", eve, similarity_top_k=5, conversation="c1")
    out = retriever.retrieve("pricing objection handling")
    assert len(out) == 5 and all(isinstance(n, NodeWithScore) for n in out)
    assert all(n.node.metadata["tenant"] == "acme" and n.node.metadata["classification"] <= 1 for n in out)
    result = retriever.governed("pricing objection handling")
    d = result.decision
    assert d.pushed_down and d.filter_form == "metadata_filters" and d.returned == 5

    ada = GovernedLlamaIndexRetriever(rgov, index, "playbooks", rgov.principal("ada"), similarity_top_k=4).retrieve("pricing")
    assert len(ada) == 4 and not any(EMAIL.search(n.node.get_content()) for n in ada)
    assert all(EMAIL.search(n.node.get_content()) for n in index.as_retriever(similarity_top_k=3).retrieve("pricing")), "index untouched"

    with pytest.raises(RetrievalDenied):
        GovernedLlamaIndexRetriever(rgov, index, "playbooks", rgov.principal("sam")).retrieve("pricing")

    # without push-down: over-fetch, and the post-filter still never leaks
    nopush = GovernedLlamaIndexRetriever(rgov, index, "playbooks", eve, similarity_top_k=5, push_down=False)
    res = nopush.governed("pricing objection handling")
    assert not res.decision.pushed_down and res.decision.dropped
    assert all(n.node.metadata["tenant"] == "acme" for n in res)


def test_llamaindex_filter_translation_is_never_stricter(rgov):
    require("llama_index.core")
    from llama_index.core.vector_stores import FilterCondition

    from govern.adapters.llamaindex import metadata_filters
    from govern.retrieval import derive_filter, document_rules

    rules = document_rules(rgov.bundle)
    flt = derive_filter(rules, "playbooks", rgov.principal("eve"), frozenset({"sales_rep"}), lambda e: frozenset())
    mf = metadata_filters(flt)
    assert mf.condition == FilterCondition.AND
    # range condition (classification <= 1) is left to the post-filter
    assert {(f.key, str(f.operator.value)) for f in mf.filters} == {("region", "in"), ("tenant", "==")}


def test_llamaindex_node_metadata_and_relationships_are_masked(rgov):
    require("llama_index.core")
    from llama_index.core.schema import NodeRelationship, NodeWithScore, RelatedNodeInfo, TextNode

    from govern.adapters.llamaindex import GovernedLlamaIndexRetriever

    md = {"id": "n-1", "tenant": "acme", "region": "EU", "classification": 0, "owner": "ann.lee@example.com"}
    node = TextNode(text="call ann.lee@example.com", metadata=md, id_="n-1", relationships={
        NodeRelationship.SOURCE: RelatedNodeInfo(node_id="src-1", metadata={"author_email": "ann.lee@example.com"})})

    class Fixed:  # a ready LlamaIndex-like retriever is wrapped through the index path's callable shape
        def as_retriever(self, similarity_top_k, filters=None):
            return self

        def retrieve(self, query):
            return [NodeWithScore(node=node, score=1.0)]

    out = GovernedLlamaIndexRetriever(rgov, Fixed(), "playbooks", rgov.principal("ada"), similarity_top_k=1).retrieve("q")
    n = out[0].node
    blob = n.get_content() + repr(n.metadata) + repr(n.relationships)
    assert "ann.lee@example.com" not in blob and n.node_id == "n-1" and n.metadata["id"] == "n-1"
    assert node.metadata["owner"] == "ann.lee@example.com", "the store's node is untouched"
