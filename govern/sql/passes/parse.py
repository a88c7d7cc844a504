"""Pass 1: parse exactly one statement in the caller's dialect."""

from __future__ import annotations

from sqlglot.errors import ParseError, TokenError

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.dialect import UnsupportedOperator
from govern.sql.dialect import read


def parse(ctx: SqlContext) -> None:
    limit = ctx.bundle.rules.limits.max_query_chars
    if len(ctx.sql) > limit:  # before any work: parsing alone is linear, but not free
        raise Denied(f"query too long: {len(ctx.sql):,} characters, more than the limit of {limit:,} "
                     "(limits.max_query_chars); simplify it or split it into several questions")
    _require_valid_unicode(ctx.sql)
    try:
        tokens, parsed = read(ctx.sql, ctx.dialect)
        statements = [s for s in parsed if s is not None]
    except (ParseError, TokenError) as err:
        raise Denied(f"could not parse the query as {ctx.dialect} SQL: {str(err).splitlines()[0]}") from None
    except UnsupportedOperator as err:
        raise Denied(str(err)) from None
    except ValueError as err:  # unknown dialect name
        raise Denied(f"unsupported dialect {ctx.dialect!r}: {err}") from None
    except RecursionError:
        raise Denied(f"the query is nested too deeply to parse; keep it under {MAX_DEPTH} levels") from None
    if not statements:
        raise Denied("the query is empty")
    if len(statements) > 1:
        raise Denied(f"{len(statements)} statements were sent; send exactly one SELECT")
    ctx.nodes = _require_bounded_depth(statements[0])
    ctx.tree = statements[0]
    ctx.tokens = tokens


# sqlglot's scope analysis walks up from every column, so governing a left-deep chain of
# n operators costs n^2 (10,000 OR-ed terms: 10 s). No question an agent asks needs this
# depth; a long list of alternatives is an IN (...) list, which is flat.
MAX_DEPTH = 512


def _require_bounded_depth(tree) -> list:
    """Deny a tree deeper than MAX_DEPTH, level by level (a wide IN list is one level, cheaply).

    Returns every node of the tree in ``tree.walk()``'s order (breadth first, children in
    argument order): the later passes that look at every node once take them from this list
    instead of walking the tree again."""
    nodes: list = []
    level, depth = [tree], 1
    while level:
        if depth > MAX_DEPTH:
            raise Denied(f"the query nests more than {MAX_DEPTH} levels deep (a long chain of operators or "
                         "subqueries); write long lists of alternatives as IN (...)")
        nodes += level
        following: list = []
        extend = following.extend
        for node in level:
            extend(node.iter_expressions())
        level, depth = following, depth + 1
    return nodes


def _require_valid_unicode(sql: str) -> None:
    """A lone surrogate (a JSON "\\ud800" escape in a tool call) is not text any engine or
    audit sink can take; deny it here rather than fail later outside the pipeline."""
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as err:
        raise Denied(f"the query text is not valid Unicode (lone surrogate U+{ord(sql[err.start]):04X} "
                     f"at position {err.start})") from None
