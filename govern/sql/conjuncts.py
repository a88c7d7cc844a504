"""The conjuncts of a condition: ``a AND (b AND c)`` is ``[a, b, c]``, without recursion."""

from __future__ import annotations

from sqlglot import exp


def split_conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    """The operands of the AND chain ``condition`` (parenthesised ANDs flattened), in order."""
    out, stack = [], [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.And):
            stack += [node.expression, node.this]
        elif isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
            stack.append(node.this)
        else:
            out.append(node)
    return out
