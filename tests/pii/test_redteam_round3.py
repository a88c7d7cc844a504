"""Red-team round 3 on PII masking (pattern mode, NER mode, gov.execute, gov.wrap_retriever).

Sections 1-11 are the red team's tests (each asserts the secure behaviour for a leak they
confirmed by hand); sections 12- pin the fixes' own contracts: the detection view and its
offset map, name_sources (settings, load errors, the cached trusted read, strict matching),
NER windows for long texts, numeric metadata, and the false positives that were fixed.
Fixtures: tests/pii/conftest.py (pattern_engine, ner_engine) and tests/conftest.py
(quiet_gov, demo_duckdb).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from govern import Governor
from govern.audit import AuditTrail
from govern.errors import PolicyLoadError
from govern.pii import PiiEngine, PiiSettings, canonical
from govern.pii.engine import _windows
from govern.pii.names import NameSet
from govern.pii.normalize import fold
from govern.pii.sources import NameSourceCache, NameSourceError, read_names, resolve
from tests.conftest import POLICIES, TEST_HASH_KEY as HASH_KEY
from tests.pii.conftest import ner_available


def digits(s: str) -> str:
    """The digits of s, fullwidth digits folded (so '４１１１' counts as '4111')."""
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", s))


def assert_digits_hidden(masked: str, secret_digits: str) -> None:
    assert secret_digits not in digits(masked), masked


# ---- 1. card numbers the card recognizer misses (full PAN shown) -------------------------------

CARDS = [
    ("card 4111\u20131111\u20131111\u20131111", "4111111111111111"),  # en dash (word processors, LLM output)
    ("card 4111\u20141111\u20141111\u20141111", "4111111111111111"),  # em dash
    ("card 4111\u22121111\u22121111\u22121111", "4111111111111111"),  # minus sign
    ("card 4111\u20101111\u20101111\u20101111", "4111111111111111"),  # unicode hyphen
    ("card 4111 - 1111 - 1111 - 1111", "4111111111111111"),  # spaced hyphens
    ("card 4111\n1111\n1111\n1111", "4111111111111111"),  # line breaks (wrapped text / table cell)
    ("card 4111\t1111\t1111\t1111", "4111111111111111"),  # tabs (TSV)
    ("card 4111  1111  1111  1111", "4111111111111111"),  # double spaces
    ("card 4111 1111\u00a01111 1111", "4111111111111111"),  # space and no-break space mixed
    ("card 4111.1111 1111.1111", "4111111111111111"),
    ("card 4111\u200b1111\u200b1111\u200b1111", "4111111111111111"),  # zero-width space
    ("card 4111_1111_1111_1111", "4111111111111111"),
    ("card \uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11", "4111111111111111"),  # fullwidth
    ("card 4111-111111-111111", "4111111111111111"),  # 4-6-6 grouping
    ("card 41 11 11 11 11 11 11 11", "4111111111111111"),  # 2-digit groups (read aloud / IVR transcript)
    ("cardnumber4111111111111111exp1227", "4111111111111111"),  # glued to letters
    ("card 4111111111111111x", "4111111111111111"),
    ("id_4111111111111111", "4111111111111111"),
    ("card 411111111111111118", "411111111111111118"),  # 18 digits, Luhn-valid
    ("card 4000000000000000006", "4000000000000000006"),  # 19-digit Visa, Luhn-valid
    ("unionpay 6212345678901234569", "6212345678901234569"),  # 19-digit UnionPay, Luhn-valid
    ("card 4000 0000 0000 0000 006", "4000000000000000006"),
    ("maestro 5018 1234 5678 9012 5", "50181234567890125"),  # 17 digits, 4-4-4-4-1
]


@pytest.mark.parametrize("text,secret", CARDS)
def test_card_formats_are_masked(pattern_engine, text, secret):
    m = pattern_engine.mask(text)
    assert_digits_hidden(m.text, secret)
    assert [f.type for f in m.findings] == ["CREDIT_CARD"], m.findings


# ---- 2. SSNs the SSN recognizer misses --------------------------------------------------------

SSNS = [
    "ssn 536\u201322\u20131234",  # en dash
    "ssn 536\u201122\u20111234",  # non-breaking hyphen
    "ssn 536 \u2013 22 \u2013 1234",
    "ssn 536\u00a022\u00a01234",  # no-break spaces
    "ssn 536/22/1234",
    "ssn 536_22_1234",
    "ssn 536\n22\n1234",
    "ssn536-22-1234",  # glued to the context word
    "ssn: 536-22-1234x",
    "ssn \uff15\uff13\uff16-\uff12\uff12-\uff11\uff12\uff13\uff14",  # fullwidth
]


@pytest.mark.parametrize("text", SSNS)
def test_ssn_formats_are_masked(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert_digits_hidden(m.text, "536221234")
    assert [f.type for f in m.findings] == ["US_SSN"], m.findings


# ---- 3. IBANs ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "IBAN: DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000",  # no-break spaces (copied from a web page)
        "iban DE89\u20133704\u20130044\u20130532\u20130130\u201300",  # en dashes: only a 'phone' tail is found
        "iban DE89 3704 0044\n0532 0130 00",  # wrapped over two lines
    ],
)
def test_iban_formats_are_masked(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert "37040044" not in digits(m.text) and "05320130" not in digits(m.text), m.text
    assert [f.type for f in m.findings] == ["IBAN_CODE"], m.findings  # one IBAN, never a phone


@pytest.mark.parametrize(
    "text",
    ["iban DE89\u20133704\u20130044\u20130532\u20130130\u201300", "iban DE8937040044\n0532013000"],
)
def test_iban_read_as_phone_is_not_revealed_to_phone_grantee(quiet_gov, text):
    """eve may see phone numbers; an IBAN the IBAN recognizer missed is found as a
    PHONE_NUMBER and shown to her in full."""
    m = quiet_gov.mask_text(text, quiet_gov.principal("eve"))
    assert "0532" not in digits(m.text) and "3704" not in digits(m.text), m.text
    assert "PHONE_NUMBER" not in m.counts, m.counts


# ---- 4. emails --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "mail ann.lee@corp.local",  # AD / intranet domains: no public suffix
        "mail ann.lee@company.internal",
        "mail ann.lee@host.lan",
        "mail ann.lee@example.test",
        "mail ann.lee@example\u200b.com",  # zero-width space in the domain
        "mail ann.lee@example .com",
    ],
)
def test_email_on_non_public_suffix_is_masked(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert "ann.lee" not in m.text, m.text
    assert [f.type for f in m.findings] == ["EMAIL_ADDRESS"] and m.findings[0].start == 5, m.findings


@pytest.mark.parametrize(
    "text",
    [
        "ann.lee%40example.com",  # URL-encoded @ (query strings, logs)
        "ann.lee&#64;example.com",  # HTML entity (scraped pages)
        '{"email":"ann.lee\\u0040example.com"}',  # JSON escape
        "ann.lee\uff20example.com",  # fullwidth @
        "ann.lee @ example.com",
        "ann.lee(at)example.com",
        "ann.lee@10.0.0.5",  # IP-literal domain: only the IP is masked
        "ann\u200b.lee@example.com",  # ZWSP in the local part: the part before it is left
    ],
)
def test_email_local_part_is_not_left_beside_a_masked_domain(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert "ann.lee" not in m.text and "ann\u200b" not in m.text, m.text
    # the whole address is one EMAIL_ADDRESS finding, starting at its local part
    emails = [f for f in m.findings if f.type == "EMAIL_ADDRESS"]
    assert len(emails) == 1 and text[emails[0].start : emails[0].start + 3] == "ann", m.findings


# ---- 5. phone numbers -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "call 415\u2009555\u20090132",  # thin spaces (French typography, LLM output)
        "call 415-555-\n0132",
        "call 415\n555\n0132",
        "ph4155550132",
        "call 415-555-0132x",
        "call 415_555_0132",
    ],
)
def test_phone_formats_are_masked(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert_digits_hidden(m.text, "4155550")
    assert [f.type for f in m.findings] == ["PHONE_NUMBER"], m.findings


# ---- 6. IP addresses --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["ip \uff12\uff10\uff13.\uff10.\uff11\uff11\uff13.\uff17\uff17", "ip 203.000.113.077"])
def test_ip_formats_are_masked(pattern_engine, text):
    out = unicodedata.normalize("NFKC", pattern_engine.mask(text).text)
    assert "113" not in out, out


# ---- 7. context names in another spelling -----------------------------------------------------

@pytest.mark.parametrize(
    "text,names,secret",
    [
        ("Mary-Jane O\u2019Connor called", ["Mary-Jane O'Connor"], "Connor"),  # typographic apostrophe
        ("O\u2019Connor called back", ["Mary-Jane O'Connor"], "Connor"),
        ("Jose Alvarez called", ["Jos\u00e9 \u00c1lvarez"], "Alvarez"),  # accents dropped
        ("Jose\u0301 A\u0301lvarez called", ["Jos\u00e9 \u00c1lvarez"], "lvarez"),  # NFD (decomposed) text
        ("Zoe Smith called", ["Zo\u00eb Smith"], "Zoe"),
        ("Mary Jane O'Connor called", ["Mary-Jane O'Connor"], "Mary Jane"),  # hyphen dropped
        ("Jean called", ["Jean-Luc Picard"], "Jean"),
    ],
)
def test_context_name_variants_are_masked(pattern_engine, text, names, secret):
    out = pattern_engine.mask(text, context={"names": names}).text
    assert secret not in out, out


# ---- 8. gov.execute: names in free-text rows ---------------------------------------------------

def _ticket_names(conn) -> dict[int, tuple[str, str]]:
    rows = conn.execute(
        "SELECT t.id, t.subject || ' ' || t.body, c.name FROM support_tickets t JOIN customers c ON c.id = t.customer_id"
    ).fetchall()
    return {tid: (text, name) for tid, text, name in rows}


def test_execute_masks_customer_names_in_ticket_text_for_auditor(quiet_gov, demo_duckdb):
    """ada (auditor, no PII revealed) gets customers.name masked to an initial by the SQL
    masks, but the same full names in support_tickets.subject/body come back unmasked:
    _mask_free_text passes no context names and pattern mode has no other name source."""
    raw = _ticket_names(demo_duckdb)
    res = quiet_gov.execute(demo_duckdb, "SELECT id, subject, body FROM support_tickets", quiet_gov.principal("ada"))
    leaked = [tid for tid, subject, body in res.rows if raw[tid][1] in raw[tid][0] and raw[tid][1] in f"{subject} {body}"]
    assert leaked == [], f"{len(leaked)} of {len(res.rows)} tickets show the customer's full name"


def test_execute_masks_customer_names_in_ner_mode(demo_duckdb, tmp_path):
    if not ner_available():
        pytest.skip("NER model not installed")
    bundle = tmp_path / "policies"
    shutil.copytree(POLICIES, bundle)
    rules = bundle / "rules.yaml"
    rules.write_text(rules.read_text().replace("\npii:\n", "\npii:\n  nlp_model: en_core_web_sm\n", 1))
    g = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=HASH_KEY)
    raw = _ticket_names(demo_duckdb)
    res = g.execute(demo_duckdb, "SELECT id, subject, body FROM support_tickets", g.principal("ada"))
    leaked = [tid for tid, subject, body in res.rows if raw[tid][1] in raw[tid][0] and raw[tid][1] in f"{subject} {body}"]
    assert leaked == [], f"{len(leaked)} of {len(res.rows)} tickets show the customer's full name (e.g. ticket {leaked[:3]})"


# ---- 9. gov.wrap_retriever: values the document copy keeps -------------------------------------

def _search(gov, docs):
    return gov.wrap_retriever(lambda query, k=4, filter=None: docs, "support_kb")


def test_retriever_masks_numeric_metadata(quiet_gov):
    doc = {"id": "t1", "text": "ticket", "metadata": {"id": "t1", "agent_id": 22, "region": "NA",
                                                       "card": Decimal("4111111111111111"), "phone": 4155550132.0}}
    out = list(_search(quiet_gov, [doc])("q", quiet_gov.principal("ada")))[0]
    shown = f"{out['metadata']['card']} {out['metadata']['phone']}"
    assert "4111111111111111" not in shown and "4155550132" not in shown, shown


def test_retriever_masks_metadata_keys(quiet_gov):
    doc = {"id": "t1", "text": "ticket", "metadata": {"id": "t1", "agent_id": 22, "region": "NA",
                                                       "ann.lee@example.com": "owner"}}
    out = list(_search(quiet_gov, [doc])("q", quiet_gov.principal("ada")))[0]
    assert "ann.lee@example.com" not in out["metadata"], out["metadata"]


# ---- 10. pseudonym vault scope -----------------------------------------------------------------

def test_vault_scope_is_not_forgeable_with_the_separator(quiet_gov):
    """The vault key is f"{principal.id}\\x1f{conversation}": principal 'ada\\x1ft' with
    conversation 'c9' shares ada's conversation 't\\x1fc9' and reveals her pseudonyms."""
    m = quiet_gov.mask_text("contact bob@example.com", quiet_gov.principal("ada"), conversation="t\x1fc9")
    assert "bob@example.com" not in m.text
    attacker = {"id": "ada\x1ft", "roles": ["support_agent"]}  # support_agent may reveal EMAIL_ADDRESS
    assert "bob@example.com" not in quiet_gov.reveal(m.text, attacker, "c9")


# ---- 11. NER mode: the same recognizer gaps ----------------------------------------------------

@pytest.mark.parametrize(
    "text,secret",
    [
        ("ssn 536\u201322\u20131234", "536221234"),
        ("card 4111\u20131111\u20131111\u20131111", "4111111111111111"),
        ("card 4111\n1111\n1111\n1111", "4111111111111111"),
        ("IBAN: DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000", "370400440532"),
        ("call 415\u2009555\u20090132", "4155550"),
    ],
)
def test_ner_mode_formats_are_masked(ner_engine, text, secret):
    assert_digits_hidden(ner_engine.mask(text).text, secret)


def test_ner_mode_email_on_internal_domain_is_masked(ner_engine):
    assert "ann.lee" not in ner_engine.mask("mail ann.lee@corp.local").text


# ---- 12. the detection view: folded for detection, masked on the original ------------------------

def test_ascii_text_is_its_own_view():
    text = "card 4111 1111 1111 1111"
    view = fold(text)
    assert view.text is text and view.kept is None


def test_findings_point_into_the_original_text(pattern_engine):
    text = "Zoë\u200b: card 4111\u200b1111\u20131111 1111, mail ann\u00ad.lee@exam\u2060ple.com — ok"
    m = pattern_engine.mask(text)
    spans = {f.type: text[f.start : f.end] for f in m.findings}
    assert spans == {
        "CREDIT_CARD": "4111\u200b1111\u20131111 1111",
        "EMAIL_ADDRESS": "ann\u00ad.lee@exam\u2060ple.com",
    }
    # everything outside the findings is the original, untouched
    assert m.text == "Zoë\u200b: card <CREDIT_CARD_1>, mail <EMAIL_ADDRESS_1> — ok"


def test_nfd_name_is_masked_with_its_combining_marks(pattern_engine):
    m = pattern_engine.mask("Jose\u0301 A\u0301lvarez called", context={"names": ["José Álvarez"]})
    assert m.text == "<PERSON_1> called"


def test_fullwidth_and_ascii_forms_share_a_canonical_value():
    assert canonical("CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１") == canonical("CREDIT_CARD", "4111-1111-1111-1111")
    assert canonical("PERSON", "José Álvarez") == canonical("PERSON", "jose  alvarez")


def test_iban_wins_over_phone_for_a_phone_grantee(quiet_gov):
    m = quiet_gov.mask_text("iban DE89\u20133704\u20130044\u20130532\u20130130\u201300", quiet_gov.principal("eve"))
    assert list(m.counts) == ["IBAN_CODE"] and "3704" not in m.text


# ---- 13. emails: the new forms, and prose that stays prose ----------------------------------------

@pytest.mark.parametrize("text", ["ping user@localhost now", "ping ann.lee@corp now", "ANN.LEE AT EXAMPLE.COM",
                                  "ann.lee [at] example [dot] com", "ann dot lee at example dot com",
                                  "ann.lee&#x40;example.com", "ann.lee=40example.com"])
def test_more_email_forms_are_masked(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert "EMAIL_ADDRESS" in m.counts and "ann" not in m.text.lower().replace("<email_address_1>", ""), m.text


@pytest.mark.parametrize("text", ["I work at acme.com now", "meet @ home", "see you at example.com",
                                  "lodash@4.17.21 is pinned", "image@sha256 digest"])
def test_prose_is_not_an_email(pattern_engine, text):
    assert "EMAIL_ADDRESS" not in pattern_engine.mask(text).counts


# ---- 14. names: variants, titles, strict name sets ----------------------------------------------

def test_title_is_not_a_name_part(pattern_engine):
    assert pattern_engine.mask("Dr. Lee called", context={"names": ["Dr. Ann Lee"]}).text == "Dr. <PERSON_1> called"


def test_all_caps_name_part_in_prose_but_not_in_an_address(pattern_engine):
    ctx = {"names": ["José Álvarez"]}
    assert pattern_engine.mask("ÁLVAREZ called", context=ctx).text == "<PERSON_1> called"
    m = pattern_engine.mask("JOSE.ALVAREZ@example.com", context=ctx)
    assert [f.type for f in m.findings] == ["EMAIL_ADDRESS"]


def test_surname_first_capitals_and_comma_forms(pattern_engine):
    assert pattern_engine.mask("ann called", context={"names": ["LEE Ann"]}).text == "<PERSON_1> called"
    assert pattern_engine.mask("Ann Lee called", context={"names": ["Lee, Ann"]}).text == "<PERSON_1> called"


def test_strict_name_set_skips_everyday_words():
    names = NameSet(["Hope Brown", "Theo Khan", "Grant"], strict=True)

    def found(text):
        return [text[s:e] for s, e, _ in names.find(text)]

    assert found("Hope you are well. Brown bag lunch; grant approved; Grant it.") == []
    assert found("HOPE BROWN and theo khan called; Khan again, Theo too") == ["HOPE BROWN", "theo khan", "Khan", "Theo"]


# ---- 15. name_sources: settings, load errors, the trusted read -------------------------------------

def test_name_sources_setting_is_validated():
    assert PiiSettings(name_sources=["customers.name"]).name_sources == ["customers.name"]
    with pytest.raises(ValueError, match="table.column"):
        PiiSettings(name_sources=["customers"])
    with pytest.raises(ValueError, match="twice"):
        PiiSettings(name_sources=["customers.name", "Customers.Name"])
    with pytest.raises(ValueError, match="PERSON"):
        PiiSettings(entities=["EMAIL_ADDRESS"], name_sources=["customers.name"])


@pytest.mark.parametrize("source,problem", [("clients.name", "unknown table 'clients'"),
                                            ("customers.full_name", "has no column 'full_name'")])
def test_unknown_name_source_is_a_load_error(tmp_path, source, problem):
    bundle = tmp_path / "policies"
    shutil.copytree(POLICIES, bundle)
    rules = bundle / "rules.yaml"
    text = rules.read_text()
    assert "name_sources: [customers.name, employees.name]" in text
    rules.write_text(text.replace("name_sources: [customers.name, employees.name]", f"name_sources: [{source}]"))
    with pytest.raises(PolicyLoadError) as err:
        Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=HASH_KEY)
    message = str(err.value)
    assert re.search(r"rules\.yaml:\d+: pii\.name_sources\.0: name source", message) and problem in message, message


class _CountingConn:
    """A DB-API stand-in: counts the queries govern runs itself."""

    def __init__(self, names):
        self.names, self.queries = names, []

    def cursor(self):
        conn = self

        class Cursor:
            def execute(self, sql):
                conn.queries.append(sql)

            def fetchall(self):
                return [(n,) for n in conn.names]

            def close(self):
                pass

        return Cursor()


def test_name_sources_are_read_once_per_connection_and_bundle_version(quiet_gov):
    bundle = quiet_gov.bundle
    sources, problems = resolve(bundle.rules.pii.name_sources, bundle.catalog)
    assert problems == [] and [(t.name, c.name) for t, c in sources] == [("customers", "name"), ("employees", "name")]
    clock = [0.0]
    cache = NameSourceCache(max_entries=2, ttl=60, clock=lambda: clock[0])
    a, b = _CountingConn(["Ann Lee", None, 7]), _CountingConn(["Bo Chen"])
    assert cache.names(a, "v1", sources, "duckdb").find("ann lee") == [(0, 7, 1.0)]
    cache.names(a, "v1", sources, "duckdb")
    assert a.queries == ['SELECT DISTINCT "name" FROM "main"."customers" WHERE NOT "name" IS NULL LIMIT 100000',
                         'SELECT DISTINCT "name" FROM "main"."employees" WHERE NOT "name" IS NULL LIMIT 100000']
    cache.names(a, "v2", sources, "duckdb")  # a new bundle version reads again
    cache.names(b, "v1", sources, "duckdb")  # bounded: evicts (a, v1)
    cache.names(a, "v1", sources, "duckdb")
    assert len(a.queries) == 6
    clock[0] = 61.0  # expired: new rows are picked up
    cache.names(b, "v1", sources, "duckdb")
    assert len(b.queries) == 4


def test_unreadable_name_source_fails_closed_without_the_driver_message(quiet_gov):
    import sqlite3

    conn = sqlite3.connect(":memory:")
    sources, _ = resolve(["customers.name"], quiet_gov.bundle.catalog)
    with pytest.raises(NameSourceError) as err:
        read_names(conn, sources, "sqlite")
    assert str(err.value) == "pii.name_sources: cannot read customers.name from the connection (OperationalError)"


def test_execute_masks_employee_names_in_ticket_text(quiet_gov, demo_db_path, tmp_path):
    import duckdb

    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db_path, db)
    conn = duckdb.connect(str(db))
    (agent,) = conn.execute("SELECT name FROM employees ORDER BY id LIMIT 1").fetchone()
    conn.execute("UPDATE support_tickets SET body = body || ' Escalated by ' || ? WHERE id <= 3", [agent])
    res = quiet_gov.execute(conn, "SELECT id, subject, body FROM support_tickets WHERE id <= 3", quiet_gov.principal("ada"))
    conn.close()
    assert len(res.rows) == 3 and all(agent not in str(row) for row in res.rows), res.rows


# ---- 16. long texts: NER windows ---------------------------------------------------------------

def test_windows_cover_the_text_with_overlap():
    text = ("word " * 9_000) + "x" * 30_000 + (" tail" * 2_000)
    wins = _windows(text, 10_000, 500)
    assert wins[0][0] == 0 and wins[-1][1] == len(text)
    for (a0, a1), (b0, b1) in zip(wins, wins[1:]):
        assert a1 - a0 <= 10_000 and b0 < a1 and a1 - b0 >= 500 and b0 > a0


def test_ner_mode_masks_a_text_over_spacy_max_length(ner_engine):
    m = ner_engine.mask("x" * 1_260_000 + " card 4111 1111 1111 1111 end")
    assert m.text.endswith(" card <CREDIT_CARD_1> end")


def test_values_at_a_window_boundary_are_found(ner_engine, monkeypatch):
    monkeypatch.setattr(ner_engine, "_chunk", 3_000)
    filler = "the quick brown fox jumps over the lazy dog " * 60  # 2,640 characters
    text = filler + "card 4111 1111 1111 1111 and mail ann.lee@example.com, ssn 536-22-1234. " + filler * 2
    m = ner_engine.mask(text, context={"names": ["Ann Lee"]})
    assert {"CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN"} <= set(m.counts)
    assert "4111" not in m.text and "ann.lee" not in m.text and "536-22" not in m.text


# ---- 17. retrieval: numbers kept when they cannot hold PII ------------------------------------------

def test_short_or_fractional_numbers_keep_their_type(quiet_gov):
    meta = {"id": "t1", "agent_id": 22, "region": "NA", "price": Decimal("12.50"), "ratio": 0.25,
            "total": Decimal("123456789.00"), "big": 1e300, "nan": float("nan")}
    out = list(_search(quiet_gov, [{"id": "t1", "text": "ticket", "metadata": meta}])("q", quiet_gov.principal("ada")))[0]
    md = out["metadata"]
    assert md["price"] == Decimal("12.50") and md["ratio"] == 0.25 and md["total"] == Decimal("123456789.00")
    assert md["big"] == 1e300 and md["nan"] != md["nan"]


# ---- 18. false positives that were fixed -------------------------------------------------------

@pytest.mark.parametrize("text", ["total 123456789.00", "total 1,234,567.89 paid", "zip 94107-1234",
                                  "version 10.2.3.4", "upgrade to v1.2.3.4", "a::b", "version 4111.1111.1111-1111"])
def test_fixed_false_positives(pattern_engine, text):
    assert pattern_engine.mask(text).findings == []


def test_zero_padded_ip_and_real_ip_after_server_word(pattern_engine):
    assert pattern_engine.mask("server 10.0.0.1").text == "server <IP_ADDRESS_1>"
    assert pattern_engine.mask("ip 192.168.001.010").text == "ip <IP_ADDRESS_1>"


# ---- 19. the vault scope ----------------------------------------------------------------------

def test_conversation_scopes_of_two_principals_never_collide(quiet_gov):
    ada, forged = quiet_gov.principal("ada"), quiet_gov.principal("ada").model_copy(update={"id": "ada\x1ft"})
    assert quiet_gov.conversation_scope(ada, "t\x1fc9") != quiet_gov.conversation_scope(forged, "c9")


# ---- 20. look-alike letters of other scripts ------------------------------------------------------

def test_cyrillic_look_alikes_in_a_name_and_a_domain(pattern_engine):
    assert pattern_engine.mask("\u0410nn Lee called", context={"names": ["Ann Lee"]}).text == "<PERSON_1> called"
    assert pattern_engine.mask("mail ann.lee@example.c\u043em").text == "mail <EMAIL_ADDRESS_1>"


def test_real_cyrillic_and_greek_text_still_matches(pattern_engine):
    m = pattern_engine.mask("Сергей Иванов пишет на иван@почта.рф", context={"names": ["Сергей Иванов"]})
    assert m.text == "<PERSON_1> пишет на <EMAIL_ADDRESS_1>"
    assert pattern_engine.mask("ΖΩΉ called", context={"names": ["Ζωή Παπαδοπούλου"]}).text == "<PERSON_1> called"
