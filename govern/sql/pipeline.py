"""Run the SQL passes in order over one context."""

from __future__ import annotations

from govern.sql.decision import SqlContext
from govern.sql.passes import PASSES


def govern_sql(ctx: SqlContext, passes=PASSES) -> SqlContext:
    for step in passes:
        step(ctx)
    return ctx
