"""Pass 3: find every base-table reference by lexical scope.

A name refers to a CTE only when a WITH clause that encloses the reference
defines it and is visible there: the main body sees all of its WITH's CTEs,
a CTE body sees the CTEs before it (and itself under RECURSIVE), and a
qualified name (``schema.t``) is never a CTE. Everything else is a base
table. Identifiers are first normalised the way the dialect folds them, so
``"Orders"``, ``ORDERS`` and ``orders`` compare the way the database does.

The rule is decided here on the tree itself rather than taken from a
resolver's internal state, because a CTE mistaken for a table only costs a
governed scan while a table mistaken for a CTE would be read ungoverned.

A CTE named like a catalog table is renamed (its references keep the old name
as their alias). Governed relations and the lookup subqueries of row filters
name base tables; a user's CTE must never be able to stand in for one.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from govern.errors import Denied
from govern.sql.decision import SqlContext, TableRef

ALLOWED_TABLE_ARGS = frozenset({"this", "db", "alias"})
# Dialects that match a CTE name case-insensitively even where table names are case-sensitive
# (MariaDB/MySQL: `WITH Abc AS (...) SELECT * FROM abc` reads the CTE on a server with
# lower_case_table_names=0). A reference bound this way is respelled as its CTE.
CASE_INSENSITIVE_CTE_DIALECTS = frozenset({"mysql"})


def resolve(ctx: SqlContext) -> None:
    tables, ctes = normalize_and_collect(ctx.tree, ctx.sqlglot_dialect, ctx.nodes)
    reasons: list[str] = []
    bindings: list[tuple[exp.Table, exp.CTE]] = []
    for node in tables:
        if not isinstance(node.this, exp.Identifier):
            continue  # UNNEST and friends: checked by check_statement, read nothing stored
        cte = defining_cte(node, fold=ctx.dialect in CASE_INSENSITIVE_CTE_DIALECTS)
        if cte is not None:
            if node.name != cte.alias:
                node.this.set("this", cte.alias)
            bindings.append((node, cte))
            ctx.cte_references.append(node)
            ctx.cte_bindings.append((node, cte))
            continue
        reasons += _unsupported_modifiers(node, ctx.dialect)
        ctx.references.append(TableRef(node))
    limit = ctx.bundle.rules.limits.max_table_references
    if len(ctx.references) > limit:
        raise Denied(f"query too complex: it makes {len(ctx.references):,} table references, more than the "
                     f"limit of {limit:,} (limits.max_table_references); simplify it or split it into several questions")
    if reasons:
        raise Denied(*dict.fromkeys(reasons))
    _rename_shadowing_ctes(ctx, bindings, ctes)


def normalize_and_collect(tree: exp.Expression, dialect: Dialect,
                          nodes: list | None = None) -> tuple[list[exp.Table], list[exp.CTE]]:
    """sqlglot's normalize_identifiers on ``tree`` (in place), and its Table and CTE
    nodes in breadth-first order (find_all's), all from one walk of the tree
    (``nodes``: the tree's nodes in walk order, when the caller has them).

    As in normalize_identifiers, a node marked case-sensitive (a
    ``/* sqlglot.meta case_sensitive */`` comment) keeps its identifiers and
    those below it as written; its tables and CTEs are still collected.
    """
    tables: list[exp.Table] = []
    ctes: list[exp.CTE] = []
    identifiers: list[exp.Identifier] = []
    kept: list[exp.Expression] = []
    kinds = _KINDS
    for node in nodes if nodes is not None else tree.walk():
        cls = type(node)
        kind = kinds[cls] if cls in kinds else kinds.setdefault(cls, _kind(cls))
        if kind is not None:
            (identifiers if kind is exp.Identifier else tables if kind is exp.Table else ctes).append(node)
        if node.meta_get("case_sensitive"):
            kept.append(node)
    skip = {id(n) for root in kept for n in root.walk()}
    folds_lower = _folds_to_lower(dialect)
    for identifier in identifiers:
        if id(identifier) in skip:
            continue
        if folds_lower and identifier.this == identifier.this.lower():
            continue  # already folded: the call would set the same name (most names are)
        dialect.normalize_identifier(identifier)  # sets the folded name in place
    return tables, ctes


# The collected kind of each node class (a tree has many nodes but few classes).
_KINDS: dict[type, type | None] = {}


def _kind(cls: type) -> type | None:
    for kind in (exp.Identifier, exp.Table, exp.CTE):
        if issubclass(cls, kind):
            return kind
    return None


def _folds_to_lower(dialect: Dialect) -> bool:
    """The dialect folds names with sqlglot's base rule, to lower case (PostgreSQL, DuckDB, SQLite)."""
    return type(dialect).normalize_identifier is Dialect.normalize_identifier and dialect.normalization_strategy in (
        NormalizationStrategy.LOWERCASE, NormalizationStrategy.CASE_INSENSITIVE)


def _rename_shadowing_ctes(ctx: SqlContext, bindings: list[tuple[exp.Table, exp.CTE]], ctes: list[exp.CTE]) -> None:
    if not ctes:
        return
    taken = {t.name.lower() for t in ctx.bundle.catalog} | {c.alias.lower() for c in ctes}
    renamed: dict[int, exp.Identifier] = {}
    for cte in ctes:
        if ctx.bundle.catalog.table(cte.alias) is None:
            continue
        n = 1
        while f"{cte.alias}_cte{n}".lower() in taken:
            n += 1
        fresh = exp.to_identifier(f"{cte.alias}_cte{n}".lower())
        taken.add(fresh.name)
        cte.args["alias"].set("this", fresh)
        renamed[id(cte)] = fresh
    for node, cte in bindings:
        fresh = renamed.get(id(cte))
        if fresh is None:
            continue
        if not node.args.get("alias"):
            node.set("alias", exp.TableAlias(this=node.this.copy()))  # `old.col` still resolves
        node.set("this", fresh.copy())


def defining_cte(table: exp.Table, fold: bool = False) -> exp.CTE | None:
    """The CTE a table reference names, by lexical scope; None for a base table.

    ``fold``: names match case-insensitively (CASE_INSENSITIVE_CTE_DIALECTS)."""
    if table.args.get("db") or table.args.get("catalog"):
        return None
    name = table.name.lower() if fold else table.name
    child: exp.Expression = table
    node = table.parent
    while node is not None:
        with_ = node.args.get("with_") if isinstance(node, exp.Expression) else None
        if isinstance(with_, exp.With) and child is not with_:
            cte = _defines(with_.expressions, name, fold)  # the reference is in the body the WITH belongs to
            if cte is not None:
                return cte
        if isinstance(node, exp.With):
            # The reference is inside one of this WITH's CTE bodies.
            ctes = node.expressions
            index = next(i for i, cte in enumerate(ctes) if cte is child)
            visible = ctes[:index]
            if node.args.get("recursive") and _in_recursive_term(table, ctes[index]):
                visible = ctes[: index + 1]
            cte = _defines(visible, name, fold)
            if cte is not None:
                return cte
        child, node = node, node.parent
    return None


def _in_recursive_term(table: exp.Table, cte: exp.CTE) -> bool:
    """A CTE sees itself only in the recursive term: the right arm of its body's UNION.

    Elsewhere (the anchor arm, a body without UNION) engines differ: PostgreSQL
    raises, DuckDB binds the name to a base table. Treating it as a base table
    governs it either way.
    """
    body = cte.this
    if not isinstance(body, exp.Union):
        return False
    node: exp.Expression | None = table
    while node is not None and node is not body:
        if node is body.expression:
            return True
        node = node.parent
    return False


def _defines(ctes: list[exp.CTE], name: str, fold: bool = False) -> exp.CTE | None:
    # Later definitions of a name shadow earlier ones in the same WITH.
    return next((cte for cte in reversed(ctes) if (cte.alias.lower() if fold else cte.alias) == name), None)


def _unsupported_modifiers(node: exp.Table, dialect: str) -> list[str]:
    out = []
    if node.args.get("catalog"):
        out.append(f"catalog-qualified table name {node.sql(dialect)} is not supported; use [schema.]table")
    for key, value in node.args.items():
        if value and key not in ALLOWED_TABLE_ARGS and key != "catalog":
            if key == "joins":
                out.append(f"parenthesized joins starting at {node.name} are not supported; write the joins without parentheses")
            else:
                out.append(f"table modifier {key.upper()} on {node.name} is not supported")
    alias = node.args.get("alias")
    if alias is not None and alias.args.get("columns"):
        out.append(f"column alias lists on table {node.name} are not supported; alias the columns in the select list")
    return out
