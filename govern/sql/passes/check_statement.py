"""Pass 2: only a read-only query, built from sources govern can enumerate.

Denies statements other than SELECT / WITH / set operations anywhere in the
tree (a data-modifying CTE is a statement too), constructs with side effects
(SELECT INTO, FOR UPDATE), executable comments, bind parameters, server
variables, table functions, and every function govern does not know to be
safe: sqlglot's typed functions minus a denylist, and unknown ("anonymous")
functions only from an allowlist (PostgreSQL's query_to_xml, setval, ... run
SQL or write state from inside a SELECT; a denylist cannot keep up).

It also holds the tree to one invariant the generator relies on: text that
sqlglot emits verbatim (units, type names, function names, unquoted
identifiers) must be a plain word. `EXTRACT("EPOCH FROM x) ... (SELECT ...")`
parses as one unit word that would reach the database as raw SQL.

The facts and the per-node checks live in ``govern/sql/safety.py``, shared with
the bundle's load-time check of policy SQL.
"""

from __future__ import annotations

from sqlglot import exp

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.safety import check_for, check_function, comment_reasons, fine, verbatim_text


def check_statement(ctx: SqlContext) -> None:
    tree = ctx.tree
    root = tree.unnest() if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, (exp.Select, exp.SetOperation)):
        kind = type(root).__name__.upper()
        raise Denied(f"only SELECT queries are allowed; this is a {kind} statement")
    allowed = ctx.bundle.functions(ctx.dialect)
    unfaithful = UNFAITHFUL.get(ctx.dialect, {})
    reasons: list[str] = []
    checks = _CHECKS
    for node in ctx.nodes if ctx.nodes is not None else tree.walk():
        cls = type(node)
        if unfaithful and cls in unfaithful:
            reasons.append(f"{unfaithful[cls]}: not supported on {ctx.dialect}")
        if node.comments:
            reasons += comment_reasons(node.comments)
        check = checks.get(cls)
        if check is None:
            check = checks[cls] = check_for(cls)
        if check is check_function:
            reasons += check_function(node, allowed)
        elif check is not fine:
            reasons += check(node, ctx.dialect)
        if str in map(type, node.args.values()):  # most nodes hold no text (a C-level scan)
            reasons += verbatim_text(node)
    if reasons:
        raise Denied(*dict.fromkeys(reasons))


# Constructs sqlglot reads but writes back for the dialect as something the engine does not run as
# written (found by running governed SQL on the engine): denied by name rather than sent on.
UNFAITHFUL: dict[str, dict[type, str]] = {
    # MariaDB has REGEXP / RLIKE but no REGEXP_LIKE(), which sqlglot's MySQL generator writes for both.
    "mysql": {exp.RegexpLike: "REGEXP / RLIKE (sqlglot writes REGEXP_LIKE(), which MariaDB does not have)"},
}


# One check per node class, chosen once per class: a query has thousands of nodes
# but few distinct classes, so the isinstance tests run once per class, not per node.
_CHECKS: dict[type, object] = {}
