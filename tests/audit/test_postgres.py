"""PostgreSQL sink: append-only table, chain kept under 8 threads x 4 processes."""

import uuid

import pytest

from govern.audit import AuditTrail
from govern.audit.verify import verify_postgres
from govern.cli.audit import main

from .helpers import PG_DSN, connect_postgres_or_skip, pg_worker
from .test_concurrency import PROCS, THREADS, run_procs

PER_THREAD = 25


@pytest.fixture
def table():
    conn = connect_postgres_or_skip(autocommit=True)
    name = "audit_test_" + uuid.uuid4().hex[:8]
    yield name
    conn.execute(f"DROP TABLE IF EXISTS {name}, {name}_checkpoints")
    conn.close()


def test_concurrent_writers_keep_one_chain(table):
    run_procs(pg_worker, lambda i: (PG_DSN, table, i, THREADS, PER_THREAD))
    rep = verify_postgres(PG_DSN, table)
    total = PROCS * THREADS * PER_THREAD
    assert rep.ok and rep.records == total, rep.first_bad
    with connect_postgres_or_skip() as c:
        rows = c.execute(f"SELECT seq, line::jsonb->>'correlation_id' FROM {table} ORDER BY seq").fetchall()
    assert [s for s, _ in rows] == list(range(1, total + 1))
    assert len({cid for _, cid in rows}) == total


def test_append_only_and_tamper_detected(table, capsys):
    import psycopg

    t = AuditTrail.to_postgres(PG_DSN, table=table, checkpoint_every=10)
    for i in range(25):
        t.record(action="check_sql", principal={"id": "alice"}, decision="deny" if i % 3 else "allow")
    t.close()
    assert verify_postgres(PG_DSN, table).ok
    c = connect_postgres_or_skip(autocommit=True)
    for stmt in (f"UPDATE {table} SET decision = 'allow'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
        with pytest.raises(psycopg.errors.RaiseException):
            c.execute(stmt)
    # a superuser can get past the trigger; verify still sees it
    c.execute(f"ALTER TABLE {table} DISABLE TRIGGER govern_append_only")
    c.execute(f"UPDATE {table} SET line = replace(line, '\"decision\":\"deny\"', '\"decision\":\"allow\"') WHERE seq = 5")
    rep = verify_postgres(PG_DSN, table)
    assert rep.first_bad.kind == "edited" and rep.first_bad.seq == 5
    c.execute(f"DELETE FROM {table} WHERE seq = 5")
    assert verify_postgres(PG_DSN, table).first_bad.kind == "deleted"
    c.execute(f"DELETE FROM {table} WHERE seq > 22")
    c.execute(f"DELETE FROM {table} WHERE seq <> 1")
    rep = verify_postgres(PG_DSN, table)
    assert rep.first_bad.kind == "truncated"  # the checkpoints table remembers seq 10, 20, 25
    assert main(["audit", "verify", "--postgres", PG_DSN, "--table", table]) == 1
    c.close()
