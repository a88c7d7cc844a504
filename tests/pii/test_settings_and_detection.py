"""Settings validation, fail-closed thresholds, custom recognizers, context names, NER errors."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from govern.pii import NerModelNotInstalled, PiiConfigError, PiiEngine, PiiSettings

from .conftest import HASH_KEY


# ---- settings ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        {"unknown_key": 1},
        {"operators": {"EMAIL_ADDRESS": {"operator": "rot13"}}},
        {"operators": {"EMAIL_ADDRESS": {"operator": "partial", "keep_lst": 4}}},
        {"thresholds": {"EMAIL_ADDRESS": 1.5}},
        {"phone_regions": ["XX"]},
        {"entities": ["email"]},
        {"custom_recognizers": [{"name": "x", "entity": "EMPLOYEE_ID", "regex": "EMP-(\\d+"}]},
        {"custom_recognizers": [{"name": "x", "entity": "EMPLOYEE_ID"}]},
        {"custom_recognizers": [{"name": "x", "entity": "EMPLOYEE_ID", "regex": "a", "deny_list": ["b"]}]},
        {"operators": {"LOCATION": {"operator": "redact"}}},  # not in entities
        {"vault": {"ttl_seconds": 0}},
    ],
)
def test_invalid_settings_rejected(bad):
    with pytest.raises(ValidationError):
        PiiSettings.model_validate(bad)


def test_settings_from_yaml_section():
    import yaml

    doc = yaml.safe_load(
        """
pii:
  entities: [PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD]
  thresholds: {default: 0.6, PHONE_NUMBER: 0.4}
  phone_regions: [us, gb]
  operators:
    default: {operator: placeholder}
    EMAIL_ADDRESS: {operator: pseudonym}
    CREDIT_CARD: {operator: partial, keep_last: 4}
  custom_recognizers:
    - {name: employee-id, entity: EMPLOYEE_ID, regex: "\\\\bEMP-\\\\d{6}\\\\b", score: 0.9}
  vault: {ttl_seconds: 1800}
"""
    )
    s = PiiSettings.model_validate(doc["pii"])
    assert s.phone_regions == ["US", "GB"]
    assert s.threshold("EMAIL_ADDRESS") == 0.6 and s.threshold("PHONE_NUMBER") == 0.4
    assert "EMPLOYEE_ID" in s.all_entities()
    m = PiiEngine(s).mask("EMP-123456 wrote from a@example.com")
    assert m.text == "<EMPLOYEE_ID_1> wrote from <EMAIL_ADDRESS_1>"


def test_hash_without_key_refuses_to_start():
    s = PiiSettings.model_validate({"operators": {"US_SSN": {"operator": "hash"}}})
    with pytest.raises(PiiConfigError, match="hash key"):
        PiiEngine(s, hash_key=None)
    with pytest.raises(PiiConfigError, match="at least"):
        PiiEngine(s, hash_key=b"short")
    PiiEngine(s, hash_key=HASH_KEY)
    # no hash operator: no key needed
    PiiEngine(PiiSettings(), hash_key=None)


def test_ner_only_type_in_pattern_mode_is_an_error():
    with pytest.raises(PiiConfigError, match="NER mode"):
        PiiEngine(PiiSettings(entities=["PERSON", "LOCATION"]))


def test_missing_ner_model_clear_error_and_no_download(monkeypatch):
    import spacy.cli

    def no_download(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("attempted to download a spaCy model")

    monkeypatch.setattr(spacy.cli, "download", no_download)
    with pytest.raises(NerModelNotInstalled, match="never downloads"):
        PiiEngine(PiiSettings(nlp_model="xx_not_a_model_sm"))


# ---- thresholds fail closed -------------------------------------------------------------------
def test_below_threshold_is_masked_and_flagged():
    s = PiiSettings.model_validate({"thresholds": {"PHONE_NUMBER": 0.9}})
    e = PiiEngine(s)
    m = e.mask("reach me on 212-736-5000 tonight", reveal={"PHONE_NUMBER"})
    # phone scores 0.4 without context words: below 0.9 -> masked although revealed
    assert "212-736-5000" not in m.text
    assert m.needs_review and m.below_threshold == 1
    f = m.findings[0]
    assert f.below_threshold and f.operator == "placeholder" and f.score < 0.9


def test_context_words_raise_scores():
    s = PiiSettings.model_validate({"thresholds": {"PHONE_NUMBER": 0.7}})
    e = PiiEngine(s)
    plain = e.mask("ok 212-736-5000 ok")
    ctx = e.mask("my phone number is 212-736-5000")
    assert plain.needs_review and plain.findings[0].score == pytest.approx(0.4)
    assert not ctx.needs_review and ctx.findings[0].score >= 0.7


def test_weak_custom_match_fails_closed():
    s = PiiSettings.model_validate(
        {
            "custom_recognizers": [{"name": "ticket", "entity": "TICKET_ID", "regex": r"\bT\d{4}\b", "score": 0.3}],
            "thresholds": {"TICKET_ID": 0.5},
        }
    )
    m = PiiEngine(s).mask("see T1234")
    assert m.text == "see <TICKET_ID_1>" and m.needs_review


# ---- custom recognizers, context names ---------------------------------------------------------
def test_deny_list_recognizer():
    s = PiiSettings.model_validate(
        {"custom_recognizers": [{"name": "codenames", "entity": "PROJECT_CODENAME", "deny_list": ["Bluebird", "Night Jar"]}]}
    )
    m = PiiEngine(s).mask("Project bluebird ships before Night Jar; a bluebirds nest is fine.")
    assert m.text == "Project <PROJECT_CODENAME_1> ships before <PROJECT_CODENAME_2>; a bluebirds nest is fine."


def test_context_names_without_ner(pattern_engine):
    ctx = {"names": ["Will Summer", "Rose Hill"]}
    m = pattern_engine.mask("I will call Will Summer; prices rose. will summer? Rose said hi.", context=ctx)
    # the same name in other case is the same person: same placeholder
    assert m.text == "I will call <PERSON_1>; prices rose. <PERSON_1>? <PERSON_2> said hi."
    # names not in context are not known to pattern mode
    assert pattern_engine.mask("Call Will Summer").text == "Call Will Summer"


def test_allow_list():
    s = PiiSettings.model_validate({"allow_list": ["support@example.com"]})
    m = PiiEngine(s).mask("write support@example.com, not ada@example.com")
    assert m.text == "write support@example.com, not <EMAIL_ADDRESS_1>"


def test_ner_mode_finds_names_without_context(ner_engine):
    m = ner_engine.mask("Yesterday John Smith called about the renewal.")
    assert "John Smith" not in m.text and m.counts.get("PERSON") == 1


# ---- values never logged ------------------------------------------------------------------------
def test_no_values_in_logs(ops_engine, passages, caplog):
    caplog.set_level(logging.DEBUG)
    sample = passages[:60]
    results = ops_engine.mask_many([p.text for p in sample], contexts=[p.context for p in sample], conversation="log-conv")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for p, m in zip(sample, results):
        for s, e, _ in p.spans:
            value = p.text[s:e]
            assert value not in logged
            # and findings serialize without values
            assert value not in m.model_dump_json(exclude={"text"})
