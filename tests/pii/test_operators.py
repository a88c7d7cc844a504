"""Each operator, pseudonym consistency and isolation, reveal per granted type."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from govern.pii import PiiEngine, PiiSettings, canonical

from .conftest import HASH_KEY

EMAIL = "ada.byron@example.com"
PHONE = "(212) 736-5000"
CARD = "4532 0151 1283 0366"
SSN = "536-90-4399"
IBAN = "DE89370400440532013000"
TEXT = f"Ada Byron ({EMAIL}) called from {PHONE}; card {CARD}, SSN {SSN}, IBAN {IBAN}."
CTX = {"names": ["Ada Byron"]}


def by_type(m):
    return {f.type: f for f in m.findings}


def test_each_operator(ops_engine):
    m = ops_engine.mask(TEXT, context=CTX)
    for value in (EMAIL, PHONE, CARD, SSN, IBAN, "Ada", "Byron"):
        assert value not in m.text
    assert "<PERSON_1>" in m.text and "<EMAIL_ADDRESS_1>" in m.text  # pseudonym w/o conversation
    assert "***5000" in m.text and "***0366" in m.text  # partial keeps last 4, fixed prefix
    assert "[IBAN]" in m.text  # redact with the configured constant
    digest = hmac.new(HASH_KEY, f"US_SSN\x00{canonical('US_SSN', SSN)}".encode(), hashlib.sha256).hexdigest()
    assert f"<US_SSN:{digest[:16]}>" in m.text  # keyed HMAC-SHA256
    ops = {t: f.operator for t, f in by_type(m).items()}
    assert ops == {
        "PERSON": "pseudonym",
        "EMAIL_ADDRESS": "pseudonym",
        "PHONE_NUMBER": "partial",
        "CREDIT_CARD": "partial",
        "US_SSN": "hash",
        "IBAN_CODE": "redact",
    }
    assert m.counts == {t: 1 for t in ops}
    assert not m.needs_review


def test_placeholder_numbers_distinct_values(pattern_engine):
    m = pattern_engine.mask("a@example.com, b@example.com, again a@example.com")
    assert m.text == "<EMAIL_ADDRESS_1>, <EMAIL_ADDRESS_2>, again <EMAIL_ADDRESS_1>"
    assert m.counts == {"EMAIL_ADDRESS": 3}


def test_hash_is_keyed_and_format_insensitive():
    s = PiiSettings.model_validate({"operators": {"PHONE_NUMBER": {"operator": "hash", "length": 64}}})
    e1 = PiiEngine(s, hash_key=HASH_KEY)
    e2 = PiiEngine(s, hash_key=b"another-key-0123456789abcdef")
    a = e1.mask("call (212) 736-5000").text
    b = e1.mask("call 212-736-5000").text
    c = e2.mask("call (212) 736-5000").text
    assert a == b  # same number, other formatting: same hash (joins still work)
    assert a != c  # another key: another hash (no dictionary attack without the key)
    assert len(a.split(":")[1].rstrip(">")) == 64
    # an unkeyed SHA-256 of the value must not appear
    assert hashlib.sha256(b"2127365000").hexdigest()[:16] not in a


def test_partial_short_value_fully_masked():
    s = PiiSettings.model_validate(
        {
            "entities": ["PERSON"],
            "operators": {"PERSON": {"operator": "partial", "keep_last": 4}},
        }
    )
    e = PiiEngine(s)
    assert e.mask("hi Bo Li", context={"names": ["Bo Li"]}).text == "hi ***"


def test_pseudonyms_consistent_across_calls(ops_engine):
    conv = "conv-consistent"
    m1 = ops_engine.mask(f"Mail {EMAIL} please", context=CTX, conversation=conv)
    m2 = ops_engine.mask("new address: grace@example.org", conversation=conv)
    m3 = ops_engine.mask(f"and again ADA.BYRON@example.com, Ada Byron, {EMAIL}", context=CTX, conversation=conv)
    assert m1.text == "Mail <EMAIL_ADDRESS_1> please"
    assert m2.text == "new address: <EMAIL_ADDRESS_2>"
    assert m3.text == "and again <EMAIL_ADDRESS_1>, <PERSON_1>, <EMAIL_ADDRESS_1>"


def test_pseudonyms_isolated_across_conversations(ops_engine):
    a = ops_engine.mask("x: grace@example.org", conversation="conv-iso-a")
    ops_engine.mask("first: ada@example.org", conversation="conv-iso-b")
    b = ops_engine.mask("x: grace@example.org", conversation="conv-iso-b")
    assert a.text == "x: <EMAIL_ADDRESS_1>"
    assert b.text == "x: <EMAIL_ADDRESS_2>"
    # a token of one conversation does not reveal in another
    assert ops_engine.reveal("<EMAIL_ADDRESS_1>", "conv-iso-a", {"EMAIL_ADDRESS"}) == "grace@example.org"
    assert ops_engine.reveal("<EMAIL_ADDRESS_1>", "conv-iso-b", {"EMAIL_ADDRESS"}) == "ada@example.org"
    assert ops_engine.reveal("<EMAIL_ADDRESS_1>", "conv-unknown", {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_1>"


def test_reveal_restores_only_granted_types(ops_engine):
    conv = "conv-reveal"
    m = ops_engine.mask(f"Ada Byron wrote from {EMAIL}", context=CTX, conversation=conv)
    assert m.text == "<PERSON_1> wrote from <EMAIL_ADDRESS_1>"
    llm_answer = f"I will reply to {m.text.split(' from ')[1]} for <PERSON_1>."
    assert ops_engine.reveal(llm_answer, conv, frozenset()) == llm_answer
    assert ops_engine.reveal(llm_answer, conv, {"EMAIL_ADDRESS"}) == f"I will reply to {EMAIL} for <PERSON_1>."
    assert ops_engine.reveal(llm_answer, conv, {"EMAIL_ADDRESS", "PERSON"}) == f"I will reply to {EMAIL} for Ada Byron."
    # a type the vault never saw under that number stays a token
    assert ops_engine.reveal("<EMAIL_ADDRESS_9>", conv, {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_9>"


def test_mask_reveal_set_leaves_granted_types(pattern_engine):
    m = pattern_engine.mask(TEXT, reveal=frozenset({"PHONE_NUMBER"}), context=CTX)
    assert PHONE in m.text
    assert EMAIL not in m.text and CARD not in m.text
    ph = by_type(m)["PHONE_NUMBER"]
    assert ph.operator == "reveal"
    assert m.counts["PHONE_NUMBER"] == 1 and "PHONE_NUMBER" not in m.masked_counts


def test_email_inside_revealed_url_is_still_masked(pattern_engine):
    text = "Unsubscribe: https://news.example.com/unsubscribe?email=jane.roe@example.org now"
    m = pattern_engine.mask(text, reveal={"URL"})
    assert m.text == "Unsubscribe: https://news.example.com/unsubscribe?email=<EMAIL_ADDRESS_1> now"
    m2 = pattern_engine.mask(text)
    assert "jane.roe" not in m2.text and "news.example.com" not in m2.text


def test_vault_ttl_and_bounds():
    now = [1000.0]
    s = PiiSettings.model_validate(
        {
            "operators": {"default": {"operator": "pseudonym"}},
            "vault": {"ttl_seconds": 60, "max_conversations": 2, "max_values_per_conversation": 2},
        }
    )
    e = PiiEngine(s, clock=lambda: now[0])
    assert e.mask("a@example.com", conversation="c1").text == "<EMAIL_ADDRESS_1>"
    now[0] += 59
    assert e.reveal("<EMAIL_ADDRESS_1>", "c1", {"EMAIL_ADDRESS"}) == "a@example.com"  # touch: idle clock restarts
    now[0] += 59
    assert e.reveal("<EMAIL_ADDRESS_1>", "c1", {"EMAIL_ADDRESS"}) == "a@example.com"
    now[0] += 61  # idle longer than the TTL: forgotten
    assert e.reveal("<EMAIL_ADDRESS_1>", "c1", {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_1>"
    assert len(e.vault) == 0
    # value bound: a third value in one conversation gets a bare, non-revealable token
    m = e.mask("a@example.com b@example.com c@example.com", conversation="c2")
    assert m.text == "<EMAIL_ADDRESS_1> <EMAIL_ADDRESS_2> <EMAIL_ADDRESS>"
    # conversation bound: the least recently used conversation is evicted
    e.mask("x@example.com", conversation="c3")
    e.mask("y@example.com", conversation="c4")
    assert len(e.vault) == 2
    assert e.reveal("<EMAIL_ADDRESS_1>", "c2", {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_1>"
    assert "example" not in repr(e.vault)


def test_mask_many_equals_mask(pattern_engine, passages):
    sample = passages[:40]
    many = pattern_engine.mask_many([p.text for p in sample], contexts=[p.context for p in sample], one_result=False)
    one = [pattern_engine.mask(p.text, context=p.context) for p in sample]
    assert many == one


def test_mask_many_ner_equals_mask(ner_engine, passages):
    sample = passages[:15]
    many = ner_engine.mask_many([p.text for p in sample], contexts=[p.context for p in sample], one_result=False)
    one = [ner_engine.mask(p.text, context=p.context) for p in sample]
    assert [m.text for m in many] == [m.text for m in one]


def test_empty_and_clean_text(pattern_engine):
    assert pattern_engine.mask("").text == ""
    m = pattern_engine.mask("No personal data here.")
    assert m.text == "No personal data here." and m.findings == [] and not m.needs_review
    with pytest.raises(TypeError):
        pattern_engine.mask(None)  # type: ignore[arg-type]
