"""Audit trail throughput: chained records written and verified, side by side
with plain structlog JSON lines (no chain, no lock), in one run.

    python benchmarks/bench_audit.py [--n 100000]

Targets (issue 5): >= 50k records/s written (file, flush per record),
>= 200k records/s verified, on one core. Every record is one write() syscall
to the kernel ("flush per record"); no fsync (see --fsync-n).

"keyed" runs give the trail a key: every record then also carries
HMAC-SHA256(key, hash) and keyed verify checks each one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog  # noqa: E402

from govern.audit import AuditTrail  # noqa: E402
from govern.audit.processors import DEFAULT_PROCESSORS  # noqa: E402
from govern.audit.verify import verify_file  # noqa: E402

KEY = b"bench-key-0123456789abcdef0123456789"

FIELDS = dict(
    action="check_sql",
    principal={"id": "alice", "roles": ["analyst", "support"], "tenant": "acme"},
    decision="rewrite",
    reasons=["row filter customers-own-region", "mask email"],
    tables=["customers", "orders"],
    columns=["customers.name", "customers.email", "orders.total"],
    policies=["customers-own-region", "mask-email"],
    bundle_hash="9f" * 32,
    governed_sql="SELECT c.name, '***' AS email, o.total FROM (SELECT ...) AS c JOIN (SELECT ...) AS o ON ...",
    duration_ms=1.234,
    correlation_id="conv-42",
    pii={"EMAIL_ADDRESS": 2},
    rows=17,
    error=None,
)


def rate(n: int, secs: float) -> float:
    return n / secs if secs else float("inf")


def bench_chained(path: Path, n: int, **kw) -> float:
    t = AuditTrail.to_file(path, **kw)
    t0 = time.perf_counter()
    for i in range(n):
        t.record(input_text=f"SELECT name, email FROM customers WHERE id = {i}", **FIELDS)
    dt = time.perf_counter() - t0
    t.close()
    return rate(n, dt)


def bench_null(n: int) -> float:
    t = AuditTrail.null()
    t0 = time.perf_counter()
    for i in range(n):
        t.record(input_text=f"SELECT name, email FROM customers WHERE id = {i}", **FIELDS)
    return rate(n, time.perf_counter() - t0)


def bench_plain_structlog(path: Path, n: int) -> float:
    f = open(path, "w")
    log = structlog.wrap_logger(
        structlog.WriteLogger(f),  # writes and flushes every message
        processors=[structlog.processors.TimeStamper(fmt="iso", utc=True), structlog.processors.JSONRenderer()],
    ).bind()
    t0 = time.perf_counter()
    for i in range(n):
        log.info("decision", input_text=f"SELECT name, email FROM customers WHERE id = {i}", **FIELDS)
    dt = time.perf_counter() - t0
    f.close()
    return rate(n, dt)


def bench_plain_parse(path: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
            n += 1
    return n, rate(n, time.perf_counter() - t0)


def bench_pg(conninfo: str, n: int, sync: bool) -> float:
    import psycopg

    table = "govern_audit_bench"
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {table}, {table}_checkpoints")
    t = AuditTrail.to_postgres(conninfo, table=table, synchronous_commit=sync)
    t0 = time.perf_counter()
    for i in range(n):
        t.record(input_text=f"SELECT name, email FROM customers WHERE id = {i}", **FIELDS)
    dt = time.perf_counter() - t0
    t.close()
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {table}, {table}_checkpoints")
    return rate(n, dt)


def breakdown(reps: int = 20_000) -> list[tuple[str, float]]:
    """Microseconds per record spent in each processor (each timed on its real input)."""
    from govern.audit.sinks import NullSink

    sink = NullSink()
    ev = dict(FIELDS, input_text="SELECT name, email FROM customers WHERE id = 1")
    out = []
    for proc in DEFAULT_PROCESSORS:
        src = dict(ev)
        copies = [dict(src) for _ in range(reps)]
        t0 = time.perf_counter()
        for c in copies:
            proc(sink, "write", c)
        out.append((proc.__name__, (time.perf_counter() - t0) / reps * 1e6))
        ev = proc(sink, "write", dict(src))
        if isinstance(ev, tuple):
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3, help="alternate the runs this often, keep each one's best")
    ap.add_argument("--fsync-n", type=int, default=2_000, help="records for the fsync-per-record run (0: skip)")
    ap.add_argument("--postgres", metavar="CONNINFO", help="also time the PostgreSQL sink (2,000 records)")
    args = ap.parse_args()
    n = args.n
    best = {}

    def keep(name: str, v: float) -> None:
        best[name] = max(best.get(name, 0.0), v)

    # other processes share this machine: alternate chained and plain runs and keep the best of each,
    # so both sides see the same background load
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            runs = [("chained", d / "trail.jsonl", {}), ("keyed", d / "keyed.jsonl", {"checkpoint_key": KEY})]
            for name, path, kw in runs[:: 1 if r % 2 == 0 else -1]:  # alternate the order: no position bias
                keep(name, bench_chained(path, n, **kw))
            keep("plain", bench_plain_structlog(d / "plain.jsonl", n))
            keep("null", bench_null(n))
            t0 = time.perf_counter()
            rep = verify_file(d / "trail.jsonl")
            keep("verify", rate(rep.records, time.perf_counter() - t0))
            assert rep.ok and rep.records == n
            t0 = time.perf_counter()
            rep = verify_file(d / "keyed.jsonl", key=KEY)
            keep("verify_keyed", rate(rep.records, time.perf_counter() - t0))
            assert rep.ok and rep.records == n and rep.signed_records == n
            keep("parse", bench_plain_parse(d / "plain.jsonl")[1])
            size = sum(p.stat().st_size for p in d.glob("trail.jsonl*")) / n
            if r == 0 and args.fsync_n:
                keep("fsync", bench_chained(d / "fsync.jsonl", args.fsync_n, fsync=True))
    chained, plain, null, vrate, prate = (best[k] for k in ("chained", "plain", "null", "verify", "parse"))
    fs = best.get("fsync")

    print(f"audit trail benchmark: {n} records x best of {args.rounds} rounds, {size:.0f} bytes/record, {os.cpu_count()} CPUs, one writer thread")
    print(f"{'':44}{'records/s':>12}  target")
    print(f"{'write  chained (file, flush per record)':44}{chained:12,.0f}  >= 50,000 {'ok' if chained >= 50_000 else 'BELOW'}")
    keyed, vkeyed = best["keyed"], best["verify_keyed"]
    print(f"{'write  chained + record MAC (keyed)':44}{keyed:12,.0f}  ({keyed / chained - 1:+.1%} vs unkeyed)")
    print(f"{'write  plain structlog JSON lines (no chain)':44}{plain:12,.0f}")
    print(f"{'write  chained pipeline only (null sink)':44}{null:12,.0f}")
    if fs:
        print(f"{'write  chained + fsync per record':44}{fs:12,.0f}  ({args.fsync_n} records)")
    print(f"{'verify chained (seq, prev_hash, SHA-256)':44}{vrate:12,.0f}  >= 200,000 {'ok' if vrate >= 200_000 else 'BELOW'}")
    print(f"{'verify keyed (+ record MACs, checkpoint HMACs)':44}{vkeyed:12,.0f}  ({vkeyed / vrate - 1:+.1%} vs unkeyed)")
    print(f"{'parse  plain JSON lines (json.loads only)':44}{prate:12,.0f}")
    print(f"ratio chained/plain write: {chained / plain:.2f}x; verify/plain parse: {vrate / prate:.2f}x")
    io_share = max(0.0, 1 - chained / null) if null else 0
    print(f"share of chained write time spent in the file sink (lock, stat, write): {io_share:.0%}; "
          "the rest is the Python processor chain")
    if args.postgres:
        for sync in (True, False):
            print(f"{'write  PostgreSQL sink, synchronous_commit=' + ('on' if sync else 'off'):44}"
                  f"{bench_pg(args.postgres, 2000, sync):12,.0f}")
    parts = breakdown()
    print("per-record cost by processor (us): " + ", ".join(f"{k} {v:.1f}" for k, v in parts)
          + f"; sum {sum(v for _, v in parts):.1f} of {1e6 / null:.1f} us per record in the pipeline "
          "(the rest: structlog dispatch, building the returned AuditRecord)")


if __name__ == "__main__":
    main()
