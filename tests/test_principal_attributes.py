"""The principals' attribute schema (principals.yaml `attributes:`): checked on every request.

Families: for each attribute type, values of that type pass unchanged and values of every
other type are denied naming the attribute and the type; over the Governor, a principal that
does not fit is denied by check_sql / execute / retrieval / mask_text / entity_scope with that
reason and never reaches the database.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern import Governor
from govern.bundle import load_bundle
from govern.bundle.attributes import AttributeSpec, PrincipalSchema, validate_principal
from govern.errors import InvalidPrincipal, PolicyLoadError, QueryDenied
from govern.principal import Principal
from tests.conftest import POLICIES, TEST_HASH_KEY

CLINIC = Path(__file__).parent / "bundles" / "clinic"

VALUES = {
    "string": st.text(max_size=12),
    "integer": st.integers(-10**12, 10**12),
    "number": st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False)),
    "boolean": st.booleans(),
    "date": st.dates().map(dt.date.isoformat),
}


def fits(kind: str, value) -> bool:
    """The oracle: Python's own types (bool is not an integer; a date is an ISO YYYY-MM-DD string)."""
    if kind == "string":
        if not isinstance(value, str):
            return False
        return True
    if kind == "integer":
        return type(value) is int
    if kind == "number":
        return type(value) in (int, float)
    if kind == "boolean":
        return type(value) is bool
    if kind == "date":
        try:
            return isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    raise AssertionError(kind)


ANY_VALUE = st.one_of(*VALUES.values(), st.lists(st.integers(), max_size=3), st.lists(st.text(max_size=3), max_size=3))


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(VALUES)), value=ANY_VALUE)
def test_a_scalar_attribute_is_accepted_iff_it_has_the_type(kind, value):
    schema = PrincipalSchema(attributes={"a": AttributeSpec(type=kind)})
    principal = Principal("p", ["r"], {"a": value})
    if fits(kind, value):
        assert validate_principal(schema, principal).attributes == {"a": value}
    else:
        with pytest.raises(InvalidPrincipal) as err:
            validate_principal(schema, principal)
        assert err.value.reasons == [f"principal 'p': attribute a must be {_article(kind)}, got {value!r}"]


def _article(kind: str) -> str:
    return {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
            "date": "a date (YYYY-MM-DD)"}[kind]


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(sorted(VALUES)), data=st.data())
def test_a_list_attribute_takes_lists_of_its_type_and_never_a_scalar(kind, data):
    schema = PrincipalSchema(attributes={"xs": AttributeSpec(type=kind, list=True)})
    good = data.draw(st.lists(VALUES[kind], max_size=4))
    assert validate_principal(schema, Principal("p", [], {"xs": good})).attributes["xs"] == good
    scalar = data.draw(VALUES[kind])
    with pytest.raises(InvalidPrincipal, match=f"attribute xs must be a list of {kind} values"):
        validate_principal(schema, Principal("p", [], {"xs": scalar}))
    bad = data.draw(ANY_VALUE.filter(lambda v: not isinstance(v, list) and not fits(kind, v)))
    with pytest.raises(InvalidPrincipal, match="got item"):
        validate_principal(schema, {"id": "p", "attributes": {"xs": good + [bad]}})  # a mapping: nothing coerced first


def test_required_missing_default_filled_unknown_denied_or_allowed():
    schema = PrincipalSchema(attributes={
        "tenant": AttributeSpec(type="string", required=True),
        "clinics": AttributeSpec(type="integer", list=True, default=[]),
        "level": AttributeSpec(type="integer", default=1),
        "region": AttributeSpec(type="string"),
    })
    with pytest.raises(InvalidPrincipal) as err:
        validate_principal(schema, Principal("p", [], {"tennant": "acme"}))
    assert err.value.reasons == [
        "principal 'p': attribute tennant is not in the bundle's attribute schema (did you mean tenant?)",
        "principal 'p': attribute tenant is required (a string) and missing",
    ]
    out = validate_principal(schema, {"id": "p", "roles": ["r"], "attributes": {"tenant": "acme"}})
    assert out.attributes == {"tenant": "acme", "clinics": [], "level": 1}  # region optional: stays absent
    allow = schema.model_copy(update={"unknown_attributes": "allow"})
    assert validate_principal(allow, Principal("p", [], {"tenant": "a", "x": 1})).attributes["x"] == 1
    assert validate_principal(None, Principal("p", [], {"x": "y"})).attributes == {"x": "y"}


def test_a_date_object_becomes_its_iso_string_and_a_timestamp_is_not_a_date():
    schema = PrincipalSchema(attributes={"since": AttributeSpec(type="date")})
    out = validate_principal(schema, {"id": "p", "attributes": {"since": dt.date(2024, 2, 29)}})
    assert out.attributes == {"since": "2024-02-29"}
    for bad in ("2023-02-29", "2024-1-5", "20240105", "2024-01-05T00:00"):
        with pytest.raises(InvalidPrincipal, match="must be a date"):
            validate_principal(schema, Principal("p", [], {"since": bad}))


@pytest.mark.parametrize("spec, message", [
    ({"type": "integr"}, "type"),
    ({"type": "integer", "default": "one"}, "default must be an integer, got 'one'"),
    ({"type": "string", "required": True, "default": "x"}, "a required attribute has no default"),
])
def test_a_bad_schema_is_a_load_error_at_its_line(tmp_path, spec, message):
    bundle = _copy(CLINIC, tmp_path)
    text = (bundle / "principals.yaml").read_text()
    flow = "{" + ", ".join(f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {str(v).lower()}" for k, v in spec.items()) + "}"
    text = text.replace("  clinic_id: {type: integer,", f"  other: {flow}\n  clinic_id: {{type: integer,")
    (bundle / "principals.yaml").write_text(text)
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle)
    assert any(p.startswith("principals.yaml:3:") and message in p for p in err.value.problems), err.value.problems


def test_a_named_principal_that_does_not_fit_is_a_load_error_at_its_line(tmp_path):
    bundle = _copy(CLINIC, tmp_path)
    path = bundle / "principals.yaml"
    path.write_text(path.read_text().replace("attributes: {clinic_id: 2}", "attributes: {clinic_id: two}", 1))
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "id: hugo" in text)
    assert err.value.problems == [f"principals.yaml:{line}: principal 'hugo': attribute clinic_id must be an integer, got 'two'"]


# ---------------------------------------------------------------- every request


@pytest.fixture()
def clinic_gov(tmp_path):
    from tests import clinic_data

    conn = duckdb.connect()
    clinic_data.load(conn, "duckdb")
    gov = Governor.from_path(CLINIC, audit=tmp_path / "trail.jsonl", hash_key=TEST_HASH_KEY)
    return gov, conn


BAD = Principal("mallory", ["doctor"], {"clinic_id": "one"})
REASON = "principal 'mallory': attribute clinic_id must be an integer, got 'one'"


def test_check_sql_and_execute_deny_a_wrong_type_before_the_database(clinic_gov, tmp_path):
    gov, conn = clinic_gov
    decision = gov.check_sql("SELECT * FROM patients", BAD)
    assert not decision.allowed and decision.reasons == [REASON] and decision.sql is None
    with pytest.raises(QueryDenied) as err:
        gov.execute(conn, "SELECT * FROM patients", BAD)
    assert err.value.decision.reasons == [REASON]
    good = gov.check_sql("SELECT * FROM patients", Principal("ok", ["doctor"], {"clinic_id": 1}))
    assert good.allowed, good.reasons
    import json

    records = [json.loads(line) for line in (tmp_path / "trail.jsonl").read_text().splitlines()]
    denied = [r for r in records if r.get("action") in ("check_sql", "execute") and r.get("decision") == "deny"]
    assert len(denied) == 2 and all(r["reasons"] == [REASON] for r in denied), denied


def test_mask_text_and_entity_scope_deny_a_wrong_type(clinic_gov):
    gov, _ = clinic_gov
    with pytest.raises(InvalidPrincipal) as err:
        gov.mask_text("call me at 555-0100", BAD)
    assert err.value.reasons == [REASON]
    with pytest.raises(InvalidPrincipal):
        gov.mask_texts(["x"], BAD)


def test_retrieval_denies_a_wrong_type(tmp_path):
    bundle = _copy(POLICIES, tmp_path)
    path = bundle / "principals.yaml"
    path.write_text("attributes:\n  region: {type: string}\n  tenant: {type: string}\n  employee_id: {type: integer}\n"
                    + path.read_text())
    gov = Governor.from_path(bundle, audit=tmp_path / "trail.jsonl", hash_key=TEST_HASH_KEY)
    calls = []

    def store(query, k=4, **_):
        calls.append(query)
        return [{"id": 1, "text": "hello", "region": "NA", "agent_id": 22, "customer_id": 1, "status": "open", "priority": "low"}]

    search = gov.wrap_retriever(store, "support_kb", on_deny="return")
    sam = gov.principal("sam")
    bad = Principal("sam", sam.roles, {**sam.attributes, "employee_id": "22"})
    result = search("refund", bad)
    assert not result.allowed
    assert result.decision.reasons == ["principal 'sam': attribute employee_id must be an integer, got '22'"]
    assert calls == []  # the store was never asked
    assert search("refund", sam).decision.allowed
    with pytest.raises(InvalidPrincipal, match="employee_id must be an integer"):
        gov.entity_scope(bad, gov.bundle.rules.entities[0].name)


def _copy(src: Path, tmp_path: Path) -> Path:
    dest = tmp_path / src.name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("tests"))
    return dest


@pytest.mark.parametrize("kind, text, value", [
    ("integer", "7", 7), ("integer", "-12", -12), ("number", "2.5", 2.5), ("number", "3", 3.0), ("boolean", "true", True),
    ("boolean", "false", False), ("date", "2024-02-29", "2024-02-29"), ("string", "7", "7"),
])
def test_from_text_reads_the_canonical_text_of_the_type(kind, text, value):
    schema = PrincipalSchema(attributes={"a": AttributeSpec(type=kind)})
    out = validate_principal(schema, Principal("p", [], {"a": text}), from_text=True)
    assert out.attributes["a"] == value and type(out.attributes["a"]) is type(value)
    if kind not in ("string", "date"):
        with pytest.raises(InvalidPrincipal):
            validate_principal(schema, Principal("p", [], {"a": text}))  # without from_text: a string is a string


@pytest.mark.parametrize("kind, text", [("integer", "one"), ("integer", "07"), ("integer", "1.0"), ("integer", " 1"),
                                        ("boolean", "yes"), ("boolean", "1"), ("number", "nan"), ("number", "inf")])
def test_from_text_still_denies_what_is_not_the_type(kind, text):
    schema = PrincipalSchema(attributes={"a": AttributeSpec(type=kind)})
    with pytest.raises(InvalidPrincipal, match=f"attribute a must be"):
        validate_principal(schema, Principal("p", [], {"a": text}), from_text=True)
