"""Pass 4: every referenced table and column must be granted to the principal.

Tables: in the catalog and with at least one selectable column. Columns: a
reference to a column the principal may not select denies the query and names
the column, wherever it appears (select list, WHERE, JOIN ON/USING, GROUP BY,
ORDER BY, function arguments), so an agent can rewrite the question. The
governed relation never exposes such a column anyway; this pass is what turns
a database error into a reason.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.optimizer.scope import Scope, traverse_scope

from govern.errors import Denied
from govern.sql.decision import SqlContext, TableRef

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "sys", "sqlite_schema", "mysql", "performance_schema"})
SYSTEM_PREFIXES = ("pg_", "sqlite_", "duckdb_", "information_schema")


def authorize(ctx: SqlContext) -> None:
    reasons = _authorize_tables(ctx)
    if reasons:
        raise Denied(*dict.fromkeys(reasons))
    reasons = _authorize_columns(ctx)
    if reasons:
        raise Denied(*dict.fromkeys(reasons))


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
    base = {id(ref.node): ref for ref in ctx.references}
    opaque = _opaque_columns(ctx)
    reasons: list[str] = []
    scopes = traverse_scope(ctx.tree)
    query_of = _NearestAncestor(lambda node: isinstance(node, exp.Query))
    for scope in scopes:
        for column in scope.columns:
            if query_of(column) is not scope.expression:
                continue  # sqlglot also lists an IN-subquery's columns here; its own scope checks them
            if isinstance(column.this, exp.Star):
                continue  # where a star may stand is check_statement's business
            reasons += _check_column(ctx, scope, column.table, column.name, base)
            if not column.table and _is_whole_row(scope, column.name, base):
                reasons.append(f"whole-row reference {column.name} is not supported; select its columns")
        for join in scope.expression.args.get("joins") or ():
            for ident in join.args.get("using") or ():
                reasons += _check_column(ctx, scope, "", ident.name, base)
                reasons += _opaque_use(scope, "", ident.name, base, opaque)
        if scope.expression.is_star if isinstance(scope.expression, exp.Select) else False:
            _record_star(ctx, scope, base)
    if opaque:
        reasons += _opaque_reasons(ctx, scopes, base, opaque)
        reasons += _opaque_structure_reasons(ctx, scopes, base, opaque)
    return reasons


def _opaque_reasons(ctx: SqlContext, scopes: list[Scope], base: dict[int, TableRef], opaque: frozenset[str]) -> list[str]:
    """Every column node of the tree (not only those sqlglot lists per scope: DISTINCT ON,
    lambdas, ...) that reaches an opaque column must be a root projection, not reused."""
    scope_of = {id(scope.expression): scope for scope in scopes}
    scope_node = _NearestAncestor(lambda node: id(node) in scope_of)
    reasons: list[str] = []
    for column in ctx.tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        found = scope_node(column)
        scope = scope_of[id(found)] if found is not None else None
        if scope is None or not _opaque_use(scope, column.table, column.name, base, opaque):
            continue
        if not _at_root_projection(column, ctx.tree):
            reasons += _opaque_use(scope, column.table, column.name, base, opaque)
        else:
            reasons += _opaque_output_reuse(column)
    return reasons


class _NearestAncestor:
    """The nearest proper ancestor matching ``test``, memoized along the path walked: asked once
    per column, a plain upward walk is quadratic on a 10,000-term OR chain."""

    def __init__(self, test) -> None:
        self._test, self._memo = test, {}

    def __call__(self, node: exp.Expression) -> exp.Expression | None:
        path, current = [], node.parent
        while current is not None and id(current) not in self._memo and not self._test(current):
            path.append(current)
            current = current.parent
        if current is None:
            found = None
        else:
            found = self._memo[id(current)] if id(current) in self._memo else current
        for visited in path:
            self._memo[id(visited)] = found
        return found


def _opaque_structure_reasons(ctx: SqlContext, scopes: list[Scope], base: dict[int, TableRef],
                              opaque: frozenset[str]) -> list[str]:
    """Ways to compute on free text that no column *name* in the query shows.

    The name-based rule above cannot follow a value that a star hands on under
    another name (a column alias list, a set operation, LATERAL (SELECT t.*)),
    a NATURAL join's implicit comparison of every common column, or a DuckDB
    PIVOT (sqlglot builds no scope inside it, and PIVOT ON body turns raw
    text into result column names). Fail closed on each.
    """
    touched = {ref.table.name.lower() for ref in ctx.references if ref.table is not None}
    involved = sorted(name for name in opaque if name.split(".", 1)[0] in touched)
    if not involved:
        return []
    label = ", ".join(involved)
    reasons: list[str] = []
    if ctx.tree.find(exp.Pivot):
        reasons.append(f"PIVOT / UNPIVOT is not supported in a query that reads a table with free-text column(s) {label}")
    if any((join.args.get("method") or "").upper() == "NATURAL" for join in ctx.tree.find_all(exp.Join)):
        reasons.append(f"NATURAL JOIN compares every common column, free-text column(s) {label} included; join ON key columns")
    names = {name.split(".", 1)[1] for name in involved}
    for scope in scopes:
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        for projection in select.expressions:
            star_of = _star_source(projection)
            if star_of is None:
                continue
            reached = sorted({f"{ref.table.name}.{name}" for inner in _star_inputs(scope, star_of)
                              for name in names for ref in _through(inner, name, base)
                              if f"{ref.table.name}.{name}".lower() in opaque})
            if not reached:
                continue
            star = projection.sql()
            if not _at_root_select(select, ctx.tree):
                reasons.append(f"{star} would pass free-text column(s) {', '.join(reached)} into a subquery, CTE, "
                               "set operation or comparison; select the columns you need by name")
            elif _reuses_by_position(select) or _compares_rows(select):
                reasons.append(f"{star} includes free-text column(s) {', '.join(reached)}: do not order or group by "
                               "output position (or ALL), do not order a set operation around it, and do not INTERSECT / "
                               "EXCEPT / UNION (distinct) such rows")
    return reasons


def _star_inputs(scope: Scope, star_of: str) -> list:
    """The sources a star expands: all of its scope's, or the one named by `t.*` (an outer one when correlated)."""
    if star_of == "*":
        return list(_selected(scope).values())
    current: Scope | None = scope
    while current is not None:
        selected = _selected(current)
        if star_of in selected:
            return [selected[star_of]]
        current = current.parent
    return []


def _selected(scope: Scope) -> dict:
    """The sources a scope's FROM and JOINs name. `scope.sources` also lists every CTE in
    reach: expanding a star over those made chained `SELECT *` CTEs cost 2^n."""
    return {name: source for name, (_, source) in scope.selected_sources.items()}


def _at_root_select(select: exp.Expression, root: exp.Expression) -> bool:
    """The SELECT is the query's outermost one, or an arm of its outermost set operation."""
    node = select
    while node is not root:
        parent = node.parent
        if not isinstance(parent, (exp.SetOperation, exp.Subquery)) or node.arg_key not in ("this", "expression"):
            return False
        if isinstance(parent, exp.Subquery) and parent.alias:
            return False  # a derived table, not a parenthesized arm
        node = parent
    return True


def _enclosing_set_operations(select: exp.Expression) -> list[exp.Expression]:
    """The set operations (and parenthesized arms) a root-level SELECT sits in, innermost first."""
    out, node = [], select
    while isinstance(node.parent, (exp.SetOperation, exp.Subquery)) and not (
            isinstance(node.parent, exp.Subquery) and node.parent.alias):
        node = node.parent
        out.append(node)
    return out


def _compares_rows(select: exp.Expression) -> bool:
    """INTERSECT / EXCEPT (ALL or not) and UNION without ALL compare whole rows: a membership probe."""
    return any(isinstance(node, (exp.Intersect, exp.Except)) or (isinstance(node, exp.Union) and node.args.get("distinct"))
               for node in _enclosing_set_operations(select))


def _reuses_by_position(select: exp.Expression) -> bool:
    """ORDER BY / GROUP BY an output position (any spelling) or ALL on this SELECT, or any
    ORDER BY on a set operation around it."""
    if _orders_set_operation(select):
        return True
    for clause in (select.args.get("order"), select.args.get("group")):
        if clause is None:
            continue
        if clause.args.get("all") or any(v.name.upper() == "ALL" for v in clause.find_all(exp.Var)):
            return True
        if any(_positional(e) for e in _items(clause)):
            return True
    return False


def _opaque_columns(ctx: SqlContext) -> frozenset[str]:
    """Free-text columns whose PII this principal may not see all of ("table.column", lower case).

    Their PII is masked in the result rows, which only works on the text as
    stored: a function, cast, predicate, join or sort over it could carry the
    PII out in a form no detector recognises (reversed, translated, split) or
    probe it (`WHERE body LIKE '%4111%'`). So such a column may only be selected
    as it is, in the query's own select list.
    """
    bundle = ctx.bundle
    if all(bundle.grants.allowed(ctx.roles, f"pii:{t}", "reveal") for t in bundle.rules.pii.entities):
        return frozenset()
    return frozenset(f"{t.name}.{c.name}".lower() for t in bundle.catalog for c in t.columns if c.free_text)


def _opaque_use(scope: Scope, qualifier: str, name: str, base: dict[int, TableRef], opaque: frozenset[str]) -> list[str]:
    refs, _ = _candidates(scope, qualifier, name, base)
    return [f"free-text column {ref.table.name}.{name} may only be selected as it is (its PII is masked in the result), "
            "not used in expressions, predicates, joins, grouping or ordering"
            for ref in refs if f"{ref.table.name}.{name}".lower() in opaque]


def _opaque_output_reuse(column: exp.Column) -> list[str]:
    """An opaque column projected at the root must not be reused through its output.

    ORDER BY 2, ORDER BY <alias>, GROUP BY ALL, a lateral alias in a later
    projection, HAVING / QUALIFY on the alias, or a set operation's ORDER BY on
    the output name all compute on the raw text as surely as `ORDER BY body`.
    """
    select = column.find_ancestor(exp.Select)
    projection = column.parent if isinstance(column.parent, exp.Alias) else column
    position = select.expressions.index(projection) + 1
    name = projection.alias_or_name
    clauses: list[exp.Expression] = [v for k, v in select.args.items()
                                     if k not in ("expressions", "from_", "joins", "with_", "limit", "offset") and isinstance(v, exp.Expression)]
    clauses += [v for k in ("windows",) for v in (select.args.get(k) or [])]
    clauses += [p for p in select.expressions if p is not projection]
    clauses += [node.args["order"] for node in _enclosing_set_operations(select) if node.args.get("order")]
    reason = (f"free-text column {name} may only be selected as it is (its PII is masked in the result); "
              "do not order, group or compute by its output position or alias")
    if _compares_rows(select):
        return [f"free-text column {name} may only be selected as it is (its PII is masked in the result); "
                "INTERSECT / EXCEPT / UNION (distinct) compare it with other rows"]
    if _orders_set_operation(select):
        return [f"free-text column {name} may only be selected as it is (its PII is masked in the result); "
                "a set operation around it may not be ordered (its output names come from the first arm)"]
    for clause in clauses:
        if isinstance(clause, (exp.Group, exp.Order)) and (clause.args.get("all") or any(
                v.name.upper() == "ALL" for v in clause.find_all(exp.Var))):
            return [reason]
        for ref in clause.find_all(exp.Column):
            if not ref.table and ref.name == name and ref.find_ancestor(exp.Select) in (select, None):
                return [reason]
        if isinstance(clause, (exp.Order, exp.Group)) and any(
                _positional(e) and _position(e) in (position, None) for e in _items(clause)):
            return [reason]  # its output position, however spelled: (2), 2 COLLATE NOCASE, ...
    return []


def _items(clause: exp.Expression) -> list[exp.Expression]:
    return [o.this if isinstance(o, exp.Ordered) else o for o in clause.expressions]


def _positional(item: exp.Expression) -> bool:
    """An ORDER / GROUP BY item with a number and no column: engines read `9`, `(9)`, `((9))`,
    `9 COLLATE NOCASE` as an output position. A constant sort key is useless anyway."""
    return item.find(exp.Column) is None and any(
        isinstance(lit, exp.Literal) and not lit.is_string for lit in item.find_all(exp.Literal))


def _position(item: exp.Expression) -> int | None:
    """The output position a plain `9`, `(9)` or `9 COLLATE x` names; None when the spelling is
    anything else (then it is treated as naming any position)."""
    while isinstance(item, (exp.Paren, exp.Collate)):
        item = item.this
    if isinstance(item, exp.Literal) and not item.is_string and item.name.isdigit():
        return int(item.name)
    return None


def _orders_set_operation(select: exp.Expression) -> bool:
    """A set operation around this root SELECT has an ORDER BY: its names come from the first
    arm (`SELECT 'x' AS k UNION ALL SELECT body ... ORDER BY k` sorts the raw body)."""
    return any(isinstance(node, exp.SetOperation) and node.args.get("order") for node in _enclosing_set_operations(select))


def _is_projection(column: exp.Column) -> bool:
    parent = column.parent
    if isinstance(parent, exp.Alias):
        column, parent = parent, parent.parent
    return isinstance(parent, exp.Select) and column.arg_key == "expressions"


def _at_root_projection(column: exp.Column, root: exp.Expression) -> bool:
    """The column is an item of the select list of the query's outermost SELECT (or of a set-operation arm of it)."""
    return _is_projection(column) and _at_root_select(column.find_ancestor(exp.Select), root)


def _is_whole_row(scope: Scope, name: str, base: dict[int, TableRef]) -> bool:
    """An unqualified name that is a table alias in scope and no column of it: the row as a value."""
    current: Scope | None = scope
    while current is not None:
        if name in current.sources:
            refs, _ = _candidates(scope, "", name, base)
            return not any(ref.table.column(name) is not None for ref in refs)
        current = current.parent
    return False


def _check_column(ctx: SqlContext, scope: Scope, qualifier: str, name: str, base: dict[int, TableRef]) -> list[str]:
    """Reasons to deny one column reference (empty when it is fine or not a base column)."""
    candidates, resolvable = _candidates(scope, qualifier, name, base)
    if not resolvable and qualifier:
        # `zzz.national_id`, Oracle's `seq.NEXTVAL`: a prefix naming nothing in the query
        return [f"unknown table or alias {qualifier} in {qualifier}.{name} (not in this query's FROM)"]
    if not resolvable and not qualifier and not _is_output_alias(scope, name):
        return [f"unknown column {name} (no table in scope has it)"]
    reasons = []
    for ref in candidates:
        access = ctx.bundle.grants.table_access(ctx.roles, ref.table)
        column = ref.table.column(name)
        if column is None:
            if qualifier:
                reasons.append(f"unknown column {ref.table.name}.{name}")
        elif column.name.lower() in access.denied:
            reasons.append(f"column {ref.table.name}.{column.name} is not permitted for roles {sorted(ctx.principal.roles)}")
        else:
            ctx.columns.add(f"{ref.table.name}.{column.name}")
    return reasons


def _candidates(scope: Scope, qualifier: str, name: str, base: dict[int, TableRef]) -> tuple[list[TableRef], bool]:
    """Base-table references the column may resolve to, and whether anything in scope can provide it.

    Qualified: the source with that alias in the nearest scope that has it.
    Unqualified: the sources of the nearest scope where any source has the column.
    A derived table or CTE that passes the name through a star (`SELECT *`,
    `t.*`) is followed to the tables behind it, so a denied column reached
    through a star is named too.
    """
    current: Scope | None = scope
    while current is not None:
        selected = _selected(current)
        if qualifier:
            source = selected.get(qualifier)
            if source is not None:
                return _through(source, name, base), True
        else:
            found: list[TableRef] = []
            resolvable = False
            for source in selected.values():
                if isinstance(source, exp.Table) and id(source) in base:
                    if base[id(source)].table.column(name) is not None:
                        found.append(base[id(source)])
                        resolvable = True
                elif not isinstance(source, Scope) or _derived_may_have(source, name, base):
                    resolvable = True
                    found += _through(source, name, base)
            if resolvable:
                return found, True
        current = current.parent
    return [], False


def _through(source, name: str, base: dict[int, TableRef]) -> list[TableRef]:
    """The base tables a source hands ``name`` on from: itself, or what its stars expose."""
    if isinstance(source, exp.Table):
        ref = base.get(id(source))
        return [ref] if ref is not None and ref.table is not None else []
    if not isinstance(source, Scope) or not isinstance(source.expression, exp.Select):
        return []
    select = source.expression
    if name in select.named_selects and "*" not in select.named_selects:
        return []  # an explicit projection: checked where it is computed
    out: list[TableRef] = []
    for projection in select.expressions:
        star_of = _star_source(projection)
        if star_of is None:
            continue
        for inner in _star_inputs(source, star_of):
            if inner is None:
                continue
            if isinstance(inner, exp.Table) and id(inner) in base and base[id(inner)].table.column(name) is None:
                continue
            out += _through(inner, name, base)
    return out


def _star_source(projection: exp.Expression) -> str | None:
    """'*' for a bare star, the qualifier for `t.*`, None for anything else."""
    if isinstance(projection, exp.Star):
        return "*"
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
        return projection.table or "*"
    return None


def _is_output_alias(scope: Scope, name: str) -> bool:
    """``name`` is an alias the query itself defines (ORDER BY / GROUP BY may use it)."""
    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        return name in expression.named_selects
    return isinstance(expression, exp.Select) and any(
        isinstance(p, exp.Alias) and p.alias == name for p in expression.expressions
    )


def _derived_may_have(source: Scope, name: str, base: dict[int, TableRef]) -> bool:
    """Whether a derived table or CTE can provide ``name``: its column alias list when it has
    one, else its named outputs and what its stars expand to (followed to the base tables, so
    `SELECT user FROM (SELECT * FROM regions) x` is an unknown column, not a server variable)."""
    expression = source.expression
    aliases = _alias_columns(expression)
    if aliases is not None and name in aliases:
        return True  # a shorter list renames the first columns only; the rest keep their names
    if not isinstance(expression, exp.Select):
        return True
    if name in expression.named_selects:
        return True
    for projection in expression.expressions:
        star_of = _star_source(projection)
        if star_of is None:
            continue
        for inner in _star_inputs(source, star_of):
            if isinstance(inner, exp.Table) and id(inner) in base:
                if base[id(inner)].table is not None and base[id(inner)].table.column(name) is not None:
                    return True
            elif not isinstance(inner, Scope) or _derived_may_have(inner, name, base):
                return True
    return False


def _alias_columns(expression: exp.Expression) -> list[str] | None:
    """The names of `AS x(a, b)` / `WITH x(a, b) AS (...)`, or None without such a list."""
    holder = expression.parent
    while isinstance(holder, exp.SetOperation):  # an arm (a recursive CTE's anchor): the list names the whole
        holder = holder.parent
    alias = holder.args.get("alias") if isinstance(holder, (exp.Subquery, exp.CTE)) else None
    columns = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
    return [c.name for c in columns] if columns else None


def _record_star(ctx: SqlContext, scope: Scope, base: dict[int, TableRef]) -> None:
    for source in scope.sources.values():
        ref = base.get(id(source)) if isinstance(source, exp.Table) else None
        if ref is not None and ref.table is not None:
            access = ctx.bundle.grants.table_access(ctx.roles, ref.table)
            ctx.columns.update(f"{ref.table.name}.{c}" for c in access.permitted)
