"""Red-team round (entities + governed retrieval): each test asserts the SECURE behaviour.

Uses only tests/conftest.py fixtures (demo_db_path, demo_duckdb) plus local fixtures built with
tests/retrieval/conftest.py's make_bundle, so the file can live in tests/ or tests/retrieval/.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from govern import Governor
from govern.retrieval import RetrievalDenied  # noqa: F401
from tests.conftest import TEST_HASH_KEY
from tests.retrieval.conftest import leaky, make_bundle, playbook_docs

NEGATED_RULES = """
version: 1
collections:
  playbooks:
    max_k: 1000
    rules:
      - id: pb-not-secret
        roles: [sales_rep]
        where: "classification NOT IN (2, 3) AND tenant = :principal.tenant"
      - id: pb-not-above-clearance
        roles: [sales_lead]
        where: "NOT (classification > :principal.clearance) AND tenant = :principal.tenant"
"""


def _gov(tmp_path: Path, documents: str | None = None) -> Governor:
    kwargs = {} if documents is None else {"documents": documents}
    root = make_bundle(tmp_path, **kwargs)
    return Governor.from_path(root, audit=tmp_path / "audit" / "trail.jsonl", hash_key=TEST_HASH_KEY)


def _records(g: Governor) -> list[dict]:
    return [json.loads(line) for line in Path(g.audit.sink.path).read_text().splitlines() if line.strip()]


@pytest.fixture()
def ngov(tmp_path) -> Governor:
    return _gov(tmp_path, NEGATED_RULES)


@pytest.fixture()
def rgov_ent(tmp_path) -> Governor:
    return _gov(tmp_path)


# ---- 1. NOT IN admits a value of the wrong type (string "2", True) instead of dropping it as malformed


@pytest.mark.parametrize("form", [None, "metadata", "mongo", "sql"])
def test_not_in_rule_drops_wrong_typed_values(ngov, form):
    docs = [
        {"id": "c0", "text": "public", "metadata": {"id": "c0", "tenant": "acme", "classification": 0}},
        {"id": "c2", "text": "secret", "metadata": {"id": "c2", "tenant": "acme", "classification": 2}},
        {"id": "c2-str", "text": "secret, classification stored as text",
         "metadata": {"id": "c2-str", "tenant": "acme", "classification": "2"}},
        {"id": "c-bool", "text": "bool", "metadata": {"id": "c-bool", "tenant": "acme", "classification": True}},
    ]
    result = ngov.wrap_retriever(leaky(docs), "playbooks", filter_form=form)("q", ngov.principal("eve"), k=10)
    assert result.decision.returned_ids == ["c0"], result.decision.returned_ids


def test_not_in_tenant_deny_list_drops_non_string_tenant(tmp_path):
    g = _gov(tmp_path, """
version: 1
collections:
  playbooks:
    rules:
      - id: pb-not-globex
        roles: [sales_rep]
        where: "tenant NOT IN ('globex')"
""")
    docs = [{"id": "t-num", "text": "tenant id stored as a number", "metadata": {"id": "t-num", "tenant": 4242}},
            {"id": "t-ok", "text": "ok", "metadata": {"id": "t-ok", "tenant": "acme"}}]
    result = g.wrap_retriever(leaky(docs), "playbooks")("q", g.principal("eve"), k=10)
    assert result.decision.returned_ids == ["t-ok"]


# ---- 2. NaN (pandas' missing value) passes a negated comparison in the post-filter


def test_nan_metadata_is_dropped_not_admitted_by_negated_rule(ngov):
    docs = [
        {"id": "c0", "text": "public", "metadata": {"id": "c0", "tenant": "globex", "classification": 0}},
        {"id": "c-nan", "text": "classification unknown",
         "metadata": {"id": "c-nan", "tenant": "globex", "classification": float("nan")}},
    ]
    lena = ngov.principal("lena")  # sales_lead, clearance 0, tenant globex
    result = ngov.wrap_retriever(leaky(docs), "playbooks")("q", lena, k=10)
    assert "c-nan" not in result.decision.returned_ids
    assert result.decision.returned_ids == ["c0"]


# ---- 3. entity_scope('customer') in a document rule ignores the key table's tenant row filter


def test_entity_scope_documents_stay_within_sql_visible_customers(rgov_ent, demo_duckdb):
    notes = [{"id": f"n-{c}", "text": f"note on customer {c}", "metadata": {"id": f"n-{c}", "customer_id": c}}
             for c in range(1, 401)]
    eve = rgov_ent.principal("eve")  # sales_rep, tenant acme
    result = rgov_ent.wrap_retriever(leaky(notes), "accounts_notes", conn=demo_duckdb)("q", eve, k=1000)
    returned = {int(i.split("-")[1]) for i in result.decision.returned_ids}
    visible = {row[0] for row in rgov_ent.execute(demo_duckdb, "SELECT id FROM customers", eve).rows}
    other_tenants = returned - visible
    assert not other_tenants, f"eve retrieved notes of {len(other_tenants)} customers SQL hides from her (other tenants)"


# ---- 4. resolved entity keys cached by id(conn): another database's connection gets stale keys


def test_entity_scope_cache_is_not_shared_with_a_new_connection(rgov_ent, demo_db_path, tmp_path):
    import duckdb

    from govern.entities import clear_cache

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as c:
        c.execute("CREATE TABLE customers (id INTEGER, account_manager_id INTEGER)")
        c.execute("INSERT INTO customers VALUES (777, 1)")
    eve = rgov_ent.principal("eve")
    stale = 0
    for _ in range(10):
        clear_cache()
        a = duckdb.connect(str(demo_db_path), read_only=True)
        rgov_ent.entity_scope(eve, "customer", a)
        a.close()
        del a
        b = duckdb.connect(str(other), read_only=True)
        keys = rgov_ent.entity_scope(eve, "customer", b).keys
        b.close()
        del b
        stale += keys != frozenset({777})
    clear_cache()
    assert stale == 0, f"{stale}/10 lookups on a new connection returned another database's cached keys"


# ---- 5. a store's exception carries passages and the raw query to the caller and the audit trail


def test_store_exception_leaks_no_passage_or_query(rgov_ent):
    secret = "Globex secret: call Jane Roe at jane.roe@globex.example"

    def store(query, k=4, filter=None):
        raise RuntimeError(f"reranker failed on query {query} near passage: {secret}")

    search = rgov_ent.wrap_retriever(store, "playbooks")
    query = "refund for John Smith john.smith@acme.example"
    with pytest.raises(Exception) as info:
        search(query, rgov_ent.principal("eve"), k=3)
    shown = str(info.value) + repr(info.value.args)
    assert "jane.roe@globex.example" not in shown and "Jane Roe" not in shown, shown
    assert "john.smith@acme.example" not in shown
    record = _records(rgov_ent)[-1]
    dumped = json.dumps(record)
    for value in ("jane.roe@globex.example", "Jane Roe", "john.smith@acme.example", "John Smith"):
        assert value not in dumped, f"audit record carries {value!r}: {record.get('error')}"


# ---- 6. string fields of object documents other than text/metadata are returned unmasked


@dataclasses.dataclass
class TitledDoc:
    text: str
    metadata: dict
    title: str = ""
    summary: str = ""


def test_object_document_every_string_field_masked(rgov_ent):
    md = {"id": "dc1", "tenant": "acme", "region": "EU", "classification": 0}
    doc = TitledDoc(text="hello", metadata=md, title="Re: jane.doe@acme.example",
                    summary="card 4111 1111 1111 1111, ssn 536-22-8145")
    result = rgov_ent.wrap_retriever(leaky([doc]), "playbooks")("q", rgov_ent.principal("ada"), k=5)
    out = result.documents[0]
    assert "jane.doe@acme.example" not in out.title
    assert "4111 1111 1111 1111" not in out.summary and "536-22-8145" not in out.summary


# ---- 7. the retrieval audit record holds the raw query when the PII engine finds nothing in it


def test_retrieval_audit_has_no_raw_query_text(rgov_ent):
    query = "does Maria Gonzalez at Initech still owe us for order 7781 after her divorce?"
    rgov_ent.wrap_retriever(leaky(playbook_docs(1)), "playbooks")(query, rgov_ent.principal("eve"), k=2)
    record = _records(rgov_ent)[-1]
    assert record["action"] == "retrieve"
    assert query not in json.dumps(record) and "Maria Gonzalez" not in json.dumps(record), record.get("input_text")
