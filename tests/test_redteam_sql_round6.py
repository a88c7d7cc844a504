"""Red team, round 6: findings against the SQL guard, each a minimal reproducer.

Every test asserts the secure behaviour; each was an ``xfail(strict=True)`` reproducer until the
fix at the mechanism (see the lead's notes in each test's finding) removed the mark.
Engines: DuckDB, PostgreSQL (own schema with a random suffix; skipped or failed like
every PostgreSQL test) and SQLite, through ``gov.execute`` / ``gov.check_sql``.
"""

from __future__ import annotations

import secrets
import sqlite3

import duckdb
import pytest

from govern import Governor
from govern.audit import AuditTrail
from govern.errors import QueryDenied, QueryFailed
from tests import clinic_data
from tests.conftest import ROOT, TEST_HASH_KEY, connect_postgres_or_skip

CLINIC = ROOT / "tests" / "bundles" / "clinic"
ENGINES = ["duckdb", "postgres", "sqlite"]


def _clinic_connection(engine: str):
    """(connection, schema) holding the clinic's rows (tests/clinic_data.py)."""
    if engine == "duckdb":
        conn = duckdb.connect()
        clinic_data.load(conn, engine)
        return conn, None
    if engine == "sqlite":
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        clinic_data.load(conn, engine)
        return conn, None
    conn = connect_postgres_or_skip(autocommit=True)
    schema = f"rt6_clinic_{secrets.token_hex(4)}"
    clinic_data.load(conn, "postgres", schema)
    conn.execute(f'SET search_path TO "{schema}"')
    return conn, schema


@pytest.fixture(params=ENGINES)
def clinic_unclassified(request):
    """engine, connection and a governor over the clinic bundle with an introspected
    (not yet classified) catalog: every string of a result is scanned."""
    from govern.bundle import Catalog

    engine = request.param
    conn, schema = _clinic_connection(engine)
    catalog = Catalog.introspect(conn, schema)
    gov = Governor.from_path(CLINIC, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY, catalog=catalog)
    assert gov.bundle.unclassified
    yield engine, conn, gov
    if schema is not None:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


# ------------------------------------------------------------------ finding 1: masking oracle

def test_masking_a_guessed_name_does_not_reveal_hidden_rows(clinic_unclassified):
    engine, conn, gov = clinic_unclassified
    bill = gov.principal("bill")  # billing at clinic 2, no PERSON reveal
    visible = {r[0] for r in gov.execute(conn, "SELECT id FROM patients", bill, engine).rows}
    assert visible == {3, 4, 6}  # Lena Kowalski (id 1) and Omar Haddad (id 2) are clinic 1's

    def shown(guess: str):
        return gov.execute(conn, f"SELECT '{guess}' AS guess FROM invoices LIMIT 1", bill, engine).rows

    # A hidden patient's name and a name nobody has must come back alike (both as written,
    # or both masked): otherwise the mask answers "is X a patient of another clinic?".
    hidden, nobody = shown("Lena Kowalski"), shown("Zed Unknownperson")
    assert (hidden == [("Lena Kowalski",)]) == (nobody == [("Zed Unknownperson",)]), (hidden, nobody)


# ------------------------------------------------------------------ finding 2: handles are bearer tokens

@pytest.mark.parametrize("dialect", ENGINES)
def test_a_handle_from_another_principal_does_not_open_a_denied_column(dialect, free_text_worlds):
    world = free_text_worlds(dialect).a
    gov, conn = world.gov, world.conn
    tara, eve = gov.principal("tara"), gov.principal("eve")  # EU support lead; EU sales rep (body denied)
    assert not gov.check_sql("SELECT body FROM support_tickets", eve, dialect).allowed
    # A function over a handle shows it as it is; upper() is undone by lower().
    seen = dict(gov.execute(conn, "SELECT id, upper(body) FROM support_tickets", tara, dialect).rows)
    ticket = next(i for (i,) in gov.execute(conn, "SELECT id FROM support_tickets", eve, dialect).rows if i in seen)
    handle = seen[ticket].lower()
    raw_body = conn.execute(f"SELECT body FROM {'world_a.' if dialect == 'postgres' else ''}support_tickets "
                            f"WHERE id = {ticket}").fetchone()[0]
    if dialect == "postgres":
        conn.rollback()
    assert handle.startswith("[gv1:support_tickets.body:")
    rows = gov.execute(conn, f"SELECT subject, '{handle}' AS note FROM support_tickets WHERE id = {ticket}",
                       eve, dialect).rows
    shown = rows[0][1]
    assert shown == handle or "unavailable" in shown, f"eve read a denied column: {shown!r} (raw {raw_body[:40]!r}...)"


# ------------------------------------------------------------------ finding 3: DuckDB statistics gate the error channel

def _outcome(world, sql: str, principal) -> str:
    try:
        world.gov.execute(world.conn, sql, principal, world.dialect)
        return "rows"
    except QueryFailed:
        if world.dialect == "postgres":
            world.conn.rollback()
        return "error"


def _raw(world, sql: str):
    prefix = "world_a." if world.dialect == "postgres" else ""
    value = world.conn.execute(sql.format(p=prefix)).fetchone()[0]
    if world.dialect == "postgres":
        world.conn.rollback()
    return value


RAISES = {"duckdb": "CAST(c.name AS INT)", "postgres": "CAST(c.name AS INT)", "sqlite": "json_extract(c.name, '$')"}


@pytest.mark.parametrize("dialect", [
    "duckdb",
    "postgres", "sqlite"])
def test_whether_a_visible_row_raises_does_not_depend_on_hidden_rows_statistics(dialect, free_text_worlds):
    world = free_text_worlds(dialect).a
    eve = world.gov.principal("eve")
    (seen,) = world.gov.execute(world.conn, "SELECT max(customer_id) FROM orders", eve, dialect).rows[0]
    everyone = _raw(world, "SELECT max(customer_id) FROM {p}orders")
    assert everyone > seen + 1  # the largest customer_id with orders belongs to a row eve may not see
    probe = ("SELECT count(*) FROM orders o WHERE o.customer_id = {v} AND o.customer_id IN "
             f"(SELECT c.id FROM customers c WHERE {RAISES[dialect]} = 1)")
    # Neither constant is a customer_id of a row eve sees: the answer must not tell them apart.
    inside, outside = (_outcome(world, probe.format(v=v), eve) for v in (everyone, everyone + 1))
    assert inside == outside, f"{dialect}: customer_id = {everyone} -> {inside}, = {everyone + 1} -> {outside}"


# ------------------------------------------------------------------ finding 4: unbounded work per request

@pytest.mark.parametrize("dialect", ENGINES)
def test_a_query_with_thousands_of_table_references_is_denied_by_a_named_limit(dialect, quiet_gov):
    sql = "SELECT * FROM order_items" + "".join(f", order_items i{i}" for i in range(3000))
    decision = quiet_gov.check_sql(sql, quiet_gov.principal("eve"), dialect=dialect)
    assert not decision.allowed, f"governed into {len(decision.sql):,} characters from {len(sql):,}"
    assert any("limit" in r or "too" in r for r in decision.reasons), decision.reasons


# ------------------------------------------------------------------ finding 5: raising expressions in non-predicate
# positions of a correlated subquery run on hidden rows (EXISTS / IN judged leakproof as a whole)

RAISES_ON_O = {"duckdb": "CAST(o.region AS INT)", "postgres": "CAST(o.region AS INT)",
               "sqlite": "json_extract(o.region, '$')"}
CORRELATED_PROBES = [
    "EXISTS (SELECT 1 FROM regions r UNION SELECT CASE WHEN o.status = '{guess}' THEN {raises} END)",
    "EXISTS (SELECT row_number() OVER (ORDER BY CASE WHEN o.status = '{guess}' THEN {raises} END) FROM regions r)",
    "o.id IN (SELECT r.id FROM regions r ORDER BY CASE WHEN o.status = '{guess}' THEN {raises} END LIMIT 5)",
]


@pytest.mark.parametrize("probe", range(len(CORRELATED_PROBES)))
@pytest.mark.parametrize("dialect", [
    "duckdb",
    "postgres",
    "sqlite"])
def test_a_correlated_subquery_cannot_read_a_hidden_row_through_the_error_channel(dialect, probe, free_text_worlds):
    world = free_text_worlds(dialect).a
    eve = world.gov.principal("eve")
    visible = {i for (i,) in world.gov.execute(world.conn, "SELECT id FROM orders", eve, dialect).rows}
    hidden, status = next(
        (i, s) for i, s in world.conn.execute(
            "SELECT o.id, o.status FROM {p}orders o JOIN {p}customers c ON c.id = o.customer_id "
            "WHERE o.region = 'EU' AND c.tenant <> 'acme' ORDER BY o.id".format(
                p="world_a." if dialect == "postgres" else "")).fetchall() if i not in visible)
    if dialect == "postgres":
        world.conn.rollback()
    template = f"SELECT count(*) FROM orders o WHERE o.id = {hidden} AND {CORRELATED_PROBES[probe]}"
    right, wrong = (_outcome(world, template.format(guess=g, raises=RAISES_ON_O[dialect]), eve)
                    for g in (status, status + "-not"))
    assert right == wrong, f"{dialect}: hidden order {hidden}'s status {status!r} -> {right}, a wrong guess -> {wrong}"


@pytest.mark.parametrize("dialect", [
    "duckdb",
    "postgres",
    "sqlite"])
def test_a_correlated_subquery_error_does_not_quote_a_hidden_row(dialect, free_text_worlds, tmp_path):
    world = free_text_worlds(dialect).a
    trail = tmp_path / "trail.jsonl"
    gov = Governor(world.gov.bundle, audit=AuditTrail.to_file(trail), hash_key=TEST_HASH_KEY)
    sam = gov.principal("sam")  # NA support agent: only the customers assigned to him
    visible = {i for (i,) in gov.execute(world.conn, "SELECT id FROM customers", sam, dialect).rows}
    prefix = "world_a." if dialect == "postgres" else ""
    hidden = [(i, n) for i, n in world.conn.execute(f"SELECT id, name FROM {prefix}customers ORDER BY id").fetchall()
              if i not in visible][:3]
    if dialect == "postgres":
        world.conn.rollback()
    cast = "json_extract(c.name, '$')" if dialect == "sqlite" else "CAST(c.name AS INT)"
    for customer, name in hidden:
        sql = (f"SELECT count(*) FROM customers c WHERE c.id = {customer} AND EXISTS "
               f"(SELECT 1 FROM regions r UNION SELECT {cast})")
        try:
            shown = repr(gov.execute(world.conn, sql, sam, dialect).rows)
        except (QueryFailed, QueryDenied) as err:
            shown = str(err)
            if dialect == "postgres":
                world.conn.rollback()
        assert name not in shown, f"hidden customer {customer}'s name in {shown!r}"
    assert not [n for _, n in hidden if n in trail.read_text()], "a hidden customer's name in the audit trail"


# ------------------------------------------------------------------ finding 6: a raising subquery over visible rows,
# gated by leakproof predicates that run on hidden rows before the row filter's semi-joins

GATED = {"duckdb": "CAST(c.name AS INT)", "postgres": "CAST(c.name AS INT)", "sqlite": "json_extract(c.name, '$')"}


@pytest.mark.parametrize("dialect", [
    "duckdb",
    "postgres",
    "sqlite"])
def test_a_raising_subquery_over_visible_rows_is_not_gated_by_hidden_rows(dialect, free_text_worlds):
    world = free_text_worlds(dialect).a
    eve = world.gov.principal("eve")
    visible = {i for (i,) in world.gov.execute(world.conn, "SELECT id FROM orders", eve, dialect).rows}
    hidden, status = next(
        (i, s) for i, s in world.conn.execute(
            "SELECT o.id, o.status FROM {p}orders o JOIN {p}customers c ON c.id = o.customer_id "
            "WHERE o.region = 'EU' AND c.tenant <> 'acme' ORDER BY o.id".format(
                p="world_a." if dialect == "postgres" else "")).fetchall() if i not in visible)
    if dialect == "postgres":
        world.conn.rollback()
    template = (f"SELECT count(*) FROM orders o WHERE o.id = {hidden} AND o.status = '{{guess}}' AND o.customer_id IN "
                f"(SELECT c.id FROM customers c WHERE {GATED[dialect]} = 1)")
    right, wrong = (_outcome(world, template.format(guess=g), eve) for g in (status, status + "-not"))
    assert right == wrong, f"{dialect}: hidden order {hidden}'s status {status!r} -> {right}, a wrong guess -> {wrong}"
