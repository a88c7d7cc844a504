"""Each pass of the SQL pipeline on its own, over a SqlContext."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from govern import Principal
from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.passes import PASSES, authorize, cap_rows, check_statement, resolve, rewrite
from govern.sql.passes.resolve import defining_cte


@pytest.fixture()
def ctx_for(quiet_gov):
    def make(sql, pid="eve", dialect="duckdb", upto=None):
        bundle = quiet_gov.bundle
        principal = quiet_gov.principal(pid)
        ctx = SqlContext(sql=sql, principal=principal, dialect=dialect, bundle=bundle, hash_key="k",
                         roles=bundle.grants.expand_roles(tuple(principal.roles)))
        for step in PASSES:
            if step is upto:
                break
            step(ctx)
        return ctx

    return make


def test_pipeline_order():
    assert [p.__name__ for p in PASSES] == ["parse", "check_statement", "resolve", "authorize", "plan_fences", "rewrite",
                                           "cap_rows", "emit", "verify_output"]


# --- parse
def test_parse_one_statement(ctx_for):
    ctx = ctx_for("SELECT 1;", upto=check_statement)
    assert isinstance(ctx.tree, exp.Select)


@pytest.mark.parametrize("sql,needle", [("SELECT 1; SELECT 2", "2 statements"), ("", "empty"), ("SELECT FROM WHERE (", "parse")])
def test_parse_denials(ctx_for, sql, needle):
    with pytest.raises(Denied, match=needle):
        ctx_for(sql, upto=check_statement)


def test_parse_refuses_operators_sqlglot_misreads(ctx_for):
    """pgvector's `<=>` would become IS NOT DISTINCT FROM: a different query, so it is denied;
    the same characters inside a string, or the real IS NOT DISTINCT FROM, are fine."""
    with pytest.raises(Denied, match="<=>"):
        ctx_for("SELECT id FROM orders ORDER BY id <=> 3", dialect="postgres", upto=check_statement)
    assert ctx_for("SELECT '<=>' AS x FROM orders", dialect="postgres", upto=check_statement).tree is not None
    assert ctx_for("SELECT id FROM orders WHERE id IS NOT DISTINCT FROM 3", dialect="postgres", upto=check_statement).tree


@pytest.mark.parametrize("depth", [600, 3000])
def test_parse_bounds_nesting(ctx_for, depth):
    with pytest.raises(Denied, match="nest"):
        ctx_for("SELECT " + "(" * depth + "1" + ")" * depth, upto=check_statement)


def test_parse_unknown_dialect(ctx_for):
    with pytest.raises(Denied, match="dialect"):
        ctx_for("SELECT 1", dialect="no-such-sql", upto=check_statement)


# --- check_statement
@pytest.mark.parametrize("sql", ["SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a", "SELECT 1 UNION SELECT 2", "(SELECT 1)",
                                 "SELECT * FROM UNNEST([1, 2])"])
def test_check_statement_allows_queries(ctx_for, sql):
    ctx_for(sql, upto=resolve)


def test_check_statement_collects_every_reason(ctx_for):
    with pytest.raises(Denied) as err:
        ctx_for("SELECT read_csv('a'), pg_read_file('b'), $1", upto=resolve)
    assert len(err.value.reasons) == 3


# --- resolve
def tables(sql, dialect="postgres"):
    tree = sqlglot.parse_one(sql, read=dialect)
    return [(t.name, defining_cte(t) is not None) for t in tree.find_all(exp.Table)]


def test_cte_visible_in_main_body_only():
    assert ("t", True) in tables("WITH t AS (SELECT 1) SELECT * FROM t")
    assert sorted(tables("SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) x, t")) == [("t", False), ("t", True)]


def test_cte_body_sees_earlier_siblings_not_itself_or_later():
    got = tables("WITH a AS (SELECT * FROM a), b AS (SELECT * FROM a), c AS (SELECT * FROM d), d AS (SELECT 1) SELECT 1")
    assert sorted(got) == [("a", False), ("a", True), ("d", False)]


def test_recursive_cte_sees_itself():
    assert ("r", True) in tables("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r")


def test_qualified_name_is_never_a_cte():
    assert tables("WITH t AS (SELECT 1) SELECT * FROM public.t") == [("t", False)]


def test_resolve_renames_ctes_named_like_tables(ctx_for):
    ctx = ctx_for("WITH customers AS (SELECT 1 AS id) SELECT customers.id FROM customers", upto=authorize)
    assert not ctx.references
    assert ctx.tree.sql() == "WITH customers_cte1 AS (SELECT 1 AS id) SELECT customers.id FROM customers_cte1 AS customers"


def test_resolve_denies_unsupported_table_modifiers(ctx_for):
    with pytest.raises(Denied, match="column alias lists"):
        ctx_for("SELECT * FROM customers AS c(a, b)", upto=authorize)


# --- authorize
def test_authorize_records_tables_and_columns(ctx_for):
    ctx = ctx_for("SELECT c.name FROM customers c WHERE c.region = 'EU'", upto=rewrite)
    assert ctx.tables == ["customers"] and ctx.columns == {"customers.name", "customers.region"}


def test_authorize_names_every_denied_column(ctx_for):
    with pytest.raises(Denied) as err:
        ctx_for("SELECT national_id, e.salary FROM customers c JOIN employees e ON e.id = c.account_manager_id", upto=rewrite)
    assert len(err.value.reasons) == 2


def test_star_records_all_permitted_columns(ctx_for):
    ctx = ctx_for("SELECT * FROM customers", upto=rewrite)
    assert "customers.email" in ctx.columns and "customers.national_id" not in ctx.columns


# --- rewrite
def test_rewrite_replaces_every_reference_and_caches_templates(ctx_for, quiet_gov):
    ctx = ctx_for("SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM orders p WHERE p.id = o.id)", upto=cap_rows)
    assert not list(ctx.tree.find_all(exp.Table)) or all(
        t.db or t.name == "_govern_scan" for t in ctx.tree.find_all(exp.Table)
    ), "every remaining table is govern's own qualified scan or fence"
    assert ("orders", ctx.roles, "duckdb") in quiet_gov.bundle.templates._data


def test_rewrite_keeps_alias(ctx_for):
    ctx = ctx_for("SELECT o.id FROM orders AS o", upto=cap_rows)
    assert ctx.tree.args["from_"].this.alias == "o"


# --- cap_rows
@pytest.mark.parametrize("sql,expected", [("SELECT 1", "LIMIT 1000"), ("SELECT 1 LIMIT 5", "LIMIT 5"),
                                          ("SELECT 1 LIMIT 99999", "LIMIT 1000"), ("SELECT 1 UNION SELECT 2", "LIMIT 1000")])
def test_cap_rows(ctx_for, sql, expected):
    ctx = ctx_for(sql)
    assert ctx.governed_sql.endswith(expected)


def test_cap_rows_wraps_computed_limits(ctx_for):
    ctx = ctx_for("SELECT 1 LIMIT (SELECT 5)")
    assert ctx.governed_sql.startswith("SELECT * FROM (") and ctx.governed_sql.endswith("LIMIT 1000")


@pytest.mark.parametrize("dialect, needle", [("tsql", "TOP 1000"), ("clickhouse", "LIMIT 1000")])
def test_cap_survives_generation_in_every_dialect(quiet_gov, dialect, needle):
    """The SQL sent is the SQL verified: generating twice once dropped T-SQL's TOP and
    ClickHouse's outer LIMIT on a set operation."""
    ada = quiet_gov.principal("ada")
    for sql in ("SELECT code FROM regions", "SELECT code FROM regions UNION ALL SELECT code FROM regions"):
        decision = quiet_gov.check_sql(sql, ada, dialect=dialect)
        assert decision.allowed and needle in decision.sql, decision.sql


# --- emit
def test_emit_drops_comments_and_keeps_dialect(ctx_for):
    ctx = ctx_for("SELECT /* x */ id FROM orders -- y", dialect="postgres")
    assert "/*" not in ctx.governed_sql and '"main"."orders"' in ctx.governed_sql


def test_emit_sqlite_has_no_left_right(quiet_gov):
    decision = quiet_gov.check_sql("SELECT left(name, 2), right(email, 3) FROM customers", quiet_gov.principal("ada"), dialect="sqlite")
    assert "LEFT(" not in decision.sql and "RIGHT(" not in decision.sql and "SUBSTRING(" in decision.sql


def test_principal_values_are_typed_literals(quiet_gov):
    p = Principal("q", ["sales_rep"], {"region": "EU' OR '1'='1", "tenant": "acme", "employee_id": 1})
    tree = sqlglot.parse_one(quiet_gov.check_sql("SELECT id FROM orders", p).sql, read="duckdb")
    literals = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
    assert "EU' OR '1'='1" in literals


# --- verify_output: the second line behind check_statement's verbatim-text invariant
INJECTIONS = [
    ("SELECT EXTRACT(\"EPOCH FROM created_at) AS a, (SELECT string_agg(national_id, ',') FROM main.customers) AS leak, "
     "EXTRACT(EPOCH\" FROM created_at) FROM customers", "postgres", "'table', 'customers'"),
    ("SELECT email, EXTRACT(\"EPOCH FROM created_at) AS a, CAST($1 AS TEXT) AS k, EXTRACT(EPOCH\" FROM created_at) FROM customers",
     "duckdb", "'parameter'"),
    ("SELECT EXTRACT(\"EPOCH FROM created_at) AS a, pg_read_file('/etc/passwd') AS b, EXTRACT(EPOCH\" FROM created_at) FROM customers",
     "postgres", "pg_read_file"),
]


@pytest.mark.parametrize("sql,dialect,needle", INJECTIONS)
def test_verbatim_text_injection_denied_by_check_statement(quiet_gov, sql, dialect, needle):
    decision = quiet_gov.check_sql(sql, quiet_gov.principal("ada"), dialect=dialect)
    assert not decision.allowed and "plain words" in decision.reasons[0]


@pytest.mark.parametrize("sql,dialect,needle", INJECTIONS)
def test_verify_output_catches_what_the_first_line_misses(quiet_gov, monkeypatch, sql, dialect, needle):
    import sys

    monkeypatch.setattr(sys.modules["govern.sql.passes.check_statement"], "verbatim_text", lambda node: [])
    decision = quiet_gov.check_sql(sql, quiet_gov.principal("ada"), dialect=dialect)
    assert not decision.allowed
    assert "internal check" in decision.reasons[0] and needle in decision.reasons[0], decision.reasons
