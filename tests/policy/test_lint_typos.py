"""Typos are lint errors with a did-you-mean: a role in a `g` line, a `pii:` type (a reveal grant
or a catalog class), a collection, a table, a principal attribute; an unterminated quote is
reported at the line it opens on.

Each family takes a real name of the demo bundle, makes a one-edit typo of it (generated),
puts the typo where the name was, and requires an error finding that suggests the real name.
"""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.bundle import load_bundle
from govern.errors import PolicyLoadError
from govern.policy.lint import lint_bundle
from tests.conftest import POLICIES

ALPHABET = "abcdefghijklmnopqrstuvwxyz_"


@st.composite
def typo(draw, name: str, lower: bool = True):
    """``name`` with one character dropped, doubled, swapped with its neighbour or replaced."""
    alphabet = ALPHABET if lower else ALPHABET.upper()
    i = draw(st.integers(1, len(name) - 2))  # not the first or last character: still recognisably the name
    kind = draw(st.sampled_from(["drop", "double", "swap", "replace"]))
    if kind == "drop":
        out = name[:i] + name[i + 1:]
    elif kind == "double":
        out = name[:i] + name[i] + name[i:]
    elif kind == "swap":
        out = name[:i] + name[i + 1] + name[i] + name[i + 2:]
    else:
        out = name[:i] + draw(st.sampled_from([c for c in alphabet if c != name[i]])) + name[i + 1:]
    if out == name:
        out = name[:i] + name[i + 1:]
    return out


def _bundle(tmp_path_factory):
    dest = tmp_path_factory.mktemp("typo") / "policies"
    shutil.copytree(POLICIES, dest, ignore=shutil.ignore_patterns("tests"))
    return dest


def _errors(path):
    return [f for f in lint_bundle(path).findings if f.severity == "error"]


SETTINGS = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_demo_bundle_has_no_typo_errors():
    assert not _errors(POLICIES)


@SETTINGS
@given(data=st.data())
def test_a_typo_of_an_inherited_role_in_a_g_line_is_an_error(tmp_path_factory, data):
    path = _bundle(tmp_path_factory)
    wrong = data.draw(typo("sales_rep"))
    text = (path / "grants.csv").read_text()
    assert "g, sales_lead, sales_rep" in text
    (path / "grants.csv").write_text(text.replace("g, sales_lead, sales_rep", f"g, sales_lead, {wrong}", 1))
    found = [f for f in _errors(path) if f.code == "unknown-role" and repr(wrong) in f.message]
    assert found and "did you mean 'sales_rep'?" in found[0].message, found
    line = next(i for i, t in enumerate((path / "grants.csv").read_text().splitlines(), 1) if t.startswith(f"g, sales_lead, {wrong}"))
    assert found[0].file == "grants.csv" and found[0].line == line


@SETTINGS
@given(data=st.data())
def test_a_typo_of_a_pii_type_in_a_reveal_grant_or_catalog_class_is_an_error(tmp_path_factory, data):
    path = _bundle(tmp_path_factory)
    wrong = data.draw(typo("EMAIL_ADDRESS", lower=False))
    where = data.draw(st.sampled_from(["grants.csv", "catalog.yaml"]))
    text = (path / where).read_text()
    old = "pii:EMAIL_ADDRESS, reveal" if where == "grants.csv" else "pii: EMAIL_ADDRESS"
    assert old in text
    (path / where).write_text(text.replace(old, old.replace("EMAIL_ADDRESS", wrong), 1))
    found = [f for f in _errors(path) if f.code == "unknown-pii-type" and wrong in f.message]
    assert found and "did you mean 'EMAIL_ADDRESS'?" in found[0].message and found[0].file == where, found


@SETTINGS
@given(data=st.data())
def test_a_typo_of_a_collection_in_a_grant_is_an_error(tmp_path_factory, data):
    path = _bundle(tmp_path_factory)
    wrong = data.draw(typo("support_kb"))
    text = (path / "grants.csv").read_text()
    (path / "grants.csv").write_text(text.replace("collection:support_kb,", f"collection:{wrong},", 1))
    found = [f for f in _errors(path) if f.code == "unknown-collection" and wrong in f.message]
    assert found and "did you mean 'support_kb'?" in found[0].message, found


@SETTINGS
@given(data=st.data())
def test_a_typo_of_a_table_in_a_grant_or_a_rule_is_an_error(tmp_path_factory, data):
    path = _bundle(tmp_path_factory)
    wrong = data.draw(typo("customers"))
    where = data.draw(st.sampled_from(["grants.csv", "rules.yaml"]))
    text = (path / where).read_text()
    old = "customers." if where == "grants.csv" else "table: customers\n"
    assert old in text
    (path / where).write_text(text.replace(old, old.replace("customers", wrong), 1))
    found = [f for f in _errors(path) if wrong in f.message]
    assert found and "did you mean 'customers'?" in found[0].message and found[0].file == where, found


@SETTINGS
@given(data=st.data())
def test_a_rule_reading_an_attribute_the_schema_lacks_is_an_error(tmp_path_factory, data):
    path = _bundle(tmp_path_factory)
    principals = path / "principals.yaml"
    principals.write_text("attributes:\n  region: {type: string}\n  tenant: {type: string}\n  employee_id: {type: integer}\n"
                          + principals.read_text())
    assert not _errors(path)
    wrong = data.draw(typo("tenant"))
    rules = path / "rules.yaml"
    rules.write_text(rules.read_text().replace(":principal.tenant", f":principal.{wrong}", 1))
    found = [f for f in _errors(path) if f.code == "unknown-attribute"]
    assert found and f"{wrong!r}" in found[0].message and "did you mean 'tenant'?" in found[0].message
    assert "attribute schema" in found[0].message


def _line_of(path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


@pytest.mark.parametrize("name, old, new", [
    ("rules.yaml", "where: \"tenant = :principal.tenant\"", "where: \"tenant = :principal.tenant"),
    ("documents.yaml", "id_field: id", "id_field: 'id"),
    ("grants.csv", "p, sales_rep, pii:PERSON, reveal, allow", "p, \"sales_rep, pii:PERSON, reveal, allow"),
])
def test_an_unterminated_quote_is_reported_at_its_line(tmp_path, name, old, new):
    path = tmp_path / "policies"
    shutil.copytree(POLICIES, path, ignore=shutil.ignore_patterns("tests"))
    text = (path / name).read_text()
    assert old in text, old
    (path / name).write_text(text.replace(old, new, 1))
    line = _line_of(path / name, new)
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(path)
    assert any(p.startswith(f"{name}:{line}:") and "unterminated quote" in p for p in err.value.problems), err.value.problems
    errors = _errors(path)
    assert any(f.file == name and f.line == line and "unterminated quote" in f.message for f in errors), errors


def test_a_typo_of_a_member_role_in_a_g_line_is_an_error(tmp_path):
    path = tmp_path / "policies"
    shutil.copytree(POLICIES, path, ignore=shutil.ignore_patterns("tests"))
    text = (path / "grants.csv").read_text()
    (path / "grants.csv").write_text(text.replace("g, sales_lead, sales_rep", "g, sales_laed, sales_rep", 1))
    found = [f for f in _errors(path) if f.code == "unknown-role" and "'sales_laed'" in f.message]
    assert found and any("did you mean 'sales_lead'?" in f.message and f.file == "grants.csv" for f in found), found
