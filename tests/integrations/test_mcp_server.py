"""`govern mcp` tested with the mcp package's own client, over stdio and streamable HTTP, on DuckDB and PostgreSQL.

A real server process per case (``python -m govern.cli mcp``); tokens minted for the
demo principals with the bundle's dev secret and verified by the server through
identity.yaml. Checked: the tool listing; list_tables / describe_table equal
``gov.schema_for`` of the token's principal (two principals see different schemas);
run_sql returns exactly ``gov.execute``'s rows for the same principal (the
differential property) and a denial is a tool error carrying the reasons; the row cap;
search_documents over the bundle's SQL chunk store; a bad token refused (stdio: the
server does not start; HTTP: 401 on every request) and audited.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from govern import Governor
from govern.audit import AuditTrail
from govern.errors import QueryDenied
from tests.conftest import TEST_HASH_KEY
from tests.integrations.conftest import QUERIES, require

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
SECRET = "mcp-test-secret-" + "x" * 32
TOOLS = {"list_tables", "describe_table", "run_sql", "search_documents"}


@pytest.fixture()
def mcp():
    require("mcp")
    require("jwt")
    import mcp

    return mcp


@pytest.fixture(params=["duckdb", "postgres"])
def database(request, demo_db_path):
    """(--db argument, a connection of the test's own to compute what gov.execute returns)."""
    from tests.integrations.conftest import open_engine

    conn = open_engine(request.param, demo_db_path, request)
    target = str(demo_db_path) if request.param == "duckdb" else request.getfixturevalue("demo_pg_loaded")
    yield target, conn
    conn.close()


@pytest.fixture(scope="module")
def gov():
    return Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)


def token(gov, who: str) -> str:
    from govern.identity import mint_dev_token

    return mint_dev_token(gov.bundle.identity, gov.principal(who), environ={"GOVERN_JWT_SECRET": SECRET})


def server_env(tmp_path, **extra) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "GOVERN_JWT_SECRET": SECRET, "GOVERN_HASH_KEY": TEST_HASH_KEY,
            "GOVERN_AUDIT_PATH": str(tmp_path / "audit.jsonl"), **extra}


def command(db: str, *more: str) -> list[str]:
    return ["-m", "govern.cli", "mcp", "--policies", str(POLICIES), "--db", db, *more]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def http_server(database, tmp_path):
    db, _ = database
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, *command(db, "--transport", "http", "--port", str(port))],
                            env=server_env(tmp_path), stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def text(result) -> str:
    return "".join(c.text for c in result.content if getattr(c, "text", None) is not None)


def as_json(result):
    assert not result.is_error, text(result)
    return json.loads(text(result))


def rows_of(gov, conn, sql, principal):
    from govern.mcp_server import jsonable

    result = gov.execute(conn, sql, principal)
    return result.columns, [[jsonable(v) for v in row] for row in result.rows]


async def check_principal(client, gov, conn, dialect, who):
    """Everything one principal's session must show; returns its table names."""
    principal = gov.principal(who)
    listed = await client.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    for tool in listed.tools:  # no tool takes a principal from the model
        assert not {"principal", "user", "roles", "token"} & set(tool.input_schema.get("properties", {}))
    schema = gov.schema_for(principal, dialect)
    tables = as_json(await client.call_tool("list_tables", {}))
    assert [t["name"] for t in tables["tables"]] == schema.table_names and tables["max_rows"] == 1000
    described = await client.call_tool("describe_table", {"table": "customers"})
    assert not described.is_error and text(described) == schema.text_for(["customers"])
    hidden = await client.call_tool("describe_table", {"table": "no_such_table"})
    assert hidden.is_error and "no table 'no_such_table' is visible" in text(hidden)
    for sql in QUERIES:
        result = await client.call_tool("run_sql", {"query": sql})
        try:
            columns, rows = rows_of(gov, conn, sql, principal)
        except QueryDenied as err:
            assert result.is_error, (who, sql)
            assert text(result).count("query denied by governance policy") == 1
            assert all(r in text(result) for r in err.decision.reasons)
            continue
        got = as_json(result)
        assert got["columns"] == columns and got["rows"] == rows, (who, sql)
    return schema.table_names


def test_stdio(mcp, gov, database, tmp_path):
    from mcp import Client, StdioServerParameters

    from govern.mcp_server import jsonable

    db, conn = database
    dialect = "duckdb" if db.endswith(".duckdb") else "postgres"

    def params(tok: str | None, *more: str) -> StdioServerParameters:
        env = server_env(tmp_path)
        env.pop("GOVERN_MCP_TOKEN", None)
        if tok is not None:
            env["GOVERN_MCP_TOKEN"] = tok
        return StdioServerParameters(command=sys.executable, args=command(db, *more), env=env, cwd=str(tmp_path))

    async def scenario():
        seen = {}
        for who in ("eve", "sam"):
            async with Client(params(token(gov, who))) as client:
                seen[who] = await check_principal(client, gov, conn, dialect, who)
                search = await client.call_tool("search_documents", {"query": "open high", "k": 3})
                if who == "sam":  # a support agent: his own tickets, PII masked by his grants
                    docs = as_json(search)["documents"]
                    assert docs and all(d["metadata"]["agent_id"] == 22 for d in docs)
                    spec = gov.bundle.documents.collection("support_kb").spec.sql_store
                    direct = gov.sql_retriever(conn, spec.table, "support_kb", text_column=spec.text_column,
                                               metadata_columns=spec.metadata_columns, search_columns=spec.search_columns)
                    assert docs == jsonable(direct("open high", gov.principal("sam"), k=3).documents)
                else:  # a sales rep has no grant on the collection: a tool error saying so
                    assert search.is_error and "no grant to retrieve from collection 'support_kb'" in text(search)
        assert "accounts" in seen["eve"] and "accounts" not in seen["sam"] and "assignments" in seen["sam"]
        async with Client(params(token(gov, "ada"))) as client:  # the row cap: ada sees all 2000 orders
            capped = as_json(await client.call_tool("run_sql", {"query": "SELECT id FROM orders"}))
            assert capped["row_count"] == 1000

    asyncio.run(scenario())

    # A bad token, or none: the server refuses to start, says why, and the refusal is audited.
    for bad, why in ((token(gov, "eve")[:-4] + "AAAA", "signature"), ("not-a-jwt", "malformed"), (None, "token is needed")):
        env = params(bad).env
        done = subprocess.run([sys.executable, *command(db)], env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and why in done.stderr, done.stderr
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    refused = [r for r in audit if r["action"] == "mcp_authenticate" and r["decision"] == "deny"]
    assert len(refused) == 2 and all("token refused" in r["reasons"][0] for r in refused)


def test_streamable_http(mcp, gov, database, http_server, tmp_path):
    import httpx
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    db, conn = database
    dialect = "duckdb" if db.endswith(".duckdb") else "postgres"

    @asynccontextmanager
    async def session(tok: str):
        client = create_mcp_http_client(headers={"Authorization": f"Bearer {tok}"})
        async with Client(streamable_http_client(http_server, http_client=client)) as c:
            yield c

    async def scenario():
        seen = {}
        for who in ("eve", "sam"):
            async with session(token(gov, who)) as client:
                seen[who] = await check_principal(client, gov, conn, dialect, who)
        assert "accounts" in seen["eve"] and "accounts" not in seen["sam"]
        # Two principals at once on one server: each request acts for its own token.
        async with session(token(gov, "eve")) as eve, session(token(gov, "sam")) as sam:
            sql = "SELECT id, email FROM customers ORDER BY id LIMIT 5"
            a, b = await asyncio.gather(eve.call_tool("run_sql", {"query": sql}), sam.call_tool("run_sql", {"query": sql}))
            assert as_json(a)["rows"] == rows_of(gov, conn, sql, gov.principal("eve"))[1]
            assert as_json(b)["rows"] == rows_of(gov, conn, sql, gov.principal("sam"))[1]
            assert as_json(a)["rows"] != as_json(b)["rows"]
        with pytest.raises(BaseException):  # the mcp client cannot even initialize with a bad token
            async with session("not-a-jwt") as client:
                await client.list_tools()

    asyncio.run(scenario())

    # Bad tokens are 401 at the HTTP level, before any tool runs, with the SDK's WWW-Authenticate challenge.
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    forged = token(gov, "ada")[:-4] + "AAAA"
    for bad in (None, "not-a-jwt", forged):
        h = headers if bad is None else {**headers, "Authorization": f"Bearer {bad}"}
        answer = httpx.post(http_server, json=init, headers=h, timeout=30)
        assert answer.status_code == 401 and "Bearer" in answer.headers.get("www-authenticate", "")
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert sum(1 for r in audit if r["action"] == "mcp_authenticate" and r["decision"] == "deny") >= 2

    # A session belongs to the token that opened it: another principal's token on it is refused.
    opened = httpx.post(http_server, json=init, headers={**headers, "Authorization": f"Bearer {token(gov, 'eve')}"}, timeout=30)
    assert opened.status_code == 200
    session_headers = {**headers, "mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "run_sql", "arguments": {"query": "SELECT id, email FROM customers LIMIT 2"}}}
    hijack = httpx.post(http_server, json=call, headers={**session_headers, "Authorization": f"Bearer {token(gov, 'sam')}"},
                        timeout=30)
    assert hijack.status_code == 404 and "customers" not in hijack.text


def test_stdio_identity_is_verified_at_every_call(mcp, demo_duckdb, monkeypatch):
    """In process (the SDK's in-memory transport): a token that expires while the server runs stops working."""
    from mcp import Client

    from govern.identity import mint_dev_token
    from govern.mcp_server import build_server

    monkeypatch.setenv("GOVERN_JWT_SECRET", SECRET)
    fresh = Governor.from_path(POLICIES, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    leeway = fresh.bundle.identity.spec.leeway_seconds
    minted = time.time()
    # Valid now (its exp is in the past, but within the leeway) and refused two seconds from now.
    short = mint_dev_token(fresh.bundle.identity, fresh.principal("eve"), expires_in=3600, now=minted - 3600 - leeway + 2)
    with pytest.raises(ValueError):
        build_server(fresh, demo_duckdb)  # stdio needs the user's token; there is no principal parameter

    async def scenario():
        async with Client(build_server(fresh, demo_duckdb, token=short)) as client:
            first = await client.call_tool("list_tables", {})
            assert not first.is_error, text(first)
            await asyncio.sleep(max(0.0, minted + 3 - time.time()))
            late = await client.call_tool("run_sql", {"query": "SELECT id FROM regions"})
            assert late.is_error and "expired" in text(late)

    asyncio.run(scenario())


def test_statement_timeout_from_the_bundle(gov, tmp_path, database):
    """limits.statement_timeout_ms stops a long governed query on the engine (a failure, no rows)."""
    import shutil

    from govern.adapters.sql_tools import GovernedSql
    from govern.errors import QueryFailed

    _, conn = database
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle)
    rules = bundle / "rules.yaml"
    rules.write_text(rules.read_text().replace("limits:\n  max_rows: 1000\n", "limits:\n  max_rows: 1000\n  statement_timeout_ms: 200\n"))
    slow_gov = Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    assert slow_gov.bundle.rules.limits.statement_timeout_ms == 200
    tools = GovernedSql(slow_gov, conn, slow_gov.principal("ada"))
    slow = "SELECT count(*) FROM orders a, orders b, order_items c WHERE a.total + b.total > c.unit_price"
    started = time.monotonic()
    with pytest.raises(QueryFailed):
        tools.execute(slow)
    assert time.monotonic() - started < 30
    assert tools.execute("SELECT count(*) FROM regions").rows  # the connection still works afterwards


def test_http_server_refuses_to_start_without_its_keys(mcp, demo_db_path, tmp_path):
    """No secret for identity.yaml: no request could ever be verified, so the server does not start."""
    env = server_env(tmp_path)
    env.pop("GOVERN_JWT_SECRET")
    done = subprocess.run([sys.executable, *command(str(demo_db_path), "--transport", "http", "--port", str(free_port()))],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "GOVERN_JWT_SECRET is not set" in done.stderr
