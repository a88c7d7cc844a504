"""`govern serve` for real: a server process on a free loopback port, talked to over HTTP with httpx.

The oracle for every decision and every row is the in-process Governor on the same
bundle and key; every answered request is looked up in the server's audit trail by
its X-Request-Id, and the trail's chain must verify. Servers:

- main: the demo DuckDB database, PII engine warm, a short statement timeout;
- sqlite: the demo data in SQLite, 3 requests per minute per principal, bundle hot reload;
- postgres: the demo data in PostgreSQL with an EXPLAIN cost limit;
- broken: a PostgreSQL URL nothing answers, then an audit trail that cannot be written;
- load: SIGTERM while clients hammer it.

They skip without the serve extra unless GOVERN_REQUIRE_EXTRAS=1 (CI), where that fails.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest


def _require(module: str):
    if os.environ.get("GOVERN_REQUIRE_EXTRAS", "").strip().lower() in {"1", "true", "yes", "on"}:
        import importlib

        return importlib.import_module(module)  # CI: a missing extra fails instead of skipping
    return pytest.importorskip(module, reason="the serve extra is not installed")


for _m in ("fastapi", "uvicorn", "jwt", "prometheus_client", "httpx"):
    _require(_m)

import duckdb  # noqa: E402
import httpx  # noqa: E402
import jwt  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from govern import Governor, Principal, QueryDenied  # noqa: E402
from govern.audit import AuditTrail, verify_file  # noqa: E402
from govern.serve.app import json_value  # noqa: E402
from tests.conftest import PG_DSN, connect_postgres_or_skip  # noqa: E402
from tests.serve_support import HASH_KEY, JWT_SECRET, ROOT, Server, bundle_copy  # noqa: E402

PRINCIPALS = ["eve", "lena", "sam", "tara", "ada"]
QUERIES = [
    "SELECT name, email, region FROM customers ORDER BY id",
    "SELECT c.name, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY 2 DESC, 1",
    "SELECT id, subject, body FROM support_tickets ORDER BY id LIMIT 20",
    "SELECT name, national_id FROM customers",
    "SELECT * FROM employees ORDER BY id",
    "DELETE FROM customers",
]
TIMEOUT_SQL = "SELECT count(*) FROM orders a, orders b, orders c WHERE a.total + b.total > c.total"


def records(trail: Path) -> list[dict]:
    return [json.loads(line) for line in trail.read_text().splitlines()] if trail.exists() else []


def record_of(trail: Path, request_id: str) -> list[dict]:
    return [r for r in records(trail) if r.get("correlation_id") == request_id]


def post(client: httpx.Client, path: str, body: dict, **kw) -> tuple[httpx.Response, str]:
    rid = uuid.uuid4().hex
    return client.post(path, json=body, headers={"X-Request-Id": rid, **kw.pop("headers", {})}, **kw), rid


def metric_samples(client: httpx.Client) -> dict[tuple, float]:
    text = client.get("/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def oracle_gov(policies: Path) -> Governor:
    os.environ.setdefault("GOVERN_JWT_SECRET", JWT_SECRET)
    return Governor.from_path(policies, audit=AuditTrail.null(), hash_key=HASH_KEY)


# ---- the main server: DuckDB ------------------------------------------------------------------


@pytest.fixture(scope="module")
def main(demo_db_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-main")
    policies = bundle_copy(tmp / "policies", statement_timeout_ms=1500)
    server = Server(policies, tmp / "trail.jsonl", str(demo_db_path)).wait_ready()
    yield server
    assert server.stop(), server.log.read_text()[-2000:]
    assert verify_file(server.audit).ok


@pytest.fixture(scope="module")
def oracle(main):
    return oracle_gov(main.policies)


def test_openapi_document_lists_the_api(main):
    doc = httpx.get(main.url + "/openapi.json").json()
    assert {"/v1/sql/check", "/v1/sql/execute", "/v1/text/mask", "/v1/policy/explain", "/healthz", "/readyz",
            "/metrics"} <= set(doc["paths"])
    assert {"SqlRequest", "MaskRequest", "Decision", "ExecuteResponse", "ErrorBody"} <= set(doc["components"]["schemas"])
    assert "401" in doc["paths"]["/v1/sql/execute"]["post"]["responses"]


def test_health_and_readiness(main):
    assert httpx.get(main.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(main.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert set(ready.json()["checks"]) == {"bundle", "identity", "audit", "database"}


@pytest.mark.parametrize("pid", PRINCIPALS)
def test_check_is_the_in_process_decision(main, oracle, pid):
    with main.client(pid) as client:
        for sql in QUERIES:
            response, rid = post(client, "/v1/sql/check", {"sql": sql, "dialect": "duckdb"})
            assert response.status_code == 200, response.text
            got = response.json()
            expected = oracle.check_sql(sql, oracle.principal(pid), dialect="duckdb")
            assert got["allowed"] == expected.allowed and got["sql"] == expected.sql
            assert got["reasons"] == expected.reasons and got["policies"] == expected.policies
            assert got["params"] == ["[REDACTED]"] * len(expected.params) and HASH_KEY not in response.text
            [rec] = record_of(main.audit, rid)
            assert rec["event_id"] == got["audit_id"] and rec["action"] == "check_sql"
            assert rec["principal"]["id"] == pid and rec["decision"] == ("rewrite" if got["allowed"] else "deny")


@pytest.mark.parametrize("pid", PRINCIPALS)
def test_execute_rows_are_the_in_process_rows(main, oracle, demo_db_path, pid):
    conn = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        with main.client(pid) as client:
            for sql in QUERIES:
                response, rid = post(client, "/v1/sql/execute", {"sql": sql})
                try:
                    expected = oracle.execute(conn, sql, oracle.principal(pid))
                except QueryDenied as denied:
                    assert response.status_code == 403, response.text
                    assert response.json()["error"] == "denied"
                    assert response.json()["decision"]["reasons"] == denied.decision.reasons
                    assert "rows" not in response.json()
                    assert record_of(main.audit, rid)[0]["decision"] == "deny"
                    continue
                assert response.status_code == 200, response.text
                got = response.json()
                assert got["columns"] == expected.columns
                assert got["rows"] == json.loads(json.dumps([[json_value(v) for v in row] for row in expected.rows]))
                assert got["pii"] == expected.pii
                [rec] = record_of(main.audit, rid)
                assert rec["action"] == "execute" and rec["rows"] == len(got["rows"]) == len(expected.rows)
                assert rec["event_id"] == got["decision"]["audit_id"]
    finally:
        conn.close()


def test_mask_is_the_in_process_masking(main, oracle):
    texts = ["Write to ann.lee@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111.",
             "Nothing personal here.", "IBAN DE89 3704 0044 0532 0130 00 for refunds"]
    with main.client("eve") as client:
        response, rid = post(client, "/v1/text/mask", {"texts": texts, "conversation": "c-1"})
    assert response.status_code == 200, response.text
    got = response.json()
    expected = oracle.mask_texts(texts, oracle.principal("eve"), conversation="c-1")
    assert got["texts"] == [m.text for m in expected]
    assert got["counts"] == [m.masked_counts for m in expected]
    assert "ann.lee@example.com" not in response.text and "4111 1111 1111 1111" not in response.text
    [rec] = record_of(main.audit, rid)
    assert rec["action"] == "mask_text" and rec["rows"] == 3 and rec["pii"] == {
        k: sum(c.get(k, 0) for c in got["counts"]) for c in got["counts"] for k in c}


def test_explain_names_the_policies(main):
    with main.client("eve") as client:
        allowed, rid = post(client, "/v1/policy/explain", {"sql": "SELECT name, email FROM customers"})
        denied, _ = post(client, "/v1/policy/explain", {"sql": "SELECT national_id FROM customers"})
    assert allowed.status_code == 200 and allowed.json()["allowed"] is True
    assert "customers-sales-rep-own-region" in allowed.json()["applied"] and allowed.json()["annotated_sql"]
    assert denied.json()["allowed"] is False and "national_id" in denied.json()["reasons"][0]
    [rec] = record_of(main.audit, rid)
    assert rec["action"] == "explain" and rec["event_id"] == allowed.json()["audit_id"]


# ---- token faults: 401 with a reason and an audit record ---------------------------------------


def _unsigned(claims: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _claims(**over) -> dict:
    now = int(time.time())
    claims = {"iss": "govern-dev", "aud": "govern", "sub": "eve", "iat": now, "exp": now + 600,
              "roles": ["sales_rep"], "region": "EU", "tenant": "acme", "employee_id": 1}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict, secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


TOKEN_FAULTS = {
    "expired": (lambda: _signed(_claims(exp=int(time.time()) - 3600)), "expired"),
    "alg-none": (lambda: _unsigned(_claims()), "unsigned"),
    "wrong-key": (lambda: _signed(_claims(), "another-secret-of-enough-length-0123456789"), "signature"),
    "wrong-audience": (lambda: _signed(_claims(aud="someone-else")), "audience"),
    "wrong-issuer": (lambda: _signed(_claims(iss="https://evil.example/")), "issuer"),
    "malformed": (lambda: "not-a-jwt", "malformed"),
    "no-sub": (lambda: _signed(_claims(sub=None)), "missing_claim"),
    "no-token": (lambda: None, "malformed"),
}


@pytest.mark.parametrize("fault", sorted(TOKEN_FAULTS))
@pytest.mark.parametrize("path", ["/v1/sql/check", "/v1/sql/execute", "/v1/text/mask", "/v1/policy/explain"])
def test_each_token_fault_is_401_with_reason_and_audit(main, fault, path):
    make, kind = TOKEN_FAULTS[fault]
    token = make()
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {"texts": ["x"]} if path == "/v1/text/mask" else {"sql": "SELECT name FROM customers"}
    with httpx.Client(base_url=main.url, timeout=60) as client:
        response, rid = post(client, path, body, headers=headers)
    assert response.status_code == 401, response.text
    got = response.json()
    assert got["error"] == "token_refused" and got["reason"].startswith(f"token refused ({kind}):")
    assert f'error_description="{kind}"' in response.headers["www-authenticate"]
    assert set(got) == {"error", "reason", "audit_id"}  # no decision, no rows
    [rec] = record_of(main.audit, rid)
    assert rec["action"] == "authenticate" and rec["decision"] == "deny" and rec["event_id"] == got["audit_id"]
    assert rec["principal"]["id"] == "(unauthenticated)" and (token is None or token not in main.audit.read_text())


def test_a_missing_claim_a_rule_needs_is_a_denial_naming_it(main):
    token = _signed(_claims(region=None))  # a sales rep's row filter needs region
    with httpx.Client(base_url=main.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        check, _ = post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})
        execute, _ = post(client, "/v1/sql/execute", {"sql": "SELECT name FROM customers"})
    assert check.status_code == 200 and check.json()["allowed"] is False
    assert any("lacks attribute 'region'" in r and "its claim 'region' is absent from the token" in r
               for r in check.json()["reasons"])
    assert execute.status_code == 403 and "claim 'region'" in execute.json()["reason"]


def test_an_invalid_body_is_422_and_audited(main):
    with main.client("eve") as client:
        response, rid = post(client, "/v1/sql/check", {"query": "SELECT 1"})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    [rec] = record_of(main.audit, rid)
    assert rec["decision"] == "deny" and rec["principal"]["id"] == "eve"


def test_statement_timeout_is_503_no_rows_and_audited(main):
    with main.client("ada") as client:
        started = time.monotonic()
        response, rid = post(client, "/v1/sql/execute", {"sql": TIMEOUT_SQL})
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "timeout" and "rows" not in response.json()
    assert elapsed < 60
    [rec] = record_of(main.audit, rid)
    assert rec["action"] == "execute" and rec["error"] and rec["rows"] is None


# ---- metrics -----------------------------------------------------------------------------------


def test_metrics_parse_and_count_what_happened(main):
    with main.client("eve") as client:
        before = metric_samples(client)
        post(client, "/v1/sql/check", {"sql": "SELECT national_id FROM customers"})  # denied: a column
        post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})
        post(client, "/v1/text/mask", {"texts": ["mail ann.lee@example.com"]})
        after = metric_samples(client)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("govern_decisions_total", action="check_sql", outcome="deny") == 1
    assert delta("govern_decisions_total", action="check_sql", outcome="rewrite") == 1
    assert delta("govern_decisions_total", action="mask_text", outcome="mask") == 1
    assert delta("govern_denials_total", reason_class="column") == 1
    assert delta("govern_pii_masked_total", type="EMAIL_ADDRESS") == 1
    assert delta("govern_audit_records_total", outcome="written") == 3
    assert delta("govern_request_duration_seconds_count", endpoint="/v1/sql/check") == 2
    assert delta("govern_http_responses_total", endpoint="/v1/sql/check", status="200") == 2
    bundle = [labels for (name, labels), v in after.items() if name == "govern_bundle_info" and v == 1]
    assert bundle == [(("bundle_hash", oracle_gov(main.policies).bundle.content_hash),)]


# ---- a client in another language: curl -------------------------------------------------------


def test_curl_example_runs_against_the_server(main):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    env = {**main.env, "GOVERN_URL": main.url, "GOVERN_POLICIES": str(main.policies),
           "GOVERN": f"{os.sys.executable} -m govern.cli"}
    done = subprocess.run(["sh", str(ROOT / "examples" / "serve_curl.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert '"allowed":true' in out and "not permitted" in out and "token_refused" in out
    assert "ann.lee@example.com" not in out


# ---- rate limits and hot reload on SQLite --------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_server(demo_db_path, tmp_path_factory):
    from tests.guard_oracle import sqlite_copy

    tmp = tmp_path_factory.mktemp("serve-sqlite")
    sqlite_copy(demo_db_path, tmp / "demo.sqlite", world_b=False).close()
    policies = bundle_copy(tmp / "policies", requests_per_minute=3)
    server = Server(policies, tmp / "trail.jsonl", f"sqlite:///{tmp / 'demo.sqlite'}", lazy=True,
                    extra_args=("--watch", "0.3")).wait_ready()
    yield server
    server.stop()
    assert verify_file(server.audit).ok


def test_rate_limit_is_429_with_retry_after_per_principal(sqlite_server):
    sql = {"sql": "SELECT name FROM customers ORDER BY id LIMIT 3"}
    with sqlite_server.client("eve") as eve, sqlite_server.client("lena") as lena:
        answers = [post(eve, "/v1/sql/execute", sql) for _ in range(4)]
        assert [r.status_code for r, _ in answers[:3]] == [200, 200, 200], answers[0][0].text
        refused, rid = answers[3]
        assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 20  # one request per 20 s at 3 a minute
        assert "3 requests per minute" in refused.json()["reason"] and "rows" not in refused.json()
        [rec] = record_of(sqlite_server.audit, rid)
        assert rec["decision"] == "deny" and rec["principal"]["id"] == "eve" and rec["reasons"][0].startswith("rate limit")
        assert post(lena, "/v1/sql/check", sql)[0].status_code == 200  # another principal has its own bucket


def test_execute_on_sqlite_is_the_in_process_execute(sqlite_server, tmp_path):
    import sqlite3

    gov = oracle_gov(sqlite_server.policies)
    conn = sqlite3.connect(str(Path(sqlite_server.audit).parent / "demo.sqlite"))
    sql = "SELECT name, email FROM customers ORDER BY id LIMIT 5"
    expected = gov.execute(conn, sql, gov.principal("tara"), dialect="sqlite")
    with sqlite_server.client("tara") as client:
        response, _ = post(client, "/v1/sql/execute", {"sql": sql, "dialect": "sqlite"})
        wrong, _ = post(client, "/v1/sql/execute", {"sql": sql, "dialect": "postgres"})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [list(r) for r in expected.rows] and expected.rows
    assert wrong.status_code == 422 and "the database speaks sqlite" in wrong.json()["reason"]


def test_hot_reload_is_counted_and_the_new_bundle_is_in_force(sqlite_server):
    with httpx.Client(base_url=sqlite_server.url) as client:
        before = metric_samples(client)
        rules = sqlite_server.policies / "rules.yaml"
        rules.write_text(rules.read_text().replace("max_rows: 1000", "max_rows: 2"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = metric_samples(client)
            if after.get(("govern_bundle_reloads_total", (("outcome", "reloaded"),)), 0) > before.get(
                    ("govern_bundle_reloads_total", (("outcome", "reloaded"),)), 0):
                break
            time.sleep(0.3)
        else:
            pytest.fail("the bundle was not reloaded")
    with sqlite_server.client("ada") as ada:
        got = post(ada, "/v1/sql/check", {"sql": "SELECT name FROM customers"})[0].json()
    assert got["sql"].endswith("LIMIT 2") and got["bundle_hash"] == oracle_gov(sqlite_server.policies).bundle.content_hash
    assert any(r["action"] == "policy_load" and r["decision"] == "allow" for r in records(sqlite_server.audit))


# ---- the cost gate on PostgreSQL --------------------------------------------------------------------

CHEAP = "SELECT name FROM customers WHERE id = 7"
COSTLY = "SELECT count(*) FROM orders a JOIN orders b ON a.customer_id <> b.customer_id"
MAX_COST = 5000


@pytest.fixture(scope="module")
def pg_server(demo_db_path, tmp_path_factory):
    import psycopg

    from tests.oracle.demo_pg import load_demo_into_postgres

    conn = connect_postgres_or_skip(autocommit=True)
    load_demo_into_postgres(conn, "main", duckdb_path=demo_db_path)
    conn.close()
    info = psycopg.conninfo.conninfo_to_dict(PG_DSN)
    url = f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{info['dbname']}"
    tmp = tmp_path_factory.mktemp("serve-pg")
    policies = bundle_copy(tmp / "policies", max_cost=MAX_COST)
    server = Server(policies, tmp / "trail.jsonl", url, lazy=True).wait_ready()
    yield server
    server.stop()
    assert verify_file(server.audit).ok


def test_cost_gate_denies_over_the_estimate_on_postgres(pg_server):
    from govern.sql.cost import estimated_cost

    gov = oracle_gov(pg_server.policies)
    conn = connect_postgres_or_skip(autocommit=True)
    try:
        costs = {}
        for sql in (CHEAP, COSTLY):
            d = gov.check_sql(sql, gov.principal("ada"), dialect="postgres")
            import psycopg

            costs[sql] = estimated_cost(psycopg.RawCursor(conn) if d.params else conn.cursor(), d.sql, d.params)
    finally:
        conn.close()
    assert costs[CHEAP] <= MAX_COST < costs[COSTLY], costs  # the two sides of the limit
    with pg_server.client("ada") as client:
        cheap, _ = post(client, "/v1/sql/execute", {"sql": CHEAP})
        costly, rid = post(client, "/v1/sql/execute", {"sql": COSTLY})
    assert cheap.status_code == 200, cheap.text
    assert costly.status_code == 403 and "rows" not in costly.json()
    reason = costly.json()["decision"]["reasons"][0]
    assert f"estimated cost {costs[COSTLY]:.2f} exceeds limits.max_cost {MAX_COST}" in reason
    [rec] = record_of(pg_server.audit, rid)
    assert rec["decision"] == "deny" and rec["reasons"] == [reason] and rec["rows"] is None


# ---- failures: database down, audit sink unwritable ----------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-broken")
    server = Server(bundle_copy(tmp / "policies"), tmp / "audit" / "trail.jsonl",
                    "postgresql://postgres@127.0.0.1:9/nothing", lazy=True).wait_ready()
    yield server
    server.stop()


def test_database_down_is_503_with_an_audit_record(broken):
    ready = httpx.get(broken.url + "/readyz", timeout=60)
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("failed: the postgres database is unreachable")
    with broken.client("eve") as client:
        response, rid = post(client, "/v1/sql/execute", {"sql": "SELECT name FROM customers"})
        check, _ = post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})
    assert response.status_code == 503 and response.json()["error"] == "database_unavailable"
    assert "rows" not in response.json()
    [rec] = record_of(broken.audit, rid)
    assert rec["error"] and rec["decision"] == "deny"
    assert check.status_code == 200  # deciding needs no database


def test_audit_sink_unwritable_is_503_and_no_data(broken):
    trail = broken.audit
    with broken.client("eve") as client:
        assert post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})[0].status_code == 200
        trail.rename(trail.with_name("moved.jsonl"))
        trail.mkdir()  # the trail's path is now a directory: no record can be appended
        try:
            response, _ = post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})
            masked, _ = post(client, "/v1/text/mask", {"texts": ["ann.lee@example.com"]})
            refused, _ = post(client, "/v1/sql/check", {"sql": "x"}, headers={"Authorization": "Bearer nonsense"})
            ready = httpx.get(broken.url + "/readyz", timeout=60)
            failed = metric_samples(client).get(("govern_audit_records_total", (("outcome", "failed"),)), 0)
        finally:
            trail.rmdir()
            trail.with_name("moved.jsonl").rename(trail)
    for r in (response, masked, refused):
        assert r.status_code == 503 and r.json()["error"] == "audit_unavailable", r.text
        assert "sql" not in r.json() and "texts" not in r.json() and "ann.lee" not in r.text
    assert ready.status_code == 503 and ready.json()["checks"]["audit"].startswith("failed")
    assert failed >= 3
    with broken.client("eve") as client:  # writable again: answered again, and the chain goes on
        assert post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})[0].status_code == 200
    assert verify_file(trail).ok


# ---- SIGTERM under load -----------------------------------------------------------------------------


def test_sigterm_mid_load_every_answer_has_its_record_and_the_chain_verifies(demo_db_path, tmp_path):
    server = Server(bundle_copy(tmp_path / "policies"), tmp_path / "trail.jsonl", str(demo_db_path), lazy=True).wait_ready()
    answered: list[tuple[str, int, str | None]] = []
    lock = threading.Lock()
    stop = threading.Event()
    work = [("/v1/sql/check", {"sql": QUERIES[0]}), ("/v1/sql/execute", {"sql": QUERIES[1]}),
            ("/v1/sql/check", {"sql": QUERIES[3]}), ("/v1/text/mask", {"texts": ["call ann.lee@example.com"]})]

    def client_loop(i: int) -> None:
        with server.client(PRINCIPALS[i % len(PRINCIPALS)], timeout=30) as client:
            n = 0
            while not stop.is_set():
                path, body = work[(i + n) % len(work)]
                n += 1
                try:
                    response, rid = post(client, path, body)
                except httpx.HTTPError:
                    if server.proc.poll() is not None:
                        return
                    continue
                with lock:
                    answered.append((rid, response.status_code, response.json().get("audit_id")
                                     or (response.json().get("decision") or {}).get("audit_id")))

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(4)
    assert server.stop(), server.log.read_text()[-2000:]  # SIGTERM: uvicorn finishes what it accepted, then exits
    stop.set()
    for t in threads:
        t.join(60)
    assert len(answered) > 8, "the load never got going"
    report = verify_file(server.audit)
    assert report.ok, report
    by_request = {}
    for rec in records(server.audit):
        by_request.setdefault(rec["correlation_id"], []).append(rec)
    for rid, status, audit_id in answered:
        assert len(by_request.get(rid, [])) == 1, (rid, status)
        if audit_id is not None:
            assert by_request[rid][0]["event_id"] == audit_id


@pytest.mark.parametrize("pid", PRINCIPALS)
def test_cost_gate_in_process_denies_exactly_above_the_limit(pg_server, pid):
    """gov.execute on PostgreSQL: denied for cost iff the planner's estimate of the governed SQL is above the limit."""
    import psycopg

    from govern.sql.cost import estimated_cost

    gov = oracle_gov(pg_server.policies)
    conn = connect_postgres_or_skip(autocommit=True)
    sides = set()
    try:
        for sql in [*QUERIES, CHEAP, COSTLY, TIMEOUT_SQL]:
            decision = gov.check_sql(sql, gov.principal(pid), dialect="postgres")
            if not decision.allowed:
                continue
            cost = estimated_cost(psycopg.RawCursor(conn) if decision.params else conn.cursor(), decision.sql, decision.params)
            try:
                gov.execute(conn, sql, gov.principal(pid), dialect="postgres")
                over = False
            except QueryDenied as denied:
                over = True
                assert denied.decision.reasons == [
                    f"estimated cost {cost:.2f} exceeds limits.max_cost {MAX_COST} (PostgreSQL EXPLAIN); "
                    "narrow the query (filters, fewer joins, fewer rows) or ask for a higher limit"]
            assert over == (cost > MAX_COST), (sql, cost)
            sides.add(over)
    finally:
        conn.close()
    if pid == "ada":  # every row: both sides of the limit are exercised
        assert sides == {True, False}


def test_identity_key_unset_is_503_audited_and_not_ready(tmp_path):
    server = Server(bundle_copy(tmp_path / "policies"), tmp_path / "trail.jsonl", lazy=True,
                    env={"GOVERN_JWT_SECRET": ""}).wait_ready()
    try:
        ready = httpx.get(server.url + "/readyz", timeout=60)
        assert ready.status_code == 503 and "GOVERN_JWT_SECRET is not set" in ready.json()["checks"]["identity"]
        token = _signed(_claims())
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            response, rid = post(client, "/v1/sql/check", {"sql": "SELECT name FROM customers"})
        assert response.status_code == 503 and response.json()["error"] == "identity_unavailable"
        assert "sql" not in response.json()
        [rec] = record_of(server.audit, rid)
        assert rec["decision"] == "deny" and rec["event_id"] == response.json()["audit_id"]
    finally:
        server.stop()
