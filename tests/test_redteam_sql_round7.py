"""Red team, round 7: findings against the SQL guard after round 6's fixes, each a minimal reproducer.

Every test asserts the secure behaviour; each was ``xfail(strict=True)`` until the fix at the
mechanism removed it (see the lead's commit "red team round 7 fixed at the mechanism").
The attacker controls only the SQL text, through ``gov.execute``, as eve (EU sales rep at acme).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.errors import QueryDenied, QueryFailed
from tests.test_error_channel_worlds import assert_same_in_both_worlds, two_worlds  # noqa: F401 - fixture


def _outcome(world, sql: str, principal) -> tuple:
    try:
        world.gov.execute(world.conn, sql, principal, world.dialect)
        return ("rows",)
    except QueryDenied:
        return ("denied",)
    except QueryFailed as err:
        if world.dialect == "postgres":
            world.conn.rollback()
        return ("error", err.message)


def _hidden_by_semi_join(world, table: str, columns: str) -> list[tuple]:
    """Rows of ``table`` in eve's region whose customer is another tenant's (hidden by the semi-join only)."""
    eve = world.gov.principal("eve")
    visible = {i for (i,) in world.gov.execute(world.conn, f"SELECT id FROM {table}", eve, world.dialect).rows}
    prefix = "world_a." if world.dialect == "postgres" else ""
    rows = world.conn.execute(
        f"SELECT {columns} FROM {prefix}{table} x JOIN {prefix}customers c ON c.id = x.customer_id "
        f"WHERE x.region = 'EU' AND c.tenant <> 'acme' ORDER BY x.id").fetchall()
    if world.dialect == "postgres":
        world.conn.rollback()
    return [r for r in rows if r[0] not in visible]


# ------------------------------------------------------------------ finding 1: DuckDB casts a DECIMAL column to the
# literal's scale in a comparison judged leakproof (one numeric family), and the cast fails on large values

def _scale(digits: int) -> str:
    return "0." + "0" * (digits - 1) + "1"


@pytest.mark.parametrize("where", [
    "o.id > -1 AND o.total > {lit}",            # `-1` is not a literal: a fence, the leakproof conjunct copied inside it
    "o.id IN (1, -1, 2) AND o.total > {lit}",
    "o.total > {lit} AND o.id / 1 > 0",         # any conjunct that is not leakproof fences the relation
])
def test_a_high_scale_decimal_literal_does_not_raise_on_hidden_rows(where, two_worlds):  # noqa: F811
    assert_same_in_both_worlds(two_worlds, "duckdb",
                               "SELECT count(*) FROM orders o WHERE " + where.format(lit=_scale(33)))


# ------------------------------------------------------------------ finding 2: a timestamp literal Python reads but
# DuckDB does not (ISO week date) is judged leakproof; DuckDB casts it only when a row reaches the comparison

def test_a_timestamp_literal_only_python_reads_does_not_gate_an_error(free_text_worlds):
    world = free_text_worlds("duckdb").a
    eve = world.gov.principal("eve")
    ticket, status = _hidden_by_semi_join(world, "support_tickets", "x.id, x.status")[0]
    template = (f"SELECT count(*) FROM support_tickets t WHERE t.id IN ({ticket}, -1) AND t.status = '{{g}}' "
                f"AND t.opened_at > '2024-W01-1'")
    right, wrong = (_outcome(world, template.format(g=g), eve) for g in (status, status + "-not"))
    assert right == wrong, f"hidden ticket {ticket}'s status {status!r} -> {right}, a wrong guess -> {wrong}"


# ------------------------------------------------------------------ finding 3: DuckDB error messages quote the governed
# SQL around the failing expression, row filter included, and the failing row's value

def test_a_database_error_shows_neither_the_governed_sql_nor_a_row_value(free_text_worlds):
    world = free_text_worlds("duckdb").a
    eve = world.gov.principal("eve")
    sql = "SELECT count(*) FROM orders o WHERE o.id > -1 AND o.id > 0.0000000000000000000000000000000000001"
    outcome = _outcome(world, sql, eve)
    assert outcome[0] == "error"
    message = outcome[1]
    assert "account_manager_id" not in message and "_govern_scan" not in message, message
    assert not re.search(r"value \d", message), message  # the failing row's id


# ------------------------------------------------------------------ finding 4: DuckDB defers a constant cast that fails
# (a numeric literal beyond HUGEINT compared with a DECIMAL column) to the first row that reaches it

def test_a_literal_the_engine_cannot_cast_does_not_gate_an_error_on_hidden_rows(two_worlds):  # noqa: F811
    assert_same_in_both_worlds(two_worlds, "duckdb",
                               "SELECT count(*) FROM orders o WHERE o.id > -1 AND o.status LIKE 'a-%' "
                               "AND o.total = 170141183460469231731687303715884105728")


# ------------------------------------------------------------------ findings 1 and 4 as a family: leakproof-looking
# raisers behind leakproof guards, in a fenced relation (DuckDB)

LEAKPROOF_LOOKING = ["{a}.total = 170141183460469231731687303715884105728",
                     "{a}.total > 0.000000000000000000000000000000001",
                     "{a}.id IN (0.0000000000000000000000000000000000001, 1)"]
LEAKPROOF_GUARDS = ["{a}.status LIKE 'a-%'", "{a}.total > 50000", "{a}.status LIKE 'b-%'", "{a}.total < -50000"]
FENCING = ["{a}.id > -1", "{a}.id / 1 > 0", "{a}.id IN (1, -1, 2) OR {a}.id > 0"]


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(shape=st.tuples(st.sampled_from(LEAKPROOF_LOOKING), st.sampled_from(LEAKPROOF_GUARDS), st.sampled_from(FENCING)))
def test_leakproof_looking_raisers_never_change_the_outcome(shape, two_worlds):  # noqa: F811
    raiser, guard, fencing = (part.format(a="o") for part in shape)
    assert_same_in_both_worlds(two_worlds, "duckdb",
                               f"SELECT count(*) FROM orders o WHERE ({fencing}) AND {guard} AND {raiser}")
