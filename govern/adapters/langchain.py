"""LangChain adapter: a ``BaseRetriever`` that governs every retrieval for one principal.

    from govern.adapters.langchain import GovernedLangChainRetriever
    retriever = GovernedLangChainRetriever.from_vectorstore(gov, store, "support_kb", principal, k=4,
                                                            conversation="c-17")
    docs = retriever.invoke("customer was charged twice")   # masked Documents
    result = retriever.retrieve("...")                      # documents + RetrievalDecision

With LangChain's ``InMemoryVectorStore`` the principal's document rules are
passed down as its filter (a callable on ``Document``); with stores that take a
Mongo-style dict (Chroma, PGVector, ...) pass ``filter_form="mongo"``; anything
else is over-fetched. Every returned document is checked again. A denied call
raises :class:`govern.retrieval.RetrievalDenied` (never an empty list).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore, VectorStore
from pydantic import ConfigDict, PrivateAttr

from govern.principal import Principal
from govern.retrieval import GovernedRetriever, RetrievalResult, wrap_retriever

__all__ = ["GovernedLangChainRetriever", "filter_form_for"]


def filter_form_for(store: Any) -> str | None:
    """The filter form a LangChain vector store accepts (None: unknown, over-fetch instead)."""
    if isinstance(store, InMemoryVectorStore):
        return "langchain"
    return None


class GovernedLangChainRetriever(BaseRetriever):
    """Governed retrieval for one principal (and conversation) over a vector store or retriever."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    governor: Any
    collection: str
    principal: Principal
    source: Any  # a VectorStore (similarity_search is called with k and filter) or a BaseRetriever
    k: int = 4
    conversation: str | None = None
    filter_form: str | None = None
    options: dict = {}

    _wrapped: GovernedRetriever | None = PrivateAttr(default=None)

    @classmethod
    def from_vectorstore(cls, governor: Any, store: VectorStore, collection: str, principal: Principal | dict,
                         *, k: int = 4, conversation: str | None = None, filter_form: str | None = None,
                         **options: Any) -> "GovernedLangChainRetriever":
        principal = principal if isinstance(principal, Principal) else Principal.model_validate(principal)
        return cls(governor=governor, collection=collection, principal=principal, source=store, k=k,
                   conversation=conversation, filter_form=filter_form or filter_form_for(store), options=options)

    def _governed(self) -> GovernedRetriever:
        if self._wrapped is None:
            if isinstance(self.source, BaseRetriever):
                source = self.source
                fn, extra = (lambda query, **_: source.invoke(query)), {"k_param": None}
            else:
                fn, extra = self.source.similarity_search, {}
            self._wrapped = wrap_retriever(self.governor, fn, collection=self.collection, k=self.k,
                                           filter_form=self.filter_form if not extra else None, **extra, **self.options)
        return self._wrapped

    def retrieve(self, query: str, *, k: int | None = None, correlation_id: str | None = None) -> RetrievalResult:
        """Documents and the decision; raises RetrievalDenied when the principal may not retrieve."""
        return self._governed()(query, self.principal, k=k or self.k, conversation=self.conversation,
                                correlation_id=correlation_id)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return list(self.retrieve(query).documents)
