"""documents.yaml loading (whole or not at all, file:line errors) and the one evaluator's forms agreeing."""

from __future__ import annotations

import random

import duckdb
import pytest

from govern import Governor, PolicyLoadError, Principal
from govern.audit import AuditTrail
from govern.retrieval import derive_filter, document_rules
from govern.bundle import document_predicate as P
from govern.retrieval.rules import FilterDenied
from tests.conftest import POLICIES, TEST_HASH_KEY
from tests.retrieval.conftest import make_bundle


def load(tmp_path, documents):
    return Governor.from_path(make_bundle(tmp_path, documents), audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)


def test_demo_bundle_loads_document_rules():
    gov = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    rules = document_rules(gov.bundle)
    assert set(rules.collections) >= {"support_kb", "sales_playbooks"}
    assert rules is gov.bundle.documents


def test_bundle_without_documents_file_loads_and_denies_retrieval(tmp_path):
    gov = load(tmp_path, None)
    assert document_rules(gov.bundle).collections == {}
    with pytest.raises(FilterDenied, match="no document rules"):
        derive_filter(document_rules(gov.bundle), "playbooks", gov.principal("eve"), frozenset({"sales_rep"}), lambda e: frozenset())


@pytest.mark.parametrize("text, expected", [
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x = 1\"\n        colour: red\n", "documents.yaml:7: collections.c.rules.0.colour: unknown key"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x IN (SELECT id FROM customers)\"\n", "documents.yaml:6: subqueries are not allowed"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x = :tenant\"\n", "documents.yaml:6: only :principal.NAME placeholders"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"lower(x) = 'a'\"\n", "documents.yaml:6: unsupported"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x IS NULL\"\n", "documents.yaml:6: IS [NOT] NULL is not supported"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x = \"\n", "documents.yaml:6: cannot parse"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x = 1\"\n      - id: a\n        where: \"y = 1\"\n", "documents.yaml:7: rule id 'a' is already used at documents.yaml:5"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"entity_scope('customer') = 1\"\n", "entity_scope(...) may only be used"),
    ("version: 1\ncollections:\n  c:\n    rules:\n      - id: a\n        where: \"x = y\"\n", "compare a metadata field with a value"),
    ("version: 1\ncollections:\n  c:\n  c:\n", "documents.yaml:4: duplicate key 'c'"),
    ("version: 1\ncollections:\n  c:\n    overfetch: 0\n", "documents.yaml:4: collections.c.overfetch"),
])
def test_load_errors_name_file_and_line(tmp_path, text, expected):
    with pytest.raises(PolicyLoadError) as err:
        load(tmp_path, text)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_missing_attribute_and_list_misuse_deny(rgov):
    rules, roles = document_rules(rgov.bundle), frozenset({"sales_rep"})
    with pytest.raises(FilterDenied, match="lacks attribute 'clearance', which document rule 'pb-rep-region' needs"):
        derive_filter(rules, "playbooks", rgov.principal("nocl"), roles, lambda e: frozenset())
    listy = Principal("x", ["sales_rep"], {"region": ["EU", "NA"], "tenant": "acme", "clearance": 1})
    flt = derive_filter(rules, "playbooks", listy, roles, lambda e: frozenset())  # a list inside IN (...) expands
    assert flt.matches({"region": "NA", "tenant": "acme", "classification": 0})
    bad = Principal("y", ["sales_rep"], {"region": "EU", "tenant": ["acme"], "clearance": 1})
    with pytest.raises(FilterDenied, match="is a list"):
        derive_filter(rules, "playbooks", bad, roles, lambda e: frozenset())


def test_no_applicable_rule_and_always_false_deny(rgov):
    rules = document_rules(rgov.bundle)
    with pytest.raises(FilterDenied, match="no document rule"):
        derive_filter(rules, "playbooks", rgov.principal("sam"), frozenset({"support_agent"}), lambda e: frozenset())
    with pytest.raises(FilterDenied, match="exclude every document"):  # empty entity scope
        derive_filter(rules, "accounts_notes", rgov.principal("sam"), frozenset({"support_agent"}), lambda e: frozenset())


def test_principal_values_are_literals_not_sql():
    node = P.parse_rule("tenant = :principal.tenant")
    bound = P.bind(node, {"tenant": "acme' OR '1'='1"}.__getitem__, lambda e: frozenset())
    sql = P.to_sql(bound, "duckdb")
    assert sql == """NOT "tenant" IS NULL AND ("tenant" = 'acme'' OR ''1''=''1')"""


RULES = [
    "tenant = :principal.tenant",
    "region IN ('global', :principal.region) AND classification <= :principal.clearance",
    "NOT (region = 'APAC') OR classification < 1",
    "classification BETWEEN 1 AND 2 AND tenant <> 'initech'",
    "customer_id IN entity_scope('customer') OR tenant = 'acme'",
    "customer_id NOT IN entity_scope('customer')",
    "region NOT IN ('EU', 'NA') AND NOT classification > 0",
    ":principal.tenant = 'acme' AND classification >= 1",
    "TRUE",
]


def _random_meta(rng: random.Random) -> dict:
    meta = {}
    for name, values in (("tenant", ["acme", "globex", None, 3]), ("region", ["global", "EU", "NA", "APAC", None]),
                         ("classification", [0, 1, 2, 1.5, None, "1"]), ("customer_id", [1, 2, 3, 4, None, "2"])):
        if rng.random() < 0.9:
            meta[name] = rng.choice(values)
    return meta


@pytest.mark.parametrize("rule", RULES)
def test_python_sql_and_langchain_forms_agree(rule):
    """The post-filter, the SQL WHERE on a DuckDB chunks table and the store callable select the same documents.

    Rows whose metadata is malformed for SQL typing (a string in a number column) are
    left out of the SQL side: a typed table cannot hold them.
    """
    rng = random.Random(hash(rule) & 0xFFFF)
    attrs = {"tenant": "acme", "region": "EU", "clearance": 1}
    bound = P.bind(P.parse_rule(rule), attrs.__getitem__, lambda e: frozenset({1, 3}))
    metas = [_random_meta(rng) for _ in range(400)]
    from govern.retrieval.rules import DocumentFilter

    flt = DocumentFilter("c", bound, ("r",), P.fields(bound))
    py = {i for i, m in enumerate(metas) if flt.matches(m)}
    lc = flt.langchain()
    assert py == {i for i, m in enumerate(metas) if lc(type("D", (), {"metadata": m})())}
    typed = [i for i, m in enumerate(metas)
             if isinstance(m.get("tenant", ""), (str, type(None))) and isinstance(m.get("classification", 0), (int, float, type(None)))
             and not isinstance(m.get("classification"), str) and isinstance(m.get("customer_id", 0), (int, type(None)))]
    conn = duckdb.connect()
    conn.execute("CREATE TABLE chunks (i INTEGER, tenant VARCHAR, region VARCHAR, classification DOUBLE, customer_id INTEGER)")
    conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                     [(i, metas[i].get("tenant"), metas[i].get("region"), metas[i].get("classification"), metas[i].get("customer_id")) for i in typed])
    got = {r[0] for r in conn.execute(f"SELECT i FROM chunks WHERE {flt.sql('duckdb')}").fetchall()}
    assert got == py & set(typed)
    assert flt.sql("postgres") and flt.sql("sqlite")  # emits in other dialects too


def test_missing_and_malformed_reasons():
    bound = P.bind(P.parse_rule("tenant = 'acme' AND classification <= 1"), {}.__getitem__, lambda e: frozenset())
    from govern.retrieval.rules import DocumentFilter

    flt = DocumentFilter("c", bound, ("r",), P.fields(bound))
    assert flt.check({"tenant": "acme"}) == "missing metadata field 'classification'"
    assert flt.check({"tenant": "acme", "classification": None}) == "missing metadata field 'classification'"
    assert "malformed metadata field 'classification' (str" in flt.check({"tenant": "acme", "classification": "0"})
    assert "malformed metadata field 'classification' (bool" in flt.check({"tenant": "acme", "classification": True})
    assert "malformed" in flt.check({"tenant": ["acme"], "classification": 0})
    assert "malformed metadata field 'metadata'" in flt.check(None)
    assert flt.check({"tenant": "acme", "classification": 1}) is None
    assert flt.check({"tenant": "globex", "classification": 1}).startswith("excluded by document rules")
    # missing is fail-closed even inside OR and NOT
    either = P.bind(P.parse_rule("NOT (tenant = 'x') OR region = 'EU'"), {}.__getitem__, lambda e: frozenset())
    flt2 = DocumentFilter("c", either, ("r",), P.fields(either))
    assert flt2.check({"tenant": "y"}) == "missing metadata field 'region'"


def test_mongo_form_pushes_negation_down():
    bound = P.bind(P.parse_rule("NOT (tenant = 'a' OR classification > 1) AND customer_id IN entity_scope('c')"),
                   {}.__getitem__, lambda e: frozenset({2, 1}))
    assert P.to_mongo(bound) == {"$and": [{"$and": [{"tenant": {"$ne": "a"}}, {"classification": {"$lte": 1}}]},
                                          {"customer_id": {"$in": [1, 2]}}]}
    every = P.bind(P.parse_rule("customer_id IN entity_scope('c')"), {}.__getitem__, lambda e: P.EVERY)
    assert every == P.TRUE
