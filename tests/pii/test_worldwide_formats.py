"""Issue 15: phone numbers of every region, cards of every network, and business text that is not PII.

Classes, not examples: phones are drawn from libphonenumber's own example numbers
for every region it knows (formatted internationally and nationally), cards from
every network's IIN ranges and lengths with a computed Luhn digit.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat as F

from govern.pii import PiiEngine, PiiSettings
from govern.pii.structured import _DATE_SHAPE, CARD_NETWORKS, luhn


def _types(m):
    return [f.type for f in m.findings]


def _covered(m, text: str, value: str, typ: str) -> bool:
    a = text.index(value)
    b = a + len(value)
    spans = [(f.start, f.end) for f in m.findings if f.type == typ]
    return all(any(s <= i < e for s, e in spans) for i in range(a, b) if text[i].isalnum())


# ---- phones: every region libphonenumber knows -------------------------------------------------
def _examples():
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is not None and phonenumbers.is_valid_number(ex):
                out.append((region, ex))
    return out


EXAMPLES = _examples()


def test_every_region_in_international_form_without_context(pattern_engine):
    assert len({r for r, _ in EXAMPLES}) > 200
    missed = []
    for region, ex in EXAMPLES:
        value = phonenumbers.format_number(ex, F.INTERNATIONAL)
        text = f"Details: {value}. Thanks"
        if not _covered(pattern_engine.mask(text), text, value, "PHONE_NUMBER"):
            missed.append((region, value))
    assert not missed, missed


def test_every_region_in_national_form_with_a_phone_word(pattern_engine):
    missed = []
    for i, (region, ex) in enumerate(EXAMPLES):
        value = phonenumbers.format_number(ex, F.NATIONAL)
        word = ["Phone:", "call me on", "Mobile:", "Tel.", "reach me at", "Fax:"][i % 6]
        text = f"{word} {value} please"
        if not _covered(pattern_engine.mask(text), text, value, "PHONE_NUMBER"):
            missed.append((region, value))
    # numbers of 5 digits and fewer (Ascension, Falklands, Cook Islands, ...) are left out: too short to tell
    # date-shaped ones are left out too (New Caledonia's "20.12.34" reads as a date)
    missed = [(r, v) for r, v in missed if sum(c.isdigit() for c in v) >= 6 and not _DATE_SHAPE.fullmatch(v)]
    assert not missed, missed


@pytest.mark.parametrize(
    "text,value",
    [
        ("Fax: +1-054-998-0503x587", "+1-054-998-0503x587"),  # unallocated area code, extension
        ("call (169)036-5746x876 today", "(169)036-5746x876"),
        ("phone 123.456.7890 ext. 12", "123.456.7890 ext. 12"),
        ("Desk: 001-037-232-1957", "001-037-232-1957"),
        ("text me at 5550123456", "5550123456"),
        ("0499 13 05 85 office", "0499 13 05 85"),  # label after the number
        ("reach me at 9450 1529", "9450 1529"),
        ("Phone:\\n070 4493 5104\\n", "070 4493 5104"),  # escaped line breaks (JSON, logs)
        ("Hannah (h@example.com, +1 604-555-0123) asked", "+1 604-555-0123"),  # closing parenthesis after it
    ],
)
def test_us_shaped_and_national_numbers_with_context(pattern_engine, text, value):
    m = pattern_engine.mask(text)
    assert _covered(m, text, value, "PHONE_NUMBER"), m.findings


def test_extension_is_part_of_the_match(pattern_engine):
    for text, value in [
        ("call (212) 736-5000 ext. 204 now", "(212) 736-5000 ext. 204"),
        ("call 212-736-5000x204", "212-736-5000x204"),
        ("phone +44 20 7946 0958 extension 12", "+44 20 7946 0958 extension 12"),
    ]:
        m = pattern_engine.mask(text)
        assert _covered(m, text, value, "PHONE_NUMBER"), (text, m.findings)


@pytest.mark.parametrize(
    "text",
    [
        "Ticket 030 901820 closed",  # national German shape, no phone word
        "call about order 12345678 today",  # a phone word, but the nearest word says order
        "please call re invoice 0412 345 678",
        "Reference 0688 919 41 98 attached",
        "see page 12 34 56 of the manual",
        "dated 2024-03-05 10:30:45",
        "call me on 12/05/2024",
        "lot 98-7654321 in stock",
    ],
)
def test_digit_runs_without_a_phone_word_are_not_phones(pattern_engine, text):
    assert "PHONE_NUMBER" not in _types(pattern_engine.mask(text)), text


def test_dotted_phone_is_not_an_ip_address(pattern_engine):
    text = "Mobile: 05.06.52.16.25"
    m = pattern_engine.mask(text)
    assert _types(m) == ["PHONE_NUMBER"] and _covered(m, text, "05.06.52.16.25", "PHONE_NUMBER")
    assert "IP_ADDRESS" not in _types(pattern_engine.mask("release 1.2.3.4.5 notes"))


# ---- cards: every network's prefixes and lengths ----------------------------------------------
def _with_luhn(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        if luhn(body + d):
            return body + d
    raise AssertionError


def _cards():
    rng = random.Random(15)
    out = []
    for name, lo, hi, lengths in CARD_NETWORKS:
        for n in sorted(lengths):
            for prefix in {str(lo), str(hi)}:
                out.append((name, n, _with_luhn(prefix, n, rng)))
    return out


CARDS = _cards()


@pytest.mark.parametrize("name,n,number", CARDS, ids=[f"{c[0]}-{c[1]}-{c[2][:4]}" for c in CARDS])
def test_every_network_and_length_with_a_card_word(pattern_engine, name, n, number):
    text = f"Please block my card {number} today"
    m = pattern_engine.mask(text)
    assert _covered(m, text, number, "CREDIT_CARD"), m.findings


@pytest.mark.parametrize("name,n,number", [c for c in CARDS if c[1] >= 14 and c[0] != "UATP"])
def test_long_cards_need_no_context(pattern_engine, name, n, number):
    text = f"ref {number} ok"
    assert _covered(pattern_engine.mask(text), text, number, "CREDIT_CARD")


def test_short_and_ambiguous_lengths_need_a_card_word(pattern_engine):
    rng = random.Random(7)
    for prefix, n in [("5018", 12), ("6763", 13), ("5893", 12), ("1", 15)]:
        number = _with_luhn(prefix, n, rng)
        assert "CREDIT_CARD" not in _types(pattern_engine.mask(f"Order {number} shipped")), number
        text = f"debit card {number}"
        assert _covered(pattern_engine.mask(text), text, number, "CREDIT_CARD"), number


def test_luhn_invalid_runs_are_not_cards(pattern_engine):
    rng = random.Random(3)
    for _, n, number in CARDS[:20]:
        bad = number[:-1] + str((int(number[-1]) + 1) % 10)
        assert "CREDIT_CARD" not in _types(pattern_engine.mask(f"card {bad}")), bad


# ---- business text that is not PII, both modes ---------------------------------------------------
BUSINESS = [
    "Order #100234 shipped on 2024-03-05 for a total of $1,234.56.",
    "Invoice INV-2024-000123 is due; amount 1,234,567.89 EUR, VAT 19%.",
    "Upgraded from version 10.2.3 to 10.2.4; build 20240115093000123 passed.",
    "Timestamp 2024-03-05T10:30:45.123456Z, request id 7f3a9c2e, latency 1234567 us.",
    "SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id",
    'Binder Error: column "c.name" must appear in the GROUP BY clause',
    "Referenced column o.total not found in FROM clause; candidates: o.id, c.email_verified",
    "total 123456789.00 reconciled across 4 batches of 250000 rows",
    "Ticket 5531 moved to QA; sprint 42 ends in 14 days, 3 story points left.",
    "Tracking number 1Z999AA10123456784, pallet 000123, SKU 88-1234-5",
    "Port 8080 and pid 1234567; uptime 99.98%, p95 123.45 ms.",
    "Call about order 12345678 tomorrow.",
]
DATES = ("2024-03-05", "10:30:45")


@pytest.mark.parametrize("text", BUSINESS)
def test_business_text_pattern_mode_finds_nothing(pattern_engine, text):
    m = pattern_engine.mask(text)
    assert m.findings == [], [(text[f.start : f.end], f.type) for f in m.findings]


@pytest.mark.parametrize("text", BUSINESS)
def test_business_text_ner_mode_finds_no_pattern_type(ner_engine, text):
    """NER mode masks dates (DATE_TIME is one of its types) and may read a word
    as an organisation; what it must not do is find phones, cards, SSNs, IBANs,
    IPs, URLs or emails in ids, amounts, versions and SQL identifiers."""
    m = ner_engine.mask(text)
    pattern_types = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL", "EMAIL_ADDRESS"}
    assert not [f for f in m.findings if f.type in pattern_types], [(text[f.start : f.end], f.type) for f in m.findings]


def test_sql_identifiers_are_not_urls(pattern_engine):
    for ident in ["c.name", "o.total", "customers.name", "t.id", "u.email", "orders.info", "x.date"]:
        text = f'Binder Error: Referenced column "{ident}" not found'
        assert pattern_engine.mask(text).findings == [], ident
    # real domains still are
    for text, value in [("see example.com now", "example.com"), ("visit https://shop.example.name/x", "https://shop.example.name/x")]:
        assert _covered(pattern_engine.mask(text), text, value, "URL"), text


def test_narrowed_ner_bundle_finds_nothing_in_business_text():
    """A bundle narrows NER mode's list: without DATE_TIME and ORGANIZATION nothing in business text is PII."""
    from .conftest import ner_available

    if not ner_available():
        pytest.skip("NER model not installed")
    engine = PiiEngine(
        PiiSettings(nlp_model="en_core_web_sm", entities=["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "URL"])
    )
    for text in BUSINESS:
        m = engine.mask(text)
        assert [f for f in m.findings if f.type != "PERSON"] == [], text
