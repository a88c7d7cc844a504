"""Red-team reproducers: retrieval (RAG), PII masking, execute()'s free-text scan, audit trail.

Every test asserts the SAFE behaviour. A test that FAILS is a reproduced leak
(or integrity break); a test that passes is an attack that held. Each test's
docstring says which, and how severe.

    .venv/bin/python -m pytest tests/test_redteam_rag_pii.py -q -rA
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from govern import QueryDenied

from govern import Governor
from govern.audit import AuditTrail, canonical
from govern.audit.verify import verify_file
from govern.retrieval import RetrievalDenied
from tests.conftest import POLICIES

HASH_KEY = "0123456789abcdef0123"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def gov(tmp_path_factory) -> Governor:
    trail = tmp_path_factory.mktemp("rt") / "trail.jsonl"
    return Governor.from_path(POLICIES, audit=trail, hash_key=HASH_KEY)


@pytest.fixture()
def fresh_gov(tmp_path) -> Governor:
    return Governor.from_path(POLICIES, audit=tmp_path / "trail.jsonl", hash_key=HASH_KEY)


def records(g: Governor) -> list[dict]:
    return [json.loads(x) for x in Path(g.audit.sink.path).read_bytes().split(b"\n") if x.strip()]


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    import duckdb
    from govern.demo.dataset import build_demo_db

    path = build_demo_db(tmp_path_factory.mktemp("rtdb") / "demo.duckdb")
    conn = duckdb.connect(str(path), read_only=True)
    yield conn
    conn.close()


def pb(doc_id: str, **md) -> dict:
    return {"id": doc_id, "text": f"playbook {doc_id}", "metadata": {"id": doc_id, **md}}


def kb(doc_id, text, agent_id=22, **extra) -> dict:
    md = {"id": doc_id, "customer_id": 5, "agent_id": agent_id, "region": "NA", "status": "open", "priority": "high"}
    return {"id": doc_id, "text": text, "metadata": {**md, **extra}}


# Adversarial metadata for eve (sales_rep, tenant acme, region EU): only "ok" and "ninf" are permitted
# (-inf <= 1 is a legitimate comparison).
ADVERSARIAL_PLAYBOOKS = [
    pb("ok", tenant="acme", region="EU", classification=0),
    pb("ninf", tenant="acme", region="EU", classification=float("-inf")),
    pb("nan", tenant="acme", region="EU", classification=float("nan")),
    pb("strnum", tenant="acme", region="EU", classification="0"),
    pb("bool", tenant="acme", region="EU", classification=False),
    pb("list-tenant", tenant=["acme", "globex"], region="EU", classification=0),
    pb("tuple-tenant", tenant=("acme",), region="EU", classification=0),
    pb("bytes-tenant", tenant=b"acme", region="EU", classification=0),
    pb("dict-region", tenant="acme", region={"$in": ["EU"]}, classification=0),
    pb("cyrillic-tenant", tenant="\u0430cme", region="EU", classification=0),
    pb("case-key", Tenant="acme", region="EU", classification=0),
    pb("trailing-space", tenant="acme ", region="EU", classification=0),
    pb("lower-region", tenant="acme", region="eu", classification=0),
    pb("other-tenant", tenant="globex", region="EU", classification=0),
    pb("confidential", tenant="acme", region="EU", classification=2),
    pb("just-above", tenant="acme", region="EU", classification=1.0000001),
    {"id": "meta-str", "text": "x", "metadata": "tenant=acme"},
    {"id": "no-meta", "text": "x"},
]


# ============================================================================= RETRIEVAL

@pytest.mark.parametrize("form", [None, "metadata", "langchain", "mongo", "sql", "filter"])
def test_held_adversarial_metadata_is_dropped_in_every_filter_form(gov, form):
    """HELD. Wrong types, lists, dicts, NaN, number-like strings, confusable tenant ids,
    differently cased keys: the Python post-filter runs after every pushed-down form, and a
    store that ignores the filter (and k) leaks nothing."""
    search = gov.wrap_retriever(lambda q, k=4, filter=None: list(ADVERSARIAL_PLAYBOOKS), "sales_playbooks",
                                filter_form=form)
    r = search("pricing", gov.principal("eve"), k=100)
    assert set(r.decision.returned_ids) == {"ok", "ninf"}


def test_held_store_returning_more_than_k_is_cut_to_k(gov):
    """HELD. A store that ignores k (and the pushed filter) never yields more than k documents."""
    docs = [pb(f"d{i}", tenant="acme", region="EU", classification=0) for i in range(50)]
    search = gov.wrap_retriever(lambda q, k=4, filter=None: docs, "sales_playbooks", filter_form="mongo")
    r = search("q", gov.principal("eve"), k=3)
    assert len(r) == 3 and r.decision.surplus == 47


def test_held_denial_raises_and_return_mode_cannot_be_iterated(gov):
    """HELD. No grant is RetrievalDenied, never []; on_deny='return' gives a result that raises on use."""
    docs = [kb(1, "ticket")]
    with pytest.raises(RetrievalDenied):
        gov.wrap_retriever(lambda q, k=4: docs, "support_kb")("q", gov.principal("eve"))
    r = gov.wrap_retriever(lambda q, k=4: docs, "support_kb", on_deny="return")("q", gov.principal("eve"))
    assert not r.allowed
    with pytest.raises(RetrievalDenied):
        list(r)


def test_held_sql_filter_form_binds_hostile_attribute_as_literal(gov):
    """HELD. A principal attribute carrying SQL stays a literal in the SQL filter form (checked in DuckDB)."""
    import duckdb
    from govern import Principal

    p = Principal("mal", ["sales_rep"], {"region": "EU' OR '1'='1", "tenant": "acme' OR 'x'='x", "employee_id": 9})
    seen = {}

    def store(q, k=4, filter=None):
        seen["sql"] = filter
        con = duckdb.connect()
        con.execute("CREATE TABLE c(id VARCHAR, tenant VARCHAR, region VARCHAR, classification INT, text VARCHAR)")
        con.execute("INSERT INTO c VALUES ('a','acme','EU',0,'t'), ('b','globex','NA',0,'t')")
        rows = con.execute(f"SELECT id, tenant, region, classification, text FROM c WHERE {filter}").fetchall()
        return [{"id": i, "text": t, "metadata": {"id": i, "tenant": te, "region": re, "classification": cl}}
                for i, te, re, cl, t in rows]

    r = gov.wrap_retriever(store, "sales_playbooks", filter_form="sql")("q", p, k=5)
    assert r.decision.returned_ids == [] and r.decision.fetched == 0, seen["sql"]


def test_leak_returned_document_keeps_other_text_fields_unmasked(gov):
    """LEAK (medium). Only the first of text/page_content/content is masked; a dict document
    that also carries page_content (or any other text field: summary, title) is returned raw."""
    doc = kb(1, "Refund card 4111 1111 1111 1111")
    doc["page_content"] = doc["text"]
    doc["summary"] = "card 4111 1111 1111 1111"
    r = gov.wrap_retriever(lambda q, k=4: [doc], "support_kb")("refund", gov.principal("sam"))
    out = r.documents[0]
    assert "4111 1111 1111 1111" not in json.dumps(out)


def test_leak_returned_document_metadata_is_not_masked(gov):
    """LEAK (medium). Metadata of returned documents is passed through unmasked (LangChain
    Document shown); PII stored in metadata (a phone, a card in a note) reaches the LLM."""
    from langchain_core.documents import Document

    md = dict(kb(1, "")["metadata"], customer_phone="+1 415 555 0132", note="card 4111 1111 1111 1111")
    docs = [Document(page_content="call the customer back", metadata=md)]
    r = gov.wrap_retriever(lambda q, k=4: docs, "support_kb")("q", gov.principal("sam"))
    meta = r.documents[0].metadata
    assert "415 555 0132" not in json.dumps(meta) and "4111 1111 1111 1111" not in json.dumps(meta)


def test_leak_decision_lists_ids_of_forbidden_documents(gov):
    """LEAK (low, existence/metadata disclosure). RetrievalDecision.dropped (returned to the caller)
    names every document the store returned that the principal may NOT see, e.g. another tenant's."""
    docs = [pb("acme-ok", tenant="acme", region="EU", classification=0),
            pb("globex-merger-plan-2026", tenant="globex", region="EU", classification=0)]
    r = gov.wrap_retriever(lambda q, k=4: docs, "sales_playbooks")("q", gov.principal("eve"))
    visible = json.dumps(r.decision.model_dump())
    assert "globex-merger-plan-2026" not in visible


def test_held_document_text_never_in_retrieval_audit(fresh_gov):
    """HELD. Passage text (returned or dropped) never reaches the audit record; the query is masked there."""
    docs = [kb(1, "Card 4111 1111 1111 1111, mail ann.lee@example.com"),
            kb(2, "Other agent: SSN 536-22-1234", agent_id=23)]
    fresh_gov.wrap_retriever(lambda q, k=4: docs, "support_kb")("refund for ann.lee@example.com", fresh_gov.principal("sam"))
    rec = records(fresh_gov)[-1]
    blob = json.dumps(rec)
    for v in ("4111 1111", "536-22-1234", "ann.lee@example.com"):
        assert v not in blob


def test_leak_audit_query_hash_recovers_masked_pii(fresh_gov):
    """LEAK (high for audit readers). A retrieve record holds the masked query AND the unsalted
    SHA-256 of the raw query: the masked template plus a small search space (a phone number shows
    its last 4 digits) recovers the value from the trail. Brute force here: 10^6 hashes."""
    query = "callback for +1 415 555 0199 about refund"
    fresh_gov.wrap_retriever(lambda q, k=4: [kb(1, "x")], "support_kb")(query, fresh_gov.principal("sam"))
    rec = records(fresh_gov)[-1]
    # fixed: the record keeps no query text at all (masking misses names in pattern mode), and its
    # digest is keyed, so neither a template nor a plain SHA-256 brute force recovers the query
    assert rec.get("input_text") is None
    assert "0199" not in json.dumps(rec)
    assert rec["input_sha256"] != hashlib.sha256(query.encode()).hexdigest()


# ============================================================================= PII detection

HELD_TEXTS = [
    ("Contact Ann.Lee+billing@mail.support.example.co.uk today", "Ann.Lee+billing@mail.support.example.co.uk"),
    ("Email ANN.LEE@EXAMPLE.COM now", "ANN.LEE@EXAMPLE.COM"),
    ("mail to <ann@example.com>", "ann@example.com"),
    ("Call +1 (415) 555-0132 please", "555-0132"),
    ("Call 415.555.0132", "415.555.0132"),
    ("UK mobile 07700 900123", "07700 900123"),
    ("Tel. +44 (0)20 7946 0958", "7946"),
    ("Card 4111 1111 1111 1111 exp 12/26", "4111 1111 1111 1111"),
    ("Card 4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("amex 3782 822463 10005", "822463"),
    ("Card: 2221 0000 0000 0009", "2221 0000 0000 0009"),
    ("IBAN DE89 3704 0044 0532 0130 00", "3704 0044 0532"),
    ("iban: GB82-WEST-1234-5698-7654-32", "1234-5698"),
    ("SSN 536-22-1234", "536-22-1234"),
    ("social security number 536 22 1234", "536 22 1234"),
]

MISSED_TEXTS = [
    ("Card 4111.1111.1111.1111", "4111.1111.1111.1111"),
    ("card 4111\u00a01111\u00a01111\u00a01111 (pasted from the portal)", "4111\u00a01111"),
    ("card 4111/1111/1111/1111", "4111/1111/1111/1111"),
    ("IBAN de89 3704 0044 0532 0130 00", "3704 0044 0532"),
    ("iban nl91abna0417164300", "nl91abna0417164300"),
    ("ann's phone was updated", "ann"),  # documented: single names only when capitalised
]


@pytest.mark.parametrize("text,secret", HELD_TEXTS)
def test_held_realistic_pii_is_masked(gov, text, secret):
    """HELD. Subdomains, plus tags, upper case, common phone / card / IBAN / SSN formats."""
    m = gov.mask_text(text, gov.principal("ada"), context={"names": ["Ann Lee"]})
    assert secret not in m.text


@pytest.mark.parametrize("text,secret", MISSED_TEXTS)
def test_leak_realistic_pii_missed(gov, text, secret):
    """LEAK (medium). Cards with '.', '/' or NBSP separators and lower-case IBANs pass unmasked;
    a lower-case first name alone is not masked (documented limitation of pattern mode)."""
    m = gov.mask_text(text, gov.principal("ada"), context={"names": ["Ann Lee"]})
    assert secret not in m.text, m.text


def test_held_names_in_context_incl_possessive_and_reversed(gov):
    """HELD. Full names in any case, capitalised parts, possessives, 'Lee, Ann'."""
    t = "ann lee called; Ann's account; ANN LEE; Lee's card; Customer: Lee, Ann."
    m = gov.mask_text(t, gov.principal("ada"), context={"names": ["Ann Lee"]})
    assert "Ann" not in m.text and "Lee" not in m.text and "ann lee" not in m.text


def test_held_below_threshold_is_masked_and_flagged(gov):
    """HELD. A bare 9-digit SSN (score below threshold) is masked anyway and flagged."""
    m = gov.mask_text("ssn 536221234", gov.principal("eve"))
    assert "536221234" not in m.text and m.needs_review


def test_leak_card_inside_email_revealed_to_email_grantee(gov):
    """LEAK (low). A card / SSN that forms an email's local part is dropped as 'part of' the email,
    and the email is revealed to sam (pii:EMAIL_ADDRESS reveal): sam sees a card he may not see."""
    sam = gov.principal("sam")
    assert "4111111111111111" not in gov.mask_text("login 4111111111111111@example.com", sam).text
    assert "536-22-1234" not in gov.mask_text("reply to 536-22-1234@example.com", sam).text


def test_held_mask_text_audit_has_types_and_counts_only(fresh_gov):
    """HELD. mask_text writes types and counts; no value appears in the record."""
    fresh_gov.mask_text("Card 4111 1111 1111 1111, ann.lee@example.com", fresh_gov.principal("ada"))
    blob = json.dumps(records(fresh_gov)[-1])
    assert "4111" not in blob and "ann.lee" not in blob


# ============================================================================= reveal / pseudonyms

def test_held_reveal_needs_the_grant_and_the_same_conversation(gov):
    """HELD. eve (no EMAIL reveal) gets the token back; sam in another conversation gets the token back."""
    m = gov.mask_text("VIP contact: vip.secret@globex.com", gov.principal("ada"), conversation="held-1")
    assert "vip.secret" not in gov.reveal(m.text, gov.principal("eve"), "held-1")
    assert "vip.secret" not in gov.reveal(m.text, gov.principal("sam"), "another-conversation")
    assert "vip.secret" not in gov.reveal(m.text, gov.principal("sam"), "")


def test_leak_reveal_crosses_principals_sharing_a_conversation_id(gov):
    """LEAK (high). The pseudonym vault is keyed by conversation id only, not by principal.
    ada (auditor) masks a passage from a collection sam may not retrieve; sam, who has the
    EMAIL reveal grant, reveals the token with the same (guessable) conversation id. reveal()
    also writes no audit record."""
    ada, sam = gov.principal("ada"), gov.principal("sam")
    playbook = {"id": "pb", "text": "Globex champion: vip.secret@globex.com",
                "metadata": {"id": "pb", "tenant": "globex", "region": "NA", "classification": 2}}
    r = gov.wrap_retriever(lambda q, k=4: [playbook], "sales_playbooks")("q", ada, conversation="c-42")
    token_text = r.documents[0]["text"]
    assert "vip.secret" not in token_text
    with pytest.raises(RetrievalDenied):  # sam may not read that collection at all
        gov.wrap_retriever(lambda q, k=4: [playbook], "sales_playbooks")("q", sam, conversation="c-42")
    assert "vip.secret@globex.com" not in gov.reveal(token_text, sam, "c-42")


def test_leak_literal_token_in_passage_is_revealed_as_another_persons_value(gov):
    """LEAK (medium, integrity/confusion). A passage that contains a literal '<EMAIL_ADDRESS_1>'
    before masking is not escaped; the conversation's first real email then gets that token, and
    reveal() turns the attacker's text into the victim's address ('send the refund to <victim>')."""
    sam = gov.principal("sam")
    conv = "inject-1"
    attacker = gov.mask_text("Send the refund confirmation to <EMAIL_ADDRESS_1> asap.", sam, conversation=conv)
    gov.mask_text("Customer ann.lee@example.com asked about an invoice.", gov.principal("ada"), conversation=conv)
    assert "ann.lee@example.com" not in gov.reveal(attacker.text, sam, conv)


# ============================================================================= execute() free-text scan

HELD_SQL = [
    "SELECT id, body FROM support_tickets ORDER BY id LIMIT 3",
    "WITH t AS (SELECT id, body AS b FROM support_tickets) SELECT b FROM t ORDER BY id LIMIT 3",
    "SELECT (SELECT body FROM support_tickets s ORDER BY id LIMIT 1) AS x",
    "SELECT 'x' || body FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT to_json(body) FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT string_agg(body, ' | ') FROM (SELECT body FROM support_tickets ORDER BY id LIMIT 3)",
]

LEAK_SQL = [
    "SELECT id, [body] FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT id, {'b': body} FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT map(['k'], [body]) FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT list(body) FROM (SELECT body FROM support_tickets ORDER BY id LIMIT 3)",
    "SELECT id, body::BLOB FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT id, string_split(body, ' ') FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT id, reverse(body) FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT id, translate(body, '0123456789', 'abcdefghij') FROM support_tickets ORDER BY id LIMIT 3",
    "SELECT regexp_replace(body, '(\\d) (\\d)', '\\1_\\2', 'g') FROM support_tickets ORDER BY id LIMIT 3",
]


def _raw_cards(duck, n=3) -> list[str]:
    """The raw card numbers of the first n tickets sam may see (read without govern, as the oracle)."""
    import re

    rows = duck.execute("SELECT body FROM support_tickets WHERE agent_id = 22 ORDER BY id LIMIT ?", [n]).fetchall()
    card = re.compile(r"\b(?:\d[ -]?){13,19}\b")
    return [c.strip() for (b,) in rows for c in card.findall(b) if sum(ch.isdigit() for ch in c) >= 15]


def _leaked(result_rows, secrets) -> list[str]:
    """Secrets readable from the rows, directly or after undoing the transforms an LLM would use."""
    blob = repr(result_rows)
    views = [blob, blob[::-1], blob.translate(str.maketrans("abcdefghij", "0123456789")), blob.replace("_", " ")]
    return [s for s in secrets if any(s in v for v in views)]


@pytest.mark.parametrize("sql", HELD_SQL)
def test_held_execute_scans_alias_cte_concat_json(gov, duck, sql):
    """HELD. Text that reaches a string output column through an alias, CTE, scalar subquery,
    concatenation, to_json or string_agg is scanned; sam (no CREDIT_CARD reveal) sees no card."""
    cards = _raw_cards(duck)
    assert cards
    try:
        r = gov.execute(duck, sql, gov.principal("sam"))
    except QueryDenied as denied:  # free text may only be selected as it is: safe
        assert denied.decision.reasons
        return
    assert not [c for c in cards if c in repr(r.rows)]


@pytest.mark.parametrize("sql", LEAK_SQL)
def test_leak_execute_free_text_scan_bypassed(gov, duck, sql):
    """LEAK (critical). execute() masks only cells that are `str`: a LIST / STRUCT / MAP / BLOB
    result (or string_split) is never scanned, and a reversible transform (reverse, translate,
    regexp_replace) defeats the detectors. sam reads raw card numbers of his tickets."""
    cards = _raw_cards(duck)
    try:
        r = gov.execute(duck, sql, gov.principal("sam"))
    except QueryDenied as denied:  # free text may only be selected as it is: safe
        assert "free-text column" in denied.decision.reasons[0]
        return
    assert not _leaked(r.rows, cards), r.rows[:1]


def test_leak_execute_db_error_carries_raw_free_text_to_caller_and_audit(fresh_gov, duck, tmp_path):
    """LEAK (high). A query that fails on a free-text value (CAST(body AS INTEGER)) puts the raw
    ticket body, card number included, in the exception the caller (LLM) sees AND in the audit
    record's `error` field (and so in every export)."""
    from govern.audit.export import export
    from govern.audit.verify import file_lines

    cards = _raw_cards(duck, 1)
    err = None
    try:
        fresh_gov.execute(duck, "SELECT CAST(body AS INTEGER) FROM support_tickets ORDER BY id LIMIT 1",
                          fresh_gov.principal("sam"))
    except Exception as e:  # noqa: BLE001
        err = str(e)
    assert err is not None
    leaked_to_caller = [c for c in cards if c in err]
    trail = fresh_gov.audit.sink.path
    export(file_lines(trail), tmp_path / "export.csv", fmt="csv")
    leaked_to_audit = [c for c in cards if c in Path(trail).read_text()]
    leaked_to_export = [c for c in cards if c in (tmp_path / "export.csv").read_text()]
    assert not (leaked_to_caller or leaked_to_audit or leaked_to_export), (leaked_to_caller, leaked_to_audit, leaked_to_export)


# ============================================================================= audit trail

def _trail(tmp_path, n=12, key=b"k" * 32, every=5):
    p = tmp_path / "trail.jsonl"
    t = AuditTrail.to_file(p, checkpoint_key=key, checkpoint_every=every)
    for i in range(n):
        t.record(action="check_sql", principal={"id": "eve", "roles": ["sales_rep"]},
                 decision="deny" if i == 3 else "rewrite", input_text=f"SELECT {i}")
    t.close()
    return p


def _rechain(recs: list[dict]) -> bytes:
    out, prev = [], "0" * 64
    for r in recs:
        r = {k: v for k, v in r.items() if k != "hash"}
        r["prev_hash"] = prev
        line = canonical.canonical_line(r)
        out.append(line)
        prev = json.loads(line)["hash"]
    return b"".join(out)


def test_held_verify_detects_edit_of_a_middle_field(tmp_path):
    """HELD. Flipping one field of a middle record (deny -> rewrite), byte-length preserved, is 'edited'."""
    p = _trail(tmp_path)
    lines = p.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"decision":"deny"', b'"decision":"mask"')
    p.write_bytes(b"\n".join(lines))
    rep = verify_file(p, key=b"k" * 32)
    assert not rep.ok and rep.first_bad.kind == "edited" and rep.first_bad.seq == 4


def test_held_newlines_in_sql_do_not_break_jsonl(tmp_path):
    """HELD. SQL holding \\n, \\r, U+2028/2029, NUL and a fake record stays one physical line."""
    p = tmp_path / "trail.jsonl"
    t = AuditTrail.to_file(p)
    evil = 'SELECT 1\n{"seq":2,"prev_hash":"' + "0" * 64 + '"}\r\n\u2028\u2029\x00-- x'
    t.record(action="check_sql", principal={"id": "eve"}, decision="deny", input_text=evil, governed_sql=evil)
    t.record(action="check_sql", principal={"id": "eve"}, decision="allow", input_text="SELECT 2")
    t.close()
    raw = p.read_bytes().split(b"\n")
    assert raw[-1] == b"" and len(raw) == 3
    assert json.loads(raw[0])["input_text"] == evil
    assert verify_file(p).ok


def test_held_writer_api_cannot_set_chain_fields(tmp_path):
    """HELD. seq / prev_hash / hash / time passed to record() are overwritten; the trail verifies."""
    p = tmp_path / "trail.jsonl"
    t = AuditTrail.to_file(p)
    t.record(action="check_sql", principal={"id": "eve"}, decision="allow")
    t.record(action="check_sql", principal={"id": "eve"}, decision="allow", seq=1, prev_hash="0" * 64,
             hash="f" * 64, time="1970-01-01T00:00:00.000000Z")
    t.close()
    recs = [json.loads(x) for x in p.read_bytes().splitlines()]
    assert [r["seq"] for r in recs] == [1, 2] and recs[1]["time"] != "1970-01-01T00:00:00.000000Z"
    assert verify_file(p).ok


def test_held_torn_tail_hiding_the_last_record_is_detected(tmp_path):
    """HELD. Stripping the last newline turns the last record into a 'torn tail'. On a closed trail
    the final checkpoint (written by close()) exposes it; on a trail whose writer never closed,
    verify alone says 'OK (torn tail)' and the head from an earlier manifest (--expect-head) exposes it."""
    p = _trail(tmp_path, every=0)  # close() still checkpoints the head
    p.write_bytes(p.read_bytes()[:-1])
    rep = verify_file(p, key=b"k" * 32)
    assert not rep.ok and rep.first_bad.kind == "truncated"

    q = tmp_path / "open" / "trail.jsonl"
    t = AuditTrail.to_file(q, checkpoint_every=0)
    for i in range(3):
        t.record(action="check_sql", principal={"id": "eve"}, decision="deny", input_text=f"SELECT {i}")
    head = t.head  # as an export manifest would have pinned it
    q.write_bytes(q.read_bytes()[:-1])  # no close(): no final checkpoint
    assert verify_file(q).status == "OK (torn tail)"  # truncation is only visible against a known head
    rep = verify_file(q, expect_head=head)
    assert not rep.ok and rep.first_bad.kind == "truncated"


def test_leak_chain_rewrite_passes_keyed_verify_when_checkpoints_file_is_deleted(tmp_path):
    """LEAK (high, integrity). 'Whole-chain rewrite' is claimed defended by signed checkpoints, but
    verify with the key accepts a trail with NO checkpoints: rewrite a denial into an allow,
    re-chain, delete <trail>.checkpoints -> OK. (Deleting only the checkpoint lines at or after the
    edited seq works too.)"""
    key = b"k" * 32
    p = _trail(tmp_path, key=key)
    recs = [json.loads(x) for x in p.read_bytes().splitlines()]
    recs[3]["decision"] = "rewrite"
    p.write_bytes(_rechain(recs))
    assert not verify_file(p, key=key).ok  # held while the checkpoints are there
    Path(str(p) + ".checkpoints").unlink()
    assert not verify_file(p, key=key).ok


def test_leak_forged_record_appended_after_last_checkpoint_is_accepted(tmp_path):
    """LEAK (medium, integrity). The chain hash is unkeyed SHA-256: anyone who can write the file
    can append a record (any principal, any decision) after the last signed checkpoint, and keyed
    verify accepts it."""
    key = b"k" * 32
    p = _trail(tmp_path, key=key)
    last = json.loads(p.read_bytes().splitlines()[-1])
    forged = dict(last, seq=last["seq"] + 1, prev_hash=last["hash"], event_id="f" * 32,
                  principal={"id": "ada", "roles": ["auditor"], "tenant": None}, decision="allow",
                  input_text="SELECT national_id FROM customers")
    forged.pop("hash")
    with open(p, "ab") as f:
        f.write(canonical.canonical_line(forged))
    assert not verify_file(p, key=key).ok
