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

Per call, the application may pass the principal (and ``k``) in LangChain's config,
so one retriever serves every user of a chain::

    retriever = GovernedLangChainRetriever(governor=gov, collection="support_kb", source=store)
    docs = retriever.invoke("charged twice", config={"configurable": {"principal": sam, "k": 3}})
    docs = retriever.invoke("charged twice", k=3, principal=sam)     # the same, as keywords

A per-call principal replaces the retriever's own for that call; with neither, the call
raises (nothing is retrieved for nobody). A plain ``BaseRetriever`` source is over-fetched
like a vector store until ``k`` permitted documents or the collection's ``max_fetch``: the
larger ``k`` reaches it through ``search_kwargs`` (a ``VectorStoreRetriever``), its own
``k`` field (BM25, TF-IDF, ...), or an invoke keyword when it takes one; a retriever that
has no way to ask for more is called once and post-filtered.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.vectorstores import InMemoryVectorStore, VectorStore
from pydantic import ConfigDict, PrivateAttr

from govern.principal import Principal
from govern.retrieval import GovernedRetriever, RetrievalResult, wrap_retriever

__all__ = ["GovernedLangChainRetriever", "filter_form_for", "invoke_with_k"]


def filter_form_for(store: Any) -> str | None:
    """The filter form a LangChain vector store accepts (None: unknown, over-fetch instead)."""
    if isinstance(store, InMemoryVectorStore):
        return "langchain"
    return None


class GovernedLangChainRetriever(BaseRetriever):
    """Governed retrieval over a vector store or retriever, for the principal of the call (or its own)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    governor: Any
    collection: str
    principal: Principal | None = None  # the default; a call's config {"configurable": {"principal": ...}} replaces it
    source: Any  # a VectorStore (similarity_search is called with k and filter) or a BaseRetriever
    k: int = 4
    conversation: str | None = None
    filter_form: str | None = None
    options: dict = {}

    _wrapped: GovernedRetriever | None = PrivateAttr(default=None)

    @classmethod
    def from_vectorstore(cls, governor: Any, store: VectorStore, collection: str, principal: Principal | dict | None = None,
                         *, k: int = 4, conversation: str | None = None, filter_form: str | None = None,
                         **options: Any) -> "GovernedLangChainRetriever":
        if principal is not None and not isinstance(principal, Principal):
            principal = Principal.model_validate(principal)
        return cls(governor=governor, collection=collection, principal=principal, source=store, k=k,
                   conversation=conversation, filter_form=filter_form or filter_form_for(store), options=options)

    def _governed(self) -> GovernedRetriever:
        if self._wrapped is None:
            if isinstance(self.source, BaseRetriever):
                source = self.source
                fn, extra = (lambda query, k=None, **_: invoke_with_k(source, query, k)), {}
            else:
                fn, extra = self.source.similarity_search, {"filter_form": self.filter_form}
            self._wrapped = wrap_retriever(self.governor, fn, collection=self.collection, k=self.k, **extra, **self.options)
        return self._wrapped

    def retrieve(self, query: str, *, k: int | None = None, principal: Principal | dict | None = None,
                 conversation: str | None = None, correlation_id: str | None = None) -> RetrievalResult:
        """Documents and the decision; raises RetrievalDenied when the principal may not retrieve."""
        who = principal if principal is not None else self.principal
        if who is None:
            raise ValueError("no principal: pass one per call (config={'configurable': {'principal': ...}}) "
                             "or give the retriever one")
        return self._governed()(query, who, k=k or self.k, conversation=conversation or self.conversation,
                                correlation_id=correlation_id)

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        return super().invoke(input, config, **_call_options(config, kwargs))

    async def ainvoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        return await super().ainvoke(input, config, **_call_options(config, kwargs))

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                principal: Principal | dict | None = None, k: int | None = None,
                                conversation: str | None = None, correlation_id: str | None = None) -> list[Document]:
        return list(self.retrieve(query, k=k, principal=principal, conversation=conversation,
                                  correlation_id=correlation_id).documents)

    async def _aget_relevant_documents(self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **options: Any) -> list[Document]:
        # The store is synchronous: run the governed call in a thread, with the call's options.
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(lambda: list(self.retrieve(query, **options).documents)))


CALL_OPTIONS = ("principal", "k", "conversation", "correlation_id")


def _call_options(config: RunnableConfig | None, kwargs: dict) -> dict:
    """The call's keywords, with principal / k / conversation / correlation_id taken from
    ``config["configurable"]`` when not given as keywords; other configurable keys are left alone."""
    configurable = (config or {}).get("configurable") or {}
    out = dict(kwargs)
    for name in CALL_OPTIONS:
        if name not in out and configurable.get(name) is not None:
            out[name] = configurable[name]
    return out


def invoke_with_k(source: BaseRetriever, query: str, k: int | None) -> list[Document]:
    """``source``'s documents for ``query``, asking for ``k`` of them where the retriever has a way to be asked."""
    if k is None:
        return source.invoke(query)
    search_kwargs = getattr(source, "search_kwargs", None)
    if isinstance(search_kwargs, dict):  # VectorStoreRetriever and kin
        return source.model_copy(update={"search_kwargs": {**search_kwargs, "k": k}}).invoke(query)
    if "k" in type(source).model_fields:  # BM25Retriever, TFIDFRetriever, ...: a k field
        return source.model_copy(update={"k": k}).invoke(query)
    if type(source)._expects_other_args:  # its _get_relevant_documents takes keywords
        return source.invoke(query, k=k)
    return source.invoke(query)  # no way to ask for more: one call, post-filtered
