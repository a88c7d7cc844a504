"""The LangChain adapter: a principal per call, `k` honoured, a plain BaseRetriever over-fetched.

- The principal in `config={"configurable": {"principal": ...}}` (or the `principal=` keyword) is
  the one governed and audited, over the retriever's own; with neither, the call raises.
- `k` (keyword or configurable) is the number of documents returned.
- A plain `BaseRetriever` source (a `k` field, `search_kwargs`, a `k` keyword, or none) is asked
  for more until k permitted documents or the collection's bound. Family: any ranking of
  permitted and forbidden documents; what comes back is the first permitted ones in rank order,
  k of them whenever k are within reach, and the source is never asked for more than max_fetch.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.retrieval.test_adapters import require

require("langchain_core")

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402

from govern.adapters.langchain import GovernedLangChainRetriever  # noqa: E402

MAX_FETCH = 200  # the playbooks collection's default bound


def doc(i: int, allowed: bool) -> Document:
    """Allowed for eve (acme, global, classification 0) or not (globex: ivan's)."""
    tenant = "acme" if allowed else "globex"
    return Document(page_content=f"playbook {i} for {tenant}", id=f"d{i}",
                    metadata={"id": f"d{i}", "tenant": tenant, "region": "global", "classification": 0})


class KField(BaseRetriever):
    """A retriever with a `k` field (like BM25Retriever): returns its first k documents."""

    docs: list
    k: int = 4
    asked: list = []

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        self.asked.append(self.k)
        return self.docs[: self.k]


class KKeyword(BaseRetriever):
    """A retriever taking k as a keyword of the call."""

    docs: list
    asked: list = []

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int = 4) -> list[Document]:
        self.asked.append(k)
        return self.docs[:k]


class Fixed(BaseRetriever):
    """A retriever that cannot be asked for more: always its first 6."""

    docs: list
    asked: list = []

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        self.asked.append(6)
        return self.docs[:6]


def _records(rgov):
    path = rgov.audit.sink.path
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_the_principal_of_the_call_is_used_and_audited(rgov):
    docs = [doc(i, allowed=i % 2 == 0) for i in range(20)]
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=KField(docs=docs), k=3)
    with pytest.raises(ValueError, match="no principal"):
        retriever.invoke("playbook")
    eve, ivan = rgov.principal("eve"), rgov.principal("ivan")
    out = retriever.invoke("playbook", config={"configurable": {"principal": eve}})
    assert [d.metadata["tenant"] for d in out] == ["acme"] * 3
    assert _records(rgov)[-1]["principal"]["id"] == "eve"
    own = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=KField(docs=docs), k=3, principal=eve)
    out = own.invoke("playbook", config={"configurable": {"principal": ivan}})  # the call's principal, not the default
    assert out and all(d.metadata["tenant"] == "globex" for d in out)
    assert _records(rgov)[-1]["principal"]["id"] == "ivan"
    out = own.invoke("playbook", principal={"id": "ivan", "roles": ["sales_rep"],
                                            "attributes": {"region": "NA", "tenant": "globex", "clearance": 2, "employee_id": 2}})
    assert out and all(d.metadata["tenant"] == "globex" for d in out)
    assert [d.metadata["tenant"] for d in own.invoke("playbook")] == ["acme"] * 3  # no per-call principal: the default
    out = asyncio.run(retriever.ainvoke("playbook", config={"configurable": {"principal": ivan}}))
    assert out and all(d.metadata["tenant"] == "globex" for d in out)


def test_k_is_honoured_per_call(rgov):
    docs = [doc(i, allowed=True) for i in range(30)]
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=KField(docs=docs),
                                           principal=rgov.principal("eve"), k=4)
    assert len(retriever.invoke("playbook")) == 4
    assert len(retriever.invoke("playbook", k=7)) == 7
    assert len(retriever.invoke("playbook", config={"configurable": {"k": 2}})) == 2
    assert len(retriever.retrieve("playbook", k=5)) == 5


@pytest.mark.parametrize("kind", [KField, KKeyword])
def test_a_plain_retriever_is_over_fetched_until_k_permitted(rgov, kind):
    docs = [doc(i, allowed=i >= 30) for i in range(60)]  # the 30 best-ranked are another tenant's
    source = kind(docs=docs, asked=[])
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=source, principal=rgov.principal("eve"), k=5)
    result = retriever.retrieve("playbook")
    assert [d.id for d in result] == [f"d{i}" for i in range(30, 35)]
    assert source.asked[0] == 20 and source.asked[-1] > 30 and max(source.asked) <= MAX_FETCH


def test_a_vectorstore_retriever_is_over_fetched_through_search_kwargs(rgov):
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import InMemoryVectorStore

    from govern.retrieval.memory import embed

    class HashEmbeddings(Embeddings):
        def embed_documents(self, texts):
            return [embed(t) for t in texts]

        def embed_query(self, text):
            return embed(text)

    store = InMemoryVectorStore(HashEmbeddings())
    store.add_documents([doc(i, allowed=i % 10 == 0) for i in range(100)])
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=store.as_retriever(search_kwargs={"k": 2}),
                                           principal=rgov.principal("eve"), k=5)
    result = retriever.retrieve("playbook for acme")
    assert len(result) == 5 and all(d.metadata["tenant"] == "acme" for d in result)
    assert result.decision.fetched > 2


def test_a_retriever_that_cannot_be_asked_for_more_is_called_a_bounded_number_of_times(rgov):
    source = Fixed(docs=[doc(i, allowed=i in (1, 4)) for i in range(50)], asked=[])
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=source, principal=rgov.principal("eve"), k=5)
    result = retriever.retrieve("playbook")
    assert [d.id for d in result] == ["d1", "d4"] and len(source.asked) <= 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.lists(st.booleans(), max_size=260), k=st.integers(1, 8), kind=st.sampled_from([KField, KKeyword]))
def test_family_first_permitted_in_rank_order_k_when_within_reach(rgov, flags, k, kind):
    docs = [doc(i, allowed=f) for i, f in enumerate(flags)]
    source = kind(docs=docs, asked=[])
    retriever = GovernedLangChainRetriever(governor=rgov, collection="playbooks", source=source, principal=rgov.principal("eve"), k=k)
    got = [d.id for d in retriever.retrieve("playbook")]
    permitted = [f"d{i}" for i, f in enumerate(flags) if f]
    assert got == permitted[: len(got)]  # only permitted documents, the best-ranked first, none skipped
    reach = min(64 * k, MAX_FETCH)  # what three rounds of over-fetching reach (4k, 16k, 64k), capped at max_fetch
    within = sum(flags[:reach])
    assert len(got) >= min(k, within)
    assert len(got) <= k
    assert max(source.asked, default=0) <= MAX_FETCH
