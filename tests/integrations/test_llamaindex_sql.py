"""LlamaIndex's own NL-to-SQL query engine over the governed database, on DuckDB and PostgreSQL.

``NLSQLTableQueryEngine`` runs unchanged over ``GovernedLlamaSQLDatabase`` with a scripted
LLM (no network): the text-to-SQL prompt it builds holds only the principal's governed
schema; a denied query comes back as an ``Error:`` answer carrying the reasons; an allowed
one returns gov.execute's rows. The differential property: ``run_sql`` returns exactly
``gov.execute``'s rows for every demo principal and query of the corpus.
"""

from __future__ import annotations

from typing import Any

import pytest

from govern.errors import QueryDenied
from tests.integrations.conftest import PRINCIPALS, QUERIES, require


@pytest.fixture()
def li():
    require("llama_index.core")
    from govern.adapters import llamaindex_sql

    return llamaindex_sql


def scripted_llm(responses: list[str]):
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback

    class Scripted(CustomLLM):
        script: list[str] = []
        prompts: list[str] = []

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name="scripted")

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            self.prompts.append(prompt)
            return CompletionResponse(text=self.script.pop(0))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
            raise NotImplementedError

    return Scripted(script=list(responses))


def test_run_sql_equals_gov_execute_for_every_principal(li, quiet_gov, engine_conn):
    db = li.GovernedLlamaSQLDatabase(quiet_gov, engine_conn)
    for who in PRINCIPALS:
        principal = quiet_gov.principal(who)
        for sql in QUERIES:
            try:
                want = quiet_gov.execute(engine_conn, sql, principal)
            except QueryDenied as err:
                with pytest.raises(li.GovernedSQLError) as caught:
                    db.run_sql(sql, principal=principal)
                assert caught.value.reasons == err.decision.reasons
                continue
            text, meta = db.for_principal(principal).run_sql(sql)
            assert meta["col_keys"] == want.columns
            assert meta["result"] == [tuple(db.truncate_word(v, length=300) for v in row) for row in want.rows], (who, sql)
            assert text == str(meta["result"])


def test_nl_sql_query_engine_unchanged(li, quiet_gov, engine_conn):
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.query_engine import NLSQLTableQueryEngine

    eve, sam = quiet_gov.principal("eve"), quiet_gov.principal("sam")
    db = li.GovernedLlamaSQLDatabase(quiet_gov, engine_conn, eve)
    assert list(db.get_usable_table_names()) == sorted(quiet_gov.schema_for(eve).table_names)
    info = db.get_single_table_info("customers")
    assert info.startswith("Table 'customers' has columns: id (") and "national_id" not in info
    email_type = quiet_gov.schema_for(eve, db.governed.dialect).table("customers").column("email").type
    assert f"email ({email_type}): 'masked: '***' followed by the last 12 characters" in info
    assert "rows are filtered by policy" in info and "'EU'" not in info

    denied_sql = "SELECT name, national_id FROM customers"
    good_sql = "SELECT id, email FROM customers ORDER BY id LIMIT 3"
    llm = scripted_llm([f"SQLQuery: {denied_sql}\nSQLResult: ", f"SQLQuery: {good_sql}\nSQLResult: "])
    engine = NLSQLTableQueryEngine(sql_database=db, llm=llm, embed_model=MockEmbedding(embed_dim=8),
                                   synthesize_response=False)
    denied = engine.query("What are the national ids?")
    assert "national_id" not in llm.prompts[0] and "CREATE" not in llm.prompts[0]
    assert "Table 'customers' has columns" in llm.prompts[0] and "masked:" in llm.prompts[0]
    assert str(denied).startswith("Error: query denied by governance policy") and "national_id" in str(denied)
    answer = engine.query("What are the first three emails?")
    want = quiet_gov.execute(engine_conn, good_sql, eve)
    assert answer.metadata["sql_query"] == good_sql and answer.metadata["col_keys"] == want.columns
    assert answer.metadata["result"] == [tuple(r) for r in want.rows] and all(r[1].startswith("***") for r in want.rows)

    # Another principal, another schema: sam's prompt has no accounts and his query on it is denied.
    llm = scripted_llm(["SQLQuery: SELECT count(*) FROM accounts\nSQLResult: "])
    engine = NLSQLTableQueryEngine(sql_database=db.for_principal(sam), llm=llm, embed_model=MockEmbedding(embed_dim=8),
                                   synthesize_response=False)
    out = engine.query("How many accounts?")
    assert "Table 'accounts'" not in llm.prompts[0] and "Table 'support_tickets'" in llm.prompts[0]
    assert str(out).startswith("Error: query denied")
