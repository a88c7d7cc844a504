"""LangChain's own SQL toolkit and SQL agent over the governed database, on DuckDB and PostgreSQL.

The toolkit's tools (list tables, schema, query, query checker) and ``create_sql_agent``
run unchanged over ``GovernedSQLDatabase``, driven by LangChain's fake LLM. The
differential property: for every demo principal and every query of the corpus, what
``run`` returns is exactly ``gov.execute``'s rows for the same principal, and a query
``gov.execute`` denies comes back as an error carrying its reasons.
"""

from __future__ import annotations

import pytest

from govern.errors import QueryDenied
from tests.integrations.conftest import PRINCIPALS, QUERIES, require


@pytest.fixture()
def lc():
    require("langchain_community")
    from govern.adapters import langchain_sql

    return langchain_sql


def expected_text(gov, conn, sql, principal):
    from langchain_community.utilities.sql_database import truncate_word

    try:
        rows = gov.execute(conn, sql, principal).rows
    except QueryDenied as err:
        return None, err.decision.reasons
    res = [tuple(truncate_word(v, length=300) for v in row) for row in rows]
    return (str(res) if res else ""), None


def test_run_equals_gov_execute_for_every_principal(lc, quiet_gov, engine_conn):
    db = lc.GovernedSQLDatabase(quiet_gov, engine_conn)
    for who in PRINCIPALS:
        principal = quiet_gov.principal(who)
        mine = db.for_principal(principal)
        for sql in QUERIES:
            want, reasons = expected_text(quiet_gov, engine_conn, sql, principal)
            if reasons is not None:
                with pytest.raises(lc.GovernedQueryError) as caught:
                    mine.run(sql)
                assert caught.value.reasons == reasons and caught.value.denied
                out = db.run_no_throw(sql, principal=principal)  # per call
                assert out.startswith("Error: query denied by governance policy") and all(r in out for r in reasons)
            else:
                assert mine.run(sql) == want, (who, sql)
                assert db.run(sql, principal=principal) == want


def test_toolkit_tools_unchanged(lc, quiet_gov, engine_conn):
    require("langchain_core")
    from langchain_community.agent_toolkits import SQLDatabaseToolkit
    from langchain_core.language_models.fake import FakeListLLM

    eve, sam = quiet_gov.principal("eve"), quiet_gov.principal("sam")
    llm = FakeListLLM(responses=["SELECT id, email FROM customers ORDER BY id LIMIT 3"])
    tools = {t.name: t for t in SQLDatabaseToolkit(db=lc.GovernedSQLDatabase(quiet_gov, engine_conn, eve), llm=llm).get_tools()}
    assert set(tools) == {"sql_db_query", "sql_db_schema", "sql_db_list_tables", "sql_db_query_checker"}
    listed = tools["sql_db_list_tables"].invoke("")
    assert listed.split(", ") == sorted(quiet_gov.schema_for(eve).table_names)
    info = tools["sql_db_schema"].invoke("customers, accounts")
    assert "CREATE TABLE customers" in info and "national_id" not in info and "masked:" in info
    assert "rows are filtered by policy" in info and "'EU'" not in info and "acme" not in info
    assert tools["sql_db_schema"].invoke("no_such_table").startswith("Error:")
    denied = tools["sql_db_query"].invoke("SELECT name, national_id FROM customers")
    assert denied.startswith("Error: query denied") and "national_id" in denied
    rows = tools["sql_db_query"].invoke("SELECT id, email FROM customers ORDER BY id LIMIT 3")
    assert rows == expected_text(quiet_gov, engine_conn, "SELECT id, email FROM customers ORDER BY id LIMIT 3", eve)[0]
    assert "***" in rows  # eve sees customer emails masked
    assert tools["sql_db_query_checker"].invoke("SELECT 1")  # the checker runs its LLM with db.dialect

    # Another principal, another schema: sam (support) sees no accounts and cannot query them.
    sam_tools = {t.name: t for t in SQLDatabaseToolkit(db=lc.GovernedSQLDatabase(quiet_gov, engine_conn, sam), llm=llm).get_tools()}
    assert "accounts" not in sam_tools["sql_db_list_tables"].invoke("").split(", ")
    assert sam_tools["sql_db_schema"].invoke("accounts").startswith("Error:")
    assert sam_tools["sql_db_query"].invoke("SELECT count(*) FROM accounts").startswith("Error: query denied")


def test_create_sql_agent_repairs_a_denied_query(lc, quiet_gov, engine_conn):
    require("langchain_classic")
    from langchain_community.agent_toolkits import SQLDatabaseToolkit, create_sql_agent
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models.fake import FakeListLLM

    eve = quiet_gov.principal("eve")
    good = "SELECT id, name, email FROM customers ORDER BY id LIMIT 3"
    script = [
        "I should look at the tables.\nAction: sql_db_list_tables\nAction Input: ",
        "I should look at the schema.\nAction: sql_db_schema\nAction Input: customers",
        "I will query.\nAction: sql_db_query\nAction Input: SELECT id, name, national_id FROM customers ORDER BY id LIMIT 3",
        f"The national id is denied; I rewrite without it.\nAction: sql_db_query\nAction Input: {good}",
        "I now know the final answer.\nFinal Answer: three customers listed",
    ]

    class Observations(BaseCallbackHandler):
        def __init__(self):
            self.seen = []

        def on_tool_end(self, output, **kwargs):
            self.seen.append(str(output))

    observed = Observations()
    llm = FakeListLLM(responses=script)
    db = lc.GovernedSQLDatabase(quiet_gov, engine_conn, eve)
    agent = create_sql_agent(llm, toolkit=SQLDatabaseToolkit(db=db, llm=llm), agent_type="zero-shot-react-description",
                             verbose=False, max_iterations=6)
    out = agent.invoke({"input": "List three customers with their national ids"}, config={"callbacks": [observed]})
    assert out["output"] == "three customers listed"
    tables, schema, denied, rows = observed.seen
    assert "customers" in tables.split(", ") and "national_id" not in schema
    assert denied.startswith("Error: query denied") and "national_id" in denied
    assert rows == expected_text(quiet_gov, engine_conn, good, eve)[0]


def test_generated_queries_equal_gov_execute_through_both_adapters(lc, quiet_gov, demo_db_path):
    """A family of queries (any table, any columns, granted or not, filters, order, limit) for demo and
    generated principals: LangChain's run and LlamaIndex's run_sql return gov.execute's rows, or its denial."""
    require("llama_index.core")
    import duckdb
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from langchain_community.utilities.sql_database import truncate_word

    from govern import Principal
    from govern.adapters.llamaindex_sql import GovernedLlamaSQLDatabase, GovernedSQLError

    tables = {t.name: [c.name for c in t.columns] for t in quiet_gov.bundle.catalog}

    @st.composite
    def query(draw):
        table = draw(st.sampled_from(sorted(tables)))
        columns = draw(st.lists(st.sampled_from(tables[table]), min_size=1, max_size=4, unique=True))
        sql = f"SELECT {', '.join(columns)} FROM {table}"
        if draw(st.booleans()):
            sql += f" WHERE {columns[0]} IS NOT NULL"
        return sql + f" ORDER BY {', '.join(str(i + 1) for i in range(len(columns)))} LIMIT {draw(st.integers(1, 20))}"

    principals = st.one_of(st.sampled_from(["eve", "lena", "sam", "tara", "ada"]).map(quiet_gov.principal),
                           st.builds(lambda roles, region, tenant, emp: Principal("gen", roles, {"region": region, "tenant": tenant, "employee_id": emp}),
                                     st.lists(st.sampled_from(["sales_rep", "sales_lead", "support_agent", "support_lead", "auditor"]),
                                              max_size=2, unique=True),
                                     st.sampled_from(["EU", "NA", "APAC"]), st.sampled_from(["acme", "globex"]), st.integers(0, 45)))
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    lang = lc.GovernedSQLDatabase(quiet_gov, conn)
    llama = GovernedLlamaSQLDatabase(quiet_gov, conn)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(sql=query(), principal=principals)
    def check(sql, principal):
        try:
            want = quiet_gov.execute(conn, sql, principal)
        except QueryDenied as err:
            with pytest.raises(lc.GovernedQueryError) as a:
                lang.run(sql, principal=principal)
            with pytest.raises(GovernedSQLError) as b:
                llama.run_sql(sql, principal=principal)
            assert a.value.reasons == b.value.reasons == err.decision.reasons
            return
        rows = [tuple(truncate_word(v, length=300) for v in row) for row in want.rows]
        assert lang.run(sql, principal=principal) == (str(rows) if rows else "")
        assert llama.run_sql(sql, principal=principal)[1]["result"] == [tuple(llama.truncate_word(v, length=300) for v in r)
                                                                         for r in want.rows]

    try:
        check()
    finally:
        conn.close()
