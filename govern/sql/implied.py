"""Row-predicate conjuncts that a query's own inner join already implies, dropped.

A governed relation's row predicate often holds a semi-join into another
governed table: lena's orders carry ``customer_id IN (SELECT id FROM customers
WHERE tenant = 'globex')``, and her customers are ``tenant = 'globex'``. When
the query joins the two by that key (``JOIN orders o ON o.customer_id = c.id``,
with ``c`` her governed customers), every order that reaches the result has
matched a customer she may see, which is what the semi-join says: it is
implied, and evaluating it again only gives the planner more relations (lena's
3-table join planned six, 2.9x native RLS, all of it planning). This rule
finds such conjuncts, one pure function over the analysed tree.

A conjunct ``C = R.f IN (SELECT P.k FROM P [AS x] WHERE Q)`` of reference R's
predicate is dropped when all of this holds (otherwise it stays):

* a partner reference p of the same base table P (the same catalog entry) is
  in the same query block, its relation shows ``k`` unmasked, and every
  top-level conjunct of Q is a top-level conjunct of p's own row predicate
  (the same principal's: both templates are bound with the same values).
  Conjuncts are compared as trees (parentheses aside) after alpha-renaming
  every relation name to its nesting depth and every column to its catalog
  spelling; only plain,
  deterministic nodes take part (columns, literals, principal placeholders,
  comparisons, AND / OR / NOT, IN, BETWEEN, LIKE, IS, single-table subqueries):
  anything else is not compared, so the conjunct is kept. Then a row of p's
  relation satisfies Q, and ``R.f = p.k`` puts ``R.f`` in C's key set;
* ``R.f = p.k`` (``exp.EQ`` of two plain columns, bound by govern's resolver
  to exactly R's column f and p's column k, unchanged) is a top-level conjunct
  that removes every row of R that does not match a row of p:

  - the block's joins are INNER, LEFT, RIGHT, FULL or CROSS (no USING, NATURAL,
    LATERAL, ASOF, ...) and its FROM items are governed tables, CTEs, or
    derived tables that cannot read their siblings. Its leading run of inner
    joins is the *region* (the FROM item and the sources of those joins):
    their rows are ``WHERE <every ON of the run>`` over the cross product;
  - R and p are in the region, and the equality is a conjunct of the ON of one
    of those joins, or of the block's WHERE when every later join is a LEFT
    join (a WHERE conjunct of the region's columns commutes with them); or
  - R is the source of a later INNER or LEFT join (its nullable side) whose ON
    holds the equality and p comes before it; or R is the FROM item of a block
    whose first join is a RIGHT join on p with the equality in its ON.

  Each of these keeps the rows of the joins up to there equal with and without
  the conjunct (a row of R it would hide never matches), and later joins only
  see equal inputs. p's conjuncts may be dropped too: what a dropped conjunct
  relies on is strictly smaller than itself, so the reasoning is well-founded;
* nothing can raise on a row the conjunct would have hidden, or run or not
  because of one: R is not fenced, which on the fenced dialects means no
  predicate anywhere in the query may raise (govern.sql.passes.fence fences
  every filtered relation as soon as one may); every expression of the query
  outside the outermost SELECT's select list, GROUP BY, HAVING, QUALIFY,
  WINDOW, DISTINCT and ORDER BY is leakproof (govern.sql.leakproof), whatever
  it reads, and so is every subquery where it stands unless it is an item of
  that select list (PostgreSQL computes a pulled-up subquery's output below
  an outer join at the scan of the tables it reads, and an engine skips a
  join input when the other is empty, so a hidden row of R could decide
  whether such an expression runs at all); the outermost clauses run on the
  final rows, which are the same both ways. Every column the query reads of R
  is shown unmasked, and no column the query reads of any relation is shown
  through an ``expression`` mask (policy SQL that may raise).

R's rows are read only through its one governed relation, which stands in one
FROM list: whatever reads them elsewhere (a correlated subquery, an outer block
through a derived table, a CTE read twice) reads rows of that block after its
joins. The caller (the rewrite pass) renders R's relation without the dropped
conjuncts; its policies are still reported as applied, since they still hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from govern.sql.conjuncts import split_conjuncts
from govern.sql.leakproof import clause_items
from govern.sql.scope import IMPLICIT_LATERAL  # a derived table there may read R's rows without LATERAL

__all__ = ["Governed", "implied_conjuncts"]

# Nodes a compared predicate may consist of: deterministic, and evaluated the same way
# wherever they stand. Anything else is not compared (the conjunct is kept).
PLAIN = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Placeholder, exp.Dot,
         exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Paren, exp.Is,
         exp.In, exp.Between, exp.Like, exp.ILike, exp.Neg, exp.Tuple, exp.Select, exp.From, exp.Where,
         exp.Table, exp.TableAlias, exp.Subquery)
INNER_KINDS = ("", "INNER", "CROSS")


@dataclass(frozen=True)
class Governed:
    """What the rule needs of one governed table reference (by its index in the query)."""

    table: object  # its catalog Table
    qualifier: str  # the name its relation's own columns are qualified with (the table's name)
    conjuncts: tuple  # top-level conjuncts of its unbound row predicate, as its relation holds them
    raw: frozenset  # lower-case columns its relation shows unmasked (no mask, hash or handle)
    read: frozenset  # lower-case columns the query reads of it
    fenced: bool
    raising: frozenset = frozenset()  # lower-case columns shown through an expression that may raise
    key: tuple | None = None  # names its predicate (table, role set, dialect) in the caller's memo


def implied_conjuncts(analysis, governed: list[Governed], judge, catalog, dialect: str,
                      memo=None) -> dict[int, frozenset[int]]:
    """Reference index -> positions (in ``Governed.conjuncts``) of conjuncts the query implies.

    ``analysis``: govern.sql.scope.Analysis of the query; ``judge``: a govern.sql.leakproof.Judge
    over it. The caller must only pass references for which the fence plan was computed
    (the dialect has a fence; ``fenced`` says where one stands). ``memo`` (``get`` / ``put``)
    keeps which conjuncts of one predicate a join to another implies, by their ``key``s: it
    depends on the two predicates and the two columns alone."""
    if analysis is None or catalog is None or not any(g.conjuncts and _safe(g) for g in governed):
        return {}
    out: dict[int, set[int]] = {}
    for scope in analysis.scopes:
        if isinstance(scope.node, exp.Select) and scope.node.args.get("joins"):
            for ref, position in _block(scope, analysis, governed, catalog, dialect, memo):
                if _safe(governed[ref]):
                    out.setdefault(ref, set()).add(position)
    if not out or not _nothing_may_raise(analysis, governed, judge):
        return {}
    return {ref: frozenset(positions) for ref, positions in out.items()}


# ------------------------------------------------------------------ the block's joins

def _block(scope, analysis, governed, catalog, dialect, memo=None):
    """(reference, conjunct position) pairs implied by the joins of one SELECT block."""
    select = scope.node
    joins = select.args.get("joins") or []
    if not joins or select.args.get("laterals") or len(scope.sources) != len(joins) + 1:
        return
    kinds = []
    for join in joins:
        kind = _kind(join)
        if kind is None:
            return
        kinds.append(kind)
    for source in scope.sources:
        if source.kind == "table":
            if source.ref is None or not 0 <= source.ref < len(governed):
                return
        elif source.kind == "derived":
            if source.lateral or dialect in IMPLICIT_LATERAL:
                return
        elif source.kind != "cte":
            return
    region = 1
    while region <= len(joins) and kinds[region - 1] == "INNER":
        region += 1  # sources[0:region] are joined by inner joins only
    anchors = []  # (equality, sources R may be, sources p may be)
    inside = set(range(region))
    for i in range(1, region):
        anchors += [(c, inside, inside) for c in split_conjuncts(joins[i - 1].args["on"])] if joins[i - 1].args.get("on") else []
    where = select.args.get("where")
    if where is not None and all(k == "LEFT" for k in kinds[region - 1:]):
        anchors += [(c, inside, inside) for c in split_conjuncts(where.this)]
    for i in range(region, len(joins) + 1):
        on = joins[i - 1].args.get("on")
        if on is None:
            continue
        if kinds[i - 1] in ("INNER", "LEFT"):
            anchors += [(c, {i}, set(range(i))) for c in split_conjuncts(on)]
        elif kinds[i - 1] == "RIGHT" and i == 1:
            anchors += [(c, {0}, {1}) for c in split_conjuncts(on)]
    position = {id(source): i for i, source in enumerate(scope.sources)}
    for conjunct, r_sources, p_sources in anchors:
        sides = _equality(conjunct, scope, analysis, position)
        if sides is None:
            continue
        for (r_at, r_ref, f), (p_at, p_ref, k) in (sides, sides[::-1]):
            if r_at in r_sources and p_at in p_sources and r_ref != p_ref:
                for at in _positions(governed[r_ref], f, governed[p_ref], k, catalog, memo):
                    yield r_ref, at


def _positions(r: Governed, f: str, p: Governed, k: str, catalog, memo) -> frozenset[int]:
    """Positions of r's conjuncts that ``r.f = p.k`` implies (remembered in ``memo``)."""
    key = ("implied", r.key, f, p.key, k) if r.key is not None and p.key is not None else None
    hit = memo.get(key) if memo is not None and key is not None else None
    if hit is None:
        hit = frozenset(at for at, candidate in enumerate(r.conjuncts) if _implied(candidate, r, f, p, k, catalog))
        if memo is not None and key is not None:
            memo.put(key, hit)
    return hit


def _kind(join: exp.Join) -> str | None:
    """INNER, LEFT, RIGHT or FULL for a plain join; None for anything else."""
    if any(v for key, v in join.args.items() if key not in ("this", "on", "side", "kind")):
        return None  # USING, NATURAL, ASOF, hints, ...
    side = (join.args.get("side") or "").upper()
    kind = (join.args.get("kind") or "").upper()
    if side == "" and kind in INNER_KINDS:
        return "INNER"
    if side in ("LEFT", "RIGHT", "FULL") and kind in ("", "OUTER"):
        return side
    return None


def _equality(conjunct, scope, analysis, position):
    """((source position, reference, column), ...) for the two sides of ``a.x = b.y``, when both are
    governed tables' own columns, unchanged, bound in this very block."""
    if not isinstance(conjunct, exp.EQ):
        return None
    sides = []
    for side in (conjunct.this, conjunct.expression):
        if not isinstance(side, exp.Column) or isinstance(side.this, exp.Star):
            return None
        binding = analysis.bindings.get(id(side))
        if binding is None or binding.kind != "column" or binding.scope is not scope:
            return None
        source, output = binding.source, binding.output
        if source is None or source.kind != "table" or id(source) not in position:
            return None
        if output is None or output.hidden or output.base is None or output.base[0] != source.ref:
            return None
        sides.append((position[id(source)], source.ref, output.base[1]))
    return tuple(sides)


# ------------------------------------------------------------------ the conjunct and the partner's predicate

def _implied(conjunct, r: Governed, f: str, p: Governed, k: str, catalog) -> bool:
    """``conjunct`` is ``R.f IN (SELECT P.k FROM P WHERE Q)`` and p's predicate holds every conjunct of Q."""
    if k not in p.raw or f not in r.raw:
        return False
    if not isinstance(conjunct, exp.In) or conjunct.expressions or conjunct.args.get("unnest") \
            or conjunct.args.get("field") or conjunct.args.get("is_global"):
        return False
    left = conjunct.this
    if not isinstance(left, exp.Column) or left.args.get("db") or left.args.get("catalog"):
        return False
    if left.name.lower() != f or (left.table and left.table.lower() != r.qualifier.lower()):
        return False
    query = conjunct.args.get("query")
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or (isinstance(query, exp.Subquery) and any(
            v for key, v in query.args.items() if key != "this")):
        return False
    shape = _single(select, catalog)
    if shape is None or shape[0] is not p.table:
        return False
    table, name = shape
    column = select.expressions[0]
    if not isinstance(column, exp.Column) or column.name.lower() != k or (
            column.table and column.table.lower() != name):
        return False
    where = select.args.get("where")
    wanted = split_conjuncts(where.this) if where is not None else []
    have = set()
    for part in p.conjuncts:
        text = _canonical(part, [(p.qualifier.lower(), p.table)], catalog)
        if text is not None:
            have.add(text)
    for part in wanted:
        text = _canonical(part, [(name, table)], catalog)
        if text is None or text not in have:
            return False
    return True


def _single(select: exp.Select, catalog):
    """(catalog table, lower-case name it goes by) of ``SELECT x FROM T [AS n] [WHERE ...]``."""
    if any(v for key, v in select.args.items() if key not in ("expressions", "from_", "where")):
        return None
    if len(select.expressions) != 1:
        return None
    source = select.args.get("from_")
    source = source.this if source is not None else None
    if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
        return None
    if any(v for key, v in source.args.items() if key not in ("this", "db", "alias")):
        return None
    alias = source.args.get("alias")
    if alias is not None and (alias.columns or not alias.name):
        return None
    table = catalog.table(source.name, source.db or None)
    if table is None:
        return None
    return table, (alias.name if alias is not None else source.name).lower()


def _canonical(node: exp.Expression, env: list, catalog) -> str | None:
    """``node`` as text with relation names replaced by their nesting depth and columns by their
    catalog spelling; None when it holds anything but plain nodes or a name that is not certain.
    ``env``: (name, catalog table) of the enclosing relations, outermost first."""
    holder = exp.Paren(this=node.copy())  # so the conjunct's own node is checked like its children
    if not _rename(holder, env, catalog):
        return None
    return _shape(holder)


def _shape(node: exp.Expression) -> str:
    """The tree as text, node types and arguments spelled out (parentheses, which only group,
    left out: the tree already says what groups with what)."""
    while isinstance(node, exp.Paren):
        node = node.this
    parts = []
    for key in sorted(node.args):
        value = node.args[key]
        if value is None or value is False or (isinstance(value, list) and not value):
            continue
        if isinstance(value, list):
            parts.append(f"{key}=[{','.join(_shape(v) if isinstance(v, exp.Expression) else repr(v) for v in value)}]")
        elif isinstance(value, exp.Expression):
            parts.append(f"{key}={_shape(value)}")
        else:
            parts.append(f"{key}={value!r}")
    return f"{type(node).__name__}({','.join(parts)})"


def _rename(node: exp.Expression, env: list, catalog) -> bool:
    for child in list(node.iter_expressions()):
        if not isinstance(child, PLAIN):
            return False
        if isinstance(child, exp.Dot) and not isinstance(child.this, exp.Placeholder):
            return False
        if isinstance(child, exp.Select):
            shape = _single(child, catalog)
            if shape is None:
                return False
            table, name = shape
            inner = env + [(name, table)]
            source = child.args["from_"].this
            source.set("alias", exp.TableAlias(this=exp.to_identifier(f"_t{len(inner)}")))
            source.set("db", exp.to_identifier((table.schema or "").lower()) if table.schema else None)
            source.set("this", exp.to_identifier(table.name.lower()))
            if not _rename(child, inner, catalog):
                return False
            continue
        if isinstance(child, exp.Column):
            if not _column(child, env):
                return False
            continue
        if not _rename(child, env, catalog):
            return False
    return True


def _column(column: exp.Column, env: list) -> bool:
    if isinstance(column.this, exp.Star) or column.args.get("db") or column.args.get("catalog"):
        return False
    name = column.name.lower()
    if column.table:
        depth = next((d for d in range(len(env) - 1, -1, -1) if env[d][0] == column.table.lower()), None)
    else:  # the innermost relation that has the column (SQL's rule)
        depth = next((d for d in range(len(env) - 1, -1, -1) if env[d][1].column(name) is not None), None)
    if depth is None or env[depth][1].column(name) is None:
        return False
    column.set("table", exp.to_identifier(f"_t{depth + 1}"))
    column.set("this", exp.to_identifier(env[depth][1].column(name).name.lower()))
    return True


# ------------------------------------------------------------------ nothing may raise on a hidden row

# Clauses of the outermost SELECT that run on its final rows, above every join of the query:
# an expression there sees only rows both ways share. Everywhere else an expression may run
# below a join (a pulled-up subquery's output under an outer join is computed at the scan of
# the tables it reads; a subquery scan or a join's other input is skipped when a join input is
# empty), where a row the dropped conjunct hid could reach it or decide whether it runs.
ROOT_CLAUSES = frozenset({"select", "group", "having", "qualify", "window", "order", "distinct"})


def _nothing_may_raise(analysis, governed: list[Governed], judge) -> bool:
    """No expression of the query that could run below a join may raise, and no relation computes
    a value that may raise (an ``expression`` mask) for a column the query reads."""
    if any(g.read & g.raising for g in governed):
        return False
    root = analysis.root
    projections = root.node.expressions if isinstance(root.node, exp.Select) else []
    for reference in analysis.references:
        if not (reference.scope is root and reference.clause in ROOT_CLAUSES) and not judge.leakproof(
                _item(reference.item, reference.node)):
            return False
    for scope in analysis.scopes:  # a subquery standing in an expression: judged where it stands
        if scope.holder is None or scope.item is None:
            continue
        if scope.holder is root and any(scope.item is p for p in projections):
            continue  # a scalar subquery of the final select list: runs per final row
        if not judge.leakproof(_item(scope.item, scope.node)):
            return False
    # Every other expression of every block, whether or not it reads a column: one that reads
    # none (`CAST('x' AS INT)` in a CTE's select list) still runs only when the block's scan first
    # yields a row (PostgreSQL computes a CTE lazily inside a nested loop), so a hidden row could
    # decide whether it runs (red team round 8, finding 4).
    for scope in analysis.scopes:
        for item in clause_items(scope.node, outermost=scope is root):
            if not judge.leakproof(item):
                return False
    return True


def _item(item: exp.Expression, node: exp.Expression) -> exp.Expression:
    """The one expression of its clause that ``node`` stands in (a GROUP BY key, an ORDER BY
    key without its direction, a select-list item, a WHERE's condition)."""
    if isinstance(item, (exp.Where, exp.Having, exp.Qualify)):
        item = item.this
    if isinstance(item, (exp.Group, exp.Order, exp.Tuple, exp.Distinct)):
        while node.parent is not None and node.parent is not item:
            node = node.parent
        item = node if node.parent is item else item
    while isinstance(item, exp.Ordered):
        item = item.this
    return item


def _safe(governed: Governed) -> bool:
    """R itself: not fenced, and every column the query reads of it shown as stored."""
    return not governed.fenced and governed.read <= governed.raw
