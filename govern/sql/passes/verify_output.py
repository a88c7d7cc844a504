"""Pass 8: parse the governed SQL again and check it reads only what govern put there.

Defence in depth behind check_statement's verbatim-text invariant: whatever
generator quirk might turn user text into SQL, the emitted statement must
parse back to exactly one query whose base-table reads, CTEs, unknown or
denied function calls and parameters are the ones in the tree govern
generated it from. Anything else denies.

The check runs on the query with a stand-in for each governed relation (the
part that came from the user); each relation's own text was parsed back and
checked the same way when it was rendered (relation.render), once per
principal's values. That keeps the cost to parsing the user's query again.
"""

from __future__ import annotations

from collections import Counter

import sqlglot
from sqlglot import exp

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.passes.check_statement import ALLOWED_ANONYMOUS, DENIED_FUNCTIONS, DENIED_TYPED
from govern.sql.passes.resolve import defining_cte


def _denied(name: str) -> bool:
    return bool(DENIED_FUNCTIONS.match(name)) or name.upper() in DENIED_TYPED


def _name(node: exp.Func) -> str:
    return str(node.name) if isinstance(node, exp.Anonymous) else node.sql_name()


def footprint(tree: exp.Expression, allowed: frozenset[str] = ALLOWED_ANONYMOUS) -> Counter:
    """What a statement reaches: base tables and table functions read, CTEs defined,
    functions check_statement would refuse (unknown or denied), parameters.

    Functions it would allow are not counted: sqlglot may parse back as a typed
    function what was built as an anonymous one (ENCODE, SHA256), so counting
    them would compare spellings, not reach."""
    seen: Counter = Counter()
    for node in tree.walk():
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) and defining_cte(node) is None:
            seen[("table", node.name.lower())] += 1
        elif isinstance(node, exp.Table):
            seen[("table function", type(node.this).__name__.lower())] += 1
        elif isinstance(node, exp.CTE):
            seen[("cte", node.alias.lower())] += 1  # an injected CTE could stand in for a lookup table
        elif isinstance(node, exp.Func) and (_denied(_name(node)) or (
                isinstance(node, exp.Anonymous) and _name(node).lower() not in allowed)):
            seen[("function", _name(node).lower())] += 1
        if isinstance(node, (exp.Parameter, exp.Placeholder)):
            seen[("parameter", "")] += 1
    return seen


def parse_back(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except Exception as err:  # noqa: BLE001 - any failure to re-read our own output denies
        raise Denied(f"internal check: the governed SQL does not parse back ({type(err).__name__}); denied") from None
    if len(statements) != 1 or not isinstance(statements[0], (exp.Select, exp.SetOperation, exp.Subquery)):
        raise Denied("internal check: the governed SQL is not exactly one query; denied")
    return statements[0]


def verify_output(ctx: SqlContext) -> None:
    if not ctx.bundle.rules.settings.verify_output:
        return
    check_round_trip(ctx.skeleton_sql, ctx.tree, ctx.dialect, ALLOWED_ANONYMOUS | ctx.bundle.allowed_functions)


def check_round_trip(sql: str, tree: exp.Expression, dialect: str, allowed: frozenset[str] = ALLOWED_ANONYMOUS) -> None:
    """Deny unless ``sql`` parses back to what ``tree`` (which it was generated from) reaches."""
    emitted, expected = footprint(parse_back(sql, dialect), allowed), footprint(tree, allowed)
    if emitted != expected:
        extra, missing = sorted(emitted - expected), sorted(expected - emitted)
        raise Denied(f"internal check: the governed SQL does not parse back to what govern generated "
                     f"(extra: {extra}, missing: {missing}); denied")
