"""What a governed retrieval hands back: every string masked, no dropped ids, k clamped, keyed query digest."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from govern.retrieval import documents as D
from tests.retrieval.conftest import leaky, make_bundle

CARD = "4111 1111 1111 1111"
PHONE = "+1 415 555 0132"


def meta(doc_id: str, **extra) -> dict:
    return {"id": doc_id, "tenant": "acme", "region": "EU", "classification": 0, **extra}


def test_every_string_of_a_dict_document_is_masked_ids_kept(rgov):
    doc = {"id": "pb-card@example.com", "text": f"card {CARD}", "page_content": f"card {CARD}", "summary": f"call {PHONE}",
           "tags": [f"card {CARD}", 3], "raw": f"card {CARD}".encode(),
           "metadata": meta("pb-card@example.com", note=f"card {CARD}", phone_number=4155550132, nested={"who": {"p": PHONE}},
                            pair=("x", f"card {CARD}"), count=7)}
    original = json.dumps(doc, default=repr)
    r = rgov.wrap_retriever(leaky([doc]), "playbooks")("q", rgov.principal("ada"), k=1)
    out = r.documents[0]
    blob = json.dumps(out, default=repr)
    assert CARD not in blob and "415 555 0132" not in blob and "4155550132" not in blob
    assert out["id"] == out["metadata"]["id"] == "pb-card@example.com", "ids are kept"
    assert out["metadata"]["tenant"] == "acme" and out["metadata"]["classification"] == 0 and out["metadata"]["count"] == 7
    assert isinstance(out["metadata"]["pair"], tuple) and isinstance(out["raw"], str)
    assert json.dumps(doc, default=repr) == original, "the store's document is untouched"
    assert r.decision.pii.get("CREDIT_CARD", 0) >= 5 and r.decision.pii.get("PHONE_NUMBER", 0) >= 2


def test_flat_dict_document_is_its_own_metadata(rgov):
    doc = {"id": "flat", "text": "hello", "owner_phone": PHONE, **{k: v for k, v in meta("flat").items() if k != "id"}}
    out = rgov.wrap_retriever(leaky([doc]), "playbooks")("q", rgov.principal("ada"), k=1).documents[0]
    assert "415 555 0132" not in out["owner_phone"] and out["id"] == "flat" and out["tenant"] == "acme"


def test_pseudonyms_are_consistent_across_fields_and_documents(rgov):
    docs = [{"id": f"d{i}", "text": f"mail ann.lee@example.com ({i})", "metadata": meta(f"d{i}", contact="ann.lee@example.com")}
            for i in range(2)]
    out = rgov.wrap_retriever(leaky(docs), "playbooks")("q", rgov.principal("ada"), k=2, conversation="c9").documents
    tokens = {d["metadata"]["contact"] for d in out}
    assert len(tokens) == 1 and "ann.lee" not in tokens.pop()
    assert all(d["metadata"]["contact"] in d["text"] for d in out)


def test_langchain_document_metadata_is_masked(rgov):
    pytest.importorskip("langchain_core")
    from langchain_core.documents import Document

    doc = Document(page_content=f"card {CARD}", metadata=meta("lc-1", customer_phone=PHONE), id="lc-1")
    out = rgov.wrap_retriever(leaky([doc]), "playbooks")("q", rgov.principal("ada"), k=1).documents[0]
    assert isinstance(out, Document) and out.id == "lc-1" and out.metadata["id"] == "lc-1"
    assert CARD not in out.page_content and "415 555 0132" not in out.metadata["customer_phone"]
    assert doc.metadata["customer_phone"] == PHONE


@dataclasses.dataclass(frozen=True)
class Passage:
    body: str
    metadata: dict


def test_custom_shape_with_text_setter_gets_its_metadata_masked_too(rgov):
    doc = Passage(body=f"card {CARD}", metadata=meta("p-1", phone=PHONE))
    search = rgov.wrap_retriever(leaky([doc]), "playbooks", text=lambda d: d.body,
                                 with_text=lambda d, t: dataclasses.replace(d, body=t))
    out = search("q", rgov.principal("ada"), k=1).documents[0]
    assert CARD not in out.body and "415 555 0132" not in out.metadata["phone"]


def test_dataclass_fields_are_masked_by_the_default_copier(rgov):
    doc = Passage(body=f"card {CARD}", metadata=meta("p-1"))
    out = rgov.wrap_retriever(leaky([doc]), "playbooks", text=lambda d: d.body)("q", rgov.principal("ada"), k=1).documents[0]
    assert CARD not in out.body and out.body.startswith("card ")


class SlottedPassage:
    """Text behind a property over slots: no data field the default copier can see."""

    __slots__ = ("_body", "metadata")

    def __init__(self, body: str, metadata: dict):
        self._body, self.metadata = body, metadata

    @property
    def body(self) -> str:
        return self._body


def test_custom_shape_without_a_way_to_mask_its_text_is_an_error_not_a_leak(rgov):
    from govern.errors import GovernError

    doc = SlottedPassage(f"card {CARD}", meta("p-1"))
    search = rgov.wrap_retriever(leaky([doc]), "playbooks", text=lambda d: d.body)  # default copier cannot set `body`
    with pytest.raises(GovernError, match="map_strings"):
        search("q", rgov.principal("ada"), k=1)


def test_map_strings_hook(rgov):
    doc = Passage(body=f"card {CARD}", metadata=meta("p-1", phone=PHONE))

    def mapper(d, fn, id_field):
        return Passage(body=fn(d.body), metadata=D.map_metadata(d.metadata, fn, {id_field}))

    out = rgov.wrap_retriever(leaky([doc]), "playbooks", text=lambda d: d.body, map_strings=mapper)(
        "q", rgov.principal("ada"), k=1).documents[0]
    assert CARD not in out.body and "415 555 0132" not in out.metadata["phone"] and out.metadata["id"] == "p-1"


def test_mask_false_returns_the_documents_as_they_are(rgov):
    doc = {"id": "x", "text": f"card {CARD}", "metadata": meta("x", phone=PHONE)}
    out = rgov.wrap_retriever(leaky([doc]), "playbooks", mask=False)("q", rgov.principal("ada"), k=1).documents[0]
    assert out is doc


def test_decision_has_counts_and_reasons_not_dropped_ids(rgov, trail):
    docs = [{"id": "ok", "text": "t", "metadata": meta("ok")},
            {"id": "globex-secret-plan", "text": "t", "metadata": meta("globex-secret-plan", tenant="globex")},
            {"id": "broken-acme-id", "text": "t", "metadata": meta("broken-acme-id", classification="0")}]
    r = rgov.wrap_retriever(leaky(docs), "playbooks")("q", rgov.principal("eve"), k=4)
    d = r.decision
    assert d.returned_ids == ["ok"] and d.dropped == 2 and sum(d.dropped_by_reason.values()) == 2
    visible = json.dumps(d.model_dump()) + repr(r) + str(d)
    assert "globex-secret-plan" not in visible and "broken-acme-id" not in visible
    audit = json.loads(trail()[-1]["extra"]["dropped_ids"])
    assert set(audit) == {"globex-secret-plan", "broken-acme-id"}


def test_k_is_clamped_to_max_k_and_the_decision_says_so(tmp_path):
    from govern import Governor
    from tests.conftest import TEST_HASH_KEY

    rules = """
version: 1
collections:
  playbooks:
    max_k: 5
    max_fetch: 40
    rules:
      - id: pb-all
        roles: [auditor]
        where: "TRUE"
"""
    gov = Governor.from_path(make_bundle(tmp_path, rules), audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY)
    asked = []

    def store(q, k=4, filter=None):
        asked.append(k)
        return [{"id": f"d{i}", "text": "t", "metadata": {"id": f"d{i}"}} for i in range(k)]

    search = gov.wrap_retriever(store, "playbooks")
    r = search("q", gov.principal("ada"), k=10**9)
    assert len(r) == 5 and r.decision.k == 5 and r.decision.k_requested == 10**9
    assert max(asked) <= 40, "the store is never asked for the requested k"
    assert any("clamped to the collection's max_k=5" in x for x in r.decision.reasons)
    rec = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()][-1]
    assert rec["extra"]["k"] == 5 and rec["extra"]["k_requested"] == 10**9
    small = search("q", gov.principal("ada"), k=3)
    assert small.decision.k == 3 and small.decision.k_requested is None
    assert len(gov.wrap_retriever(store, "playbooks", max_k=2)("q", gov.principal("ada"), k=4)) == 2  # the wrapper may lower it


def test_default_max_k_is_50(rgov):
    from govern.retrieval import CollectionSpec

    assert CollectionSpec().max_k == 50


def test_audit_query_digest_is_keyed(rgov, trail):
    query = "callback for +1 415 555 0199"
    rgov.wrap_retriever(leaky([{"id": "x", "text": "t", "metadata": meta("x")}]), "playbooks")(query, rgov.principal("ada"))
    rec = trail()[-1]
    assert rec["input_sha256"] == rgov.input_digest(query) != hashlib.sha256(query.encode()).hexdigest()
    assert "415 555 0199" not in json.dumps(rec)


def test_pseudonyms_are_per_principal(rgov):
    doc = {"id": "x", "text": "mail vip.secret@globex.com", "metadata": meta("x")}
    r = rgov.wrap_retriever(leaky([doc]), "playbooks")("q", rgov.principal("ada"), k=1, conversation="shared")
    token_text = r.documents[0]["text"]
    assert "vip.secret" not in token_text
    assert "vip.secret" not in rgov.reveal(token_text, rgov.principal("sam"), "shared")


def test_retriever_with_a_connection_masks_name_source_names(quiet_gov, demo_db_path):
    """pii.name_sources: a wrapper given conn= masks every customer / employee name it returns,
    though the passage does not say whose names it holds (pattern mode has no NER)."""
    import duckdb

    conn = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        rows = conn.execute("SELECT t.id, t.body, c.name FROM support_tickets t JOIN customers c ON c.id = t.customer_id "
                            "WHERE position(c.name IN t.body) > 0 ORDER BY t.id LIMIT 20").fetchall()
        assert rows, "the demo has tickets that name their customer"
        docs = [{"id": i, "text": body, "metadata": {"id": i, "agent_id": 1, "region": "EU"}} for i, body, _ in rows]
        store = lambda query, k=4: docs[:k]  # noqa: E731
        ada = quiet_gov.principal("ada")
        without = quiet_gov.wrap_retriever(store, "support_kb")("x", ada, k=20)
        with_conn = quiet_gov.wrap_retriever(store, "support_kb", conn=conn)("x", ada, k=20)
        names = [name for _, _, name in rows]
        assert any(n in d["text"] for d, n in zip(without, names))  # without names, pattern mode misses them
        assert not any(n in d["text"] or n.split()[-1] in d["text"] for d, n in zip(with_conn, names))
    finally:
        conn.close()
