"""Principal placeholders (``:principal.region``) and their typed literals.

Policy expressions are parsed once at load; a request binds the principal's
values by replacing placeholder nodes with literal nodes built on the sqlglot
AST. A value never passes through SQL text, so ``EU' OR '1'='1`` stays a
string literal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlglot import exp

from govern.errors import Denied
from govern.principal import Principal

PRINCIPAL = "principal"


def principal_placeholders(expression: exp.Expression) -> list[tuple[exp.Expression, str]]:
    """Every ``:principal.NAME`` node in ``expression`` with its attribute name."""
    found = []
    for node in expression.find_all(exp.Dot):
        if isinstance(node.this, exp.Placeholder) and node.this.name == PRINCIPAL:
            found.append((node, node.expression.name))
    return found


def stray_placeholders(expression: exp.Expression) -> list[str]:
    """Placeholders that are not ``:principal.NAME`` (a policy load error)."""
    inside = {id(dot.this) for dot, _ in principal_placeholders(expression)}
    return [p.sql() for p in expression.find_all(exp.Placeholder, exp.Parameter) if id(p) not in inside]


def literal(value) -> exp.Expression:
    """A typed SQL literal for one scalar attribute value."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return exp.Boolean(this=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise Denied(f"attribute value {value!r} is not a finite number")  # would be emitted as a bare word
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"unsupported attribute value type {type(value).__name__}")


def bind(expression: exp.Expression, principal: Principal, rule_id: str | Mapping[str, str] = "?") -> exp.Expression:
    """A copy of ``expression`` with the principal's values as typed literals.

    ``rule_id`` names the rule in denials: one id, or attribute -> rule id(s) when
    the expression holds several rules (a governed relation).
    Raises Denied naming the attribute when the principal lacks it (fail closed).
    """
    # A holder gives the root a parent, so a root IN (...) can be replaced too.
    holder = exp.Paren(this=expression.copy())
    for node, name in principal_placeholders(holder):
        rule = rule_id.get(name, "?") if isinstance(rule_id, Mapping) else rule_id
        try:
            value = principal.attribute(name)
        except KeyError:
            raise Denied(
                f"principal {principal.id!r} lacks attribute {name!r}, which rule {rule!r} needs"
            ) from None
        if isinstance(value, list):
            _bind_list(node, value, name, rule)
        else:
            node.replace(literal(value))
    return holder.this


def _bind_list(node: exp.Expression, values: list, name: str, rule_id: str) -> None:
    parent = node.parent
    if not isinstance(parent, exp.In) or node.arg_key != "expressions" or len(parent.expressions) != 1:
        raise Denied(f"attribute {name!r} is a list; rule {rule_id!r} may use it only as 'IN (:principal.{name})'")
    if not values:
        # x IN () is not SQL; an empty list matches nothing (and NOT IN () everything).
        parent.replace(exp.false())
        return
    parent.set("expressions", [literal(v) for v in values])
