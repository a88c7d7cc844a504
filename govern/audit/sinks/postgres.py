"""PostgreSQL sink: an append-only table, chained under concurrent writers.

Each record is one transaction: take a transaction-scoped advisory lock keyed
on the table, read the head (highest seq), insert, commit. The lock serialises
every writer (threads, processes, hosts) on that table; the head is re-read
inside the lock, in a statement that starts after the lock is granted, so
READ COMMITTED sees every earlier commit. UPDATE, DELETE and TRUNCATE are
refused by triggers (a superuser can still disable them: that is what
`verify` and the signed checkpoints are for).

The exact line (the hashed bytes) is stored in `line`; the other columns are
copies for querying and are not trusted by `verify`.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg
from psycopg import sql

from .. import canonical
from ..model import GENESIS_HASH
from .file import sign_checkpoint

DDL = """
CREATE TABLE IF NOT EXISTS {t} (
    seq bigint PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    time timestamptz NOT NULL,
    principal_id text,
    action text NOT NULL,
    decision text NOT NULL,
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL UNIQUE,
    line text NOT NULL
);
CREATE TABLE IF NOT EXISTS {cp} (
    seq bigint PRIMARY KEY,
    hash char(64) NOT NULL,
    time text NOT NULL,
    mac text,
    every integer
);
CREATE OR REPLACE FUNCTION govern_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'govern audit table % is append-only', TG_TABLE_NAME;
END $$;
DROP TRIGGER IF EXISTS govern_append_only ON {t};
CREATE TRIGGER govern_append_only BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION govern_audit_append_only();
DROP TRIGGER IF EXISTS govern_no_truncate ON {t};
CREATE TRIGGER govern_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION govern_audit_append_only();
"""


class PostgresSink:
    def __init__(
        self,
        conninfo: str,
        *,
        table: str = "govern_audit",
        checkpoint_key: bytes | None = None,
        checkpoint_every: int = 1000,
        connect_timeout: int = 5,
        synchronous_commit: bool = True,
    ) -> None:
        self.conninfo = conninfo
        self.table = table
        self.checkpoint_key = checkpoint_key
        self.record_key = checkpoint_key or None
        self.record_signer = canonical.record_signer(checkpoint_key) if checkpoint_key else None  # used by `chain`
        self.checkpoint_every = checkpoint_every
        self._ckpt_seq = 0
        self._t = sql.Identifier(table)
        self._cp = sql.Identifier(table + "_checkpoints")
        self._tlock = threading.Lock()
        self.conn = psycopg.connect(conninfo, autocommit=False, connect_timeout=connect_timeout)
        self.head: tuple[int, str] = (0, GENESIS_HASH)
        if not synchronous_commit:  # ~10x faster; a server crash may lose the last few commits (never reorders)
            self.conn.execute("SET synchronous_commit = off")
            self.conn.commit()
        with self.conn.transaction():
            # DDL races between processes creating the same table: serialise it too
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("govern.audit.ddl",))
            self.conn.execute(sql.SQL(DDL).format(t=self._t, cp=self._cp))
            # tables made before checkpoints declared their interval; ALTER only when needed: it takes an
            # exclusive lock that would deadlock with writers of the live trail
            if not self.conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = %s AND column_name = 'every'", (table + "_checkpoints",)
            ).fetchone():
                self.conn.execute(sql.SQL("ALTER TABLE {cp} ADD COLUMN every integer").format(cp=self._cp))
        self.conn.commit()
        self._insert = sql.SQL(
            "INSERT INTO {t} (seq, event_id, time, principal_id, action, decision, prev_hash, hash, line)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(t=self._t)
        # head and last checkpoint in one round trip (both index lookups)
        self._head_q = sql.SQL(
            "SELECT h.seq, h.hash, (SELECT max(seq) FROM {cp}) FROM (SELECT 1) one"
            " LEFT JOIN (SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1) h ON true"
        ).format(t=self._t, cp=self._cp)
        if self.record_key:  # anchor: declares this writer's interval, and the checkpoints exist from the start
            with self.locked():
                self._checkpoint()

    @contextmanager
    def locked(self):
        with self._tlock:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("govern.audit:" + self.table,))
                seq, h, cp = self.conn.execute(self._head_q).fetchone()
                self.head = (seq, h) if seq is not None else (0, GENESIS_HASH)
                self._ckpt_seq = cp or 0
                yield self

    def write(self, line: bytes, r: dict) -> dict:
        text = line.decode("utf-8").rstrip("\n")
        self.conn.execute(
            self._insert,
            (r["seq"], r["event_id"], r["time"], r["principal"]["id"], r["action"], r["decision"], r["prev_hash"], r["hash"], text),
        )
        self.head = (r["seq"], r["hash"])
        if self.checkpoint_every and r["seq"] - self._ckpt_seq >= self.checkpoint_every:
            self._checkpoint()
        return r

    def _checkpoint(self) -> None:
        seq, h = self.head
        t = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        every = self.checkpoint_every
        self.conn.execute(
            sql.SQL("INSERT INTO {cp} (seq, hash, time, mac, every) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")
            .format(cp=self._cp),
            (seq, h, t, sign_checkpoint(self.checkpoint_key, seq, h, t, every), every),
        )
        self._ckpt_seq = seq

    def checkpoint(self) -> None:
        with self.locked():
            if self.head[0] and self.head[0] != self._ckpt_seq:
                self._checkpoint()

    def close(self) -> None:
        if self.conn.closed:
            return
        try:
            self.checkpoint()
        finally:
            self.conn.close()


def pg_lines(conninfo: str, table: str = "govern_audit"):
    """Raw lines in seq order for `verify_lines` (server-side cursor: constant memory)."""
    with psycopg.connect(conninfo) as conn:
        with conn.cursor(name="govern_audit_verify") as cur:
            cur.itersize = 5000
            cur.execute(sql.SQL("SELECT line FROM {t} ORDER BY seq").format(t=sql.Identifier(table)))
            for i, (line,) in enumerate(cur, 1):
                yield table, i, line.encode("utf-8"), True


def pg_checkpoints(conninfo: str, table: str = "govern_audit") -> list[dict]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            sql.SQL("SELECT seq, hash, time, mac, every FROM {cp} ORDER BY seq").format(cp=sql.Identifier(table + "_checkpoints"))
        ).fetchall()
    out = []
    for s, h, t, m, e in rows:
        c = {"seq": s, "hash": h, "time": t, "mac": m}
        if e is not None:  # rows written before `every` existed are signed without it
            c["every"] = e
        out.append(c)
    return out
