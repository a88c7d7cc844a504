"""govern's resolver (govern/sql/scope.py): every column reference bound to exactly one source.

Each case is checked on the tree (what govern binds) and, where it runs, against DuckDB's own
answer for the same query over the demo data (what the engine binds), so a rule that differs
from the engine's is a failing test, not a guess.
"""

from __future__ import annotations

import pytest

from tests.conftest import TEST_HASH_KEY  # noqa: F401


def decide(gov, sql, who="ada", dialect="duckdb"):
    return gov.check_sql(sql, gov.principal(who), dialect=dialect)


@pytest.mark.parametrize("sql, needle", [
    ("SELECT nope FROM customers", "unknown column nope"),
    ("SELECT c.nope FROM customers c", "unknown column customers.nope"),
    ("SELECT id FROM customers a JOIN orders b ON a.id = b.customer_id", "column id is ambiguous"),
    ("SELECT (SELECT col9 FROM (VALUES (1)) v) FROM customers", "unknown column col9"),
    ("SELECT x FROM customers, unnest([1, 2], [3, 4]) AS u", "needs a column alias list"),
    ("SELECT zzz.name FROM customers", "unknown table or alias zzz"),
    ("SELECT name FROM customers c, (SELECT 1 AS name) d", "column name is ambiguous"),
    ("SELECT -id AS id FROM orders ORDER BY id + 1", "both a column and an output alias"),
    ("SELECT * FROM customers PIVOT (count(*) FOR region IN ('EU'))", "PIVOT"),
    ("SELECT * FROM ROWS FROM (generate_series(1, 2)) AS r(a)", "ROWS FROM"),
    ("SELECT c.x FROM (SELECT 1 AS x, 2 AS x) c", "ambiguous"),
])
def test_unbindable_or_ambiguous_names_are_denied_by_name(quiet_gov, sql, needle):
    decision = decide(quiet_gov, sql, dialect="postgres" if "ROWS FROM" in sql else "duckdb")
    assert not decision.allowed
    assert any(needle in reason for reason in decision.reasons), decision.reasons


@pytest.mark.parametrize("sql", [
    "WITH npi AS (SELECT 1 AS npi) SELECT npi FROM npi",                      # a column named like its CTE
    "SELECT npi FROM (SELECT 1 AS npi) AS npi",
    "SELECT -id AS id FROM orders ORDER BY id",                                # ORDER BY names the output
    "SELECT date_trunc('month', ordered_at) AS ordered_at, count(*) FROM orders GROUP BY ordered_at",
    "SELECT id + 1 AS id, id * 2 AS twice FROM orders",                        # a later item reads the column
    "SELECT t.id FROM orders t WHERE EXISTS (SELECT 1 FROM (VALUES (1)) AS v(one) WHERE t.id = v.one)",
    "SELECT (SELECT col0 FROM (VALUES (1)) v) FROM customers",                 # DuckDB names VALUES col0..
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
    "SELECT a FROM (SELECT id FROM regions) AS x(a) ORDER BY a",
    "SELECT region, c.id, o.id FROM customers c JOIN orders o USING (region) WHERE region = 'EU' AND o.id < 40",
    "SELECT * FROM customers c JOIN orders o USING (region) WHERE region = 'EU' AND o.id < 40",
    "SELECT o.id FROM orders o, LATERAL (SELECT o.total * 2 AS t2) l WHERE l.t2 > 10",
    "SELECT u FROM customers c, unnest([c.id, c.id + 1]) AS u",
    "SELECT now(), date_part('year', ordered_at), strftime(ordered_at, '%Y') FROM orders",
])
def test_names_bind_as_the_engine_binds_them(quiet_gov, demo_duckdb, sql):
    decision = decide(quiet_gov, sql)
    assert decision.allowed, decision.reasons
    expected = sorted(map(repr, demo_duckdb.execute(sql).fetchall()))[:1000]
    got = sorted(map(repr, demo_duckdb.execute(decision.sql, decision.params or None).fetchall()))
    assert got == expected if len(expected) < 1000 else len(got) == 1000


def test_columns_read_through_any_path_are_recorded(quiet_gov):
    decision = decide(quiet_gov, "SELECT (SELECT max(x.total) FROM (SELECT * FROM orders) x WHERE x.customer_id = c.id) "
                                 "FROM customers c")
    assert {"orders.total", "orders.customer_id", "customers.id"} <= set(decision.columns)
    star = decide(quiet_gov, "SELECT count(*) FROM (SELECT * FROM regions) r")
    assert {"regions.id", "regions.code", "regions.name"} <= set(star.columns)


def test_denied_query_records_what_it_asked_for(quiet_gov):
    decision = decide(quiet_gov, "SELECT name, national_id FROM customers", "eve")
    assert not decision.allowed and "customers.national_id" in decision.columns and "customers.name" in decision.columns


@pytest.mark.parametrize("depth", [20, 100])
def test_deep_and_wide_queries_are_bounded(quiet_gov, depth):
    chain = "SELECT 1 AS c0"
    for i in range(1, depth):
        chain = f"SELECT c{i - 1} AS c{i} FROM ({chain}) s{i}"
    assert decide(quiet_gov, chain).allowed
    ctes = "WITH q0 AS (SELECT id AS v FROM regions)" + "".join(
        f", q{i} AS (SELECT a.v FROM q{i - 1} a JOIN q{i - 1} b ON a.v = b.v)" for i in range(1, depth))
    decision = decide(quiet_gov, ctes + f" SELECT v FROM q{depth - 1}")
    assert decision.allowed or any("too complex" in r for r in decision.reasons), decision.reasons


def test_analysis_budget_denies_with_a_reason(tmp_path):
    import shutil

    from govern import Governor
    from govern.audit import AuditTrail
    from tests.conftest import POLICIES

    bundle = tmp_path / "b"
    shutil.copytree(POLICIES, bundle)
    rules = bundle / "rules.yaml"
    rules.write_text(rules.read_text().replace("  max_rows: 1000\n", "  max_rows: 1000\n  max_analysis_steps: 1000\n"))
    gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    wide = "SELECT " + ", ".join(f"id + {i} AS c{i}" for i in range(400)) + " FROM orders"
    decision = gov.check_sql(wide, gov.principal("ada"))
    assert not decision.allowed and any(r.startswith("query too complex") for r in decision.reasons)
    assert gov.check_sql("SELECT id FROM orders", gov.principal("ada")).allowed


def test_a_governed_column_is_one_output_whichever_path_reaches_it():
    """A governed table makes its outputs only as names reach them (scope._Resolver.table_output):
    a qualified name, a star and a USING join must still share one Output per column (lineage and
    plan_fences compare them), a hidden column reached by name is denied, and every source joined
    on a USING column lists its outputs (plan_fences reads them)."""
    from sqlglot import exp, parse_one

    from govern.sql.scope import Budget, TableInfo, analyze

    tree = parse_one("SELECT t.b, * FROM t JOIN u USING (a) WHERE t.c = 1 AND u.b > 0", read="duckdb")
    tables = {id(node): (i, TableInfo(node.name, ("a", "b", "c"), ("a", "b")))
              for i, node in enumerate(tree.find_all(exp.Table))}
    analysis = analyze(tree, "duckdb", tables, {}, Budget(10_000))
    by_sql = {column.sql(): analysis.bindings.get(id(column)) for column in tree.find_all(exp.Column)
              if not isinstance(column.this, exp.Star)}
    star = {o.base: o for o in analysis.root.outputs if o.base is not None}
    refs = {node.name: i for i, node in enumerate(tree.find_all(exp.Table))}
    assert by_sql["t.b"].output is star[(refs["t"], "b")]
    assert by_sql["u.b"].output is star[(refs["u"], "b")]
    assert analysis.denied == [((refs["t"], "c"), "t.c")]
    assert not analysis.problems
    tree = parse_one("SELECT a FROM t JOIN u USING (a)", read="duckdb")  # no star lists the outputs here
    tables = {id(node): (i, TableInfo(node.name, ("a", "b", "c"), ("a", "b")))
              for i, node in enumerate(tree.find_all(exp.Table))}
    analysis = analyze(tree, "duckdb", tables, {}, Budget(10_000))
    holders = [s for sources in analysis.root.merged.values() for s in sources]
    assert len(holders) == 2 and all(s.outputs and [o.name for o in s.outputs] == ["a", "b", "c"] for s in holders)


def test_references_to_one_table_column_share_its_binding_and_each_is_denied():
    """A governed table's column is bound once per FROM item (Output.binding): every reference to it,
    qualified or not, in any clause, gets that binding; a hidden one is still denied once per
    reference, in the order written; the same column of another FROM item of the table is another
    binding."""
    from sqlglot import exp, parse_one

    from govern.sql.scope import Budget, TableInfo, analyze

    tree = parse_one("SELECT t.c, c, t.a FROM t JOIN t AS s ON s.a = t.a WHERE t.c = 1 ORDER BY t.a, s.c",
                     read="postgres")
    tables = {id(node): (i, TableInfo(node.name, ("a", "b", "c"), ("a", "b")))
              for i, node in enumerate(tree.find_all(exp.Table))}
    analysis = analyze(tree, "postgres", tables, {}, Budget(10_000))
    assert analysis.problems == ["column c is ambiguous (t.c, s.c); qualify it"]
    columns = [c for c in tree.find_all(exp.Column)]
    bound = {c.sql(): [analysis.bindings[id(x)] for x in columns if x.sql() == c.sql()] for c in columns if c.sql() != "c"}
    assert all(len({id(b) for b in same}) == 1 for same in bound.values())
    assert bound["t.a"][0] is not bound["s.a"][0] and bound["t.c"][0] is not bound["s.c"][0]
    assert bound["t.a"][0].output.base == (0, "a") and bound["s.a"][0].output.base == (1, "a")
    assert [base for base, _ in analysis.denied] == [(0, "c"), (0, "c"), (1, "c")]  # t.c twice, s.c once
    tree = parse_one("SELECT c, t.c FROM t WHERE c > 0", read="postgres")
    tables = {id(node): (0, TableInfo("t", ("a", "b", "c"), ("a", "b"))) for node in tree.find_all(exp.Table)}
    analysis = analyze(tree, "postgres", tables, {}, Budget(10_000))
    assert len({id(analysis.bindings[id(c)]) for c in tree.find_all(exp.Column)}) == 1
    assert len(analysis.denied) == 3 and not analysis.problems
