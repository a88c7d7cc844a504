"""A tiny in-memory vector store for examples, tests and benchmarks (no model, no download).

Embeddings are deterministic hashed bags of words (and word bigrams), so similar
texts score higher and every run returns the same ranking. ``search(query, k,
filter)`` takes an optional callable ``metadata -> bool``: the form the
governed retriever passes down with ``filter_form="metadata"``.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Callable

_WORD = re.compile(r"[a-z0-9]+")


def embed(text: str, dim: int = 256) -> list[float]:
    """A unit vector of hashed word and bigram counts."""
    words = _WORD.findall(text.lower())
    vec = [0.0] * dim
    for token in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
        vec[h % dim] += 1.0 if (h >> 63) else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class MemoryStore:
    """Documents as ``{"id", "text", "metadata"}`` dicts, ranked by cosine similarity."""

    def __init__(self, documents: list[dict] | None = None, dim: int = 256):
        self.dim = dim
        self.documents: list[dict] = []
        self._vectors: list[list[float]] = []
        self.calls = 0
        for doc in documents or ():
            self.add(doc)

    def add(self, doc: dict) -> None:
        self.documents.append(doc)
        self._vectors.append(embed(doc.get("text", ""), self.dim))

    def search(self, query: str, k: int = 4, filter: Callable[[Any], bool] | None = None) -> list[dict]:
        self.calls += 1
        q = embed(query, self.dim)
        scored = []
        for i, (doc, vec) in enumerate(zip(self.documents, self._vectors)):
            if filter is not None and not filter(doc.get("metadata")):
                continue
            scored.append((-sum(a * b for a, b in zip(q, vec)), i))
        scored.sort()
        return [self.documents[i] for _, i in scored[:k]]

    def search_unfiltered(self, query: str, k: int = 4) -> list[dict]:
        """The same ranking without any filter: a store that ignores who is asking."""
        return self.search(query, k)
