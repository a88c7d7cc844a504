"""Result masking is not an oracle (issue 10, item 3; red team round 6, finding 1).

With an introspected catalog nobody classified, every string of a result is scanned. Names
read from the data (``pii.name_sources``, every row of them) are matched only in result
columns whose value *is* a stored column: a string the query supplies or computes is judged
by what looks at the string alone, so a guessed name comes back the same whether or not some
hidden row holds it. Stored names are still masked.
"""

from __future__ import annotations

import secrets
import sqlite3

import duckdb
import pytest

from govern import Governor
from govern.audit import AuditTrail
from tests import clinic_data
from tests.conftest import ROOT, TEST_HASH_KEY, connect_postgres_or_skip

CLINIC = ROOT / "tests" / "bundles" / "clinic"
HIDDEN, NOBODY = "Lena Kowalski", "Zed Unknownperson"  # Lena is a patient of clinic 1; bill works at clinic 2
GUESSES = [
    "SELECT '{g}' AS guess FROM invoices LIMIT 1",
    "SELECT '{g}' || '' AS guess FROM invoices LIMIT 1",
    "SELECT '{g}' || ' ' || name AS guess FROM patients WHERE id = 3",
    "SELECT name FROM patients WHERE id = 3 UNION ALL SELECT '{g}'",
    "SELECT * FROM (VALUES ('{g}')) AS v(guess)",
    "WITH t AS (SELECT '{g}' AS name) SELECT name FROM t",
]


@pytest.fixture(params=["duckdb", "postgres", "sqlite"])
def unclassified(request):
    from govern.bundle import Catalog

    engine, schema = request.param, None
    if engine == "duckdb":
        conn = duckdb.connect()
    elif engine == "sqlite":
        conn = sqlite3.connect(":memory:", check_same_thread=False)
    else:
        conn = connect_postgres_or_skip(autocommit=True)
        schema = f"oracle_{secrets.token_hex(4)}"
    clinic_data.load(conn, engine, *([schema] if schema else []))
    if schema:
        conn.execute(f'SET search_path TO "{schema}"')
    gov = Governor.from_path(CLINIC, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY,
                             catalog=Catalog.introspect(conn, schema))
    assert gov.bundle.unclassified
    yield engine, conn, gov
    if schema:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.mark.parametrize("template", GUESSES)
def test_a_guessed_name_comes_back_alike_whether_or_not_a_hidden_row_holds_it(unclassified, template):
    engine, conn, gov = unclassified
    bill = gov.principal("bill")

    def shown(guess: str) -> list:
        rows = gov.execute(conn, template.format(g=guess), bill, engine).rows
        return [tuple(str(v).replace(guess, "<GUESS>") for v in row) for row in rows]

    assert shown(HIDDEN) == shown(NOBODY)


def test_stored_names_are_still_masked(unclassified):
    engine, conn, gov = unclassified
    bill = gov.principal("bill")
    stored = gov.execute(conn, "SELECT p.name FROM patients p ORDER BY p.id", bill, engine).rows
    raw = {r[0] for r in conn.execute("SELECT name FROM patients").fetchall()}
    assert stored and not any(value in raw for (value,) in stored), stored
