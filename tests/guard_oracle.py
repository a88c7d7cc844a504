"""Oracles for the SQL guard that the database itself answers, for whole classes of queries.

**Free-text non-interference.** Two copies of the demo database ("worlds") differ only
in the free-text columns (support_tickets.subject / body: in world B each text is
reversed, its digits shifted and a suffix appended, so its content, order, length and
every substring differ). For a principal who may not see all PII types, the governed
query must not compute on the raw text at all, so its raw result (opaque handles not yet
resolved) and its error, if any, are the same in both worlds. Any function, predicate,
sort, grouping, join or set operation over the raw text would make them differ.

**No raw value out.** The same query through ``gov.execute`` (handles resolved and
masked) returns no card number, IBAN digits or SSN, in rows, errors or audit records.

Engines: DuckDB (two files), SQLite (two files), PostgreSQL (two schemas, each with a
bundle copy whose catalog names it; skipped or failed like every PostgreSQL test).
"""

from __future__ import annotations

import collections
import decimal
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from govern import Governor, Principal
from govern.audit import AuditTrail
from govern.errors import QueryDenied, QueryFailed
from govern.connections import cursor_for
from tests.conftest import POLICIES, TEST_HASH_KEY, connect_postgres_or_skip

LONG_DIGITS = re.compile(r"\d(?:[ -]?\d){11,}")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
FREE_TEXT = ("subject", "body")


def world_b_sql(column: str, dialect: str) -> str:
    """The world-B text of a column: reversed, digits shifted, a suffix appended."""
    reverse = f"reverse({column})" if dialect != "sqlite" else column  # SQLite has no reverse(): shift only
    return f"translate({reverse}, '0123456789abcdef', '3456789012fedcba') || ' ~b~'" if dialect != "sqlite" else (
        f"replace(replace(replace(replace({column}, '1', '#'), '4', '1'), '#', '4'), 'a', 'e') || ' ~b~'")


@dataclass
class World:
    dialect: str
    conn: Any
    gov: Governor


@dataclass
class Worlds:
    a: World
    b: World

    @property
    def dialect(self) -> str:
        return self.a.dialect


def _norm(value: Any) -> Any:
    if isinstance(value, (float, decimal.Decimal)):
        return round(float(value), 4)
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _norm(v)) for k, v in value.items()))
    return value


def raw_outcome(world: World, sql: str, principal: Principal):
    """("denied", reasons) | ("error", type) | ("rows", multiset): the governed SQL run as check_sql emits it."""
    decision = world.gov.check_sql(sql, principal, dialect=world.dialect)
    if not decision.allowed:
        return ("denied", tuple(decision.reasons))
    try:
        cursor = cursor_for(world.conn, world.dialect, bool(decision.params))
        cursor.execute(decision.sql, decision.params) if decision.params else cursor.execute(decision.sql)
        rows = cursor.fetchall()
    except Exception as err:  # noqa: BLE001 - the class of error is part of the outcome
        if world.dialect == "postgres":
            world.conn.rollback()
        return ("error", type(err).__name__)
    if world.dialect == "postgres":
        world.conn.rollback()  # hold no locks between queries
    return ("rows", collections.Counter(tuple(_norm(v) for v in row) for row in rows))


def assert_free_text_noninterference(worlds: Worlds, sql: str, principal: Principal) -> tuple:
    """The governed query's raw outcome is the same in both worlds; returns it."""
    a = raw_outcome(worlds.a, sql, principal)
    b = raw_outcome(worlds.b, sql, principal)
    assert a[0] == b[0], f"{sql!r} for {principal.id} on {worlds.dialect}: {a[0]} in world A, {b[0]} in world B"
    if a[0] == "rows":
        extra, missing = a[1] - b[1], b[1] - a[1]
        assert a[1] == b[1], (f"{sql!r} for {principal.id} on {worlds.dialect} depends on the raw free text: "
                              f"only in A {list(extra.elements())[:3]}, only in B {list(missing.elements())[:3]}")
    elif a[0] == "error":
        assert a[1] == b[1], f"{sql!r}: errors differ between worlds ({a[1]} / {b[1]})"
    else:
        assert a[1], f"{sql!r} denied without a reason"
    return a


def leaked(text: str) -> list[str]:
    return LONG_DIGITS.findall(text) + SSN.findall(text)


def assert_no_raw_values(world: World, sql: str, principal: Principal, trail: Path | None = None) -> None:
    """``gov.execute`` shows no card / IBAN digits or SSN, in rows, columns or the error."""
    try:
        result = world.gov.execute(world.conn, sql, principal, world.dialect)
        text = repr(result.columns) + repr(result.rows)
    except QueryDenied as err:
        text = repr(err.decision.reasons)
    except QueryFailed as err:
        text = str(err)
        if world.dialect == "postgres":
            world.conn.rollback()
    if world.dialect == "postgres":
        world.conn.rollback()
    found = leaked(text)
    assert not found, f"{sql!r} for {principal.id} on {world.dialect} returned raw values {found[:3]}"
    if trail is not None and trail.exists():
        assert not leaked(trail.read_text()), "raw values in the audit trail"


def assert_free_text_safe(worlds: Worlds, sql: str, principal: Principal) -> tuple:
    outcome = assert_free_text_noninterference(worlds, sql, principal)
    assert_no_raw_values(worlds.a, sql, principal)
    return outcome


# --------------------------------------------------------------------------- building the worlds

def duckdb_worlds(demo_db_path: Path, tmp: Path) -> tuple[Path, Path]:
    a, b = tmp / "world_a.duckdb", tmp / "world_b.duckdb"
    shutil.copy(demo_db_path, a)
    shutil.copy(demo_db_path, b)
    conn = duckdb.connect(str(b))
    sets = ", ".join(f"{c} = {world_b_sql(c, 'duckdb')}" for c in FREE_TEXT)
    conn.execute(f"UPDATE support_tickets SET {sets}")
    conn.close()
    return a, b


def sqlite_copy(demo_db_path: Path, target: Path, world_b: bool) -> sqlite3.Connection:
    src = duckdb.connect(str(demo_db_path), read_only=True)
    dst = sqlite3.connect(str(target), check_same_thread=False)
    for (table,) in src.execute("SELECT table_name FROM information_schema.tables").fetchall():
        cols = [r[0] for r in src.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table]).fetchall()]
        dst.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
        rows = [tuple(v if v is None or isinstance(v, (int, float, str)) else str(v) for v in r)
                for r in src.execute(f"SELECT * FROM {table}").fetchall()]
        dst.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
    if world_b:
        sets = ", ".join(f"{c} = {world_b_sql(c, 'sqlite')}" for c in FREE_TEXT)
        dst.execute(f"UPDATE support_tickets SET {sets}")
    dst.commit()
    src.close()
    return dst


def governor(bundle: Path = POLICIES) -> Governor:
    return Governor.from_path(bundle, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)


def postgres_worlds(demo_db_path: Path, tmp: Path):
    """(connection, governor A, governor B): the demo in two schemas, world B's free text changed."""
    from tests.oracle.demo_pg import load_demo_into_postgres

    conn = connect_postgres_or_skip()
    conn.autocommit = False
    govs = []
    for name in ("world_a", "world_b"):
        load_demo_into_postgres(conn, name, duckdb_path=demo_db_path)
        if name == "world_b":
            sets = ", ".join(f"{c} = {world_b_sql(c, 'postgres')}" for c in FREE_TEXT)
            conn.execute(f"UPDATE {name}.support_tickets SET {sets}")
            conn.commit()
        copy = tmp / f"bundle_{name}"
        shutil.copytree(POLICIES, copy)
        catalog = copy / "catalog.yaml"
        catalog.write_text(catalog.read_text().replace("schema: main", f"schema: {name}"))
        govs.append(governor(copy))
    return conn, govs[0], govs[1]


def visible_copy(world: World, principal: Principal, tables: tuple[str, ...], tmp: Path, demo_db_path: Path):
    """A connection (and how to run plain SQL on it) to a copy of the demo data holding, of
    ``tables``, only the rows ``principal`` sees: the oracle of the error channel. A query's
    error on the governed database must also occur here, where no hidden row exists."""
    keep = {t: sorted(r[0] for r in world.gov.execute(world.conn, f"SELECT id FROM {t}", principal, world.dialect).rows)
            for t in tables}
    name = f"visible_{principal.id}"
    def kept(table: str) -> str:
        ids = keep.get(table)
        return "" if ids is None else f" WHERE id IN ({', '.join(map(str, ids)) or 'NULL'})"

    if world.dialect == "duckdb":  # tables without constraints, so rows can go
        conn = duckdb.connect(str(tmp / f"{name}.duckdb"))
        conn.execute(f"ATTACH '{demo_db_path}' AS src (READ_ONLY)")
        for (table,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall():
            conn.execute(f"CREATE TABLE main.{table} AS SELECT * FROM src.main.{table}{kept(table)}")
        conn.execute("DETACH src")
        return conn
    if world.dialect == "sqlite":
        conn = sqlite_copy(demo_db_path, tmp / f"{name}.sqlite", False)
    else:
        from tests.oracle.demo_pg import load_demo_into_postgres

        conn = connect_postgres_or_skip(autocommit=True)
        load_demo_into_postgres(conn, name, duckdb_path=demo_db_path)
        conn.execute(f"SET search_path TO {name}")
        conn.execute("SET session_replication_role = replica")  # foreign keys do not hold the hidden rows
    for table in keep:
        conn.execute(f"DELETE FROM {table} WHERE NOT (id IN ({', '.join(map(str, keep[table])) or 'NULL'}))")
    if world.dialect == "sqlite":
        conn.commit()
    return conn


def raises(conn, sql: str) -> str | None:
    """The class of error ``sql`` raises on ``conn`` (None when it runs)."""
    try:
        conn.execute(sql).fetchall()
        return None
    except Exception as err:  # noqa: BLE001
        return type(err).__name__


def build_worlds(demo_db_path: Path, tmp: Path):
    """dialect -> Worlds, built on first use; and a closer."""
    built: dict[str, Worlds] = {}
    opened: list = []

    def get(dialect: str) -> Worlds:
        if dialect in built:
            return built[dialect]
        if dialect == "duckdb":
            a, b = duckdb_worlds(demo_db_path, tmp)
            gov = governor()
            ca, cb = duckdb.connect(str(a), read_only=True), duckdb.connect(str(b), read_only=True)
            opened.extend([ca, cb])
            built[dialect] = Worlds(World("duckdb", ca, gov), World("duckdb", cb, gov))
        elif dialect == "sqlite":
            gov = governor()
            ca = sqlite_copy(demo_db_path, tmp / "world_a.sqlite", False)
            cb = sqlite_copy(demo_db_path, tmp / "world_b.sqlite", True)
            opened.extend([ca, cb])
            built[dialect] = Worlds(World("sqlite", ca, gov), World("sqlite", cb, gov))
        elif dialect == "postgres":
            conn, ga, gb = postgres_worlds(demo_db_path, tmp)
            opened.append(conn)
            built[dialect] = Worlds(World("postgres", conn, ga), World("postgres", conn, gb))
        else:
            raise ValueError(dialect)
        return built[dialect]

    visible: dict[tuple[str, str], Any] = {}

    def visible_only(dialect: str, principal: Principal, tables: tuple[str, ...] = ("customers", "orders")):
        key = (dialect, principal.id)
        if key not in visible:
            visible[key] = visible_copy(get(dialect).a, principal, tables, tmp, demo_db_path)
            opened.append(visible[key])
        return visible[key]

    get.visible_only = visible_only

    def close() -> None:
        for conn in opened:
            conn.close()

    return get, close
