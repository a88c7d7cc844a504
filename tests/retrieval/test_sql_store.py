"""The governed SQL chunk store (gov.sql_retriever): the chunk query goes through the SQL guard.

Every result is compared row for row with an oracle computed independently: plain
SQL over the base tables with the conditions written out by hand (document rule,
row filters, entity scopes, masks, fail-closed NULL handling), ranked in Python.
Each test runs on the demo data in DuckDB and in PostgreSQL.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp, parse_one

from govern import Governor
from govern.audit import AuditTrail
from govern.audit.sql_text import redact_literals
from govern.pii.names import NameSet
from govern.retrieval import ChunkStoreError, RetrievalDenied, keyword_score, vector_distance
from govern.retrieval.memory import embed
from govern.retrieval.rules import derive_filter, document_rules
from tests.conftest import POLICIES, TEST_HASH_KEY, connect_postgres_or_skip
from tests.retrieval.conftest import make_bundle

PG_SCHEMA = "rt_sql_store"
META = ("customer_id", "agent_id", "region", "status", "priority")
SEARCH = ("status", "priority")
STORE = dict(text_column="body", metadata_columns=META, search_columns=SEARCH)

# A bundle for the narrower-than tests: document rules that differ from the SQL row filters on purpose.
KB_RULES = """
version: 1
collections:
  support_kb:
    max_k: 50
    rules:
      - id: kb-rep-region            # SQL is narrower: tenant (restrictive) and eve's own book (entity scope)
        roles: [sales_rep]
        where: "region = :principal.region"
      - id: kb-agent-own
        roles: [support_agent]
        where: "agent_id = :principal.employee_id"
      - id: kb-lead-hot              # any region; SQL keeps tara to hers
        roles: [support_lead]
        where: "priority IN ('urgent', 'high')"
      - id: kb-auditor-urgent-or-27  # SQL shows the auditor everything; the rule is narrower
        roles: [auditor]
        where: "priority = 'urgent' OR agent_id = 27"
      - id: kb-reader-urgent         # reads priority, which kb_reader may not select
        roles: [kb_reader]
        where: "priority = 'urgent'"
      - id: kb-stranger-all
        roles: [kb_stranger]
        where: "TRUE"
  wrong_kb:
    rules:
      - id: wrong-kb-tenant          # support_tickets has no tenant column
        where: "tenant = 'acme'"
"""
KB_PRINCIPALS = """
principals:
  - {id: eve, roles: [sales_rep], attributes: {region: EU, tenant: acme, employee_id: 1}}
  - {id: sam, roles: [support_agent], attributes: {region: NA, employee_id: 22}}
  - {id: tara, roles: [support_lead], attributes: {region: EU, employee_id: 33}}
  - {id: ada, roles: [auditor], attributes: {employee_id: 40}}
  - {id: kim, roles: [kb_stranger], attributes: {}}
  - {id: rita, roles: [kb_reader], attributes: {}}
"""
KB_GRANTS = """
p, sales_rep, collection:support_kb, retrieve, allow
p, kb_stranger, collection:support_kb, retrieve, allow
p, kb_reader, collection:support_kb, retrieve, allow
p, kb_reader, support_tickets.id, select, allow
p, kb_reader, support_tickets.subject, select, allow
"""
STATUS_MASK = """column_masks:
  - id: tickets-status-redacted-for-auditors
    table: support_tickets
    column: status
    roles: [auditor]
    mask: redact
    replacement: "[REDACTED]"
"""


# --------------------------------------------------------------------------- engines

class Engine:
    """The demo data on one engine: a connection, governors over bundles pointing at it, oracle queries."""

    def __init__(self, dialect: str, conn, schema: str, tmp: Path):
        self.dialect, self.conn, self.schema, self.tmp = dialect, conn, schema, tmp
        self._bundles: dict[Path, Path] = {}

    def governor(self, bundle: Path = POLICIES, audit=None) -> Governor:
        if self.dialect == "postgres":  # a copy whose catalog names the PostgreSQL schema
            if bundle not in self._bundles:
                copy = self.tmp / f"bundle{len(self._bundles)}"
                shutil.copytree(bundle, copy)
                catalog = copy / "catalog.yaml"
                catalog.write_text(catalog.read_text().replace("schema: main", f"schema: {self.schema}"))
                self._bundles[bundle] = copy
            bundle = self._bundles[bundle]
        return Governor.from_path(bundle, audit=audit if audit is not None else AuditTrail.null(), hash_key=TEST_HASH_KEY)

    def rows(self, sql: str, conn=None) -> list[tuple]:
        s = self.schema
        return [tuple(r) for r in (conn or self.conn).execute(sql.format(t=f"{s}.support_tickets", c=f"{s}.customers",
                                                                        a=f"{s}.assignments")).fetchall()]

    @contextmanager
    def with_nulls(self, sql_update: str):
        """A connection on which ``sql_update`` (``{t}`` = support_tickets) has been applied, undone afterwards."""
        if self.dialect == "duckdb":
            path = self.tmp / "nulls.duckdb"
            shutil.copy(self.db_path, path)
            conn = duckdb.connect(str(path))
            conn.execute(sql_update.format(t="main.support_tickets"))
            try:
                yield conn
            finally:
                conn.close()
                path.unlink()
        else:
            import psycopg

            with self.conn.transaction():
                self.conn.execute(sql_update.format(t=f"{self.schema}.support_tickets"))
                yield self.conn
                raise psycopg.Rollback()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request, demo_db_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"sql_store_{request.param}")
    if request.param == "duckdb":
        conn = duckdb.connect(str(demo_db_path), read_only=True)
        eng = Engine("duckdb", conn, "main", tmp)
        eng.db_path = demo_db_path
        yield eng
        conn.close()
        return
    from tests.oracle.demo_pg import load_demo_into_postgres

    conn = connect_postgres_or_skip()
    load_demo_into_postgres(conn, PG_SCHEMA, duckdb_path=demo_db_path)
    conn.autocommit = True
    yield Engine("postgres", conn, PG_SCHEMA, tmp)
    conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    conn.close()


@pytest.fixture(scope="module")
def kb_bundle(tmp_path_factory) -> Path:
    root = make_bundle(tmp_path_factory.mktemp("kb"), documents=KB_RULES, principals=KB_PRINCIPALS, grants=KB_GRANTS)
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text().replace("column_masks:\n", STATUS_MASK, 1))
    return root


# --------------------------------------------------------------------------- oracle

def ranked(rows: list[tuple], query: str, k: int) -> list[tuple]:
    """Rows (id, text, *META) ranked like the keyword score: words found in status / priority, then id."""
    words = list(dict.fromkeys(re.findall(r"[a-z0-9]+", query.lower())))

    def score(row):
        meta = dict(zip(META, row[2:]))
        return sum(w in (meta[c] or "").lower() for c in SEARCH for w in words)

    return sorted(rows, key=lambda r: (-score(r), r[0]))[:k]


def oracle(engine: Engine, where: str, query: str, k: int, text: str = "body", status: str = "status", conn=None):
    sql = f"SELECT id, {text}, customer_id, agent_id, region, {status}, priority FROM {{t}} WHERE {where}"
    return ranked(engine.rows(sql, conn), query, k)


def assert_same(result, expected, gov, principal, engine):
    """Row for row: ids and metadata exactly, text as the oracle's text masked for the principal
    (with every customer and employee name known, as the bundle's pii.name_sources asks)."""
    got = [(d["id"], tuple(d["metadata"][m] for m in META)) for d in result]
    assert got == [(r[0], tuple(r[2:])) for r in expected]
    reveal = gov.revealed_types(principal)
    pii = gov.pii_engine()
    names = None
    if gov.bundle.rules.pii.name_sources:
        s = engine.schema
        names = NameSet({n for (n,) in engine.conn.execute(
            f"SELECT name FROM {s}.customers UNION SELECT name FROM {s}.employees").fetchall() if n}, strict=True)
    assert [d["text"] for d in result] == [pii.mask(r[1], reveal=reveal, known_names=names).text for r in expected]


# Hand-written conditions per demo principal: document rule AND the SQL row filters AND entity scopes,
# every field the document rules read NOT NULL (roles inherit: support_lead -> support_agent).
DEMO_ORACLE = {
    # doc kb-support-agent-own-tickets; SQL tickets-support-agent-own-tickets + scope customer-support-agent-assigned
    "sam": "agent_id IS NOT NULL AND agent_id = 22 "
           "AND customer_id IN (SELECT customer_id FROM {a} WHERE agent_id = 22)",
    # doc own tickets OR own region; SQL the same two filters; scopes assigned OR customers of the region
    "tara": "agent_id IS NOT NULL AND region IS NOT NULL AND (agent_id = 33 OR region = 'EU') "
            "AND (customer_id IN (SELECT customer_id FROM {a} WHERE agent_id = 33) "
            "     OR customer_id IN (SELECT id FROM {c} WHERE region = 'EU'))",
    "ada": "TRUE",
}


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("query, k", [("urgent open", 25), ("", 50), ("pending high", 7)])
def test_demo_principals_get_their_rows(engine, query, k):
    gov = engine.governor()
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)
    ids = {}
    for who, where in DEMO_ORACLE.items():
        p = gov.principal(who)
        result = search(query, p, k=k)
        expected = oracle(engine, where, query, k)
        assert len(expected) == k  # every principal has more than k permitted tickets
        assert_same(result, expected, gov, p, engine)
        assert result.decision.pushed_down and result.decision.dropped == 0
        ids[who] = [d["id"] for d in result]
    assert len({tuple(v) for v in ids.values()}) == 3
    assert not set(ids["sam"]) & {d for d, in engine.rows("SELECT id FROM {t} WHERE agent_id <> 22")}


def test_auditor_sees_every_row_but_pii_masked(engine):
    gov = engine.governor()
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)
    result = search("urgent", gov.principal("ada"), k=500)
    assert result.decision.k == 50 and result.decision.k_requested == 500  # clamped to max_k
    text = " ".join(d["text"] for d in result)
    assert "@example." not in text and not re.search(r"\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}", text)
    assert result.decision.pii.get("EMAIL_ADDRESS", 0) > 0


def test_row_filter_narrower_than_document_rule(engine, kb_bundle):
    """eve: the rule allows every EU ticket; SQL keeps only acme's customers in her own book."""
    gov = engine.governor(kb_bundle)
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="subject",
                               metadata_columns=META, search_columns=SEARCH)
    eve = gov.principal("eve")
    both = ("region IS NOT NULL AND region = 'EU' AND customer_id IN (SELECT id FROM {c} WHERE tenant = 'acme') "
            "AND customer_id IN (SELECT id FROM {c} WHERE account_manager_id = 1)")
    expected = oracle(engine, both, "closed low", 50, text="subject")
    rule_only = oracle(engine, "region = 'EU'", "closed low", 1000, text="subject")
    assert 0 < len(expected) < 50 and len(rule_only) > len(expected)
    assert_same(search("closed low", eve, k=50), expected, gov, eve, engine)


def test_document_rule_narrower_than_row_filter(engine, kb_bundle):
    """ada: SQL shows every ticket (status masked), the rule only urgent ones or agent 27's.
    tara: the rule allows hot tickets of any region, SQL only her region: she gets the intersection."""
    gov = engine.governor(kb_bundle)
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)
    ada = gov.principal("ada")
    rule = "priority IS NOT NULL AND agent_id IS NOT NULL AND (priority = 'urgent' OR agent_id = 27)"
    expected = oracle(engine, rule, "urgent redacted", 50, status="'[REDACTED]'")
    assert len(expected) == 50 and len(engine.rows("SELECT id FROM {t}")) > len(engine.rows(f"SELECT id FROM {{t}} WHERE {rule}"))
    result = search("urgent redacted", ada, k=50)
    assert_same(result, expected, gov, ada, engine)
    assert result.decision.dropped == 0 and result.decision.rounds == 1  # the WHERE did it, not the post-filter
    assert {d["metadata"]["status"] for d in result} == {"[REDACTED]"}  # the column mask applies under the rule

    tara = gov.principal("tara")
    both = ("agent_id IS NOT NULL AND priority IS NOT NULL AND (agent_id = 33 OR priority IN ('urgent', 'high')) "
            "AND (agent_id = 33 OR region = 'EU') AND (customer_id IN (SELECT customer_id FROM {a} WHERE agent_id = 33) "
            "OR customer_id IN (SELECT id FROM {c} WHERE region = 'EU'))")
    every = oracle(engine, both, "pending", 1000)
    hot = engine.rows("SELECT id FROM {t} WHERE priority IN ('urgent', 'high')")
    eu = engine.rows("SELECT id FROM {t} WHERE region = 'EU'")
    assert 50 < len(every) < min(len(hot), len(eu))
    assert_same(search("pending", tara, k=50), every[:50], gov, tara, engine)


def test_no_grant_on_collection_or_table_is_a_denial(engine, kb_bundle):
    demo = engine.governor()
    with pytest.raises(RetrievalDenied, match=r"no grant to retrieve from collection 'support_kb'"):
        demo.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)("refund", demo.principal("eve"))

    gov = engine.governor(kb_bundle)
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)
    with pytest.raises(RetrievalDenied) as denied:  # kim: the collection grant, nothing on the table
        search("refund", gov.principal("kim"))
    assert any("table support_tickets is not granted" in r for r in denied.value.decision.reasons)
    # rita may select id and subject, but her rule reads priority: denied, naming the column
    narrow = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="subject", search_columns=[],
                               on_deny="return")
    result = narrow("refund", gov.principal("rita"))
    assert not result.allowed and result.decision.store_audit_ids
    assert any("support_tickets.priority is not permitted" in r for r in result.decision.reasons)
    with pytest.raises(RetrievalDenied):
        list(result)
    # eve may not select body: asking for it as the text is denied, naming it
    with pytest.raises(RetrievalDenied, match=r"support_tickets\.body is not permitted"):
        search("refund", gov.principal("eve"))


def test_null_in_a_rule_read_column_is_dropped(engine, kb_bundle):
    """agent_id NULL on urgent tickets: plain SQL's `priority = 'urgent' OR agent_id = 27` keeps them; govern does not."""
    nulled = "UPDATE {t} SET agent_id = NULL WHERE priority = 'urgent' AND id % 3 = 0"
    with engine.with_nulls(nulled) as conn:
        gov = engine.governor(kb_bundle)
        search = gov.sql_retriever(conn, "support_tickets", "support_kb", dialect=engine.dialect, **STORE)
        ada = gov.principal("ada")
        null_ids = {i for i, in engine.rows("SELECT id FROM {t} WHERE agent_id IS NULL", conn)}
        naive = {r[0] for r in engine.rows("SELECT id FROM {t} WHERE priority = 'urgent' OR agent_id = 27", conn)}
        assert null_ids and null_ids <= naive
        result = search("urgent", ada, k=50)
        rule = "priority IS NOT NULL AND agent_id IS NOT NULL AND (priority = 'urgent' OR agent_id = 27)"
        assert_same(result, oracle(engine, rule, "urgent", 50, status="'[REDACTED]'", conn=conn), gov, ada, engine)
        assert not {d["id"] for d in result} & null_ids and result.decision.dropped == 0  # excluded in SQL already


class SpyConnection:
    """Records every statement the store sends to the database."""

    def __init__(self, conn):
        self.conn, self.executed = conn, []

    def cursor(self):
        if type(self.conn).__module__.startswith("psycopg"):
            import psycopg

            spy, cursor = self, psycopg.RawCursor(self.conn)  # $1 parameters, as govern's own cursors
        else:
            spy, cursor = self, self.conn.cursor()

        class Cursor:
            def execute(self, sql, params=None):
                spy.executed.append(sql)
                return cursor.execute(sql, params) if params else cursor.execute(sql)

            def fetchall(self):
                return cursor.fetchall()

        return Cursor()


def test_composed_sql_is_what_check_sql_governed(engine, tmp_path):
    trail = tmp_path / "trail.jsonl"
    gov = engine.governor(audit=trail)
    spy = SpyConnection(engine.conn)
    search = gov.sql_retriever(spy, "support_tickets", "support_kb", dialect=engine.dialect, **STORE)
    sam = gov.principal("sam")
    result = search("urgent open", sam, k=5, correlation_id="req-7")
    records = {r["event_id"]: r for r in map(json.loads, trail.read_text().splitlines())}
    retrieve = records[result.decision.audit_id]
    (sql_id,) = result.decision.store_audit_ids
    assert json.loads(retrieve["extra"]["store_audit_ids"]) == [sql_id]
    check = records[sql_id]
    assert check["action"] == "check_sql" and check["decision"] == "rewrite" and check["correlation_id"] == "req-7"
    # what ran is what the guard returned; then govern's own reads: the ticket text behind the opaque
    # handles (through sam's row filter) and pii.name_sources (for masking)
    # (the trail records SQL with its literals redacted: settings.audit.redact_sql_literals, on by default)
    assert redact_literals(spy.executed[0], engine.dialect) == check["governed_sql"]
    assert '."support_tickets" WHERE' in spy.executed[1] and "agent_id" in spy.executed[1], spy.executed
    assert all(q.startswith('SELECT DISTINCT "name" FROM') for q in spy.executed[2:]), spy.executed
    assert {"tickets-support-agent-own-tickets", "customer-support-agent-assigned"} <= set(check["policies"])
    assert set(check["tables"]) == {"support_tickets"}

    roles = gov.bundle.grants.expand_roles(sam.roles)
    flt = derive_filter(document_rules(gov.bundle), "support_kb", sam, roles, lambda e: frozenset())
    composed, _, _ = search.store.compose("urgent open", 5, flt)
    assert check["input_text"] == redact_literals(composed, engine.dialect)
    assert "urgent" in composed and "urgent" not in check["input_text"]
    tree = parse_one(composed, read=engine.dialect)
    assert tree.args["where"].this == parse_one(flt.sql(engine.dialect), read=engine.dialect)
    assert tree.args["limit"].expression.name == "5"
    score, tie = tree.args["order"].expressions
    assert score.args["desc"] and tie.this.name == "id" and not tie.args.get("desc")
    assert sorted(lit.this for lit in score.find_all(exp.Literal) if lit.is_string) == sorted(
        ["%urgent%", "%open%"] * 2)


@pytest.mark.parametrize("query", ["x' OR '1'='1", "'; DROP TABLE support_tickets; --", "urgent') OR (1=1"])
def test_query_text_only_becomes_literals(engine, query):
    gov = engine.governor()
    search = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE)
    sam = gov.principal("sam")
    assert_same(search(query, sam, k=40), oracle(engine, DEMO_ORACLE["sam"], query, 40), gov, sam, engine)
    # a caller's score that puts the raw query in a literal: still one literal, still only sam's rows
    raw = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", metadata_columns=META,
                            score=lambda q: exp.EQ(this=exp.column("status"), expression=exp.Literal.string(q)))
    assert_same(raw(query, sam, k=40), oracle(engine, DEMO_ORACLE["sam"], "", 40), gov, sam, engine)
    sql = raw.store.compose(query, 40, derive_filter(document_rules(gov.bundle), "support_kb", sam,
                                                       frozenset(sam.roles), lambda e: frozenset()))[0]
    assert query in [lit.this for lit in parse_one(sql, read=engine.dialect).find_all(exp.Literal)]


def test_score_problems_are_named(engine):
    gov = engine.governor()
    sam = gov.principal("sam")
    # keyword score over the free-text body: for sam the body is an opaque handle in the query (its
    # PII is masked for him), so the score cannot match his words in it: no row scores, none is denied
    keyword = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", metadata_columns=META)
    rows = engine.rows(f"SELECT id FROM {{t}} WHERE {DEMO_ORACLE['sam']} ORDER BY id LIMIT 4")
    assert [d["id"] for d in keyword("refund", sam, k=4)] == [r[0] for r in rows]
    # a function the guard's allowlist does not know
    udf = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body",
                            score=lambda q: exp.Anonymous(this="my_rank", expressions=[exp.column("status")]))
    with pytest.raises(RetrievalDenied, match=r"(?i)function my_rank\(\) is not known to govern"):
        udf("refund", sam)
    with pytest.raises(ChunkStoreError, match="cannot parse score expression"):
        gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", score="status LIKE (")
    bad_per_call = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body",
                                     score=lambda q: f"priority = {q}")
    with pytest.raises(ChunkStoreError, match="cannot parse score expression"):
        bad_per_call("'unterminated", sam)
    with pytest.raises(ChunkStoreError, match="IS NOT DISTINCT FROM"):
        gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", dialect="postgres",
                          score="embedding <=> '[1,2]'::vector")
    # a fixed SQL score is parsed once and works
    recent = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", metadata_columns=META,
                               score="opened_at")
    rows = engine.rows(f"SELECT id FROM {{t}} WHERE {DEMO_ORACLE['sam']} ORDER BY opened_at DESC, id LIMIT 10")
    assert [d["id"] for d in recent("anything", sam, k=10)] == [r[0] for r in rows]


def test_configuration_errors_fail_closed(engine, kb_bundle):
    gov = engine.governor(kb_bundle)
    with pytest.raises(ChunkStoreError, match=r"table kb_chunks is not in the bundle's catalog"):
        gov.sql_retriever(engine.conn, "kb_chunks", "support_kb")
    with pytest.raises(ChunkStoreError, match=r"no column 'embedding'"):
        gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", metadata_columns=["embedding"])
    wrong = gov.sql_retriever(engine.conn, "support_tickets", "wrong_kb", text_column="body", search_columns=["status"])
    with pytest.raises(ChunkStoreError, match=r"read metadata field\(s\) \['tenant'\]"):
        wrong("refund", gov.principal("ada"))
    with pytest.raises(ValueError, match="always masks"):
        gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", mask=False)
    with pytest.raises(TypeError, match="filter_form"):
        gov.sql_retriever(engine.conn, "support_tickets", "support_kb", text_column="body", filter_form="sql")
    store = gov.sql_retriever(engine.conn, "support_tickets", "support_kb", **STORE).store
    with pytest.raises(ChunkStoreError, match="only through a GovernedRetriever"):
        store.search("refund", k=3)  # never an unfiltered query


# --------------------------------------------------------------------------- a vector column (DuckDB)

CHUNKS_CATALOG = """
  kb_chunks:
    schema: main
    columns:
      - {name: id, type: INTEGER}
      - {name: text, type: VARCHAR}
      - {name: tenant, type: VARCHAR}
      - {name: status, type: VARCHAR}
      - {name: embedding, type: "DOUBLE[]"}
"""
CHUNKS_FILTER = """row_filters:
  - id: kb-chunks-published-only
    table: kb_chunks
    roles: [sales_rep]
    where: "status = 'published'"
"""


def test_vector_distance_order_on_duckdb(tmp_path):
    docs = """
version: 1
collections:
  chunks:
    rules:
      - id: chunks-own-tenant
        roles: [sales_rep]
        where: "tenant = :principal.tenant"
"""
    root = make_bundle(tmp_path, documents=docs, principals=KB_PRINCIPALS,
                       grants="p, sales_rep, collection:chunks, retrieve, allow\np, sales_rep, kb_chunks.*, select, allow\n")
    (root / "catalog.yaml").write_text((root / "catalog.yaml").read_text().rstrip() + "\n" + CHUNKS_CATALOG)
    # this connection holds only kb_chunks: no customers / employees to read names from
    rules = (root / "rules.yaml").read_text().replace("row_filters:\n", CHUNKS_FILTER, 1)
    (root / "rules.yaml").write_text(rules.replace("  name_sources: [customers.name, employees.name]\n", ""))
    gov = Governor.from_path(root, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    conn = duckdb.connect()
    conn.execute("CREATE TABLE kb_chunks (id INTEGER, text VARCHAR, tenant VARCHAR, status VARCHAR, embedding DOUBLE[])")
    topics = ["refund a double charge", "reset a password", "invoice in euros", "late delivery of an order",
              "upgrade the plan", "close the account"]
    rows = [(i, f"{topics[i % 6]} note {i}", ("acme", "globex")[i % 2], ("published", "draft")[i % 3 == 0])
            for i in range(60)]
    conn.executemany("INSERT INTO kb_chunks VALUES (?, ?, ?, ?, ?)", [(*r, embed(r[1], 32)) for r in rows])
    search = gov.sql_retriever(conn, "kb_chunks", "chunks", metadata_columns=["tenant", "status"],
                               score=vector_distance("embedding", lambda q: embed(q, 32), "duckdb"), descending=False)
    query = "charged twice, refund please"
    q = embed(query, 32)

    def distance(text):
        v = embed(text, 32)
        return 1 - sum(a * b for a, b in zip(q, v)) / (math.sqrt(sum(a * a for a in q)) * math.sqrt(sum(b * b for b in v)))

    permitted = [r for r in rows if r[2] == "acme" and r[3] == "published"]
    expected = sorted(permitted, key=lambda r: (round(distance(r[1]), 9), r[0]))[:8]
    result = search(query, gov.principal("eve"), k=8)
    assert [d["id"] for d in result] == [r[0] for r in expected]
    assert {(d["metadata"]["tenant"], d["metadata"]["status"]) for d in result} == {("acme", "published")}
    sql = search.store.compose(query, 8, derive_filter(document_rules(gov.bundle), "chunks", gov.principal("eve"),
                                                       frozenset({"sales_rep"}), lambda e: frozenset()))[0]
    assert "LIST_COSINE_DISTANCE" in sql and "ASC" in sql
