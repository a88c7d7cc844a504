"""Proposing a PII classification for a database's columns (`govern catalog classify`).

A catalog introspected from a database knows tables, columns, types and keys,
but not what the columns hold; masks follow classification, so an unclassified
catalog masks nothing by class. This reads the catalog from a DuckDB,
PostgreSQL or SQLite connection and proposes, per column:

* a PII type from the column's **name** (``email``, ``phone``, ``ssn``, ``iban``,
  ``card_number``, ``first_name``, ...), and from a **sample of its values** run
  through the PII engine (the share of sampled values in which each type was
  found is the evidence);
* ``free_text: true`` for long, sentence-like text in which PII was found in a
  share of the values but no single type dominates.

The result is a ``catalog.yaml`` for review: every proposal carries its
evidence as a comment, and nothing is applied until a person commits the file.
Sampling is govern's own read of the database (an administrator's command, not
a principal's query); the values are never written anywhere, only counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlglot import exp

from govern.bundle.catalog import Catalog, Table
from govern.connections import dialect_of

TEXT_TYPE = re.compile(r"^(VARCHAR|TEXT|CHAR|CHARACTER|STRING|BPCHAR|NVARCHAR|CLOB|CITEXT)", re.I)
NAME_HINTS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(^|_)(e_?mail|email_address)($|_)", re.I), "EMAIL_ADDRESS"),
    (re.compile(r"(^|_)(phone|mobile|cell|tel|telephone|fax)(_?(number|no))?($|_)", re.I), "PHONE_NUMBER"),
    (re.compile(r"(^|_)(ssn|social_security(_number)?|national_id|tax_id)($|_)", re.I), "US_SSN"),
    (re.compile(r"(^|_)iban($|_)", re.I), "IBAN_CODE"),
    (re.compile(r"(^|_)(card(_?number|_no)?|cc_?(num|number)|pan|credit_card)($|_)", re.I), "CREDIT_CARD"),
    (re.compile(r"(^|_)(first_?name|last_?name|full_?name|surname|given_?name|family_?name|maiden_name)($|_)", re.I), "PERSON"),
    (re.compile(r"(^|_)(ip|ip_?address|client_ip)($|_)", re.I), "IP_ADDRESS"),
]
# A bare `name` is a person's name only on tables that hold people.
PEOPLE_TABLES = re.compile(r"(customer|client|patient|person|people|user|employee|staff|member|contact|author|"
                           r"student|doctor|driver|owner|agent|salesperson|applicant)", re.I)
MAJORITY = 0.5  # share of sampled values that must show a type for the values alone to classify a column
FREE_TEXT_LENGTH = 40  # average characters of sentence-like text


@dataclass
class Proposal:
    table: str
    column: str
    pii: str | None = None
    free_text: bool = False
    evidence: list[str] = field(default_factory=list)


def classify(conn: Any, catalog: Catalog, engine, sample: int = 200, dialect: str | None = None) -> list[Proposal]:
    """A proposal for every text column of ``catalog`` (``engine``: a govern PiiEngine)."""
    dialect = dialect or dialect_of(conn)
    out = []
    for table in catalog:
        for column in table.columns:
            if not TEXT_TYPE.match(column.type or ""):
                continue
            proposal = Proposal(table.name, column.name)
            hint = _name_hint(table, column.name)
            values = _sample(conn, table, column.name, sample, dialect)
            shares = _shares(engine, values)
            if hint:
                proposal.pii = hint
                proposal.evidence.append(f"name {column.name!r} suggests {hint}")
            if values:
                found = ", ".join(f"{t} {s:.0%}" for t, s in sorted(shares.items(), key=lambda kv: -kv[1])) or "none"
                proposal.evidence.append(f"{len(values)} sampled values; PII found: {found}")
                best = max(shares.items(), key=lambda kv: kv[1], default=(None, 0.0))
                average = sum(len(v) for v in values) / len(values)
                sentences = sum(1 for v in values if " " in v.strip()) / len(values)
                if not hint and best[1] >= MAJORITY and average < FREE_TEXT_LENGTH:
                    proposal.pii = best[0]
                elif average >= FREE_TEXT_LENGTH and sentences >= MAJORITY and any(s > 0 for s in shares.values()):
                    proposal.free_text, proposal.pii = True, None
                    proposal.evidence.append(f"long sentence-like text (average {average:.0f} characters): free text")
            out.append(proposal)
    return out


def _name_hint(table: Table, column: str) -> str | None:
    for pattern, kind in NAME_HINTS:
        if pattern.search(column):
            return kind
    if column.lower() == "name" and PEOPLE_TABLES.search(table.name):
        return "PERSON"
    return None


def _sample(conn: Any, table: Table, column: str, limit: int, dialect: str) -> list[str]:
    """Up to ``limit`` distinct non-empty values, read with a query built on the AST."""
    ref = exp.Column(this=exp.to_identifier(column, quoted=True))
    source = exp.Table(this=exp.to_identifier(table.name, quoted=True),
                       db=exp.to_identifier(table.schema, quoted=True) if table.schema else None)
    query = (exp.select(ref).distinct().from_(source).where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null())))
             .limit(limit))
    cursor = conn.cursor()
    cursor.execute(query.sql(dialect=dialect))
    return [str(row[0]) for row in cursor.fetchall() if row[0] is not None and str(row[0]).strip()]


def _shares(engine, values: list[str]) -> dict[str, float]:
    if not values:
        return {}
    masked = engine.mask_many(values)
    counts: dict[str, int] = {}
    for result in masked:
        for kind in result.masked_counts:
            counts[kind] = counts.get(kind, 0) + 1
    return {kind: n / len(values) for kind, n in counts.items()}


def catalog_yaml(catalog: Catalog, proposals: list[Proposal]) -> str:
    """catalog.yaml text with the proposals applied and their evidence as comments."""
    by_column = {(p.table, p.column): p for p in proposals}
    lines = ["# catalog.yaml - introspected by `govern catalog classify`; review every proposal before committing.",
             "# pii: the PII type a column holds (masked in SQL for principals without its reveal);",
             "# free_text: scanned for PII in results (shown as opaque handles to principals who may not see all types).",
             "tables:"]
    for table in catalog:
        lines.append(f"  {table.name}:")
        if table.schema:
            lines.append(f"    schema: {table.schema}")
        lines.append("    columns:")
        for column in table.columns:
            entry = {"name": column.name, "type": column.type}
            proposal = by_column.get((table.name, column.name))
            if proposal is not None and proposal.pii:
                entry["pii"] = proposal.pii
            if proposal is not None and proposal.free_text:
                entry["free_text"] = True
            text = yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=10_000).strip()
            comment = f"  # {'; '.join(proposal.evidence)}" if proposal is not None and proposal.evidence else ""
            lines.append(f"      - {text}{comment}")
        if table.primary_key:
            lines.append(f"    primary_key: {yaml.safe_dump(list(table.primary_key), default_flow_style=True).strip()}")
        if table.foreign_keys:
            lines.append("    foreign_keys:")
            for fk in table.foreign_keys:
                spec = {"columns": list(fk.columns), "references": {"table": fk.references.table,
                                                                    "columns": list(fk.references.columns)}}
                lines.append(f"      - {yaml.safe_dump(spec, default_flow_style=True, sort_keys=False).strip()}")
    return "\n".join(lines) + "\n"
