"""Framework adapters (optional extras; the core never imports them).

* ``govern.adapters.langchain``: a LangChain ``BaseRetriever`` over a vector store
  (``pip install langchain-core``; extra ``govern[langchain]``).
* ``govern.adapters.llamaindex``: a LlamaIndex retriever over a ``VectorStoreIndex``
  (``pip install llama-index-core``; extra ``govern[llamaindex]``).

Both delegate every call to :class:`govern.retrieval.GovernedRetriever`: grant
check, document rules pushed down as the store's filter where it has one,
every document checked again, PII masked, one audit record per call.
"""
