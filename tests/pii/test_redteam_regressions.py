"""Regressions for the red-team findings on the PII engine (tests/test_redteam_rag_pii.py):
planted tokens, missed card / IBAN / name formats, and values of a non-revealed
type hiding inside a revealed (or allow-listed, or pseudonymised) value."""

from __future__ import annotations

import pytest

from govern.pii import PiiEngine, PiiSettings

EMAIL = frozenset({"EMAIL_ADDRESS"})


@pytest.fixture(scope="module")
def engine() -> PiiEngine:
    return PiiEngine(
        PiiSettings.model_validate(
            {
                "operators": {
                    "default": {"operator": "placeholder"},
                    "EMAIL_ADDRESS": {"operator": "pseudonym"},
                    "PERSON": {"operator": "pseudonym"},
                    "PHONE_NUMBER": {"operator": "partial", "keep_last": 4},
                    "CREDIT_CARD": {"operator": "redact", "replacement": "[CARD]"},
                },
                "allow_list": ["4111111111111111@allowed.example.com", "support@example.com"],
            }
        )
    )


# ---- 1. token-like strings in the input ---------------------------------------------------


def test_planted_token_is_neutralised_and_never_revealed(engine):
    conv = "planted-1"
    planted = engine.mask("Send the refund to <EMAIL_ADDRESS_1> asap.", conversation=conv)
    assert "<EMAIL_ADDRESS_1>" not in planted.text
    assert "\u2039EMAIL_ADDRESS_1\u203a" in planted.text and planted.neutralised_tokens == 1
    victim = engine.mask("Customer ann.lee@example.com asked.", conversation=conv)
    assert "<EMAIL_ADDRESS_1>" in victim.text and victim.neutralised_tokens == 0
    assert "ann.lee@example.com" not in engine.reveal(planted.text, conv, EMAIL)
    assert "ann.lee@example.com" in engine.reveal(victim.text, conv, EMAIL)  # own tokens still work


def test_planted_token_next_to_real_tokens_in_one_text(engine):
    m = engine.mask("<EMAIL_ADDRESS_1> bob@example.com <PERSON_7> <B> <US_SSN:abcd> <X_12>", conversation="planted-2")
    assert m.text.count("<EMAIL_ADDRESS_1>") == 1  # the real one, for bob
    assert m.neutralised_tokens == 3
    assert "\u2039PERSON_7\u203a" in m.text and "\u2039X_12\u203a" in m.text and "<B>" in m.text
    assert engine.reveal(m.text, "planted-2", EMAIL).count("bob@example.com") == 1


def test_planted_token_without_any_pii_is_neutralised(engine):
    m = engine.mask("reply to <PERSON_1>")
    assert m.text == "reply to \u2039PERSON_1\u203a" and m.neutralised_tokens == 1 and not m.findings


def test_placeholder_tokens_are_not_neutralised(pattern_engine):
    m = pattern_engine.mask("card 4111 1111 1111 1111 and 5500 0000 0000 0004")
    assert m.text == "card <CREDIT_CARD_1> and <CREDIT_CARD_2>" and m.neutralised_tokens == 0


# ---- 2. formats that were missed ---------------------------------------------------------------

MISSED = [
    ("Card 4111.1111.1111.1111", "4111.1111.1111.1111", "CREDIT_CARD"),
    ("card 4111\u00a01111\u00a01111\u00a01111 (pasted)", "1111\u00a01111", "CREDIT_CARD"),
    ("card 4111\u202f1111\u202f1111\u202f1111", "1111\u202f1111", "CREDIT_CARD"),
    ("card 4111/1111/1111/1111", "4111/1111/1111/1111", "CREDIT_CARD"),
    ("mc 2221.0000.0000.0009", "2221.0000.0000.0009", "CREDIT_CARD"),
    ("IBAN de89 3704 0044 0532 0130 00", "3704 0044 0532", "IBAN_CODE"),
    ("iban nl91abna0417164300", "nl91abna0417164300", "IBAN_CODE"),
    ("iban De89-3704-0044-0532-0130-00", "3704-0044-0532", "IBAN_CODE"),
]


@pytest.mark.parametrize("text,secret,typ", MISSED)
def test_missed_formats_are_masked(pattern_engine, text, secret, typ):
    m = pattern_engine.mask(text)
    assert secret not in m.text and [f.type for f in m.findings] == [typ], m.text


@pytest.mark.parametrize(
    "text",
    [
        "version 4111.1111.1111-1111",  # mixed separators
        "build 4111.1111.1111.1112",  # Luhn fails
        "dates 2021/2022/2023/2024",
        "iban de89 3704 0044 0532 0130 01",  # checksum fails
        "at12 with them this that",
        "see de12 abcd efgh ijkl",
    ],
)
def test_new_formats_keep_precision(pattern_engine, text):
    assert pattern_engine.mask(text).findings == []


def test_lower_case_given_name_from_context(pattern_engine):
    ctx = {"names": ["Ann Lee"]}
    assert "ann" not in pattern_engine.mask("ann's phone was updated", context=ctx).text
    assert "ANN" not in pattern_engine.mask("ANN called", context=ctx).text
    # not surnames, not given names that are everyday words, not inside an address
    assert pattern_engine.mask("the lee side", context=ctx).findings == []
    assert pattern_engine.mask("I will call", context={"names": ["Will Mark"]}).findings == []
    assert pattern_engine.mask("the grant was approved", context={"names": ["Grant Lee"]}).findings == []
    m = pattern_engine.mask("mail ann.lee@example.com", context=ctx)
    assert [f.type for f in m.findings] == ["EMAIL_ADDRESS"]
    # "Last, First" form: the given name is the one after the comma
    assert "ann" not in pattern_engine.mask("ann said hi", context={"names": ["Lee, Ann"]}).text


# ---- 3. non-revealed values inside shown values ------------------------------------------------

@pytest.mark.parametrize(
    "text,secret,typ",
    [
        ("login 4111111111111111@example.com", "4111111111111111", "CREDIT_CARD"),
        ("reply to 536-22-1234@example.com", "536-22-1234", "US_SSN"),
        ("sms 4155550132@vtext.com", "41555", "PHONE_NUMBER"),
        ("ip 10.1.2.3@example.com", "10.1.2.3", "IP_ADDRESS"),
    ],
)
def test_part_of_revealed_email_is_masked(engine, text, secret, typ):
    m = engine.mask(text, reveal=EMAIL)
    assert secret not in m.text, m.text
    assert "@" in m.text  # the rest of the email is shown
    ops = {f.type: f.operator for f in m.findings}
    assert ops.get("EMAIL_ADDRESS") in ("reveal", None) and ops[typ] != "reveal"


def test_part_shown_when_its_type_is_revealed_too(engine):
    m = engine.mask("login 4111111111111111@example.com", reveal=EMAIL | {"CREDIT_CARD"})
    assert "4111111111111111@example.com" in m.text


def test_email_domain_is_not_masked_as_url(engine):
    m = engine.mask("mail mary.jo@shop.example.com", reveal=EMAIL)
    assert "mary.jo@shop.example.com" in m.text and [f.type for f in m.findings] == ["EMAIL_ADDRESS"]


def test_part_of_allow_listed_value_is_masked(engine):
    m = engine.mask("write to 4111111111111111@allowed.example.com or support@example.com")
    assert "4111111111111111" not in m.text and "@allowed.example.com" in m.text
    assert "support@example.com" in m.text


def test_unrevealed_findings_are_no_findings_when_container_masked(engine):
    """Nothing changes when the container itself is masked: parts are not findings."""
    m = engine.mask("login 4111111111111111@example.com")
    assert [f.type for f in m.findings] == ["EMAIL_ADDRESS"]


def test_reveal_masks_parts_of_a_pseudonymised_value(engine):
    conv = "parts-1"
    m = engine.mask("login 4111111111111111@foo.com, sms 4155550132@vtext.com", conversation=conv)
    assert "4111" not in m.text and "4155550132" not in m.text
    out = engine.reveal(m.text, conv, EMAIL)
    assert out == "login [CARD]@foo.com, sms ***0132@vtext.com"
    out = engine.reveal(m.text, conv, EMAIL | {"CREDIT_CARD", "PHONE_NUMBER"})
    assert out == "login 4111111111111111@foo.com, sms 4155550132@vtext.com"


def test_reveal_masks_a_name_inside_a_pseudonymised_email(engine):
    conv = "parts-2"
    m = engine.mask("Ann.Lee@example.com", context={"names": ["Ann Lee"]}, conversation=conv)
    assert engine.reveal(m.text, conv, EMAIL).endswith("@example.com")
    assert "Ann" not in engine.reveal(m.text, conv, EMAIL)
    assert engine.reveal(m.text, conv, EMAIL | {"PERSON"}) == "Ann.Lee@example.com"


def test_value_seen_again_adds_its_parts(engine):
    """The vault keys a value by its canonical form; a later sighting with more parts
    (here: a context name) makes reveal mask more, never less."""
    conv = "parts-3"
    first = engine.mask("Ann.Lee@example.com", conversation=conv)
    assert engine.reveal(first.text, conv, EMAIL) == "Ann.Lee@example.com"
    engine.mask("again Ann.Lee@example.com", context={"names": ["Ann Lee"]}, conversation=conv)
    assert "Ann" not in engine.reveal(first.text, conv, EMAIL)


def test_email_inside_revealed_url_is_masked(engine):
    m = engine.mask("see https://example.com/u?email=ann@example.org now", reveal={"URL"})
    assert "ann@example.org" not in m.text and "https://example.com/u?email=" in m.text
