"""A support assistant's retrieval step, governed per requester.

The demo dataset's support tickets become passages in an in-memory vector store
(deterministic hashed embeddings, no model download). Three principals ask the
same question and each gets different passages, masked for them:

* sam  (support_agent): only tickets assigned to him; names and emails shown, card numbers never
* tara (support_lead):  every ticket of her region (EU)
* ada  (auditor):       every ticket, with no PII type revealed

and eve (sales_rep) has no grant on the collection: she gets a denial, not an
empty answer. Every call writes one audit record (ids and counts, never text).

    python examples/rag_support_assistant.py [--audit PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402
from govern.demo.dataset import build_demo_db  # noqa: E402
from govern.retrieval import RetrievalDenied  # noqa: E402
from govern.retrieval.memory import MemoryStore  # noqa: E402

QUESTION = "I was charged twice for my order, please refund the duplicate to my card"
PRINCIPALS = ("sam", "tara", "ada", "eve")
COLLECTION = "support_kb"


def ticket_documents(db_path: Path) -> list[dict]:
    """One passage per ticket; metadata carries what the document rules read, plus the customer's name for PII context."""
    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = conn.execute(
            "SELECT t.id, t.customer_id, t.agent_id, t.region, t.status, t.priority, t.subject, t.body, c.name "
            "FROM support_tickets t JOIN customers c ON c.id = t.customer_id ORDER BY t.id"
        ).fetchall()
    finally:
        conn.close()
    return [
        {
            "id": f"ticket-{tid}",
            "text": f"{subject}\n{body}",
            "metadata": {"id": f"ticket-{tid}", "customer_id": cid, "agent_id": agent, "region": region,
                         "status": status, "priority": priority, "customer_name": name},
        }
        for tid, cid, agent, region, status, priority, subject, body, name in rows
    ]


def run(audit: AuditTrail | str | Path | None = None, k: int = 3, hash_key: str = "demo-hash-key-not-a-secret",
        db_dir: Path | None = None) -> dict[str, dict]:
    """Ask QUESTION as each principal; return {principal: {"passages" | "denied", "decision"}}."""
    gov = Governor.from_path(ROOT / "policies", audit=audit if audit is not None else AuditTrail.null(), hash_key=hash_key)
    with tempfile.TemporaryDirectory() as tmp:
        db = build_demo_db(Path(db_dir or tmp) / "demo.duckdb")
        store = MemoryStore(ticket_documents(db))

    # Pre-filter push-down: the store takes a metadata predicate; the wrapper checks every result again.
    # The customer's name (from structured metadata) lets the PII engine find it in free text.
    @gov.retriever(COLLECTION, filter_form="metadata", context=lambda doc, meta: {"names": [meta["customer_name"]]})
    def search(query: str, k: int = 4, filter=None):
        return store.search(query, k=k, filter=filter)

    out: dict[str, dict] = {}
    for pid in PRINCIPALS:
        try:
            result = search(QUESTION, gov.principal(pid), k=k, conversation=f"conv-{pid}")
        except RetrievalDenied as denied:
            out[pid] = {"denied": denied.decision.reasons, "decision": denied.decision}
            continue
        out[pid] = {"passages": [(d["id"], d["text"]) for d in result], "decision": result.decision}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", help="write the audit trail to this JSON-lines file")
    parser.add_argument("-k", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"Q: {QUESTION}\n")
    for pid, answer in run(args.audit, k=args.k).items():
        decision = answer["decision"]
        if "denied" in answer:
            print(f"== {pid}: DENIED - {'; '.join(answer['denied'])}\n")
            continue
        print(f"== {pid}: {decision.returned} passage(s); rules {decision.policies}; filter {decision.filter}; "
              f"pushed down: {decision.pushed_down}; dropped {decision.dropped}; PII masked {decision.pii}")
        for doc_id, text in answer["passages"]:
            print(f"  [{doc_id}] " + text.replace("\n", " | ")[:220])
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
