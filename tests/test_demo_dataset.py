"""The demo dataset (govern/demo), the demo bundle's data assumptions, and the oracle views."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from govern.demo.dataset import (
    ACCOUNT_MANAGER_IDS,
    SUPPORT_AGENT_IDS,
    TABLE_NAMES,
    TABLES,
    build_demo_db,
    luhn_valid,
    main,
)
from govern.demo.questions import QUESTIONS

try:
    from tests.oracle.demo_views import DEMO_TABLES, PRINCIPALS, create_oracle_views
    from tests.oracle.demo_pg import PG_DSN, load_demo_into_postgres
except ImportError:  # tests/ not importable as a package: pytest put tests/ itself on sys.path
    from oracle.demo_views import DEMO_TABLES, PRINCIPALS, create_oracle_views  # type: ignore[no-redef]
    from oracle.demo_pg import PG_DSN, load_demo_into_postgres  # type: ignore[no-redef]

POLICIES = Path(__file__).resolve().parents[1] / "policies"
HASH_KEY = "k3y-with-'quote-ünïcode"


def content_hashes(path: Path) -> dict[str, str]:
    """table -> SHA-256 over every row (ordered by all columns) of the table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = ", ".join(t.column_names)
            rows = con.execute(f"SELECT {cols} FROM {t.name} ORDER BY {cols}").fetchall()
            out[t.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("demo") / "demo.duckdb")


@pytest.fixture()
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------- dataset


def test_build_is_deterministic_and_seed_dependent(tmp_path, demo_db):
    again = build_demo_db(tmp_path / "again.duckdb")
    assert content_hashes(again) == content_hashes(demo_db)
    other = build_demo_db(tmp_path / "other.duckdb", seed=8)
    differing = {t for t, h in content_hashes(other).items() if h != content_hashes(demo_db)[t]}
    assert {"customers", "orders", "support_tickets"} <= differing
    assert "regions" not in differing


def test_build_overwrites_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "db.duckdb"
    target.write_text("not a database")
    assert build_demo_db(target) == target
    con = duckdb.connect(str(target), read_only=True)
    assert scalar(con, "SELECT count(*) FROM customers") == 400
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.duckdb"]


def test_cli_builds(tmp_path, capsys):
    assert main([str(tmp_path / "cli.duckdb"), "--seed", "7"]) == 0
    assert "customers" in capsys.readouterr().out
    assert content_hashes(tmp_path / "cli.duckdb")["customers"]


def test_row_counts(con):
    counts = {t: scalar(con, f"SELECT count(*) FROM {t}") for t in TABLE_NAMES}
    assert counts["regions"] == 4
    assert counts["employees"] == 40
    assert counts["customers"] == 400
    assert counts["accounts"] == 600
    assert counts["orders"] == 2000
    assert 4500 <= counts["order_items"] <= 5500
    assert counts["support_tickets"] == 800
    assert 400 <= counts["assignments"] <= 560


def test_schema_matches_catalog_yaml(con):
    catalog = yaml.safe_load((POLICIES / "catalog.yaml").read_text())["tables"]
    assert sorted(catalog) == sorted(TABLE_NAMES)
    for table in TABLE_NAMES:
        db_cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        spec = catalog[table]
        assert [(c["name"], c["type"]) for c in spec["columns"]] == db_cols, table
        ddl = next(t for t in TABLES if t.name == table)
        assert spec["primary_key"] == list(ddl.primary_key)
        fks = [(fk["columns"], fk["references"]["table"], fk["references"]["columns"]) for fk in spec.get("foreign_keys", [])]
        assert sorted(map(repr, fks)) == sorted(repr((list(c), t, list(r))) for c, t, r in ddl.foreign_keys)


def test_foreign_keys_hold(con):
    for table in TABLES:
        for cols, ref_table, ref_cols in table.foreign_keys:
            (col,), (ref,) = cols, ref_cols
            orphans = scalar(
                con,
                f"SELECT count(*) FROM {table.name} AS x WHERE x.{col} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {ref_table} AS r WHERE r.{ref} = x.{col})",
            )
            assert orphans == 0, f"{table.name}.{col} -> {ref_table}.{ref}"
    # primary keys are unique (DuckDB enforces it; checked anyway)
    for table in TABLES:
        pk = ", ".join(table.primary_key)
        assert scalar(con, f"SELECT count(*) - count(DISTINCT ({pk})) FROM {table.name}") == 0


def test_data_invariants_the_bundle_relies_on(con):
    # a customer's accounts, orders and tickets carry the customer's region
    for table in ("accounts", "orders", "support_tickets"):
        assert scalar(con, f"SELECT count(*) FROM {table} x JOIN customers c ON c.id = x.customer_id WHERE x.region <> c.region") == 0
    # tickets are handled by one of the customer's assigned agents, of the same region
    assert scalar(con, """SELECT count(*) FROM support_tickets t WHERE NOT EXISTS (
        SELECT 1 FROM assignments a WHERE a.agent_id = t.agent_id AND a.customer_id = t.customer_id)""") == 0
    assert scalar(con, """SELECT count(*) FROM assignments a JOIN employees e ON e.id = a.agent_id
        JOIN customers c ON c.id = a.customer_id WHERE e.region <> c.region OR e.role <> 'support_agent'""") == 0
    # account managers manage customers of their own region
    assert scalar(con, """SELECT count(*) FROM customers c JOIN employees e ON e.id = c.account_manager_id
        WHERE e.region <> c.region OR e.role <> 'account_manager'""") == 0
    # order totals are the sum of their items
    assert scalar(con, """SELECT count(*) FROM orders o JOIN (SELECT order_id, SUM(quantity * unit_price) AS s
        FROM order_items GROUP BY order_id) i ON i.order_id = o.id WHERE i.s <> o.total""") == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE id NOT IN (SELECT order_id FROM order_items)") == 0
    assert set(r[0] for r in con.execute("SELECT DISTINCT tenant FROM customers").fetchall()) == {"acme", "globex", "initech"}
    assert scalar(con, r"SELECT count(*) FROM customers WHERE NOT regexp_full_match(national_id, '\d{3}-\d{2}-\d{4}')") == 0
    assert scalar(con, "SELECT count(DISTINCT national_id) FROM customers") == 400
    assert scalar(con, "SELECT count(DISTINCT email) FROM customers") == 400


def test_employee_layout_matches_the_principals(con):
    roles = dict(con.execute("SELECT id, role || '/' || region FROM employees").fetchall())
    assert all(roles[i].startswith("account_manager/") for i in ACCOUNT_MANAGER_IDS)
    assert all(roles[i].startswith("support_agent/") for i in SUPPORT_AGENT_IDS)
    expected = {"eve": "account_manager/EU", "lena": "sales_lead/NA", "sam": "support_agent/NA",
                "tara": "support_lead/EU", "ada": "auditor/EU"}
    principals = {p["id"]: p for p in yaml.safe_load((POLICIES / "principals.yaml").read_text())["principals"]}
    for pid, role_region in expected.items():
        emp = principals[pid]["attributes"]["employee_id"]
        assert roles[emp] == role_region, pid
        name = scalar(con, f"SELECT name FROM employees WHERE id = {emp}")
        assert name.lower().startswith(pid)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+\d{1,2}[ (]*\d{1,3}\)?[ -]\d[\d -]{5,}\d")
CARD = re.compile(r"\b\d(?:[ -]?\d){14,15}\b")
IBAN = re.compile(r"\b(?:DE|NL)\d{2}(?: ?[A-Z0-9]{4}){3,4}(?: ?[A-Z0-9]{2})?\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


def test_ticket_bodies_carry_pii(con):
    rows = con.execute("""SELECT t.subject, t.body, c.name, c.email FROM support_tickets t
        JOIN customers c ON c.id = t.customer_id""").fetchall()
    n = len(rows)
    has = {"email": 0, "phone": 0, "card": 0, "iban": 0, "ssn": 0, "name": 0}
    for subject, body, name, email in rows:
        cards = [m.group() for m in CARD.finditer(IBAN.sub("<iban>", body))]
        assert all(luhn_valid(c) for c in cards), cards
        has["email"] += bool(EMAIL.search(body))
        has["phone"] += bool(PHONE.search(body))
        has["card"] += bool(cards)
        has["iban"] += bool(IBAN.search(body))
        has["ssn"] += bool(SSN.search(body))
        has["name"] += name in body or name.split()[0] in body
        assert EMAIL.search(body) or PHONE.search(body) or cards, body
    assert has["email"] > 0.6 * n
    assert has["phone"] > 0.4 * n
    assert has["card"] > 0.3 * n
    assert has["iban"] > 0.1 * n
    assert has["ssn"] > 0.1 * n
    assert has["name"] == n
    assert any(name in subject for subject, _, name, _ in rows)  # some subjects name the customer too


def test_test_card_numbers_are_luhn_valid():
    from govern.demo.dataset import TEST_CARDS

    assert all(luhn_valid(c) for c in TEST_CARDS)
    assert not luhn_valid("4111111111111112")


def test_questions_run_on_the_raw_database(con):
    assert 6 <= len(QUESTIONS) <= 8
    assert any("SELECT *" in sql for _, sql in QUESTIONS)
    assert any(sql.lstrip().upper().startswith("WITH") for _, sql in QUESTIONS)
    assert any("national_id" in sql for _, sql in QUESTIONS)
    for title, sql in QUESTIONS:
        assert con.execute(sql).fetchall(), title


# --------------------------------------------------------------------------- oracle views


def test_oracle_principals_match_principals_yaml():
    from_file = yaml.safe_load((POLICIES / "principals.yaml").read_text())["principals"]
    assert {p["id"]: {"roles": p["roles"], "attributes": p["attributes"]} for p in from_file} == PRINCIPALS


@pytest.fixture(scope="module")
def oracle_db(demo_db, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """A copy of the demo db with every principal's oracle views in schema oracle_<id>."""
    path = tmp_path_factory.mktemp("oracle") / "oracle.duckdb"
    path.write_bytes(demo_db.read_bytes())
    c = duckdb.connect(str(path))
    for pid in PRINCIPALS:
        create_oracle_views(c, pid, f"oracle_{pid}", "duckdb", hash_key=HASH_KEY)
    yield c
    c.close()


def view_counts(c, pid: str) -> dict[str, int]:
    names = [r[0] for r in c.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = ? ORDER BY view_name", [f"oracle_{pid}"]).fetchall()]
    return {t: scalar(c, f"SELECT count(*) FROM oracle_{pid}.{t}") for t in names}


def test_oracle_views_differ_per_principal(oracle_db):
    counts = {pid: view_counts(oracle_db, pid) for pid in PRINCIPALS}
    assert set(counts["ada"]) == set(DEMO_TABLES)
    assert set(counts["eve"]) == set(DEMO_TABLES) - {"assignments"}
    assert set(counts["sam"]) == {"regions", "employees", "customers", "support_tickets", "assignments"}
    assert counts["ada"]["customers"] == 400 and counts["ada"]["support_tickets"] == 800
    # visibly different: every pair of principals sees different customer / ticket counts
    seen = [(c["customers"], c["support_tickets"]) for c in counts.values()]
    assert len(set(seen)) == len(seen), counts
    assert 0 < counts["eve"]["customers"] < counts["lena"]["customers"] < 400
    assert 0 < counts["sam"]["customers"] < counts["tara"]["customers"] < 400
    assert 0 < counts["sam"]["support_tickets"] < counts["tara"]["support_tickets"] < 800


def test_oracle_views_apply_filters_and_masks(oracle_db):
    c = oracle_db
    assert scalar(c, "SELECT count(*) FROM oracle_eve.customers WHERE region <> 'EU' OR tenant <> 'acme'") == 0
    assert scalar(c, "SELECT count(*) FROM oracle_eve.customers WHERE email NOT LIKE '***%'") == 0
    assert scalar(c, "SELECT count(*) FROM oracle_lena.customers WHERE tenant <> 'globex'") == 0
    assert scalar(c, "SELECT count(DISTINCT region) FROM oracle_lena.customers") == 4
    assert scalar(c, "SELECT count(*) FROM oracle_sam.support_tickets WHERE agent_id <> 22") == 0
    assert scalar(c, "SELECT count(*) FROM oracle_sam.customers WHERE phone NOT LIKE '***%'") == 0
    cols = lambda pid, t: [r[0] for r in c.execute(f"SELECT * FROM oracle_{pid}.{t} LIMIT 0").description]
    assert "national_id" not in cols("eve", "customers")
    assert "salary" not in cols("eve", "employees") and "salary" not in cols("lena", "employees")
    assert "body" not in cols("eve", "support_tickets") and "body" in cols("sam", "support_tickets")
    assert "account_manager_id" not in cols("sam", "customers")
    assert "salary" in cols("ada", "employees")
    # ada: name initial, hashed email, redacted phone, null national id, iban last 4
    row = c.execute("SELECT o.name, o.email, o.phone, o.national_id, r.name, r.email FROM oracle_ada.customers o "
                    "JOIN main.customers r USING (id) WHERE id = 1").fetchone()
    name, email_hash, phone, nid, raw_name, raw_email = row
    assert name == raw_name[0] + "." and phone == "[REDACTED]" and nid is None
    assert email_hash == hashlib.sha256((HASH_KEY + raw_email).encode("utf-8")).hexdigest()
    assert scalar(c, "SELECT count(*) FROM oracle_ada.accounts WHERE NOT regexp_full_match(iban, '\\*\\*\\*[0-9]{4}')") == 0


def test_oracle_rejects_unknown_principal(oracle_db):
    with pytest.raises(KeyError):
        create_oracle_views(oracle_db, "mallory", "oracle_mallory", "duckdb")


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg():
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(PG_DSN, connect_timeout=3)
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL not reachable: {err}")
    yield conn
    conn.close()


def test_load_demo_into_postgres_and_oracle_views_agree(pg, demo_db, oracle_db):
    schema = f"govern_demo_test_{os.getpid()}"
    view_schemas = [f"{schema}_{pid}" for pid in PRINCIPALS]
    try:
        counts = load_demo_into_postgres(pg, schema, duckdb_path=demo_db)
        src = duckdb.connect(str(demo_db), read_only=True)
        for t in TABLES:
            assert counts[t.name] == scalar(src, f"SELECT count(*) FROM {t.name}")
            cols = ", ".join(t.column_names)
            pg_rows = pg.execute(f'SELECT {cols} FROM "{schema}".{t.name} ORDER BY {cols}').fetchall()
            assert pg_rows == src.execute(f"SELECT {cols} FROM {t.name} ORDER BY {cols}").fetchall(), t.name
        src.close()
        types = dict(pg.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
            [schema]).fetchall())
        assert types["accounts.balance"] == "numeric" and types["support_tickets.opened_at"].startswith("timestamp")
        for pid, view_schema in zip(PRINCIPALS, view_schemas):
            names = create_oracle_views(pg, pid, view_schema, "postgres", hash_key=HASH_KEY, source_schema=schema)
            pg.commit()
            for t in names:
                a = sorted(pg.execute(f'SELECT * FROM "{view_schema}".{t}').fetchall(), key=repr)
                b = sorted(oracle_db.execute(f"SELECT * FROM oracle_{pid}.{t}").fetchall(), key=repr)
                assert a == b, (pid, t)
    finally:
        pg.rollback()
        for s in [*view_schemas, schema]:
            pg.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        pg.commit()


# --------------------------------------------------------------------------- govern against the oracle


def test_bundle_loads_and_select_star_matches_the_oracle(oracle_db, tmp_path):
    """`SELECT * FROM t` governed by govern gives the oracle view's columns and rows (DuckDB)."""
    govern = pytest.importorskip("govern")
    if not hasattr(govern, "Governor"):
        pytest.skip("govern.Governor not available yet")
    g = govern.Governor.from_path(POLICIES, hash_key=HASH_KEY, audit=tmp_path / "audit.jsonl")
    assert set(g.bundle.principals) == set(PRINCIPALS)
    for pid in PRINCIPALS:
        principal = g.principal(pid)
        visible = {r[0] for r in oracle_db.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = ?", [f"oracle_{pid}"]).fetchall()}
        for table in DEMO_TABLES:
            decision = g.check_sql(f"SELECT * FROM {table}", principal, dialect="duckdb")
            assert decision.allowed == (table in visible), (pid, table, decision.reasons)
            if not decision.allowed:
                assert table in " ".join(decision.reasons)
                continue
            got = oracle_db.execute(decision.sql, decision.params or None)
            columns, rows = [d[0] for d in got.description], got.fetchall()
            expected = oracle_db.execute(f"SELECT * FROM oracle_{pid}.{table}")
            assert columns == [d[0] for d in expected.description], (pid, table)
            expected_rows = expected.fetchall()
            assert len(rows) == min(len(expected_rows), 1000), (pid, table)  # limits.max_rows
            # Free text the principal may not see whole is an opaque handle in the governed SQL's
            # own result (gov.execute puts the masked text there); compare the other columns.
            opaque = [i for i, c in enumerate(columns)
                      if g.bundle.catalog.table(table).column(c).free_text and isinstance(rows[0][i], str)
                      and rows[0][i].startswith("[gv1:")] if rows else []
            strip = lambda row: tuple(v for i, v in enumerate(row) if i not in opaque)  # noqa: E731
            assert {strip(r) for r in rows} <= {strip(r) for r in expected_rows}, (pid, table)
            assert all(r[i] is None or r[i].startswith("[gv1:") for r in rows for i in opaque)
