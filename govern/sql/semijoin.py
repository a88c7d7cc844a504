"""A row predicate's semi-joins in the shape planners handle best: one per key set.

A governed relation's predicate is the AND of the row filters and entity scopes
that apply to the principal. Written rule by rule, one table often gets several
semi-joins into the same table (eve's order items: ``order_id IN (orders of
her region)``, ``order_id IN (orders of her tenant's customers)``,
``order_id IN (orders of her customers)``). Each is a relation in the plan:
PostgreSQL stops searching join orders across a subquery once a query has more
than ``from_collapse_limit`` (8) of them, and then plans the governed relation
on its own, driving from every row the principal may see instead of probing it
from the user's join (seen at 25-250x on the executed benchmark). So the
predicate is rewritten, once per template, into fewer relations:

* ``SELECT a.k FROM A a JOIN C c ON c.j = a.f WHERE P(a) AND Q(c)`` inside
  ``x IN (...)`` becomes ``SELECT a.k FROM A a WHERE P(a) AND a.f IN (SELECT
  c.j FROM C c WHERE Q(c))`` (the same set of ``a.k``: duplicates do not matter
  to ``IN``, and a NULL where a FALSE was only removes the same rows of a WHERE);
* ``x IN (SELECT t.k FROM T t WHERE p) AND x IN (SELECT t.k FROM T t WHERE q)``
  becomes ``x IN (SELECT t.k FROM T t WHERE p AND q)`` when ``k`` is T's
  single-column primary key (unique and not null: the row with ``k = x`` is the
  one both conditions hold on), and again inside the merged subquery.

Only conjuncts of the predicate's top-level AND (and of those subqueries'
WHERE) are touched, never a disjunct or a negation; a subquery with anything
else (grouping, limits, several joins, an outer join, a column whose table is
not certain, a name that a nested query shadows) is left as written.
"""

from __future__ import annotations

from sqlglot import exp

from govern.sql.conjuncts import split_conjuncts

__all__ = ["simplify_semijoins"]


def simplify_semijoins(predicate: exp.Expression | None, catalog) -> exp.Expression | None:
    """``predicate`` with its semi-joins combined (a new tree; the argument is not changed)."""
    if predicate is None or catalog is None:
        return predicate
    conjuncts = _merge([c.copy() for c in split_conjuncts(predicate)], catalog)
    return conjuncts[0] if len(conjuncts) == 1 else exp.and_(*conjuncts, copy=False)


def _merge(conjuncts: list[exp.Expression], catalog) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    groups: dict[tuple, int] = {}
    for conjunct in conjuncts:
        candidate = _candidate(conjunct, catalog)
        if candidate is None:
            out.append(conjunct)
            continue
        key, select, name = candidate
        if key in groups:
            first = out[groups[key]]
            merged = _combined(first, select, name, catalog)
            if merged is not None:
                out[groups[key]] = merged
                continue
        groups.setdefault(key, len(out))
        out.append(conjunct)
    return out


def _candidate(conjunct: exp.Expression, catalog):
    """((x, table, key), select, effective name) for ``x IN (SELECT t.k FROM T t WHERE ...)``,
    the subquery normalised in place (join turned into a semi-join, columns qualified)."""
    if not isinstance(conjunct, exp.In) or not isinstance(conjunct.this, exp.Column):
        return None
    query = conjunct.args.get("query")
    if query is None or conjunct.expressions or conjunct.args.get("unnest") or conjunct.args.get("field"):
        return None
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select):
        return None
    unjoined = _unjoin(select, catalog)
    if unjoined is not None:
        select.replace(unjoined)
        select = unjoined
    shape = _single_table(select, catalog)
    if shape is None:
        return None
    table, name, column = shape
    where = select.args.get("where")
    if where is not None:  # merge inside, too (the conjuncts of its own WHERE)
        inner = _merge(split_conjuncts(where.this), catalog)
        where.set("this", inner[0] if len(inner) == 1 else exp.and_(*inner, copy=False))
    if list(table.primary_key) != [column.name] and [k.lower() for k in table.primary_key] != [column.name.lower()]:
        return None
    x = conjunct.this
    key = (x.table.lower(), x.name.lower(), (table.schema or "").lower(), table.name.lower(), column.name.lower())
    return key, select, name


def _table(node: exp.Expression, catalog):
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier) or node.args.get("catalog"):
        return None
    if any(node.args.get(k) for k in ("joins", "laterals", "pivots", "version", "sample", "hints")):
        return None
    alias = node.args.get("alias")
    if alias is not None and alias.columns:
        return None
    return catalog.table(node.name, node.db or None)


def _plain(select: exp.Select, allow_joins: bool = False) -> bool:
    blocked = ("with", "group", "having", "limit", "offset", "order", "distinct", "qualify", "windows", "into",
               "laterals", "sample", "locks", "kind", "cluster", "distribute", "sort", "connect", "match", "prewhere",
               "options", "settings", "format", "hint", "top", "fetch", "pivots")
    if any(select.args.get(k) for k in blocked):
        return False
    if select.args.get("joins") and not allow_joins:
        return False
    return len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Column)


def _identifier(source: exp.Table) -> exp.Identifier:
    """The name a query uses for ``source`` (its alias, else its table name), quoted as written."""
    alias = source.args.get("alias")
    node = alias.this if alias is not None and alias.this is not None else source.this
    return node.copy()


def _qualify_own(node: exp.Expression, name: exp.Identifier, table) -> bool:
    """Qualify the unqualified columns of ``node`` that are outside nested queries with ``name``;
    False when one is not a column of ``table`` or names another relation (not certain)."""
    columns = {c.name.lower() for c in table.columns}
    for column in list(node.find_all(exp.Column)):
        if _nested(column, node):
            continue
        if isinstance(column.this, exp.Star) or column.args.get("db") or column.args.get("catalog"):
            return False
        if not column.table:
            if column.name.lower() not in columns:
                return False
            column.set("table", name.copy())
        elif column.table.lower() != name.name.lower():
            return False
    return True


def _nested(node: exp.Expression, root: exp.Expression) -> bool:
    if node is root:
        return False
    parent = node.parent
    while parent is not None and parent is not root:
        if isinstance(parent, exp.Query):
            return True
        parent = parent.parent
    return False


def _single_table(select: exp.Select, catalog):
    """(catalog table, effective name, selected column) of ``SELECT t.k FROM T t [WHERE ...]``,
    with the block's own columns qualified; None when it is anything else."""
    if not _plain(select):
        return None
    source = select.args.get("from_")
    source = source.this if source is not None else None
    table = _table(source, catalog) if source is not None else None
    if table is None:
        return None
    name = _identifier(source)
    column = select.expressions[0]
    if not _qualify_own(column, name, table):
        return None
    where = select.args.get("where")
    if where is not None and not _qualify_own(where.this, name, table):
        return None
    return table, name, column


def _unjoin(select: exp.Select, catalog) -> exp.Select | None:
    """``SELECT a.k FROM A a JOIN C c ON c.j = a.f WHERE P(a) AND Q(c)`` as
    ``SELECT a.k FROM A a WHERE P(a) AND a.f IN (SELECT c.j FROM C c WHERE Q(c))``."""
    joins = select.args.get("joins") or []
    if len(joins) != 1 or not _plain(select, allow_joins=True):
        return None
    join = joins[0]
    if any(join.args.get(k) for k in ("side", "using", "method", "global", "hint", "match_condition", "pivots")):
        return None
    if (join.args.get("kind") or "").upper() not in ("", "INNER"):
        return None
    source = select.args["from_"].this
    outer, inner = _table(source, catalog), _table(join.this, catalog)
    on = join.args.get("on")
    if outer is None or inner is None or not isinstance(on, exp.EQ):
        return None
    a, c = source.alias_or_name.lower(), join.this.alias_or_name.lower()
    if a == c:
        return None
    where = select.args.get("where")
    parts = split_conjuncts(where.this) if where is not None else []
    everything = [select.expressions[0], on, *parts]
    if any(True for node in everything for _ in node.find_all(exp.Query)):
        return None
    for node in everything:
        for column in node.find_all(exp.Column):
            if column.table.lower() not in (a, c) or isinstance(column.this, exp.Star):
                return None
    sides = {side.table.lower(): side for side in (on.this, on.expression) if isinstance(side, exp.Column)}
    if set(sides) != {a, c} or select.expressions[0].table.lower() != a:
        return None
    own, theirs = [], []
    for part in parts:
        tables = {column.table.lower() for column in part.find_all(exp.Column)}
        if tables <= {a}:
            own.append(part.copy())
        elif tables <= {c}:
            theirs.append(part.copy())
        else:
            return None
    keyset = exp.Select(expressions=[sides[c].copy()]).from_(join.this.copy(), copy=False)
    if theirs:
        keyset = keyset.where(exp.and_(*theirs, copy=False), copy=False)
    semi = exp.In(this=sides[a].copy(), query=exp.Subquery(this=keyset))
    result = exp.Select(expressions=[select.expressions[0].copy()]).from_(source.copy(), copy=False)
    return result.where(exp.and_(*own, semi, copy=False), copy=False)


def _sources(node: exp.Expression) -> set[str]:
    """Names bound by queries nested in ``node`` (tables, aliases, CTEs)."""
    names = set()
    for query in node.find_all(exp.Query):
        for table in query.find_all(exp.Table):
            names.add(table.alias_or_name.lower())
        for cte in query.find_all(exp.CTE):
            names.add(cte.alias_or_name.lower())
    return names


def _combined(first: exp.In, select: exp.Select, name: str, catalog) -> exp.In | None:
    """``first`` with the WHERE of ``select`` (named ``name``) AND-ed into its subquery."""
    query = first.args["query"]
    target = query.this if isinstance(query, exp.Subquery) else query
    target_id = _identifier(target.args["from_"].this)
    target_name, name = target_id.name, name.name
    where = select.args.get("where")
    if where is None:
        return first
    condition = where.this.copy()
    if target_name.lower() != name.lower():
        if {name.lower(), target_name.lower()} & _sources(condition):
            return None  # a nested query binds one of the names: renaming is not certain
        if any(column.table.lower() == target_name.lower() for column in condition.find_all(exp.Column)):
            return None  # a name of an outer relation that the merged subquery's own name would capture
        for column in condition.find_all(exp.Column):
            if column.table.lower() == name.lower():
                column.set("table", target_id.copy())
    existing = target.args.get("where")
    parts = (split_conjuncts(existing.this) if existing is not None else []) + split_conjuncts(condition)
    merged = _merge(parts, catalog)
    target.set("where", exp.Where(this=merged[0] if len(merged) == 1 else exp.and_(*merged, copy=False)))
    return first
