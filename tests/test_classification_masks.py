"""Masks that follow the data's classification, on a second bundle and schema (tests/bundles/clinic).

A column classified with a PII type (catalog ``pii:``) is masked in the governed SQL for every
principal without the reveal grant for that type, with the bundle's operator for the type,
unless an explicit column mask rule applies. Checked for every principal × classified column ×
engine (DuckDB, PostgreSQL, SQLite) against the expected value written here from the bundle's
text: masked unless revealed, the same on every engine, and no raw value in any result or
audit record. Free-text flags play no part: removing them changes no classified value.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from govern import Governor
from tests import clinic_data
from tests.conftest import TEST_HASH_KEY, connect_postgres_or_skip

CLINIC = Path(__file__).parent / "bundles" / "clinic"
ENGINES = ["duckdb", "postgres", "sqlite"]
PRINCIPALS = ["ana", "hugo", "ben", "bill", "rex"]
# What each role may see unmasked (grants.csv), and what a masked value looks like (rules.yaml).
REVEALS = {"ana": {"PERSON", "PHONE_NUMBER"}, "hugo": {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"},
           "ben": {"PERSON"}, "bill": {"IBAN_CODE"}, "rex": set()}
CLASSIFIED = {("doctors", "name"): "PERSON", ("doctors", "email"): "EMAIL_ADDRESS",
              ("patients", "name"): "PERSON", ("patients", "email"): "EMAIL_ADDRESS",
              ("patients", "phone"): "PHONE_NUMBER", ("patients", "ssn"): "US_SSN",
              ("invoices", "card"): "CREDIT_CARD", ("invoices", "iban"): "IBAN_CODE"}
PLACEHOLDER = re.compile(r"^<(PERSON|EMAIL_ADDRESS)_[a-p]{10}>$")


def partial(value: str, keep: int) -> str:
    return "***" + value[len(value) - min(keep, len(value) // 2):] if min(keep, len(value) // 2) else "***"


def expected(principal: str, table: str, column: str, raw):
    """The value ``principal`` must see, or a compiled pattern it must match."""
    kind = CLASSIFIED[(table, column)]
    if raw is None:
        return None
    if principal == "rex" and (table, column) == ("patients", "ssn"):
        return partial(raw, 1)  # the explicit rule beats the classification
    if kind in REVEALS[principal]:
        return raw
    if kind == "US_SSN":
        return "[SSN]"
    if kind == "CREDIT_CARD":
        return "[CARD]"
    if kind in ("PHONE_NUMBER", "IBAN_CODE"):
        return partial(raw, 4)
    return PLACEHOLDER  # PERSON: placeholder, EMAIL_ADDRESS: pseudonym (in SQL: a typed, keyed placeholder)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """engine -> (connection, governor); the audit trail of each governor in tmp."""
    tmp = tmp_path_factory.mktemp("clinic")
    made = {}

    def get(engine: str):
        if engine in made:
            return made[engine]
        if engine == "duckdb":
            conn = duckdb.connect(str(tmp / "clinic.duckdb"))
        elif engine == "sqlite":
            conn = sqlite3.connect(str(tmp / "clinic.sqlite"))
        else:
            conn = connect_postgres_or_skip()
            clinic_data.load(conn, "postgres", "clinic")
            conn.execute("SET search_path TO clinic")
            conn.commit()
        if engine != "postgres":
            clinic_data.load(conn, engine)
        gov = Governor.from_path(CLINIC, audit=tmp / f"{engine}-trail.jsonl", hash_key=TEST_HASH_KEY)
        made[engine] = (conn, gov, tmp / f"{engine}-trail.jsonl")
        return made[engine]

    yield get
    for conn, _, _ in made.values():
        conn.close()


def rows(gov, conn, sql, principal, engine):
    result = gov.execute(conn, sql, gov.principal(principal), engine)
    if engine == "postgres":
        conn.commit()
    return result.rows


def visible(gov, principal: str, table: str, column: str) -> bool:
    decision = gov.check_sql(f"SELECT id, {column} FROM {table}", gov.principal(principal))
    return decision.allowed


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_classified_columns_are_masked_unless_revealed(engine, principal, clinic):
    conn, gov, _ = clinic(engine)
    checked = 0
    for (table, column), kind in CLASSIFIED.items():
        if not visible(gov, principal, table, column):
            continue
        got = dict(rows(gov, conn, f"SELECT id, {column} FROM {table} ORDER BY id", principal, engine))
        for i, row in enumerate(clinic_data.TABLES[table][1]):
            key = row[0]
            if key not in got:
                continue  # another clinic's row
            want = expected(principal, table, column, clinic_data.RAW[(table, i, column)])
            if isinstance(want, re.Pattern):
                assert want.match(got[key]), (principal, table, column, got[key])
            else:
                assert got[key] == want, (principal, table, column, got[key], want)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_placeholders_are_consistent_and_identical_across_engines(principal, clinic):
    """The same value gets the same placeholder (patients 1 and 5 share an e-mail), different values
    different ones, and every engine shows exactly the same masked rows."""
    results = {}
    for engine in ENGINES:
        conn, gov, _ = clinic(engine)
        results[engine] = {t: rows(gov, conn, f"SELECT * FROM {t} ORDER BY id", principal, engine)
                           for t in clinic_data.TABLES if gov.check_sql(f"SELECT * FROM {t}", gov.principal(principal)).allowed}
    assert _same_up_to_types(results), results
    conn, gov, _ = clinic("duckdb")
    if visible(gov, principal, "patients", "email") and "EMAIL_ADDRESS" not in REVEALS[principal]:
        email = dict(rows(gov, conn, "SELECT id, email FROM patients", principal, "duckdb"))
        if 1 in email and 5 in email:
            assert email[1] == email[5] and PLACEHOLDER.match(email[1])
            assert email[2] != email[1]


def _same_up_to_types(results) -> bool:
    import datetime
    import decimal

    def norm(value):
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return f"{float(value):.4f}"
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value

    flat = {e: {t: [tuple(norm(v) for v in r) for r in rs] for t, rs in tables.items()} for e, tables in results.items()}
    return flat["duckdb"] == flat["postgres"] == flat["sqlite"]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_raw_classified_value_in_results_or_audit(engine, clinic):
    conn, gov, trail = clinic(engine)
    queries = ["SELECT * FROM patients", "SELECT p.name, p.email, i.card, i.iban FROM patients p JOIN invoices i "
               "ON i.patient_id = p.id", "SELECT a.day, d.name, d.email FROM appointments a JOIN doctors d ON d.id = a.doctor_id",
               "SELECT email, count(*) FROM patients GROUP BY email", "SELECT * FROM notes"]
    for principal in PRINCIPALS:
        shown = []
        for sql in queries:
            if gov.check_sql(sql, gov.principal(principal)).allowed:
                shown.append(repr(rows(gov, conn, sql, principal, engine)))
        text = "\n".join(shown)
        for (table, i, column), raw in clinic_data.RAW.items():
            kind = CLASSIFIED.get((table, column))
            if kind is None or raw is None or kind in REVEALS[principal]:
                continue
            if principal == "rex" and column == "ssn":
                continue  # its last digit is shown on purpose
            assert raw not in text, (principal, table, column)
    audit = trail.read_text()
    assert not [raw for (table, _, column), raw in clinic_data.RAW.items() if (table, column) in CLASSIFIED and raw
                and len(str(raw)) > 4 and str(raw) in audit and column not in ("name",)]


def test_free_text_flags_play_no_part_in_classified_masks(tmp_path, clinic):
    """Removing every free-text flag changes no classified value: classification drives masks."""
    bundle = tmp_path / "clinic"
    shutil.copytree(CLINIC, bundle)
    catalog = bundle / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace(", free_text: true", ""))
    conn, gov, _ = clinic("duckdb")
    plain = Governor.from_path(bundle, audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY)
    for principal in PRINCIPALS:
        for table in ("patients", "invoices", "doctors"):
            sql = f"SELECT * FROM {table} ORDER BY id"
            if gov.check_sql(sql, gov.principal(principal)).allowed:
                assert rows(gov, conn, sql, principal, "duckdb") == rows(plain, conn, sql, principal, "duckdb")


def test_a_partial_mask_never_shows_more_than_half(tmp_path, clinic):
    bundle = tmp_path / "clinic"
    shutil.copytree(CLINIC, bundle)
    rules = bundle / "rules.yaml"
    rules.write_text(rules.read_text().replace("EMAIL_ADDRESS: {operator: pseudonym}",
                                               "EMAIL_ADDRESS: {operator: partial, keep_last: 8}"))
    conn, _, _ = clinic("duckdb")
    gov = Governor.from_path(bundle, audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY)
    got = dict(rows(gov, conn, "SELECT id, email FROM patients", "ana", "duckdb"))
    assert got[1] == "***x.io"  # lk@ex.io: 8 characters, 4 shown
    assert got[2] == "***.example"[:3] + "omar.haddad@mail.example"[-8:]


def test_explain_names_the_classification(clinic):
    from govern.policy.explain import explain

    _, gov, _ = clinic("duckdb")
    decision = gov.check_sql("SELECT name, email, ssn FROM patients", gov.principal("ben"))
    assert not decision.allowed  # the nurse may not select ssn
    decision = gov.check_sql("SELECT name, email FROM patients", gov.principal("ben"))
    assert "classification:patients.email:EMAIL_ADDRESS" in decision.policies
    e = explain(gov.bundle, "SELECT name, email FROM patients", gov.principal("ben"), hash_key=TEST_HASH_KEY)
    assert "classification" in e.annotated_sql and "EMAIL_ADDRESS" in e.annotated_sql


def test_an_unclassified_introspected_catalog_scans_every_string_then_classification_masks(tmp_path, clinic):
    """Introspected from the database, the catalog has no PII types: every string of a result is
    scanned (and the decision says so); once classified (catalog.yaml), masks follow the classes."""
    from govern.bundle import Catalog

    conn, _, _ = clinic("duckdb")
    introspected = Catalog.introspect(conn)
    assert not any(c.pii for t in introspected for c in t.columns)
    gov = Governor.from_path(CLINIC, audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY, catalog=introspected)
    assert gov.bundle.unclassified
    result = gov.execute(conn, "SELECT id, ssn, email FROM patients ORDER BY id", gov.principal("ana"))
    assert any("not classified" in note for note in result.decision.notes)
    shown = repr(result.rows)
    assert not [raw for (t, _, c), raw in clinic_data.RAW.items() if t == "patients" and c in ("ssn", "email")
                and raw and raw in shown]
    classified = Governor.from_path(CLINIC, audit=tmp_path / "t2.jsonl", hash_key=TEST_HASH_KEY)
    assert not classified.bundle.unclassified and not classified.check_sql("SELECT 1", classified.principal("ana")).notes


@pytest.mark.parametrize("engine", ENGINES)
def test_introspect_classify_then_masks_follow(engine, clinic, tmp_path):
    """`govern catalog classify` on the clinic database proposes the PII classes from names and
    sampled values (and free text for the notes); a bundle using the proposed catalog masks them."""
    from govern.bundle import Catalog
    from govern.classify import catalog_yaml, classify
    from govern.pii import PiiEngine

    conn, gov, _ = clinic(engine)
    schema = "clinic" if engine == "postgres" else None
    catalog = Catalog.introspect(conn, schema)
    proposals = {(p.table, p.column): p for p in classify(conn, catalog, PiiEngine(gov.bundle.rules.pii), dialect=engine)}
    if engine == "postgres":
        conn.commit()
    for (table, column), kind in CLASSIFIED.items():
        assert proposals[(table, column)].pii == kind, (table, column, proposals[(table, column)])
    assert proposals[("notes", "body")].free_text
    assert not proposals[("appointments", "reason")].pii and not proposals[("appointments", "reason")].free_text
    bundle = tmp_path / "clinic"
    shutil.copytree(CLINIC, bundle)
    (bundle / "catalog.yaml").write_text(catalog_yaml(catalog, list(proposals.values())))
    classified = Governor.from_path(bundle, audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY)
    got = dict(rows(classified, conn, "SELECT id, email FROM patients", "ana", engine))
    assert all(v is None or PLACEHOLDER.match(v) for v in got.values()) and got


def test_catalog_classify_cli(tmp_path, clinic):
    from govern.cli import main

    conn, _, _ = clinic("sqlite")
    path = tmp_path / "copy.sqlite"
    conn.execute(f"VACUUM INTO '{path}'")
    out = tmp_path / "catalog.yaml"
    assert main(["catalog", "classify", "--db", str(path), "-o", str(out), "--policies", str(CLINIC)]) == 0
    text = out.read_text()
    assert "pii: US_SSN" in text and "free_text: true" in text and "sampled values" in text
    assert main(["catalog", "classify", "--db", str(tmp_path / "missing.duckdb")]) == 2
