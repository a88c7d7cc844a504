"""The cost gate: PostgreSQL's plan estimate of a governed query, checked against ``limits.max_cost`` before it runs.

``EXPLAIN (FORMAT JSON)`` plans the governed SQL (with its bind parameters)
without running it; the root node's ``Total Cost`` is the planner's estimate in
its own units (sequential page reads = 1.0 by default). Only PostgreSQL gives
one, so the gate applies there and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any


class CostExceeded(Exception):
    """The estimate is over the limit: ``reason`` names both."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def estimated_cost(cursor: Any, sql: str, params: list[str]) -> float:
    """The planner's total cost estimate of ``sql`` (PostgreSQL), without running it."""
    text = "EXPLAIN (FORMAT JSON) " + sql
    cursor.execute(text, params) if params else cursor.execute(text)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Total Cost"])


def check_cost(cursor: Any, dialect: str, sql: str, params: list[str], max_cost: float | None) -> None:
    """Raise CostExceeded when PostgreSQL estimates ``sql`` above ``max_cost``; nothing otherwise."""
    if max_cost is None or dialect != "postgres":
        return
    cost = estimated_cost(cursor, sql, params)
    if cost > max_cost:
        raise CostExceeded(f"estimated cost {cost:.2f} exceeds limits.max_cost {max_cost:g} (PostgreSQL EXPLAIN); "
                           "narrow the query (filters, fewer joins, fewer rows) or ask for a higher limit")
