"""Checks on the SQL written in policies (row filters, mask expressions, entity scopes).

Policy SQL is spliced into every governed query, so it must pass the same
guard as a user's query (sql/safety.py's function allow/denylist, no table
functions, no statements) and must read only what its rule may read: a mask
expression only the column it masks, a filter only its own table's columns
and, in lookup subqueries, catalog tables. Each check returns messages; the
caller prefixes them with ``file:line``.
"""

from __future__ import annotations

from contextvars import ContextVar

import sqlglot
from sqlglot import exp

from govern.bundle.catalog import Catalog, Table
from govern.sql.binding import principal_placeholders, stray_placeholders
from govern.sql.safety import check_for, check_function, comment_reasons, dialect_functions, fine, verbatim_text

# The bundle's extra allowed functions (rules.yaml limits.functions) while its rules
# compile. A context variable, because entity scopes are compiled by another module
# (bundle/entities.py) through this module's helpers, whose signatures do not carry
# the bundle's limits.
BUNDLE_FUNCTIONS: ContextVar[frozenset[str]] = ContextVar("govern_bundle_functions", default=frozenset())


def parse_expression(text: str, dialect: str) -> tuple[exp.Expression | None, str | None]:
    """(expression, None) or (None, what is wrong). Exactly one expression, never a statement."""
    try:
        parsed = [e for e in sqlglot.parse(text, read=dialect) if e is not None]
    except Exception as err:  # sqlglot raises several types for bad input
        return None, f"cannot parse {text!r} as {dialect} SQL: {str(err).splitlines()[0]}"
    if len(parsed) != 1:
        return None, f"expected one SQL expression, got {len(parsed)} (a ';' separates statements): {text!r}"
    expression = parsed[0]
    if isinstance(expression, (exp.Query, exp.DDL, exp.DML, exp.Command, exp.Block)):
        return None, f"expected an expression, got a statement: {text!r}"
    strays = stray_placeholders(expression)
    if strays:
        return None, f"only :principal.NAME placeholders are allowed, found {', '.join(strays)}"
    return expression, None


def guard_problems(expression: exp.Expression, dialect: str) -> list[str]:
    """What the SQL guard (check_statement) would deny in this expression, as in a user's query."""
    allowed = dialect_functions(dialect) | {f.lower() for f in BUNDLE_FUNCTIONS.get()}
    # :principal.NAME is govern's own placeholder, not a bind parameter or a method call.
    own = {id(n) for dot, _ in principal_placeholders(expression) for n in dot.walk()}
    reasons: list[str] = []
    for node in expression.walk():
        if id(node) in own:
            continue
        if node.comments:
            reasons += comment_reasons(node.comments)
        check = check_for(type(node))
        if check is check_function:
            reasons += check_function(node, allowed)
        elif check is not fine:
            reasons += check(node, dialect)
        reasons += verbatim_text(node)
    return list(dict.fromkeys(reasons))


def column_problems(expression: exp.Expression, table: Table, catalog: Catalog) -> list[str]:
    """Columns that do not resolve: top level against ``table``, in subqueries against their sources."""
    problems = []
    for col in expression.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        select = col.find_ancestor(exp.Select)
        if select is None:
            problems += _own_column(col, table)
        else:
            problems += _scoped_column(col, select, table, catalog)
    return problems


def _own_column(col: exp.Column, table: Table) -> list[str]:
    if col.table and col.table.lower() != table.name.lower():
        return [f"column {col.sql()!r} must belong to table {table.name!r}"]
    if table.column(col.name) is None:
        return [f"table {table.name!r} has no column {col.name!r}"]
    return []


def _scoped_column(col: exp.Column, select: exp.Select, table: Table, catalog: Catalog) -> list[str]:
    """Resolve like SQL: the innermost SELECT's sources first, then enclosing ones, then the rule's table."""
    qualifier = col.table.lower() if col.table else None
    scope: exp.Expression | None = select
    while scope is not None:
        sources = _sources(scope, catalog)
        if qualifier is not None and qualifier in sources:
            found = sources[qualifier]
            if found is not None and found.column(col.name) is None:
                return [f"table {found.name!r} has no column {col.name!r} (in a lookup subquery)"]
            return []
        if qualifier is None and any(t is None or t.column(col.name) for t in sources.values()):
            return []
        scope = scope.find_ancestor(exp.Select)
    if qualifier in (None, table.name.lower()) and table.column(col.name) is not None:
        return []  # a correlated reference to the rule's own row
    if qualifier is not None:
        return [f"column {col.sql()!r}: no table or alias {col.table!r} in scope (in a lookup subquery)"]
    return [f"no table in scope has a column {col.name!r} (in a lookup subquery)"]


def _sources(select: exp.Select, catalog: Catalog) -> dict[str, Table | None]:
    """Alias (or name) -> catalog table of a SELECT's FROM and JOINs; None for a derived table (any column)."""
    from_ = select.args.get("from_") or select.args.get("from")
    items = [from_.this] if from_ is not None else []
    items += [j.this for j in select.args.get("joins") or ()]
    out: dict[str, Table | None] = {}
    for item in items:
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            out[item.alias_or_name.lower()] = catalog.table(item.name, item.db or None)
        elif item.alias_or_name:
            out[item.alias_or_name.lower()] = None
    return out


def mask_column_problems(expression: exp.Expression, column: str) -> list[str]:
    """A mask expression may read only the column it masks (and placeholders, literals, functions).

    Any other column would be shown under the masked column's name, whatever the
    grants deny (a mask on ``name`` reading ``national_id`` publishes the SSNs).
    """
    others = sorted({c.name for c in expression.find_all(exp.Column) if c.name.lower() != column.lower()})
    if others:
        return [f"a mask expression may read only the column it masks ({column!r}); it reads {', '.join(map(repr, others))}"]
    return []


def parse(text: str, dialect: str, at: str, problems: list[str]) -> exp.Expression | None:
    """``parse_expression``, its problem recorded as ``at: problem``."""
    expression, problem = parse_expression(text, dialect)
    if problem is not None:
        problems.append(f"{at}: {problem}")
    return expression


def _top_level_columns(expression: exp.Expression) -> list[exp.Column]:
    """Columns not inside a subquery (those refer to the rule's own table)."""
    return [c for c in expression.find_all(exp.Column) if c.find_ancestor(exp.Query) is None]


def check_expression(expression: exp.Expression, table: Table, catalog: Catalog, allow_subqueries: bool,
                      dialect: str = "postgres") -> list[str]:
    problems = guard_problems(expression, dialect)
    if not allow_subqueries and any(expression.find_all(exp.Query)):
        problems.append("subqueries are not allowed here")
    problems += column_problems(expression, table, catalog)
    for ref in expression.find_all(exp.Table):
        if isinstance(ref.this, exp.Identifier) and catalog.table(ref.name, ref.db or None) is None:
            problems.append(f"unknown table {ref.sql()!r} in a lookup subquery (only catalog tables)")
    return problems


def qualify(expression: exp.Expression, table: Table, catalog: Catalog) -> None:
    """Qualify the rule's own columns with the scanned table, quoted as the catalog spells it.

    Qualified names cannot be captured by a select-list alias (DuckDB lets WHERE
    see aliases), so the filter always reads the raw base column.
    """
    for col in _top_level_columns(expression):
        col.set("this", exp.to_identifier(table.column(col.name).name, quoted=True))
        col.set("table", exp.to_identifier(table.name, quoted=True))
    for ref in expression.find_all(exp.Table):
        looked_up = catalog.table(ref.name) if isinstance(ref.this, exp.Identifier) else None
        if looked_up is not None and looked_up.schema and not ref.db:
            ref.set("db", exp.to_identifier(looked_up.schema))
