"""`govern serve` under load: N concurrent clients over loopback for a bounded time, mixed check/execute/mask.

    python benchmarks/bench_serve.py [--clients 32] [--seconds 20] [--mix check,execute,mask]

Starts the real server (a subprocess, the demo DuckDB database, a fresh audit trail),
runs the clients (httpx, asyncio) for ``--seconds``, stops the server with SIGTERM
and then checks the audit trail: exactly one record per answered request (found by
its X-Request-Id) and the chain verifies. Reports throughput, p50/p99 latency per
request kind, and side by side the cost the service replaces: one
``govern check --json`` process per decision, and the in-process ``check_sql``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail, verify_file  # noqa: E402
from govern.demo.dataset import build_demo_db  # noqa: E402
from tests.serve_support import HASH_KEY, JWT_SECRET, Server, bundle_copy  # noqa: E402

PRINCIPALS = ["eve", "lena", "sam", "tara", "ada"]
WORK = {
    "check": ("/v1/sql/check", [
        {"sql": "SELECT c.name, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1"},
        {"sql": "SELECT name, national_id FROM customers"},
        {"sql": "SELECT id, subject FROM support_tickets WHERE status = 'open'"},
    ]),
    "execute": ("/v1/sql/execute", [
        {"sql": "SELECT name, email, region FROM customers ORDER BY id LIMIT 20"},
        {"sql": "SELECT region, count(*) FROM customers GROUP BY region"},
    ]),
    "mask": ("/v1/text/mask", [
        {"texts": ["Please call Ann Lee at +1 415 555 0100 or write to ann.lee@example.com."]},
        {"texts": ["Refund to IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111."]},
    ]),
}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def run_clients(server: Server, clients: int, seconds: float, mix: list[str]):
    tokens = {p: server.token(p) for p in PRINCIPALS}
    results: list[tuple[str, str, int, float]] = []  # kind, request id, status, seconds
    errors = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
        async def client(i: int) -> None:
            nonlocal errors
            headers = {"Authorization": f"Bearer {tokens[PRINCIPALS[i % len(PRINCIPALS)]]}"}
            n = i
            while time.monotonic() < stop_at:
                kind = mix[n % len(mix)]
                path, bodies = WORK[kind]
                body = bodies[n % len(bodies)]
                n += 1
                rid = uuid.uuid4().hex
                started = time.perf_counter()
                try:
                    r = await http.post(path, json=body, headers={**headers, "X-Request-Id": rid})
                except httpx.HTTPError:
                    errors += 1
                    continue
                results.append((kind, rid, r.status_code, time.perf_counter() - started))

        await asyncio.gather(*(client(i) for i in range(clients)))
    return results, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mix", default="check,execute,mask", help="request kinds, cycled per client")
    parser.add_argument("--pool", type=int, default=4, help="the server's database connections")
    args = parser.parse_args(argv)
    mix = [m.strip() for m in args.mix.split(",") if m.strip()]

    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    db = build_demo_db(tmp / "demo.duckdb")
    policies = bundle_copy(tmp / "policies")
    trail = tmp / "trail.jsonl"
    print(f"starting govern serve (demo DuckDB, {args.pool} connections) ...", flush=True)
    server = Server(policies, trail, str(db), extra_args=("--pool", str(args.pool))).wait_ready()
    warm = 0
    with httpx.Client(base_url=server.url, timeout=120) as http:  # first use builds caches: not part of the figures
        for p in PRINCIPALS:
            for kind in mix:
                path, bodies = WORK[kind]
                for body in bodies:
                    http.post(path, json=body, headers={"Authorization": f"Bearer {server.token(p)}"})
                    warm += 1
    try:
        wall = time.perf_counter()
        results, errors = asyncio.run(run_clients(server, args.clients, args.seconds, mix))
        wall = time.perf_counter() - wall
    finally:
        graceful = server.stop()

    records = [json.loads(line) for line in trail.read_text().splitlines()]
    per_request: dict[str, int] = {}
    for rec in records:
        per_request[rec.get("correlation_id")] = per_request.get(rec.get("correlation_id"), 0) + 1
    missing = [rid for _, rid, _, _ in results if per_request.get(rid) != 1]
    records_timed = len(records) - warm
    report = verify_file(trail)

    print(f"\n{args.clients} clients, {wall:.1f} s, mix {','.join(mix)}: {len(results)} answered, "
          f"{errors} transport errors, {len(results) / wall:.0f} requests/s")
    print(f"{'kind':8} {'n':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind in mix:
        lat = [s for k, _, _, s in results if k == kind]
        statuses: dict[int, int] = {}
        for k, _, st, _ in results:
            if k == kind:
                statuses[st] = statuses.get(st, 0) + 1
        print(f"{kind:8} {len(lat):6d} {len(lat) / wall:7.0f} {pct(lat, .5) * 1000:8.1f} {pct(lat, .99) * 1000:8.1f}  {statuses}")
    lat = [s for _, _, _, s in results]
    print(f"{'all':8} {len(lat):6d} {len(lat) / wall:7.0f} {pct(lat, .5) * 1000:8.1f} {pct(lat, .99) * 1000:8.1f}")

    # Side by side: what a non-Python service paid before (a process per decision) and the in-process cost.
    env = {**os.environ, "GOVERN_HASH_KEY": HASH_KEY, "GOVERN_JWT_SECRET": JWT_SECRET, "PYTHONPATH": str(ROOT)}
    sql = WORK["check"][1][0]["sql"]
    cli = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "govern.cli", "check", "--policies", str(policies), "--as", "eve", "--json",
                        "--audit", str(tmp / "cli.jsonl"), sql], env=env, capture_output=True, check=False)
        cli.append(time.perf_counter() - started)
    gov = Governor.from_path(policies, audit=AuditTrail.null(), hash_key=HASH_KEY)
    eve = gov.principal("eve")
    gov.check_sql(sql, eve)
    inproc = []
    for _ in range(200):
        started = time.perf_counter()
        gov.check_sql(sql, eve)
        inproc.append(time.perf_counter() - started)
    check_p50 = pct([s for k, _, _, s in results if k == "check"], .5)
    print(f"\ncheck over HTTP (p50 under load) {check_p50 * 1000:.1f} ms; `govern check --json` process "
          f"{statistics.median(cli) * 1000:.0f} ms ({statistics.median(cli) / check_p50:.0f}x the HTTP p50); "
          f"in-process check_sql {statistics.median(inproc) * 1000:.2f} ms (HTTP p50 under load "
          f"{check_p50 / statistics.median(inproc):.0f}x)")

    print(f"\naudit: {records_timed} records for {len(results)} answered requests (+{warm} warm-up); "
          f"{len(missing)} requests without exactly one record; chain {'verifies' if report.ok else 'BROKEN'}; "
          f"shutdown {'graceful' if graceful else 'NOT graceful'}")
    ok = report.ok and not missing and records_timed == len(results) and graceful
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
