"""The database `govern serve --db` runs governed queries on: a small pool of connections, each with a timeout.

``--db`` is a PostgreSQL URL (``postgresql://...``), a DuckDB file or a SQLite
file (``duckdb:///path``, ``sqlite:///path``, or a path: the file's header says
which). Files are opened read-only: governed SQL only reads. Every query runs
under a statement timeout: PostgreSQL's own ``statement_timeout``; DuckDB
interrupts the connection; SQLite aborts from its progress handler. A broken
connection is dropped and a new one opened on the next request.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from govern.errors import QueryDenied


class DatabaseUnavailable(Exception):
    """No connection could be had (unreachable, pool exhausted): ``reason`` says which."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Target:
    kind: str  # postgres | duckdb | sqlite
    where: str  # conninfo URL or file path

    @property
    def dialect(self) -> str:
        return self.kind


def parse_target(url: str) -> Target:
    """Which engine ``--db`` names; ValueError naming what is wrong."""
    if url.startswith(("postgresql://", "postgres://")):
        return Target("postgres", url)
    for scheme in ("duckdb", "sqlite"):
        if url.startswith(f"{scheme}:///"):
            return Target(scheme, url[len(scheme) + 3:])
        if url.startswith(f"{scheme}:"):
            raise ValueError(f"--db {url!r}: write {scheme}:///PATH (three slashes, then the file path)")
    path = Path(url)
    if not path.is_file():
        raise ValueError(f"--db {url!r}: not a PostgreSQL URL (postgresql://...) and no such file")
    head = path.read_bytes()[:16] if path.stat().st_size else b""
    if head.startswith(b"SQLite format 3\0"):
        return Target("sqlite", str(path))
    if head[8:12] == b"DUCK":
        return Target("duckdb", str(path))
    raise ValueError(f"--db {url!r}: neither a SQLite nor a DuckDB database file")


class DuckConnection:
    """A DuckDB connection whose ``cursor()`` is itself: the statement runs on the connection the
    timeout's ``interrupt()`` reaches (a DuckDB cursor is a connection of its own)."""

    def __init__(self, conn: Any):
        self.conn = conn

    def cursor(self) -> Any:
        return _SharedCursor(self.conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


class _SharedCursor:
    """The connection as a cursor; closing the cursor leaves the pooled connection open."""

    def __init__(self, conn: Any):
        self._conn = conn

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class Database:
    """``size`` connections to one target, lent out one request at a time."""

    def __init__(self, target: Target, *, size: int = 4, timeout_ms: int = 30_000, wait_s: float = 10.0):
        self.target = target
        self.size = size
        self.timeout_ms = timeout_ms
        self.wait_s = wait_s
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._duck: Any = None  # DuckDB: one database, a cursor (its own connection) per slot
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.target.dialect

    def _open(self) -> Any:
        kind, where = self.target.kind, self.target.where
        if kind == "postgres":
            import psycopg

            conn = psycopg.connect(where, autocommit=True, connect_timeout=5)
            conn.execute(f"SET statement_timeout = {int(self.timeout_ms)}")
            conn.execute("SET default_transaction_read_only = on")
            return conn
        if kind == "duckdb":
            import duckdb

            with self._lock:
                if self._duck is None:
                    self._duck = duckdb.connect(where, read_only=True)
                return DuckConnection(self._duck.cursor())
        conn = sqlite3.connect(f"file:{Path(where).resolve()}?mode=ro", uri=True, check_same_thread=False)
        return conn

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for one request; DatabaseUnavailable when none can be had in ``wait_s``."""
        if not self._slots.acquire(timeout=self.wait_s):
            raise DatabaseUnavailable(f"all {self.size} database connections are busy (waited {self.wait_s:g} s)")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                try:
                    conn = self._open()
                except Exception as err:
                    raise DatabaseUnavailable(f"the {self.target.kind} database is unreachable ({type(err).__name__})") from None
            yield conn
        except BaseException as err:
            if conn is not None and not isinstance(err, QueryDenied) and not self.usable(conn):
                self._discard(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                self._idle.put(conn)
            self._slots.release()

    def usable(self, conn: Any) -> bool:
        """False when the connection is broken (it is then dropped)."""
        try:
            if self.target.kind == "postgres":
                if conn.closed or conn.broken:
                    return False
                conn.execute("SELECT 1").fetchone()
            else:
                conn.execute("SELECT 1").fetchone()
            return True
        except Exception:
            return False

    def _discard(self, conn: Any) -> None:
        try:
            conn.close()
        except Exception:
            pass

    @contextmanager
    def deadline(self, conn: Any) -> Iterator[dict]:
        """Run the body under the statement timeout; ``state['timed_out']`` tells whether it fired.

        PostgreSQL enforces its ``statement_timeout`` itself (set on each connection);
        DuckDB's connection is interrupted from a timer; SQLite's progress handler aborts.
        """
        state = {"timed_out": False}
        seconds = self.timeout_ms / 1000
        if self.target.kind == "duckdb":
            def interrupt():
                state["timed_out"] = True
                conn.interrupt()
            timer = threading.Timer(seconds, interrupt)
            timer.daemon = True
            timer.start()
            try:
                yield state
            finally:
                timer.cancel()
        elif self.target.kind == "sqlite":
            end = time.monotonic() + seconds

            def check() -> int:
                if time.monotonic() > end:
                    state["timed_out"] = True
                    return 1
                return 0
            conn.set_progress_handler(check, 10_000)
            try:
                yield state
            finally:
                conn.set_progress_handler(None, 0)
        else:
            yield state

    def ping(self) -> str | None:
        """None when the database answers ``SELECT 1``; otherwise why not."""
        try:
            with self.connection() as conn:
                if not self.usable(conn):
                    raise DatabaseUnavailable(f"the {self.target.kind} database does not answer")
            return None
        except DatabaseUnavailable as err:
            return err.reason

    def close(self) -> None:
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                break
        if self._duck is not None:
            self._discard(self._duck)
