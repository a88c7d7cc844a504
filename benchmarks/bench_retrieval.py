#!/usr/bin/env python
"""Per-call overhead of the governed retriever vs the bare retriever, side by side in one run.

    python benchmarks/bench_retrieval.py [--calls 300] [--k 4] [--rounds 3]

The corpus is the demo dataset's 800 support tickets (examples/rag_support_assistant.py).
Two bare retrievers are measured, each wrapped the same ways:

* ``list``: returns k precomputed passages (the store costs ~nothing: the
  wrapper's own cost shows plainly);
* ``memory``: govern.retrieval.memory.MemoryStore, a pure-Python cosine scan of
  800 hashed vectors (a stand-in for a real vector store call); the bare call
  gets an equivalent hand-written metadata filter, so the store does the same work.

Wrapped variants: ``filter`` = grant check, filter derivation (bind), push-down,
post-filter, decision, audit record (in-memory null trail); ``+audit`` = the same
with the chained JSON-lines file trail; ``+mask`` = the same plus PII masking of
the k passages (and of the query for the audit record). Principal: tara
(support_lead, rules ``agent_id = 33 OR region = 'EU'``). Best of N rounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402
from govern.demo.dataset import build_demo_db  # noqa: E402
from govern.retrieval.memory import MemoryStore  # noqa: E402

HASH_KEY = "bench-hash-key-not-a-secret"
QUERY = "I was charged twice for my order, please refund the duplicate to my card"


def best_us(fn, calls: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t) / calls * 1e6)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "examples"))
    from rag_support_assistant import ticket_documents

    with tempfile.TemporaryDirectory() as tmp:
        docs = ticket_documents(build_demo_db(Path(tmp) / "demo.duckdb"))
        store = MemoryStore(docs)
        gov_null = Governor.from_path(ROOT / "policies", audit=AuditTrail.null(), hash_key=HASH_KEY)
        gov_file = Governor.from_path(ROOT / "policies", audit=Path(tmp) / "trail.jsonl", hash_key=HASH_KEY)
        tara = gov_null.principal("tara")
        permitted = [d for d in docs if d["metadata"]["region"] == "EU" or d["metadata"]["agent_id"] == 33]
        k = args.k

        def list_store(query, k=4, filter=None):
            return permitted[:k]

        def memory_store(query, k=4, filter=None):
            return store.search(query, k=k, filter=filter)

        rows = []
        for name, bare in (("list", list_store), ("memory", memory_store)):
            calls = args.calls if name == "list" else max(10, args.calls // 30)
            variants = {
                # the bare call gets the same restriction, hand-written, so the store does the same work
                "bare": lambda: bare(QUERY, k=k, filter=lambda m: m["region"] == "EU" or m["agent_id"] == 33),
                "filter": lambda g=gov_null.wrap_retriever(bare, "support_kb", filter_form="metadata", mask=False): g(QUERY, tara, k=k),
                "+audit": lambda g=gov_file.wrap_retriever(bare, "support_kb", filter_form="metadata", mask=False): g(QUERY, tara, k=k),
                "+mask": lambda g=gov_file.wrap_retriever(bare, "support_kb", filter_form="metadata",
                                                          context=lambda d, m: {"names": [m["customer_name"]]}): g(QUERY, tara, k=k, conversation="c"),
            }
            for fn in variants.values():  # warm up (PII engine load, caches)
                fn()
            times = {v: best_us(fn, calls, args.rounds) for v, fn in variants.items()}
            rows.append((name, times))

    print(f"governed retrieval overhead, k={k}, best of {args.rounds} rounds (µs per call)")
    print(f"{'store':8} {'bare':>10} {'filter':>10} {'+audit':>10} {'+mask':>10}   overhead filter / +audit / +mask")
    for name, t in rows:
        b = t["bare"]
        print(f"{name:8} {b:10.1f} {t['filter']:10.1f} {t['+audit']:10.1f} {t['+mask']:10.1f}   "
              f"+{t['filter'] - b:.1f} / +{t['+audit'] - b:.1f} / +{t['+mask'] - b:.1f} µs "
              f"(x{t['filter'] / b:.2f} / x{t['+audit'] / b:.2f} / x{t['+mask'] / b:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
