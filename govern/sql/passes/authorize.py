"""Pass 4: every referenced table and column must be granted to the principal.

Tables: in the catalog, not a system catalog, and granted (at least one
selectable column). Columns: govern's resolver (``govern.sql.scope``) binds
every column reference of the query to exactly one source; a reference it
cannot bind, or can bind to more than one source, denies the query naming it,
and so does a reference to a column the principal may not select, wherever it
appears (select list, WHERE, JOIN ON/USING, GROUP BY, ORDER BY, a function
argument, a correlated subquery, through a star of a derived table). The
governed relation never exposes such a column anyway; this pass is what turns
a database error into a reason, and what lists every column the query reads
(``decision.columns``, the audit record), through any path.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.masks import HASH_DIALECTS
from govern.sql.scope import Budget, TableInfo, analyze

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "sys", "sqlite_schema", "mysql", "performance_schema"})
SYSTEM_PREFIXES = ("pg_", "sqlite_", "duckdb_", "information_schema")


def authorize(ctx: SqlContext) -> None:
    reasons = _authorize_tables(ctx)
    if reasons:
        _record_asked(ctx)
        raise Denied(*dict.fromkeys(reasons))
    reasons = _authorize_columns(ctx)
    if reasons:
        _record_asked(ctx)
        raise Denied(*dict.fromkeys(reasons))


def _record_asked(ctx: SqlContext) -> None:
    """On a denial, what the query asked for goes on the record too (decision.tables/columns, the audit
    trail): every table it names and every column it names, qualified by the table its qualifier (or the
    only table) names; a name that cannot be placed is listed as ``?.name``. Only recorded, never trusted."""
    by_name: dict[str, str] = {}
    for ref in ctx.references:
        label = ref.table.name if ref.table is not None else (f"{ref.node.db}.{ref.node.name}" if ref.node.db else ref.node.name)
        if label not in ctx.tables:
            ctx.tables.append(label)
        by_name[(ref.node.alias_or_name or ref.node.name).lower()] = label
        by_name.setdefault(ref.node.name.lower(), label)
    if ctx.tree is None:
        return
    only = next(iter(set(by_name.values()))) if len(set(by_name.values())) == 1 and not ctx.cte_references else None
    known = {c.lower() for c in ctx.columns}
    for column in ctx.tree.find_all(exp.Column):
        if not column.name or isinstance(column.this, exp.Star):
            continue
        qualifier = column.table.lower() if column.table else None
        table = by_name.get(qualifier) if qualifier else only
        label = f"{table or '?'}.{column.name}"
        if label.lower() not in known and (table is not None or not any(k.endswith("." + column.name.lower()) for k in known)):
            ctx.columns.add(label)
            known.add(label.lower())


def _authorize_tables(ctx: SqlContext) -> list[str]:
    reasons = []
    grants, catalog = ctx.bundle.grants, ctx.bundle.catalog
    for ref in ctx.references:
        name, schema = ref.node.name, ref.node.db or None
        label = f"{schema}.{name}" if schema else name
        if (schema or "").lower() in SYSTEM_SCHEMAS or name.lower().startswith(SYSTEM_PREFIXES):
            reasons.append(f"system catalog {label} is not allowed")
            continue
        ref.table = catalog.table(name, schema)
        if ref.table is not None and ref.table.name != name and _quoted_is_exact(ref.node.this, ctx.dialect):
            ref.table = None  # "Customers" is not customers where quoted names keep their case
        if ref.table is None:
            reasons.append(f"unknown table {label} (not in the catalog)")
            continue
        if not grants.table_access(ctx.roles, ref.table).visible:
            reasons.append(f"table {ref.table.name} is not granted to roles {sorted(ctx.principal.roles)}")
            continue
        if ref.table.name not in ctx.tables:
            ctx.tables.append(ref.table.name)
    return reasons


def _quoted_is_exact(identifier: exp.Identifier, dialect: str) -> bool:
    """True when the database compares this (quoted) identifier case-sensitively.

    Unquoted names were already folded by normalize_identifiers, and match the
    catalog case-insensitively on every engine.
    """
    return identifier.quoted and _case_sensitive_quotes(dialect)


@lru_cache(maxsize=64)
def _case_sensitive_quotes(dialect: str) -> bool:
    return Dialect.get_or_raise(dialect).normalization_strategy is not NormalizationStrategy.CASE_INSENSITIVE


def _authorize_columns(ctx: SqlContext) -> list[str]:
    tables: dict[int, tuple[int, TableInfo]] = {}
    withheld: set[str] = set()
    facts: dict[int, tuple] = {}  # id(table) -> its facts, for this query
    spellings: list[dict[str, str]] = []  # by reference index: the table's `table.column` labels
    for index, ref in enumerate(ctx.references):
        known = facts.get(id(ref.table))
        if known is None:
            known = facts[id(ref.table)] = table_facts(ctx, ref.table)
        info, hidden, spelled = known
        withheld |= hidden
        tables[id(ref.node)] = (index, info)
        spellings.append(spelled)
    ctes = {id(node): cte for node, cte in ctx.cte_bindings}
    limit = ctx.bundle.rules.limits.max_analysis_steps
    try:
        analysis = analyze(ctx.tree, ctx.dialect, tables, ctes, Budget(limit))
    except RecursionError:
        raise Denied("query too complex: it nests too deeply to analyse; simplify it") from None
    ctx.analysis = analysis
    for ref_index, column in analysis.reads:
        label = spellings[ref_index].get(column)
        ctx.columns.add(label if label is not None else f"{ctx.references[ref_index].table.name}.{column}")
    reasons = list(analysis.problems)
    roles = sorted(ctx.principal.roles)
    for _, label in analysis.denied:
        if label.lower() in withheld:
            reasons.append(f"free-text column {label} can only be shown to you masked, which needs its table's single-column "
                           f"primary key (visible to you, unmasked) on {sorted(HASH_DIALECTS)}; it is withheld here")
        else:
            reasons.append(f"column {label} is not permitted for roles {roles}")
    return reasons


def table_facts(ctx: SqlContext, table) -> tuple[TableInfo, frozenset[str], dict[str, str]]:
    """What the resolver needs of ``table`` for the principal's roles, its withheld free-text
    columns (``table.column``, lower case), and each catalog column's label as the audit record
    spells it (lower-case name -> ``table.Column``); built once per table x role set x dialect of
    the bundle (the grants and the free-text plan do not change while the bundle is in force)."""
    key = ("authorize", table.name, ctx.roles, ctx.dialect)
    facts = ctx.bundle.templates.get(key)
    if facts is None:
        from govern.sql.passes.rewrite import table_plan

        access = ctx.bundle.grants.table_access(ctx.roles, table)
        hidden = {name for name, shown in table_plan(ctx, table).items() if shown == "withheld"}
        facts = (table_info(table, access, hidden), frozenset(f"{table.name}.{name}".lower() for name in hidden),
                 {c.name.lower(): f"{table.name}.{c.name}" for c in table.columns})
        ctx.bundle.templates.put(key, facts)
    return facts


def table_info(table, access, withheld: set[str] = frozenset()) -> TableInfo:
    """What the resolver needs of a table: its columns, and those its governed relation shows."""
    return TableInfo(table.name, tuple(c.name.lower() for c in table.columns),
                     tuple(c.lower() for c in access.permitted if c.lower() not in withheld))
