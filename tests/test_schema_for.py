"""``gov.schema_for``: the schema a principal may see, checked against what governed queries do.

The oracle is the governor itself and the raw database: a column is listed exactly when a
query reading it is allowed; ``SELECT *`` returns exactly the listed columns, in order; a column
listed unmasked returns the stored value of every row, a masked one never does; a table not
said to be filtered returns every row, one said to show no rows returns none. Checked for the
demo principals and for generated principals (any role set, any attribute values). And the text
never depends on attribute values: two principals with the same roles and different values get
the same schema, so no filter value (theirs or another's) can be read from it.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern import Principal
from govern.schema import VisibleSchema

DEMO = ["eve", "lena", "sam", "tara", "ada"]
REGIONS = ["EU", "NA", "APAC", "LATAM", "Mars"]
TENANTS = ["acme", "globex", "initech", "nobody"]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_against_queries(gov, conn, principal: Principal) -> VisibleSchema:
    schema = gov.schema_for(principal, "duckdb")
    bundle = gov.bundle
    for table in bundle.catalog:
        shown = schema.table(table.name)
        for column in table.columns:
            allowed = gov.decide(f"SELECT {q(column.name)} FROM {q(table.name)}", principal, "duckdb")
            listed = shown is not None and shown.column(column.name) is not None
            if shown is not None and shown.denied:
                assert not allowed.allowed and listed == any(
                    c.name == column.name for c in shown.columns)
                continue
            assert listed == allowed.allowed, (principal.id, table.name, column.name, allowed.reasons)
        if shown is None or shown.denied:
            continue
        result = gov.execute(conn, f"SELECT * FROM {q(table.name)}", principal, "duckdb")
        assert result.columns == [c.name for c in shown.columns]
        raw_count = conn.execute(f"SELECT count(*) FROM {q(table.name)}").fetchone()[0]
        governed_count = gov.execute(conn, f"SELECT count(*) FROM {q(table.name)}", principal, "duckdb").rows[0][0]
        if shown.no_rows:
            assert result.rows == [] and governed_count == 0
        if not shown.rows_filtered:
            assert governed_count == raw_count
        key = table.primary_key[0] if len(table.primary_key) == 1 else None
        if key is None or shown.column(key) is None or shown.column(key).masked:
            continue
        raw = {r[0]: r[1:] for r in conn.execute(
            f"SELECT {q(key)}, {', '.join(q(c.name) for c in shown.columns)} FROM {q(table.name)}").fetchall()}
        at = result.columns.index(key)
        for row in result.rows:
            stored = raw[row[at]]
            for i, c in enumerate(shown.columns):
                if c.free_text or stored[i] is None:
                    continue
                if c.masked is None:
                    assert row[i] == stored[i], (principal.id, table.name, c.name)
                else:
                    assert row[i] != stored[i], (principal.id, table.name, c.name, c.masked)
    return schema


@pytest.mark.parametrize("who", DEMO)
def test_schema_matches_governed_queries_for_demo_principals(quiet_gov, demo_duckdb, who):
    schema = check_against_queries(quiet_gov, demo_duckdb, quiet_gov.principal(who))
    assert schema.tables, who


def test_what_the_text_says(quiet_gov):
    eve = quiet_gov.schema_for(quiet_gov.principal("eve"), "postgres")
    text = eve.text
    assert "national_id" not in text and "salary" not in text  # not granted / denied
    assert "  email VARCHAR,  -- masked: '***' followed by the last 12 characters" in text
    assert "-- customers: rows are filtered by policy" in text
    assert "FOREIGN KEY (customer_id) REFERENCES customers (id)" in text
    assert "every result is capped at 1000 rows" in text
    assert "INT" in eve.table("customers").column("id").type
    sam = quiet_gov.schema_for(quiet_gov.principal("sam"))
    assert {"accounts", "orders", "order_items"}.isdisjoint(sam.table_names)
    assert sam.table("support_tickets").column("body").free_text == "masked_text"
    # customers.account_manager_id is not granted to sam: no foreign key to employees is shown
    assert all(fk["references"]["table"] != "employees" for fk in sam.table("customers").foreign_keys)
    data = sam.to_dict()
    assert data["principal"] == "sam" and data["tables"][0]["columns"]


def test_a_principal_without_the_attribute_a_filter_needs_is_told(quiet_gov):
    p = Principal("x", ["sales_rep"], {"tenant": "acme", "employee_id": 1})  # no region
    schema = quiet_gov.schema_for(p)
    assert any("'region'" in d for d in schema.table("customers").denied)
    assert "every query on this table is denied for you" in schema.text


def test_no_role_sees_no_table(quiet_gov):
    schema = quiet_gov.schema_for(Principal("nobody", ["visitor"], {}))
    assert schema.tables == () and "no table is visible" in schema.text


roles_strategy = st.lists(st.sampled_from(["sales_rep", "sales_lead", "support_agent", "support_lead", "auditor", "visitor"]),
                          max_size=3, unique=True)


def attributes_strategy():
    return st.fixed_dictionaries({"region": st.sampled_from(REGIONS), "tenant": st.sampled_from(TENANTS),
                                  "employee_id": st.integers(0, 45)})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=roles_strategy, attributes=attributes_strategy())
def test_schema_matches_governed_queries_for_any_principal(quiet_gov, demo_db_path, roles, attributes):
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        check_against_queries(quiet_gov, conn, Principal("p", roles, attributes))
    finally:
        conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=roles_strategy, one=attributes_strategy(), other=attributes_strategy(),
       dialect=st.sampled_from(["duckdb", "postgres", "sqlite"]))
def test_the_schema_never_depends_on_attribute_values(quiet_gov, roles, one, other, dialect):
    a = quiet_gov.schema_for(Principal("p", roles, one), dialect)
    b = quiet_gov.schema_for(Principal("p", roles, other), dialect)
    assert a == b and a.text == b.text
