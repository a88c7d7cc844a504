"""Issue 15: setting nlp_model enables the NER types and the address / postal code / age patterns."""

from __future__ import annotations

import pytest

from govern.pii import PiiConfigError, PiiEngine, PiiSettings
from govern.pii.settings import DEFAULT_ENTITIES, NER_DEFAULT_EXTRA


def test_nlp_model_enables_the_ner_types_by_default():
    s = PiiSettings(nlp_model="en_core_web_sm")
    assert s.entities == list(DEFAULT_ENTITIES) + list(NER_DEFAULT_EXTRA)
    assert {"LOCATION", "ORGANIZATION", "NRP", "DATE_TIME", "STREET_ADDRESS", "ZIP_CODE", "AGE"} <= set(s.entities)
    assert PiiSettings.model_validate({"nlp_model": "en_core_web_sm"}).entities == s.entities
    assert PiiSettings().entities == list(DEFAULT_ENTITIES)  # pattern mode unchanged


def test_a_bundle_narrows_the_list():
    s = PiiSettings.model_validate({"nlp_model": "en_core_web_sm", "entities": ["PERSON", "EMAIL_ADDRESS"]})
    assert s.entities == ["PERSON", "EMAIL_ADDRESS"]


def test_ner_types_stay_an_error_in_pattern_mode():
    with pytest.raises(PiiConfigError, match="NER mode"):
        PiiEngine(PiiSettings(entities=["PERSON", "ORGANIZATION"]))


def test_ner_engine_detects_the_new_types(ner_engine):
    text = (
        "Maria Lopez (42 years old), a Brazilian engineer at Siemens AG, moved from Lisbon on March 3, 2021 "
        "to 221B Baker Street, London NW1 6XE. Mail: P.O. Box 259, Springfield, IL 62704."
    )
    m = ner_engine.mask(text)
    assert {"PERSON", "AGE", "ORGANIZATION", "LOCATION", "DATE_TIME", "STREET_ADDRESS"} <= set(m.counts), m.counts
    for secret in ("Maria", "42", "Siemens", "Lisbon", "2021", "Baker", "259", "62704"):
        assert secret not in m.text, (secret, m.text)


def test_relative_dates_are_not_date_time(ner_engine):
    m = ner_engine.mask("Please send me the statement for last month, I will be travelling next week.")
    assert "DATE_TIME" not in m.counts, m.findings


# ---- the pattern recognizers, listed in pattern mode ----------------------------------------------
@pytest.fixture(scope="module")
def addr_engine():
    return PiiEngine(PiiSettings(entities=["STREET_ADDRESS", "ZIP_CODE", "AGE", "PHONE_NUMBER"]))


@pytest.mark.parametrize(
    "text,value",
    [
        ("The restaurant is at 1719 Kamp St.", "1719 Kamp St"),
        ("ship to 5 N. Crestview Terrace Apt. 12, San Antonio, TX 78205 please", "5 N. Crestview Terrace Apt. 12, San Antonio, TX 78205"),
        ("Billing: 986 Baker Street\nLondon\n ON N0N 0N0", "986 Baker Street\nLondon\n ON N0N 0N0"),
        ("lives on Linzer Strasse 69 now", "Linzer Strasse 69"),
        ("address: Olmstraat 69, Echt", "Olmstraat 69, Echt"),
        ("send it to 82 rue Beauvau", "82 rue Beauvau"),
        ("Adresse: Via Luzzas 144", "Via Luzzas 144"),
        ("PO: P.O. Box 259", "P.O. Box 259"),
        ("PSC 8810, Box 3088\nAPO AP 94467", "PSC 8810, Box 3088\nAPO AP 94467"),
        ("Unit 2788 Box 9880\nDPO AA 97910", "Unit 2788 Box 9880\nDPO AA 97910"),
        ("USNS Miller\nFPO AE 30279", "USNS Miller\nFPO AE 30279"),
    ],
)
def test_street_addresses(addr_engine, text, value):
    m = addr_engine.mask(text)
    a = text.index(value)
    spans = [(f.start, f.end) for f in m.findings if f.type in ("STREET_ADDRESS", "ZIP_CODE")]
    assert all(any(s <= i < e for s, e in spans) for i in range(a, a + len(value)) if text[i].isalnum()), m.findings


@pytest.mark.parametrize(
    "text,age",
    [("He just turned 35 years old", "35"), ("a 42-year-old male", "42"), ("i'm 29 y/o.", "29"),
     ("retired at the age of 67", "67"), ("I'll turn 40.", "40"), ("Written when he was 42.", "42"), ("aged 7", "7")],
)
def test_ages_with_context(addr_engine, text, age):
    m = addr_engine.mask(text)
    assert [text[f.start : f.end] for f in m.findings if f.type == "AGE"] == [age], m.findings


@pytest.mark.parametrize("text,zip_", [("My zip code is 94107", "94107"), ("ZIP: 94107-1234", "94107-1234"), ("postcode SW1A 1AA", "SW1A 1AA")])
def test_postal_codes_with_context(addr_engine, text, zip_):
    m = addr_engine.mask(text)
    assert zip_ in [text[f.start : f.end] for f in m.findings if f.type == "ZIP_CODE"], m.findings


@pytest.mark.parametrize(
    "text",
    [
        "We shipped 3 more boxes down the road last week.",
        "Order 12345 is 3 days late; version 10 works.",
        "The build took 42 minutes and 35 seconds.",
        "Room 12 on floor 3, 2 items in stock, 15097 rows.",
        "I walked 5 blocks to the main street.",
        "Ticket 5531 moved to QA; sprint 42 ends in 14 days.",
    ],
)
def test_not_addresses_ages_or_zips(addr_engine, text):
    assert addr_engine.mask(text).findings == [], text
