"""Pass 6: cap the rows a query may return at the bundle's limit."""

from __future__ import annotations

from sqlglot import exp

from govern.sql.decision import SqlContext

CAPPED_ALIAS = "_govern_capped"


def cap_rows(ctx: SqlContext) -> None:
    cap = ctx.bundle.rules.limits.max_rows
    if cap is None:
        return
    tree = ctx.tree
    limit = tree.args.get("limit")
    if isinstance(tree, (exp.Select, exp.SetOperation)) and limit is None and not tree.args.get("fetch"):
        tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
        return
    current = _literal_limit(limit)
    if current is not None and not tree.args.get("fetch"):
        limit.set("expression", exp.Literal.number(min(current, cap)))
        return
    # A computed limit, FETCH FIRST, TOP, a parenthesized query: cap from outside.
    capped = exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier(CAPPED_ALIAS)))
    ctx.tree = exp.Select(expressions=[exp.Star()], limit=exp.Limit(expression=exp.Literal.number(cap))).from_(capped, copy=False)


def _literal_limit(limit: exp.Expression | None) -> int | None:
    # Only a plain `LIMIT n` is lowered in place; PERCENT, WITH TIES, BY ... are capped from outside.
    if not isinstance(limit, exp.Limit) or any(v for k, v in limit.args.items() if k != "expression"):
        return None
    value = limit.expression
    if isinstance(value, exp.Literal) and not value.is_string and value.name.isdigit():
        return int(value.name)
    return None
