"""Parse the corpus DDL files (PostgreSQL) into sqlglot ASTs.

Shared by the loaders (``load.py``) and the catalog generator (``gen_catalog.py``).
Identifiers are normalised the way PostgreSQL stores them (unquoted -> lower
case), so that every engine sees ``sbcustomer`` rather than ``sbCustomer``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

# shared/ sits beside the checkout (on developer machines and in CI alike).
CORPUS_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "text2sql"
DATABASES = ("academic", "broker", "car_dealership", "restaurants", "scholar")


def ddl_path(db: str) -> Path:
    return CORPUS_DIR / "databases" / f"{db}.sql"


@functools.lru_cache(maxsize=None)
def ddl_text(db: str) -> str:
    return ddl_path(db).read_text(encoding="utf-8")


def ddl_digest(db: str) -> str:
    return hashlib.sha256(ddl_text(db).encode("utf-8")).hexdigest()[:16]


def parse_ddl(db: str) -> list[exp.Expression]:
    """Fresh ASTs (callers mutate them) with identifiers normalised and no schema."""
    out = []
    for stmt in sqlglot.parse(ddl_text(db), read="postgres"):
        if stmt is None:
            continue
        stmt = normalize_identifiers(stmt, dialect="postgres")
        for table in stmt.find_all(exp.Table):
            table.set("db", None)  # drop `public.`
        out.append(stmt)
    return out


def qualify(stmt: exp.Expression, schema: str) -> exp.Expression:
    """Point every table reference of ``stmt`` at ``schema`` (mutates and returns it)."""
    for table in stmt.find_all(exp.Table):
        table.set("db", exp.to_identifier(schema))
    return stmt


def tables(db: str) -> dict[str, list[tuple[str, exp.DataType]]]:
    """table -> [(column, type)] in DDL order."""
    out: dict[str, list[tuple[str, exp.DataType]]] = {}
    for stmt in parse_ddl(db):
        if isinstance(stmt, exp.Create) and stmt.kind == "TABLE":
            schema = stmt.this
            name = schema.this.name
            cols = []
            for col in schema.expressions:
                if isinstance(col, exp.ColumnDef):
                    cols.append((col.name, col.args["kind"]))
            out[name] = cols
    return out


@functools.lru_cache(maxsize=None)
def queries() -> tuple[dict, ...]:
    lines = (CORPUS_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip():
            q = json.loads(line)
            q["index"] = i
            out.append(q)
    return tuple(out)
