"""Recall: with push-down, k permitted documents come back even when most of the collection is forbidden.
Also: over-fetch rounds without push-down, a DuckDB table of chunks filtered by the SQL form, the audit record."""

from __future__ import annotations

import duckdb

from govern.retrieval.memory import MemoryStore


def mostly_forbidden(n=1000, permitted_every=50):
    """1000 playbooks, 2% of them acme/EU/0 (eve may see them), the rest other tenants; all about pricing."""
    docs = []
    for i in range(n):
        ok = i % permitted_every == 0
        docs.append({"id": f"d{i}", "text": f"pricing discount objection playbook number {i}",
                     "metadata": {"id": f"d{i}", "tenant": "acme" if ok else "globex", "region": "EU", "classification": 0}})
    return docs


def test_pushdown_returns_k_permitted_when_most_are_forbidden(rgov):
    store = MemoryStore(mostly_forbidden())
    search = rgov.wrap_retriever(store.search, "playbooks", filter_form="metadata")
    result = search("pricing discount", rgov.principal("eve"), k=10)
    assert result.decision.returned == 10 and result.decision.dropped == 0
    assert result.decision.pushed_down and result.decision.fetched == 10 and store.calls == 1
    assert all(d["metadata"]["tenant"] == "acme" for d in result)


def test_without_pushdown_post_filter_alone_starves_and_overfetch_is_bounded(rgov):
    store = MemoryStore(mostly_forbidden())
    search = rgov.wrap_retriever(store.search_unfiltered, "playbooks")  # the store takes no filter
    result = search("pricing discount", rgov.principal("eve"), k=10)
    d = result.decision
    assert not d.pushed_down
    assert d.fetched <= 200 and d.rounds <= 3  # max_fetch of the collection bounds over-fetching
    assert d.fetched == 200 and d.returned < 10  # ~2% permitted: 200 fetched -> a handful (post-filter alone starves)
    assert d.dropped == d.fetched - d.returned and sum(d.dropped_by_reason.values()) == d.dropped


def test_overfetch_rounds_reach_k_when_permitted_are_common_enough(rgov):
    store = MemoryStore(mostly_forbidden(permitted_every=8))
    search = rgov.wrap_retriever(store.search_unfiltered, "playbooks")
    result = search("pricing discount", rgov.principal("eve"), k=5)
    assert result.decision.returned == 5 and result.decision.rounds >= 1


def test_duckdb_chunks_table_with_sql_pushdown(rgov):
    conn = duckdb.connect()
    conn.execute("CREATE TABLE chunks (id VARCHAR, text VARCHAR, tenant VARCHAR, region VARCHAR, classification INTEGER)")
    rows = [(d["id"], d["text"], d["metadata"]["tenant"], d["metadata"]["region"], d["metadata"]["classification"])
            for d in mostly_forbidden()]
    rows.append(("bad", "no tenant", None, "EU", 0))
    conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", rows)
    seen_sql = []

    def search(query: str, k: int = 4, filter: str = "TRUE"):
        sql = f"SELECT id, text, tenant, region, classification FROM chunks AS c WHERE {filter} ORDER BY id LIMIT {int(k)}"
        seen_sql.append(sql)
        return [{"id": i, "text": t, "metadata": {"id": i, "tenant": te, "region": r, "classification": cl}}
                for i, t, te, r, cl in conn.execute(sql).fetchall()]

    gov_search = rgov.wrap_retriever(search, "playbooks", filter_form="sql", sql_dialect="duckdb", sql_table="c")
    result = gov_search("q", rgov.principal("eve"), k=7)
    assert result.decision.returned == 7 and not result.decision.dropped
    assert '"c"."tenant" = \'acme\'' in seen_sql[0] and 'NOT "c"."tenant" IS NULL' in seen_sql[0]
    # and the injection-shaped attribute stays a literal
    from govern import Principal

    evil = Principal("mallory", ["sales_rep"], {"region": "EU", "tenant": "x' OR '1'='1", "clearance": 9})
    with_evil = gov_search("q", evil, k=7)
    assert with_evil.decision.returned == 0 and not with_evil.decision.dropped


def test_one_audit_record_per_retrieval_with_ids_and_counts(rgov, trail):
    docs = mostly_forbidden(100, permitted_every=10)
    docs[0]["text"] += " call me at jane@example.com"
    search = rgov.wrap_retriever(lambda q, k=4: docs[:k], "playbooks")
    result = search("pricing for jane@example.com", rgov.principal("eve"), k=3, correlation_id="req-1")
    (rec,) = trail()
    import json

    assert rec["action"] == "retrieve" and rec["decision"] == "drop" and rec["documents"] == 3
    assert rec["principal"] == {"id": "eve", "roles": ["sales_rep"], "tenant": "acme"}
    assert rec["correlation_id"] == "req-1" and rec["event_id"] == result.decision.audit_id
    assert rec["extra"]["collection"] == "playbooks" and json.loads(rec["extra"]["returned_ids"]) == result.decision.returned_ids
    dropped = json.loads(rec["extra"]["dropped_ids"])
    assert dropped and all(v.startswith("excluded by document rules") for v in dropped.values())
    assert rec["pii"] == {"EMAIL_ADDRESS": 1} and rec["policies"] == ["pb-rep-region", "pb-rep-tenant"]
    assert rec["input_sha256"] and "jane@example.com" not in json.dumps(rec)
    assert any("dropped: excluded by document rules" in r for r in rec["reasons"])
