"""Shared builders for the audit tests (importable by child processes too)."""

from __future__ import annotations

import random

from govern.audit import AuditTrail

from tests.conftest import PG_DSN, connect_postgres_or_skip  # noqa: F401  (one skip-or-fail rule)


PRINCIPALS = [
    {"id": "alice", "roles": ["analyst"], "tenant": "acme"},
    {"id": "bob", "roles": ["support", "analyst"], "tenant": "acme"},
    {"id": "carol", "roles": ["auditor"], "tenant": "globex"},
    {"id": "agent-7", "roles": ["llm_agent"], "tenant": "globex"},
]
DECISIONS = ["allow", "rewrite", "rewrite", "mask", "deny", "drop"]
REASONS = {
    "deny": ["column customers.ssn is not granted", "statement kind DELETE is not allowed", "read_csv is a file reader"],
    "drop": ["document acl: tenant mismatch"],
}


def kwargs_for(i: int, rng: random.Random | None = None) -> dict:
    rng = rng or random.Random(i)
    d = rng.choice(DECISIONS)
    p = rng.choice(PRINCIPALS)
    action = "retrieve" if d == "drop" else rng.choice(["check_sql", "check_sql", "execute", "mask_text"])
    return dict(
        action=action,
        principal=p,
        decision=d,
        reasons=[rng.choice(REASONS[d])] if d in REASONS else ["row filter applied"],
        input_text=f"SELECT name, email FROM customers WHERE id = {i}",
        tables=["customers"] if action != "retrieve" else [],
        columns=["customers.name", "customers.email"] if action != "retrieve" else [],
        policies=[rng.choice(["customers-own-region", "mask-email", "tenant-scope"])],
        bundle_hash="b" * 64,
        governed_sql=None if d == "deny" else "SELECT name, '***' AS email FROM (SELECT ...) AS customers",
        duration_ms=rng.random() * 3,
        correlation_id=f"conv-{i // 10}",
        pii={"EMAIL_ADDRESS": rng.randint(0, 3), "PHONE_NUMBER": rng.randint(0, 1)} if d == "mask" else None,
        rows=rng.randint(0, 50) if d in ("allow", "rewrite", "mask") else None,
        error=None,
    )


def fill(path, n: int, **trail_kw) -> AuditTrail:
    t = AuditTrail.to_file(path, **trail_kw)
    for i in range(n):
        t.record(**kwargs_for(i))
    return t


def file_worker(path: str, proc: int, threads: int, per_thread: int, max_bytes: int | None = None) -> None:
    """Child process: `threads` threads share one trail and each write `per_thread` records."""

    t = AuditTrail.to_file(path, max_bytes=max_bytes)
    _hammer(t, proc, threads, per_thread)
    t.close()


def pg_worker(conninfo: str, table: str, proc: int, threads: int, per_thread: int) -> None:
    # one trail (connection) per thread: every writer contends on the advisory lock
    import threading

    def run(th: int) -> None:
        t = AuditTrail.to_postgres(conninfo, table=table, synchronous_commit=False)
        for i in range(per_thread):
            t.record(action="check_sql", principal=PRINCIPALS[th % 4], decision="allow", correlation_id=f"{proc}-{th}-{i}")
        t.close()

    ts = [threading.Thread(target=run, args=(th,)) for th in range(threads)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()


def _hammer(t: AuditTrail, proc: int, threads: int, per_thread: int) -> None:
    import threading

    def run(th: int) -> None:
        for i in range(per_thread):
            t.record(action="check_sql", principal=PRINCIPALS[th % 4], decision="allow", correlation_id=f"{proc}-{th}-{i}")

    ts = [threading.Thread(target=run, args=(th,)) for th in range(threads)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()
