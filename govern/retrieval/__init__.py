"""Governed retrieval for RAG: document rules, pre-filter push-down, post-filter, PII masking, audit.

    search = gov.wrap_retriever(store.similarity_search, "support_kb", filter_form="langchain")
    result = search("customer was charged twice", principal, k=4, conversation="c-17")
    for doc in result:            # masked copies; iterating a denied result raises RetrievalDenied
        ...
    result.decision               # returned ids, dropped ids with reasons, PII counts, audit id

Document rules live in the bundle's optional ``documents.yaml`` (see
``govern.bundle.document_models``); one predicate tree per rule yields the Python
post-filter and the store filters (LangChain callable, Mongo-style dict, SQL WHERE).
``gov.sql_retriever(conn, table, collection, ...)`` (``govern.retrieval.sql_store``)
searches a catalogued table of chunks with a query that goes through the SQL guard.
"""

from govern.bundle.document_models import CollectionSpec, DocumentRule, DocumentsFile
from govern.bundle.compiled import DocumentRules
from govern.bundle.documents import DOCUMENTS_FILE, load_documents
from govern.retrieval.rules import DocumentFilter, derive_filter, document_rules
from govern.retrieval.sql_store import ChunkStoreError, SqlChunkStore, keyword_score, sql_retriever, vector_distance
from govern.retrieval.wrapper import (
    DroppedDocument,
    GovernedRetriever,
    RetrievalDecision,
    RetrievalDenied,
    RetrievalFailed,
    RetrievalResult,
    resolve_scope_keys,
    wrap_retriever,
)

__all__ = [
    "ChunkStoreError",
    "CollectionSpec",
    "DOCUMENTS_FILE",
    "DocumentFilter",
    "DocumentRule",
    "DocumentRules",
    "DocumentsFile",
    "DroppedDocument",
    "GovernedRetriever",
    "RetrievalDecision",
    "RetrievalDenied",
    "RetrievalFailed",
    "RetrievalResult",
    "SqlChunkStore",
    "derive_filter",
    "document_rules",
    "keyword_score",
    "load_documents",
    "resolve_scope_keys",
    "sql_retriever",
    "vector_distance",
    "wrap_retriever",
]
