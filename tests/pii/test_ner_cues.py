"""Issue 15 (3): names and places the words around them give away (govern/pii/cues.py), NER mode.

The recognizers are checked on their own (so the spaCy model's own findings cannot hide a
miss or a false positive) and through the NER-mode engine; business text gives none.
"""

from __future__ import annotations

import pytest

from govern.pii.cues import CuedNameRecognizer, CuedPlaceRecognizer

NAMES = [
    ("Hello, this is Mr. Kenneth Dam. Who are you?", "Mr. Kenneth Dam"),
    ("Mrs. Zetticci flew to Wienering on Sunday.", "Mrs. Zetticci"),
    ("Dr. Janka Takacs Suite 12", "Dr. Janka Takacs"),
    ("For my take on Ms Perez, see page 2", "Ms Perez"),
    ("My name is Saidakhmad", "Saidakhmad"),
    ("Hi Rhys, I'm contacting you about the bill", "Rhys"),
    ("Dear Ms. Lee, thank you", "Ms. Lee"),
    ("Name:    Arquimedes Ballesteros\nAddress: 21 Main St", "Arquimedes Ballesteros"),
    ("everyone calls me Else", "Else"),
    ("I'm Christine's daughter", "Christine's"),
]
PLACES = [
    ("The Princess Royal arrived at Jestetten this morning", "Jestetten"),
    ("a 32 year old man who grew up in AURA.", "AURA"),
    ("the White Stripes' home city Nogradmarcal: iShares", "Nogradmarcal"),
    ("She moved here from Cyprus", "Cyprus"),
    ("Carry Me Back To Czech Republic", "Czech Republic"),
    ("Suite 886\n}} Podsreda\n}} SLOVENIA 26378", "SLOVENIA"),
    ("a startup based in Tartu since 2019", "Tartu"),
]
BUSINESS = [
    "Hi Team, the Q3 report is ready for review.",
    "Dear Customer, your order 12345678 has shipped.",
    "Thanks All, see you Monday.",
    "Ticket 5531 moved to QA; sprint 42 ends in 14 days.",
    "We are moving to Postgres next quarter and going to Production on Friday.",
    "The file is located in Section 4 of Appendix B.",
    "Hello World is the first program; I'm Sorry for the delay.",
    "SELECT c.name FROM customers c WHERE c.country = 'DE'",
    "Invoice INV-2024-000123 is due; amount 1,234,567.89 EUR, VAT 19%.",
    "Upgraded from version 10.2.3 to 10.2.4; build 20240115093000123 passed.",
    "Turkey sandwiches and a Jersey shirt were on the order.",
]


def _spans(rec, text):
    return [text[r.start : r.end] for r in rec.analyze(text, rec.supported_entities)]


@pytest.mark.parametrize("text,name", NAMES)
def test_cued_names(text, name):
    assert name in _spans(CuedNameRecognizer(), text)


@pytest.mark.parametrize("text,place", PLACES)
def test_cued_places(text, place):
    assert place in _spans(CuedPlaceRecognizer(), text)


@pytest.mark.parametrize("text", BUSINESS)
def test_no_cued_name_or_place_in_business_text(text):
    assert _spans(CuedNameRecognizer(), text) == []
    assert _spans(CuedPlaceRecognizer(), text) == []


def test_ner_mode_masks_cued_names_and_places(ner_engine):
    text = "Mr. Koivu flew to Qeqertarsuaq; Hi Rhys, greetings from Uruguay."
    m = ner_engine.mask(text)
    for value in ("Mr. Koivu", "Qeqertarsuaq", "Rhys", "Uruguay"):
        assert value not in m.text, m.text


def test_pattern_mode_has_no_cues(pattern_engine):
    """Pattern mode's PERSON comes from known names only: a title and a name stay as they are."""
    text = "Mr. Koivu flew to Qeqertarsuaq"
    assert pattern_engine.mask(text).text == text
