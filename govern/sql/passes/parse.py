"""Pass 1: parse exactly one statement in the caller's dialect."""

from __future__ import annotations

from sqlglot.errors import ParseError, TokenError

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.dialect import parse as parse_sql


def parse(ctx: SqlContext) -> None:
    try:
        statements = [s for s in parse_sql(ctx.sql, ctx.dialect) if s is not None]
    except (ParseError, TokenError) as err:
        raise Denied(f"could not parse the query as {ctx.dialect} SQL: {str(err).splitlines()[0]}") from None
    except ValueError as err:  # unknown dialect name
        raise Denied(f"unsupported dialect {ctx.dialect!r}: {err}") from None
    if not statements:
        raise Denied("the query is empty")
    if len(statements) > 1:
        raise Denied(f"{len(statements)} statements were sent; send exactly one SELECT")
    ctx.tree = statements[0]
