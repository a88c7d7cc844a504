"""The schema a principal may see, for prompts: ``gov.schema_for(principal, dialect=...)``.

An agent shown the whole schema keeps writing queries that are denied. This
is the schema as the principal's governed relations present it, built by the
SQL engine's own functions (``relation_template``, ``table_plan``,
``table_classification``) so it cannot drift from what a query sees:

* tables with no permitted column, and columns not permitted (or withheld), are absent;
* each column keeps its catalog type, written in the caller's dialect;
* a masked column says what the mask shows ("masked: '***' followed by the last 12 characters");
* free text shown through opaque handles says that SQL cannot compute on its text;
* a row-governed table says "rows are filtered by policy" and never how: no filter
  predicate and no attribute value of this principal or another is in the output (a table
  every query on which is denied says why, as the denial would: the attribute it lacks);
* keys: the primary key when every one of its columns is shown unmasked, a foreign
  key when both ends are shown unmasked (a join on masked values would not match).

``VisibleSchema.text`` is the CREATE TABLE-like text; ``to_dict()`` the structured form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlglot import exp

from govern.bundle.compiled import CompiledMask
from govern.principal import Principal
from govern.sql.decision import SqlContext
from govern.sql.passes.rewrite import relation_template, table_classification, table_plan
from govern.sql.relation import missing_attributes

__all__ = ["VisibleColumn", "VisibleTable", "VisibleSchema", "schema_for", "describe_mask"]


@dataclass(frozen=True)
class VisibleColumn:
    name: str
    type: str  # the catalog type in the dialect
    masked: str | None = None  # what the mask shows, for people and models; None: shown as stored
    mask_kind: str | None = None  # null | redact | partial | hash | placeholder | typed_hash | redact_value | expression
    free_text: str | None = None  # "masked_text": free text shown with its PII masked, opaque to SQL


@dataclass(frozen=True)
class VisibleTable:
    name: str
    columns: tuple[VisibleColumn, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[dict, ...] = ()  # {"columns": [...], "references": {"table": ..., "columns": [...]}}
    rows_filtered: bool = False  # some rows may be hidden from this principal
    no_rows: bool = False  # the table is row-governed and no rule lets this principal see any row
    denied: tuple[str, ...] = ()  # why every query on this table is denied for this principal (missing attributes)

    def column(self, name: str) -> VisibleColumn | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def text(self, dialect: str) -> str:
        """The table as a CREATE TABLE statement with comments saying what governance does."""
        name = _ident(self.name, dialect)
        notes = []
        if self.no_rows:
            notes.append("rows are filtered by policy: no row is visible to you")
        elif self.rows_filtered:
            notes.append("rows are filtered by policy: you see only the rows you are permitted to see")
        notes += [f"every query on this table is denied for you: {d}" for d in self.denied]
        lines = [f"-- {name}: {note}" for note in notes]
        body = []
        for c in self.columns:
            comment = c.masked or ""
            if c.free_text:
                comment = "free text: shown with PII masked; SQL sees an opaque handle, not the text (no filtering or functions on it)"
            body.append((f"  {_ident(c.name, dialect)} {c.type}", comment))
        if self.primary_key:
            body.append((f"  PRIMARY KEY ({', '.join(_ident(k, dialect) for k in self.primary_key)})", ""))
        for fk in self.foreign_keys:
            ref = fk["references"]
            body.append((f"  FOREIGN KEY ({', '.join(_ident(k, dialect) for k in fk['columns'])}) REFERENCES "
                         f"{_ident(ref['table'], dialect)} ({', '.join(_ident(k, dialect) for k in ref['columns'])})", ""))
        lines.append(f"CREATE TABLE {name} (")
        for i, (sql, comment) in enumerate(body):
            sep = "," if i < len(body) - 1 else ""
            lines.append(f"{sql}{sep}" + (f"  -- {comment}" if comment else ""))
        lines.append(");")
        return "\n".join(lines)


@dataclass(frozen=True)
class VisibleSchema:
    principal: str
    dialect: str
    tables: tuple[VisibleTable, ...]
    max_rows: int | None = None
    bundle_hash: str | None = None
    notes: tuple[str, ...] = field(default=())

    def table(self, name: str) -> VisibleTable | None:
        return next((t for t in self.tables if t.name.lower() == name.lower()), None)

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]

    def text_for(self, names: list[str] | None = None) -> str:
        """CREATE TABLE text of ``names`` (all visible tables when None); KeyError naming an unknown table."""
        chosen = self.tables if names is None else [self._need(n) for n in names]
        return "\n\n".join(t.text(self.dialect) for t in chosen)

    @property
    def text(self) -> str:
        header = [f"-- tables visible to {self.principal} ({self.dialect}); columns not listed do not exist for you"]
        if self.max_rows:
            header.append(f"-- every result is capped at {self.max_rows} rows")
        header += [f"-- {n}" for n in self.notes]
        return "\n".join(header) + ("\n\n" + self.text_for() if self.tables else "\n-- (no table is visible to you)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _need(self, name: str) -> VisibleTable:
        table = self.table(name)
        if table is None:
            raise KeyError(f"no table {name!r} is visible to {self.principal} (visible: {', '.join(self.table_names) or 'none'})")
        return table


def describe_mask(mask: CompiledMask) -> str:
    """What a masked column shows, in words (never the mask's expression or any data)."""
    kind = mask.kind
    if kind == "null":
        return "masked: always NULL"
    if kind == "redact":
        return f"masked: always {mask.replacement!r}"
    if kind == "redact_value":
        return f"masked: {mask.replacement!r} where a value exists"
    if kind == "partial":
        if not mask.keep_last:
            return f"masked: {mask.prefix!r} where a value exists"
        return (f"masked: {mask.prefix!r} followed by the last {mask.keep_last} characters "
                "(never more than half of the value)")
    if kind == "hash":
        return "masked: keyed hash (hex); equal values give equal hashes"
    if kind == "placeholder":
        return f"masked: a placeholder like <{mask.label}_xxxxxxxxxx>; equal values read the same"
    if kind == "typed_hash":
        return f"masked: <{mask.label}:{'x' * mask.hash_chars}>, a keyed hash; equal values read the same"
    if kind == "expression":
        return "masked: a value derived by policy, not the stored value"
    return f"masked ({kind})"


def schema_for(gov: Any, principal: Principal | dict, dialect: str = "duckdb") -> VisibleSchema:
    """The tables and columns ``principal`` may see under ``gov``'s bundle, as the governed SQL presents them.

    Raises InvalidPrincipal when the principal does not fit the bundle's attribute schema."""
    # The bundle's attribute schema first (defaults filled in); a principal that does not fit it
    # raises InvalidPrincipal naming each attribute, as every request of theirs would be denied.
    principal = gov.checked_principal(principal)
    bundle = gov.bundle
    roles = bundle.grants.expand_roles(tuple(principal.roles))
    ctx = SqlContext(sql="", principal=principal, dialect=dialect, bundle=bundle, roles=roles)
    shown: dict[str, tuple[Any, dict[str, VisibleColumn]]] = {}
    unmasked: dict[str, set[str]] = {}
    drafts = []
    for table in bundle.catalog:
        access = bundle.grants.table_access(roles, table)
        if not access.visible:
            continue
        plan = table_plan(ctx, table)
        classified = table_classification(ctx, table)
        policy = bundle.table_policy(table.name)
        columns: dict[str, VisibleColumn] = {}
        for name in access.permitted:
            how = plan.get(name.lower())
            if how == "withheld":
                continue
            column = table.column(name)
            kind = _type(column.type, dialect)
            if how == "handle":
                columns[name.lower()] = VisibleColumn(column.name, kind, free_text="masked_text")
                continue
            mask = next((m for m in policy.masks.get(name.lower(), ()) if m.applies_to(roles)), None) or classified.get(name.lower())
            if mask is None:
                columns[name.lower()] = VisibleColumn(column.name, kind)
            else:
                columns[name.lower()] = VisibleColumn(column.name, kind, describe_mask(mask), mask.kind)
        if not columns:
            continue
        template = relation_template(ctx, table)
        predicate = template.select.args.get("where")
        no_rows = predicate is not None and isinstance(predicate.this, exp.Boolean) and predicate.this.this is False
        # Only the attribute names the principal lacks (never a value, never another principal's).
        denied = tuple(missing_attributes(template, principal))
        shown[table.name.lower()] = (table, columns)
        unmasked[table.name.lower()] = {k for k, c in columns.items() if c.masked is None and c.free_text is None}
        drafts.append((table, columns, template.filtered, no_rows, denied))

    tables = []
    for table, columns, filtered, no_rows, denied in drafts:
        plain = unmasked[table.name.lower()]
        pk = tuple(table.primary_key) if table.primary_key and all(k.lower() in plain for k in table.primary_key) else ()
        fks = []
        for fk in table.foreign_keys:
            target = fk.references.table.lower()
            if (all(c.lower() in plain for c in fk.columns) and target in unmasked
                    and all(c.lower() in unmasked[target] for c in fk.references.columns)):
                fks.append({"columns": list(fk.columns),
                            "references": {"table": shown[target][0].name, "columns": list(fk.references.columns)}})
        tables.append(VisibleTable(table.name, tuple(columns.values()), pk, tuple(fks), filtered, no_rows, denied))
    notes = tuple(["free-text values and any string in results are scanned for PII and masked"] if bundle.unclassified else [])
    return VisibleSchema(principal.id, dialect, tuple(tables), bundle.rules.limits.max_rows, bundle.content_hash, notes)


def _ident(name: str, dialect: str) -> str:
    return exp.to_identifier(name).sql(dialect=dialect)


def _type(type_name: str, dialect: str) -> str:
    try:
        return exp.DataType.build(type_name).sql(dialect=dialect)
    except Exception:  # an exotic type name: shown as the catalog spells it
        return type_name
