"""The entitlement matrix of a bundle: who may see what, for a security review.

For every role (alone, with the roles it inherits) and every principal named in
principals.yaml, and for every table and column of the catalog: ``allowed``,
``masked`` (by which rule, of which kind: an explicit column mask or the catalog's
PII classification), ``free text`` (shown as an opaque handle, masked per the PII
reveal grants, or withheld) or ``denied``; per table the row filters and entity
scopes that apply (by id, with their SQL) or "no rows"; the document collections
the subject may retrieve and the rules that filter them; the PII types it sees
unmasked. The matrix is computed by the same functions that build the governed
relation a query gets (``govern.sql.relation``), so it says what the SQL does,
not what a second reading of the policy files would guess.

    matrix = entitlements(load_bundle("policies"))
    to_html(matrix), to_csv(matrix), to_json(matrix)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from html import escape

from govern.principal import Principal
from govern.sql.decision import SqlContext
from govern.sql.passes.rewrite import relation_template, table_classification, table_plan
from govern.sql.relation import missing_attributes, row_predicate

EXPRESSION_DIALECT = "postgres"  # the dialect filters and masks are shown in (rules.yaml's default)


@dataclass
class ColumnAccess:
    table: str
    column: str
    access: str  # allowed | masked | free text | withheld | denied
    rule: str = ""  # the mask rule id (or "classification:TYPE"), or why denied
    detail: str = ""  # the mask kind, free-text handling, ...


@dataclass
class TableRows:
    table: str
    granted: bool
    rows: str  # all | filtered | none | not granted
    filters: list[str] = field(default_factory=list)  # "id: SQL" of row filters that apply
    entity_scopes: list[str] = field(default_factory=list)  # "id: SQL" of entity scopes that apply
    missing: list[str] = field(default_factory=list)  # attributes a rule needs that the principal lacks


@dataclass
class Subject:
    kind: str  # role | principal
    name: str
    roles: list[str]  # as given (the principal's roles, or the role itself)
    effective_roles: list[str]  # with every inherited role
    attributes: dict = field(default_factory=dict)
    columns: list[ColumnAccess] = field(default_factory=list)
    tables: list[TableRows] = field(default_factory=list)
    collections: list[dict] = field(default_factory=list)  # {collection, retrieve, rules}
    pii_reveals: list[str] = field(default_factory=list)


@dataclass
class Matrix:
    bundle: str
    bundle_hash: str
    columns: list[tuple[str, str]]  # every (table, column) of the catalog
    subjects: list[Subject]
    pii_types: list[str]
    collections: list[str]


def entitlements(bundle) -> Matrix:
    """The matrix for every role of the grants and every named principal of ``bundle``."""
    subjects: list[tuple[str, str, tuple[str, ...], dict]] = [("role", r, (r,), {}) for r in sorted(bundle.grants.roles)]
    subjects += [("principal", p.id, tuple(p.roles), dict(p.attributes)) for p in bundle.principals.values()]
    tables = sorted(bundle.catalog, key=lambda t: t.name)
    documents = getattr(bundle, "documents", None)
    collections = sorted(documents.collections) if documents is not None else []
    out = []
    for kind, name, roles, attributes in subjects:
        out.append(_subject(bundle, kind, name, roles, attributes, tables, documents, collections))
    return Matrix(str(bundle.path), bundle.content_hash, [(t.name, c.name) for t in tables for c in t.columns], out,
                  list(bundle.rules.pii.entities), collections)


def _subject(bundle, kind, name, roles, attributes, tables, documents, collections) -> Subject:
    expanded = bundle.grants.expand_roles(tuple(roles))
    principal = Principal(name, list(roles), attributes)
    ctx = SqlContext(sql="", principal=principal, dialect="duckdb", bundle=bundle, roles=expanded)
    subject = Subject(kind, name, list(roles), sorted(expanded), attributes)
    for table in tables:
        access = bundle.grants.table_access(expanded, table)
        policy = bundle.table_policy(table.name)
        if not access.visible:
            subject.tables.append(TableRows(table.name, False, "not granted"))
            subject.columns += [ColumnAccess(table.name, c.name, "denied", "table not granted") for c in table.columns]
            continue
        plan = table_plan(ctx, table)
        classified = table_classification(ctx, table)
        template = relation_template(ctx, table)
        predicate, used = row_predicate(policy, expanded)
        scope_ids = {s.id for b in policy.entities for s in b.scopes}
        rows = "all" if predicate is None else ("none" if predicate.sql() == "FALSE" else "filtered")
        subject.tables.append(TableRows(
            table.name, True, rows,
            filters=[f"{f.id}: {f.predicate.sql(EXPRESSION_DIALECT)}" for f in used if f.id not in scope_ids],
            entity_scopes=[f"{f.id}: {f.predicate.sql(EXPRESSION_DIALECT)}" for f in used if f.id in scope_ids],
            missing=missing_attributes(template, principal) if kind == "principal" else [],
        ))
        permitted = {c.lower() for c in access.permitted}
        for column in table.columns:
            low = column.name.lower()
            if low not in permitted:
                subject.columns.append(ColumnAccess(table.name, column.name, "denied", "no select grant (or a deny)"))
                continue
            shown = plan.get(low)
            if shown == "withheld":
                subject.columns.append(ColumnAccess(table.name, column.name, "withheld", "free text",
                                                    "no single-column primary key the subject sees unmasked"))
                continue
            if shown == "handle":
                subject.columns.append(ColumnAccess(table.name, column.name, "free text", "pii reveal grants",
                                                    "opaque handle in SQL; PII masked in results unless revealed"))
                continue
            mask = next((m for m in policy.masks.get(low, ()) if m.applies_to(expanded)), None)
            if mask is not None:
                subject.columns.append(ColumnAccess(table.name, column.name, "masked", mask.id, mask.kind))
            elif low in classified:
                m = classified[low]
                subject.columns.append(ColumnAccess(table.name, column.name, "masked", m.id,
                                                    f"{m.kind} (classified {column.pii}; pii.operators)"))
            else:
                subject.columns.append(ColumnAccess(table.name, column.name, "allowed"))
    for name in collections:
        coll = documents.collections[name]
        allowed = bundle.grants.allowed(expanded, f"collection:{name}", "retrieve")
        rules = [r.id for r in coll.rules if r.applies_to(expanded)] if allowed else []
        subject.collections.append({"collection": name, "retrieve": allowed, "rules": rules})
    subject.pii_reveals = [t for t in bundle.rules.pii.entities if bundle.grants.allowed(expanded, f"pii:{t}", "reveal")]
    return subject


# ---------------------------------------------------------------- renderings

CSV_COLUMNS = ("subject_kind", "subject", "roles", "object_kind", "table", "column", "access", "rule", "detail")


def csv_rows(matrix: Matrix):
    """One row per subject x object: every column, every table's rows, every collection, every PII type."""
    yield CSV_COLUMNS
    for s in matrix.subjects:
        head = (s.kind, s.name, " ".join(s.effective_roles))
        for c in s.columns:
            yield (*head, "column", c.table, c.column, c.access, c.rule, c.detail)
        for t in s.tables:
            rules = "; ".join(t.filters + t.entity_scopes)
            yield (*head, "rows", t.table, "", t.rows, rules, "; ".join(t.missing))
        for c in s.collections:
            yield (*head, "collection", c["collection"], "", "retrieve" if c["retrieve"] else "denied", " ".join(c["rules"]), "")
        for p in matrix.pii_types:
            yield (*head, "pii", p, "", "revealed" if p in s.pii_reveals else "masked", "", "")


def _csv_safe(v: str) -> str:
    # a cell a spreadsheet would run as a formula is quoted (CSV injection)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def to_csv(matrix: Matrix) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in csv_rows(matrix):
        w.writerow([_csv_safe(str(v)) for v in row])
    return buf.getvalue()


def to_json(matrix: Matrix) -> str:
    return json.dumps(asdict(matrix), indent=2, default=str) + "\n"


COLOURS = {"allowed": "#c8e6c9", "masked": "#fff3c4", "free text": "#e1bee7", "withheld": "#ffccbc", "denied": "#ef9a9a"}
SHORT = {"allowed": "✓", "masked": "M", "free text": "FT", "withheld": "W", "denied": "✗"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin-bottom:4px} h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:12px;margin-bottom:12px} td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th.v{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500}
td.c{text-align:center;min-width:22px} .muted{color:#666;font-size:12px} code{font-size:11px}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid #ccc}
"""


def to_html(matrix: Matrix, title: str | None = None) -> str:
    """A self-contained page (no scripts, nothing fetched): the matrix, then each subject's rows, collections and reveals."""
    title = title or f"Entitlements: {matrix.bundle}"
    legend = "".join(f'<span style="background:{COLOURS[a]}">{SHORT[a]} {a}</span>' for a in COLOURS)
    head = "".join(f'<th class="v">{escape(t)}.{escape(c)}</th>' for t, c in matrix.columns)
    body = []
    for s in matrix.subjects:
        cells = []
        for c in s.columns:
            tip = escape(" ".join(x for x in (c.access, c.rule, c.detail) if x))
            cells.append(f'<td class="c" style="background:{COLOURS[c.access]}" title="{tip}">{SHORT[c.access]}</td>')
        body.append(f"<tr><th>{escape(s.kind)}</th><th>{escape(s.name)}</th>{''.join(cells)}</tr>")
    sections = []
    for s in matrix.subjects:
        roles = ", ".join(s.effective_roles) or "(none)"
        attrs = ", ".join(f"{k}={v}" for k, v in s.attributes.items())
        masked = [c for c in s.columns if c.access in ("masked", "free text", "withheld")]
        mrows = "".join(f"<tr><td>{escape(c.table)}.{escape(c.column)}</td><td>{escape(c.access)}</td>"
                        f"<td><code>{escape(c.rule)}</code></td><td>{escape(c.detail)}</td></tr>" for c in masked)
        trows = "".join(
            f"<tr><td>{escape(t.table)}</td><td>{escape(t.rows)}</td>"
            f"<td>{'<br>'.join('<code>' + escape(f) + '</code>' for f in t.filters) or '-'}</td>"
            f"<td>{'<br>'.join('<code>' + escape(f) + '</code>' for f in t.entity_scopes) or '-'}</td>"
            f"<td>{escape('; '.join(t.missing)) or '-'}</td></tr>" for t in s.tables if t.granted)
        crows = "".join(f"<tr><td>{escape(c['collection'])}</td><td>{'retrieve' if c['retrieve'] else 'denied'}</td>"
                        f"<td>{escape(', '.join(c['rules'])) or '-'}</td></tr>" for c in s.collections)
        sections.append(
            f"<h2>{escape(s.kind)} {escape(s.name)}</h2><p class='muted'>effective roles: {escape(roles)}"
            f"{' · attributes: ' + escape(attrs) if attrs else ''}</p>"
            f"<h3>Masked columns</h3>{'<table><tr><th>column</th><th>access</th><th>rule</th><th>how</th></tr>' + mrows + '</table>' if mrows else '<p>None.</p>'}"
            f"<h3>Rows</h3>{'<table><tr><th>table</th><th>rows</th><th>row filters</th><th>entity scopes</th><th>missing attributes</th></tr>' + trows + '</table>' if trows else '<p>No table granted.</p>'}"
            f"<h3>Collections</h3>{'<table><tr><th>collection</th><th>access</th><th>rules</th></tr>' + crows + '</table>' if crows else '<p>No collections.</p>'}"
            f"<h3>PII revealed</h3><p>{escape(', '.join(s.pii_reveals)) or 'none (every type masked)'}</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>{CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">bundle {escape(matrix.bundle_hash)} · {len(matrix.subjects)} subjects (roles with inherited roles; named principals) · {len(matrix.columns)} columns</p>
<p class="legend">{legend}</p>
<h2>Column access</h2>
<table class="matrix"><tr><th>kind</th><th>subject</th>{head}</tr>{''.join(body)}</table>
{''.join(sections)}
</body></html>
"""
