"""Pass 7: generate the governed SQL in the caller's dialect.

Comments are dropped: a comment cannot change what a governed query reads,
but an engine that executes comments (MySQL's /*! */) must never see one.
"""

from __future__ import annotations

from govern.sql.decision import SqlContext
from govern.sql.portable import portable

# The same settings render governed relations (relation.render). copy=False: the tree
# is this request's own and is dropped after generation, so sqlglot need not copy it first.
GENERATE = {"comments": False, "copy": False}


def emit(ctx: SqlContext) -> None:
    tree = portable(ctx.tree, ctx.dialect)
    if ctx.bundle.rules.settings.verify_output:
        # The query around the governed relations, for verify_output to parse back:
        # the relations themselves were checked when they were rendered.
        ctx.skeleton_sql = tree.sql(dialect=ctx.dialect, **GENERATE)
    for stand_in, sql in ctx.relations:
        stand_in.set("this", sql)
    ctx.governed_sql = tree.sql(dialect=ctx.dialect, **GENERATE)
