"""Dialect fix-ups sqlglot's generator does not make, applied before any SQL is generated."""

from __future__ import annotations

from sqlglot import exp


def portable(tree: exp.Expression, dialect: str) -> exp.Expression:
    """``tree`` rewritten (in place) so it runs on ``dialect``."""
    if dialect != "sqlite":
        return tree
    # find_all tests every node in compiled code; a transform would call back into
    # Python per node, to replace the few LEFT/RIGHT most queries do not have.
    # Collected first: a replacement takes over its arguments, so a nested call
    # found inside it is replaced there.
    root = tree
    for node in list(tree.find_all(exp.Left, exp.Right)):
        if node is tree:
            root = _sqlite_substrings(node)
        else:
            node.replace(_sqlite_substrings(node))
    return root


def _sqlite_substrings(node: exp.Expression) -> exp.Expression:
    # SQLite has no LEFT()/RIGHT() and sqlglot emits them as is; policy masks
    # written for other engines use them, so spell them with SUBSTR.
    if isinstance(node, exp.Left):
        return exp.Substring(this=node.this, start=exp.Literal.number(1), length=node.expression)
    if isinstance(node, exp.Right):
        return exp.Substring(this=node.this, start=exp.Neg(this=exp.paren(node.expression, copy=False)))
    return node
