"""Pass 7: generate the governed SQL in the caller's dialect.

Comments are dropped: a comment cannot change what a governed query reads,
but an engine that executes comments (MySQL's /*! */) must never see one.

The query is generated once, with a marker table in each governed relation's
place: ``_govern_relation_<nonce>_<i>_ AS <alias>``. That text, the skeleton,
is what verify_output parses back (the relations themselves were checked when
they were rendered), and there each marker must read as the table read it
stands for. Each marker is then replaced by its relation in parentheses, a
derived table under the same alias.

Generating once matters for more than time: generation with copy=False
changes the tree (T-SQL turns LIMIT into TOP, ClickHouse wraps a capped set
operation), and a second generation of the same tree lost the row cap.

The nonce is fresh per request, so no user text can spell a marker: every
occurrence in the skeleton is one the generator emitted for a marker table.
"""

from __future__ import annotations

import secrets

from sqlglot import exp

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.dialect import generate
from govern.sql.portable import portable

# The same settings render governed relations (relation.render). copy=False: the tree
# is this request's own and is dropped after generation, so sqlglot need not copy it first.
GENERATE = {"comments": False, "copy": False}

MARKER_PREFIX = "_govern_relation_"


def emit(ctx: SqlContext) -> None:
    tree = portable(ctx.tree, ctx.dialect)
    prefix = f"{MARKER_PREFIX}{secrets.token_hex(8)}_"
    for index, (stand_in, _) in enumerate(ctx.relations):
        place = stand_in.parent  # the subquery rewrite put where the table was
        # A table again, named by the marker: a plain name parses back cheaper than a
        # subquery, and verify_output counts it as the table read it stands for.
        place.replace(exp.Table(this=exp.to_identifier(f"{prefix}{index}_"), alias=place.args.get("alias")))
    ctx.skeleton_sql = generate(tree, ctx.dialect)  # = tree.sql(dialect=ctx.dialect, **GENERATE)
    ctx.governed_sql = splice(ctx.skeleton_sql, prefix, [sql for _, sql in ctx.relations])


def splice(skeleton: str, prefix: str, relations: list[str]) -> str:
    """``skeleton`` with each marker ``<prefix><i>_`` replaced by ``(relations[i])``.

    One pass over the skeleton: text a relation brings in (a principal's value) is never
    searched for markers.
    """
    pieces = skeleton.split(prefix)
    out = [pieces[0]]
    for piece in pieces[1:]:
        index, underscore, rest = piece.partition("_")
        if not (underscore and index.isdigit() and int(index) < len(relations)):
            raise Denied("internal check: a governed relation's place is malformed in the generated SQL; denied")
        out += ("(", relations[int(index)], ")", rest)
    return "".join(out)
