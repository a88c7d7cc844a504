"""Entity-level access (issue 3): entities, scopes, propagation through foreign-key paths.

Differential cases run the same SQL as every demo principal against govern's
governed SQL (base tables) and against the hand-written oracle views of
tests/oracle/demo_views.py (which state the customer entity's scopes as plain
joins), on DuckDB and on PostgreSQL. The other tests pin each rule of the
semantics in docs/policy-bundle.md ("Entities") on the demo data.
"""

from __future__ import annotations

import re
import shutil

import pytest

from govern import Governor, Principal
from govern.audit import AuditTrail
from govern.bundle import Catalog, load_bundle
from govern.entities import clear_cache, suggest_members
from govern.entities import scope as scope_module
from govern.errors import Denied, PolicyLoadError
from tests.conftest import POLICIES, TEST_HASH_KEY, connect_postgres_or_skip
from tests.demo_oracle import DuckOracle, PgOracle
from tests.test_demo_differential import compare

ENTITY_CASES = {
    # multi-hop members: order_items -> orders -> customers
    "multi-hop-member": "SELECT count(*), sum(quantity) FROM order_items",
    "multi-hop-member-grouped": "SELECT product, count(*), sum(quantity * unit_price) FROM order_items GROUP BY product",
    "multi-hop-member-joined-to-key-table": (
        "SELECT c.id, count(oi.id) FROM customers c JOIN orders o ON o.customer_id = c.id "
        "JOIN order_items oi ON oi.order_id = o.id GROUP BY c.id"
    ),
    # self-joins of a member table
    "member-self-join": "SELECT count(*) FROM orders a JOIN orders b ON a.customer_id = b.customer_id AND a.id < b.id",
    "member-self-join-left": (
        "SELECT a.id, count(b.id) FROM accounts a LEFT JOIN accounts b ON b.customer_id = a.customer_id AND b.id <> a.id GROUP BY a.id"
    ),
    "key-table-self-join": "SELECT count(*) FROM customers a JOIN customers b ON a.account_manager_id = b.account_manager_id AND a.id < b.id",
    # a member reached directly and through a CTE in one query
    "member-direct-and-through-cte": (
        "WITH big AS (SELECT id, customer_id FROM orders WHERE total > 200) "
        "SELECT (SELECT count(*) FROM big), (SELECT count(*) FROM orders), "
        "(SELECT count(*) FROM big JOIN orders o ON o.id = big.id)"
    ),
    "member-cte-named-like-member": "WITH orders AS (SELECT * FROM orders WHERE total > 100) SELECT count(*) FROM orders",
    "member-in-nested-cte": (
        "WITH a AS (SELECT order_id FROM order_items), b AS (SELECT o.customer_id FROM orders o JOIN a ON a.order_id = o.id) "
        "SELECT count(*), count(DISTINCT customer_id) FROM b"
    ),
    # set-operation arms, correlated and scalar subqueries, LATERAL
    "members-in-set-operation-arms": "SELECT customer_id FROM orders UNION SELECT customer_id FROM support_tickets",
    "member-except-key": "SELECT customer_id FROM accounts EXCEPT SELECT id FROM customers",
    "correlated-multi-hop": (
        "SELECT c.id, (SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.customer_id = c.id) FROM customers c"
    ),
    "exists-member": "SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM support_tickets t WHERE t.customer_id = c.id)",
    "lateral-member": "SELECT c.id, x.n FROM customers c, LATERAL (SELECT count(*) AS n FROM accounts a WHERE a.customer_id = c.id) x",
    # the lookup table of a scope (assignments) read by the user's own query too
    "lookup-table-read-by-user": (
        "SELECT a.agent_id, count(*) FROM assignments a JOIN customers c ON c.id = a.customer_id GROUP BY a.agent_id"
    ),
    "lookup-table-in-subquery": "SELECT count(*) FROM customers WHERE id IN (SELECT customer_id FROM assignments)",
    "cte-shadows-lookup-table": (
        "WITH assignments AS (SELECT 22 AS agent_id, id AS customer_id FROM regions) SELECT count(*) FROM customers"
    ),
    "cte-shadows-key-table-for-members": (
        "WITH customers AS (SELECT id, 1 AS account_manager_id FROM regions) SELECT count(*) FROM order_items"
    ),
    "tickets-of-scoped-customers": "SELECT t.status, count(*) FROM support_tickets t GROUP BY t.status",
}


@pytest.fixture(scope="module")
def duck(demo_db_path, tmp_path_factory):
    return DuckOracle(demo_db_path, tmp_path_factory.mktemp("duck-entities"), TEST_HASH_KEY)


@pytest.fixture(scope="module")
def pg(demo_db_path):
    conn = connect_postgres_or_skip(autocommit=True)
    yield PgOracle(conn, demo_db_path, TEST_HASH_KEY)
    conn.close()


@pytest.mark.parametrize("name", sorted(ENTITY_CASES))
def test_entity_cases_duckdb(name, quiet_gov, duck):
    stats = {"denied": 0, "equal": 0, "capped": 0}
    compare(quiet_gov, duck, ENTITY_CASES[name], "duckdb", stats)
    assert stats["equal"] >= 1


@pytest.mark.parametrize("name", sorted(ENTITY_CASES))
def test_entity_cases_postgres(name, quiet_gov, pg):
    stats = {"denied": 0, "equal": 0, "capped": 0}
    compare(quiet_gov, pg, ENTITY_CASES[name], "postgres", stats)
    assert stats["equal"] >= 1


def count(gov, conn, sql, principal, dialect="duckdb"):
    decision = gov.check_sql(sql, principal, dialect=dialect)
    assert decision.allowed, decision.reasons
    return conn.execute(decision.sql, decision.params or None).fetchall()[0][0]


# ---- the scopes restrict, and compose with row filters -----------------------------


def test_scope_restricts_beyond_row_filters(quiet_gov, demo_duckdb):
    eve = quiet_gov.principal("eve")
    raw = demo_duckdb.execute(
        "SELECT count(*) FROM customers WHERE region = 'EU' AND tenant = 'acme'").fetchone()[0]
    own = demo_duckdb.execute(
        "SELECT count(*) FROM customers WHERE region = 'EU' AND tenant = 'acme' AND account_manager_id = 1").fetchone()[0]
    assert 0 < own < raw
    assert count(quiet_gov, demo_duckdb, "SELECT count(*) FROM customers", eve) == own
    items = demo_duckdb.execute(
        "SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN customers c ON c.id = o.customer_id "
        "WHERE c.account_manager_id = 1 AND c.tenant = 'acme' AND o.region = 'EU'").fetchone()[0]
    assert count(quiet_gov, demo_duckdb, "SELECT count(*) FROM order_items", eve) == items


def test_scope_is_a_semi_join_along_the_path(quiet_gov):
    sql = quiet_gov.check_sql("SELECT count(*) FROM order_items", quiet_gov.principal("eve"), dialect="postgres").sql
    # the scope's path, merged with the other semi-joins into the same keys (govern.sql.semijoin)
    assert re.search(r'"order_items"\."order_id" IN \(SELECT orders\.id FROM main\.orders WHERE .*'
                     r'orders\.customer_id IN \(SELECT c\.id FROM main\.customers AS c WHERE .*'
                     r'c\."account_manager_id" = 1\)\)', sql), sql


def test_lookup_is_schema_qualified_and_not_capturable(quiet_gov, demo_duckdb):
    sam = quiet_gov.principal("sam")
    decision = quiet_gov.check_sql(
        "WITH assignments AS (SELECT 22 AS agent_id, id AS customer_id FROM customers) SELECT count(*) FROM customers",
        sam, dialect="duckdb")
    assert '"main"."assignments"' in decision.sql
    assert "assignments_cte1" in decision.sql  # the user's CTE was renamed away from the lookup's name
    assigned = demo_duckdb.execute("SELECT count(DISTINCT customer_id) FROM assignments WHERE agent_id = 22").fetchone()[0]
    assert demo_duckdb.execute(decision.sql).fetchone()[0] == assigned


def test_principal_with_no_matching_scope_sees_nothing(tmp_path, demo_duckdb):
    # sales_rep keeps its grants and row filters but loses its entity scope
    bundle = copy_bundle(tmp_path, lambda rules: rules.replace(
        "  - id: customer-account-manager-own-book\n    entity: customer\n    roles: [sales_rep]\n",
        "  - id: customer-account-manager-own-book\n    entity: customer\n    roles: [nobody]\n"))
    gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    eve = gov.principal("eve")
    for table in ("customers", "accounts", "orders", "order_items", "support_tickets"):
        assert count(gov, demo_duckdb, f"SELECT count(*) FROM {table}", eve) == 0, table
    assert count(gov, demo_duckdb, "SELECT count(*) FROM employees", eve) > 0  # not a member: unaffected
    # a sales lead still has its own scope (TRUE)
    assert count(gov, demo_duckdb, "SELECT count(*) FROM orders", gov.principal("lena")) > 0


def test_scope_matching_no_instance_sees_nothing(quiet_gov, demo_duckdb):
    # a support agent with no assignments: the lookup scope applies and selects no customer
    stranger = Principal("x", ["support_agent"], {"employee_id": 99999})
    assert count(quiet_gov, demo_duckdb, "SELECT count(*) FROM customers", stranger) == 0
    assert count(quiet_gov, demo_duckdb, "SELECT count(*) FROM support_tickets", stranger) == 0


def test_missing_attribute_denies_naming_it_and_the_scope(quiet_gov):
    nobody = Principal("nobody", ["sales_rep"], {"region": "EU", "tenant": "acme"})
    decision = quiet_gov.check_sql("SELECT count(*) FROM order_items", nobody)
    assert not decision.allowed
    assert any("employee_id" in r and "customer-account-manager-own-book" in r for r in decision.reasons), decision.reasons
    # a table outside the entity does not need it
    assert quiet_gov.check_sql("SELECT count(*) FROM regions", nobody).allowed


def test_missing_key_list_attribute_denies():
    from tests.corpus import harness

    gov = Governor.from_path(harness.POLICY_DIR / "car_dealership", audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    otto = Principal("otto", ["accountant"], {"books_open": "2023-03-20", "approval_limit": 1})
    decision = gov.check_sql("SELECT count(*) FROM payments_received", otto, dialect="postgres")
    assert not decision.allowed and any("'ledger'" in r for r in decision.reasons), decision.reasons


def test_key_list_scope_binds_typed_literals_and_empty_list_matches_nothing():
    from tests.corpus import harness

    gov = Governor.from_path(harness.POLICY_DIR / "car_dealership", audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    otto = Principal("otto", ["accountant"], {"books_open": "2023-03-20", "approval_limit": 1, "ledger": [1, 2]})
    sql = gov.check_sql("SELECT count(*) FROM sales", otto, dialect="postgres").sql
    assert '"sales"."customer_id" IN (1, 2)' in sql
    empty = Principal("otto", ["accountant"], {"books_open": "2023-03-20", "approval_limit": 1, "ledger": []})
    sql = gov.check_sql("SELECT count(*) FROM payments_received", empty, dialect="postgres").sql
    assert "IN ()" not in sql and "FALSE" in sql.upper()


def test_table_in_two_entities_applies_both(tmp_path, demo_duckdb):
    # support_tickets belongs to the customer entity (customer_id) and to an agent entity (agent_id)
    bundle = copy_bundle(tmp_path, lambda rules: rules.replace("entity_scopes:\n", """  - name: agent
    table: employees
    members:
      - {table: support_tickets, path: ["agent_id -> employees.id"]}
entity_scopes:
  - id: agent-support-lead-team
    entity: agent
    roles: [support_lead]
    keys: team
  - id: agent-support-agent-self
    entity: agent
    roles: [support_agent]
    where: "id = :principal.employee_id"
  - id: agent-everyone-else
    entity: agent
    roles: [sales_rep, auditor]
    where: "TRUE"
""", 1).replace("support_tickets       # support_tickets.customer_id -> customers.id",
               "{table: support_tickets, path: [\"customer_id -> customers.id\"]}"))
    gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    tara = Principal("tara", ["support_lead"], {"region": "EU", "employee_id": 33, "team": [21, 25]})
    expected = demo_duckdb.execute(
        "SELECT count(*) FROM support_tickets t WHERE (t.agent_id = 33 OR t.region = 'EU') "
        "AND t.customer_id IN (SELECT id FROM customers WHERE region = 'EU' "
        "  OR id IN (SELECT customer_id FROM assignments WHERE agent_id = 33)) "
        "AND t.agent_id IN (21, 25, 33)").fetchone()[0]  # her team, or herself (support_agent scope)
    only_customer = demo_duckdb.execute(
        "SELECT count(*) FROM support_tickets t WHERE (t.agent_id = 33 OR t.region = 'EU')").fetchone()[0]
    assert 0 < expected < only_customer
    decision = gov.check_sql("SELECT count(*) FROM support_tickets", tara)
    assert {"agent-support-lead-team", "agent-support-agent-self", "customer-support-lead-own-region"} <= set(decision.policies)
    assert demo_duckdb.execute(decision.sql).fetchone()[0] == expected
    # the agent entity's key table is scoped too; principals with a TRUE scope are not restricted by it
    assert count(gov, demo_duckdb, "SELECT count(*) FROM employees", tara) == 3
    assert count(gov, demo_duckdb, "SELECT count(*) FROM employees", gov.principal("sam")) == 1
    assert count(gov, demo_duckdb, "SELECT count(*) FROM employees", gov.principal("ada")) == 40
    # an empty team and no tickets of her own: no ticket passes the agent entity
    lone = Principal("n", ["support_lead"], {"region": "EU", "employee_id": 34, "team": []})
    assert count(gov, demo_duckdb, "SELECT count(*) FROM support_tickets", lone) == 0


def test_entity_without_scopes_governs_nothing(tmp_path, demo_duckdb):
    bundle = copy_bundle(tmp_path, lambda rules: re.sub(r"entity_scopes:\n(  - .*\n|    .*\n)+", "", rules))
    gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    assert not gov.bundle.rules.entity_scopes
    sql = gov.check_sql("SELECT count(*) FROM orders", gov.principal("eve")).sql
    assert "account_manager_id" not in sql
    rows_only = demo_duckdb.execute(
        "SELECT count(*) FROM orders WHERE region = 'EU' AND customer_id IN (SELECT id FROM customers WHERE tenant = 'acme')"
    ).fetchone()[0]
    assert count(gov, demo_duckdb, "SELECT count(*) FROM orders", gov.principal("eve")) == rows_only


# ---- loading: paths, suggestions, errors with file:line ------------------------------


def test_paths_suggested_from_catalog_foreign_keys(quiet_gov):
    bundle = quiet_gov.bundle
    paths = {t: [str(h) for h in b.path] for t, p in bundle.policies.items() for b in p.entities}
    assert paths["accounts"] == ["accounts.customer_id -> customers.id"]
    assert paths["order_items"] == ["order_items.order_id -> orders.id", "orders.customer_id -> customers.id"]
    assert paths["support_tickets"] == ["support_tickets.customer_id -> customers.id"]
    assert paths["customers"] == []
    suggested = suggest_members(bundle.catalog, bundle.catalog.table("customers"), "id")
    assert set(suggested) == {"accounts", "orders", "order_items", "support_tickets", "assignments"}


@pytest.mark.parametrize("engine", ["duckdb", "sqlite", "postgres"])
def test_foreign_keys_introspected_and_paths_suggested(engine, demo_db_path, tmp_path):
    import duckdb

    if engine == "duckdb":
        conn = duckdb.connect(str(demo_db_path), read_only=True)
        catalog = Catalog.introspect(conn)
    elif engine == "sqlite":
        import sqlite3

        conn = sqlite3.connect(":memory:")
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));"
            "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders);")
        catalog = Catalog.introspect(conn)
    else:
        conn = connect_postgres_or_skip(autocommit=True)
        conn.execute("DROP SCHEMA IF EXISTS govern_fk_test CASCADE")
        conn.execute("CREATE SCHEMA govern_fk_test")
        conn.execute(
            "CREATE TABLE govern_fk_test.customers (id INTEGER PRIMARY KEY, region TEXT);"
            "CREATE TABLE govern_fk_test.orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES govern_fk_test.customers(id));"
            "CREATE TABLE govern_fk_test.order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES govern_fk_test.orders)")
        catalog = Catalog.introspect(conn, "govern_fk_test")
        conn.execute("DROP SCHEMA govern_fk_test CASCADE")
    conn.close()
    customers = catalog.table("customers")
    assert customers.primary_key == ("id",)
    suggested = suggest_members(catalog, customers, "id")
    assert [str(h) for h in suggested["order_items"][0]] == ["order_items.order_id -> orders.id", "orders.customer_id -> customers.id"]


def test_bundle_with_introspected_catalog_suggests_member_paths(demo_db_path, tmp_path):
    import duckdb

    conn = duckdb.connect(str(demo_db_path), read_only=True)
    catalog = Catalog.introspect(conn)
    conn.close()
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle)
    (bundle / "catalog.yaml").unlink()
    loaded = load_bundle(bundle, catalog=catalog)
    assert [str(h) for h in loaded.table_policy("order_items").entities[0].path] == [
        "order_items.order_id -> orders.id", "orders.customer_id -> customers.id"]


BAD = {
    "unknown key": ("entities:\n  - name: c\n    table: customers\n    colour: red\n", "unknown key"),
    "unknown table": ("entities:\n  - name: c\n    table: nope\n", "unknown table 'nope'"),
    "unknown member": ("entities:\n  - name: c\n    table: customers\n    members: [nope]\n", "unknown table 'nope'"),
    "bad key": ("entities:\n  - name: c\n    table: customers\n    key: nope\n", "has no column 'nope'"),
    "no primary key": ("entities:\n  - name: c\n    table: assignments\n", "no single-column primary key"),
    "bad hop": ("entities:\n  - name: c\n    table: customers\n    members:\n      - {table: orders, path: [customer_id]}\n",
                "is not 'column -> table.column'"),
    "path not at key": ("entities:\n  - name: c\n    table: customers\n    members:\n      - {table: orders, path: ['id -> order_items.id']}\n",
                        "must end at the entity's key"),
    "no fk path": ("entities:\n  - name: c\n    table: customers\n    members: [regions]\n", "no foreign-key path"),
    "member twice": ("entities:\n  - name: c\n    table: customers\n    members: [orders, orders]\n", "already a member"),
    "key table as member": ("entities:\n  - name: c\n    table: customers\n    members: [customers]\n", "already the entity's key table"),
    "scope unknown entity": ("entity_scopes:\n  - {id: s, entity: nope, where: 'TRUE'}\n", "unknown entity 'nope'"),
    "scope two kinds": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, where: 'TRUE', keys: ids}\n",
                        "exactly one of"),
    "scope no kind": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c}\n", "exactly one of"),
    "scope bad column": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, where: 'nope = 1'}\n",
                         "has no column 'nope'"),
    "scope bad placeholder": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, where: 'id = :x'}\n",
                              "only :principal.NAME"),
    "lookup bad table": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, lookup: {table: nope, key: a, where: 'TRUE'}}\n",
                         "unknown table 'nope'"),
    "lookup bad key": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, lookup: {table: assignments, key: nope, where: 'TRUE'}}\n",
                       "has no column 'nope'"),
    "scope id reused": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: accounts-auditor-all-rows, entity: c, where: 'TRUE'}\n",
                        "already used"),
    "bad keys attribute": ("entities:\n  - {name: c, table: customers}\nentity_scopes:\n  - {id: s, entity: c, keys: 'a b'}\n", "keys"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_entity_rules_fail_with_file_and_line(name, tmp_path):
    snippet, message = BAD[name]
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle)
    rules = (bundle / "rules.yaml").read_text()
    rules = re.sub(r"\n# --- entities.*?\ncolumn_masks:\n", "\ncolumn_masks:\n", rules, flags=re.S)
    (bundle / "rules.yaml").write_text(rules + snippet)
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle)
    problems = err.value.problems
    assert any(message in p and re.match(r"rules\.yaml:\d+: ", p) for p in problems), problems
    line = int(re.match(r"rules\.yaml:(\d+): ", next(p for p in problems if message in p)).group(1))
    assert line > rules.count("\n")  # points into the snippet, not at the top of the file


def test_ambiguous_foreign_key_paths_are_a_load_error(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle)
    catalog = (bundle / "catalog.yaml").read_text()
    # a second foreign key from support_tickets to employees: two one-hop paths
    catalog = catalog.replace(
        "      - {columns: [agent_id], references: {table: employees, columns: [id]}}\n      - {columns: [region]",
        "      - {columns: [agent_id], references: {table: employees, columns: [id]}}\n"
        "      - {columns: [customer_id], references: {table: employees, columns: [id]}}\n      - {columns: [region]", 1)
    (bundle / "catalog.yaml").write_text(catalog)
    rules = (bundle / "rules.yaml").read_text() + "  # agent\n"
    rules = rules.replace("entity_scopes:\n", "  - name: agent\n    table: employees\n    members: [support_tickets]\nentity_scopes:\n", 1)
    (bundle / "rules.yaml").write_text(rules)
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle)
    assert any("several foreign-key paths" in p and "choose one with 'path'" in p for p in err.value.problems), err.value.problems


# ---- Governor.entity_scope ------------------------------------------------------------


def test_entity_scope_predicate_without_connection(gov):
    scope = gov.entity_scope(gov.principal("eve"), "customer")
    assert scope.sql("postgres") == '"customers"."account_manager_id" = 1'
    assert scope.scopes == ("customer-account-manager-own-book",)
    assert scope.keys is None and not scope.unrestricted
    assert scope.keys_query("postgres") == (
        'SELECT DISTINCT "customers"."id" FROM "main"."customers" WHERE "customers"."account_manager_id" = 1')


def test_entity_scope_resolves_keys_and_caches_them(gov, demo_duckdb, monkeypatch):
    clear_cache()
    sam = gov.principal("sam")
    scope = gov.entity_scope(sam, "customer", demo_duckdb)
    expected = {r[0] for r in demo_duckdb.execute("SELECT customer_id FROM assignments WHERE agent_id = 22").fetchall()}
    assert scope.keys == expected and not scope.cached
    assert scope.allows(next(iter(expected))) and not scope.allows(-1)
    again = gov.entity_scope(sam, "customer", demo_duckdb)
    assert again.cached and again.keys == expected
    # another principal (other attributes) is another cache entry
    other = Principal("sam", ["support_agent"], {"region": "NA", "employee_id": 21})
    assert not gov.entity_scope(other, "customer", demo_duckdb).cached
    # the TTL is bounded: after it, keys are read again
    now = scope_module.time.monotonic()
    monkeypatch.setattr(scope_module.time, "monotonic", lambda: now + scope_module.TTL_SECONDS + 1)
    assert not gov.entity_scope(sam, "customer", demo_duckdb).cached


def test_entity_scope_on_postgres_matches_duckdb(gov, demo_duckdb, pg):
    clear_cache()
    tara = gov.principal("tara")
    on_duck = gov.entity_scope(tara, "customer", demo_duckdb)
    pg.conn.execute("SET search_path TO main")
    on_pg = gov.entity_scope(tara, "customer", pg.conn)
    assert on_pg.dialect == "postgres" and on_pg.keys == on_duck.keys and len(on_pg.keys) > 0


def test_entity_scope_no_scope_unrestricted_missing_attribute_unknown(gov, demo_duckdb):
    none = gov.entity_scope(Principal("x", ["nobody"]), "customer", demo_duckdb)
    assert none.empty and none.keys == frozenset() and none.sql() == "FALSE"
    ada = gov.entity_scope(gov.principal("ada"), "customer", demo_duckdb)
    assert ada.unrestricted and ada.sql() == "TRUE" and ada.allows(12345)
    with pytest.raises(Denied) as denied:
        gov.entity_scope(Principal("y", ["sales_rep"], {"region": "EU"}), "customer")
    assert "employee_id" in denied.value.reasons[0] and "customer-account-manager-own-book" in denied.value.reasons[0]
    with pytest.raises(KeyError, match="entities: customer"):
        gov.entity_scope(gov.principal("eve"), "nope")


def test_entity_scope_is_audited(gov, audit_path):
    gov.entity_scope(gov.principal("eve"), "customer")
    with pytest.raises(Denied):
        gov.entity_scope(Principal("y", ["sales_rep"], {}), "customer")
    import json

    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    scoped = [r for r in records if r["action"] == "entity_scope"]
    assert [r["decision"] for r in scoped] == ["allow", "deny"]
    assert scoped[0]["policies"] == ["customer-account-manager-own-book"]


def test_entity_scope_keys_are_what_the_rewriter_shows(quiet_gov, demo_duckdb):
    for pid in ("eve", "sam", "tara"):
        principal = quiet_gov.principal(pid)
        scope = quiet_gov.entity_scope(principal, "customer", demo_duckdb)
        # the scope alone (row filters aside): customers visible with every row filter removed
        ids = {r[0] for r in demo_duckdb.execute(f"SELECT id FROM customers WHERE {scope.sql('duckdb')}").fetchall()}
        assert ids == scope.keys


# ---- helpers ------------------------------------------------------------------------


def copy_bundle(tmp_path, edit) -> str:
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle)
    rules = bundle / "rules.yaml"
    before = rules.read_text()
    after = edit(before)
    assert after != before, "the edit did not apply"
    rules.write_text(after)
    return str(bundle)


def test_suggest_cli_prints_yaml(capsys):
    from govern.entities.__main__ import main

    assert main([str(POLICIES), "customers"]) == 0
    out = capsys.readouterr().out
    assert 'path: ["order_id -> orders.id", "customer_id -> customers.id"]' in out
    assert "- table: support_tickets" in out


def test_demo_shows_entity_scopes(quiet_gov, demo_duckdb):
    from rich.console import Console

    from govern.demo.show import show_entity_scopes

    console = Console(record=True, width=200)
    show_entity_scopes(console, quiet_gov, [quiet_gov.principal(p) for p in ("eve", "sam", "ada")], demo_duckdb)
    text = console.export_text()
    assert "entity customer" in text and "order_items (order_items -> orders -> customers)" in text
    assert "customer-account-manager-own-book" in text and "customer-support-agent-assigned" in text
    assert '"customers"."account_manager_id" = 1' in text


def test_several_scopes_on_a_member_table_are_one_semi_join(quiet_gov, demo_duckdb):
    """Two scopes of one principal on a member table combine into one semi-join on the OR of
    their key sets; the rows are those of the OR of the two semi-joins (no dangling keys here)."""
    both = Principal("x", ["sales_rep", "support_agent"], {"region": "EU", "tenant": "acme", "employee_id": 21})
    decision = quiet_gov.check_sql("SELECT id FROM orders", both)
    # one semi-join into customers: the tenant rule's too (govern.sql.semijoin merges on the key)
    assert decision.sql.count('"orders"."customer_id" IN (SELECT') == 1
    assert decision.sql.count("IN (SELECT") == 2  # customers, and the lookup inside it
    assert " OR \"customers\".\"id\" IN (SELECT \"assignments\".\"customer_id\"" in decision.sql
    expected = demo_duckdb.execute(
        "SELECT id FROM orders WHERE region = 'EU' AND customer_id IN (SELECT id FROM customers WHERE tenant = 'acme') "
        "AND (customer_id IN (SELECT id FROM customers WHERE account_manager_id = 21) "
        "     OR customer_id IN (SELECT customer_id FROM assignments WHERE agent_id = 21))").fetchall()
    got = demo_duckdb.execute(decision.sql, decision.params or None).fetchall()
    assert sorted(got) == sorted(expected) and got
