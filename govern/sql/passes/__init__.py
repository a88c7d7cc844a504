"""The passes of the SQL pipeline, one small module each, applied in order.

Each pass is a function ``(SqlContext) -> None`` that reads and extends the
context or raises ``Denied`` with reasons an agent can act on.
"""

from govern.sql.passes.authorize import authorize
from govern.sql.passes.cap_rows import cap_rows
from govern.sql.passes.check_statement import check_statement
from govern.sql.passes.emit import emit
from govern.sql.passes.fence import plan_fences
from govern.sql.passes.parse import parse
from govern.sql.passes.resolve import resolve
from govern.sql.passes.rewrite import rewrite
from govern.sql.passes.verify_output import verify_output

PASSES = (parse, check_statement, resolve, authorize, plan_fences, rewrite, cap_rows, emit, verify_output)

__all__ = ["PASSES", "authorize", "cap_rows", "check_statement", "emit", "parse", "plan_fences", "resolve", "rewrite",
           "verify_output"]
