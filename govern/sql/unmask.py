"""Putting masked free text where the opaque handles of a result stand (see handles.py).

After a governed query runs, ``collect`` finds the verified handles in the
result's strings, ``fetch`` reads the raw text of those rows through the
principal's own row filter (a query govern builds on the AST, never from
request text), the caller masks it, and ``substitute`` puts the masked text
in each handle's place.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from sqlglot import exp

from govern.sql import handles
from govern.sql.binding import bind
from govern.sql.portable import portable
from govern.sql.relation import free_text_plan, handle_key_column, row_predicate

BATCH = 500
INTEGER_TYPE = re.compile(r"^(TINY|SMALL|MEDIUM|BIG|HUGE)?INT(EGER)?\d*$|^(U)?(TINY|SMALL|BIG)?INT\d*$", re.IGNORECASE)


def handle_scope(roles) -> str:
    """The role set's digest that handles made for it are signed with (handles.scope_of)."""
    return handles.scope_of(roles)


def collect(strings: Iterable[str], secret: str, scope: str) -> set[handles.Handle]:
    """Every handle in ``strings`` that verifies for the role set ``scope``."""
    found: set[handles.Handle] = set()
    for text in strings:
        for _, handle in handles.find(text, secret, scope):
            found.add(handle)
    return found


def substitute(text: str, secret: str, scope: str, shown: dict[handles.Handle, str]) -> str:
    """``text`` with each verified handle replaced by its shown text ("[unavailable]" when the
    row is no longer visible, or the column is not shown to the principal as a handle)."""
    return handles.replace(text, secret, scope, shown, "[unavailable]")


def fetch(conn: Any, ctx, found: set[handles.Handle], cursor_for: Callable) -> dict[handles.Handle, str]:
    """The raw text behind ``found``, read through the principal's governed rows (None texts dropped)."""
    by_table: dict[str, dict[str, set[str]]] = {}
    for handle in found:
        by_table.setdefault(handle.table, {}).setdefault(handle.column, set()).add(handle.key)
    out: dict[handles.Handle, str] = {}
    for table_name, columns in by_table.items():
        table = ctx.bundle.catalog.table(table_name)
        if table is None:
            continue
        keys = sorted(set().union(*columns.values()))
        names = sorted(columns)
        for start in range(0, len(keys), BATCH):
            sql = fetch_sql(ctx, table, names, keys[start:start + BATCH])
            if sql is None:
                continue
            cursor = cursor_for(conn, ctx.dialect, False)
            cursor.execute(sql)
            for row in cursor.fetchall():
                key = str(row[0])
                for name, value in zip(names, row[1:]):
                    if value is not None and key in columns[name]:
                        out[handles.Handle(table_name, name, key)] = value if isinstance(value, str) else str(value)
    return out


def fetch_sql(ctx, table, columns: list[str], keys: list[str]) -> str | None:
    """``SELECT key, columns FROM table WHERE <the principal's row predicate> AND key IN (...)``."""
    bundle = ctx.bundle
    access = bundle.grants.table_access(ctx.roles, table)
    policy = bundle.table_policy(table.name)
    key_name = handle_key_column(table, access, policy, ctx.roles)
    if key_name is None:
        return None
    # Only columns this principal's own governed relation shows as handles: a handle that came
    # from elsewhere never opens a column the principal may not read, or one a mask rule covers.
    plan = free_text_plan(table, access, policy, ctx.roles, True, ctx.dialect)
    columns = [c for c in columns if plan.get(c) == "handle"]
    if not columns:
        return None
    qualifier = exp.to_identifier(table.name, quoted=True)

    def column(name: str) -> exp.Column:
        return exp.Column(this=exp.to_identifier(table.column(name).name, quoted=True), table=qualifier.copy())

    key_type = table.column(key_name).type
    if INTEGER_TYPE.match(key_type.replace(" ", "")) and all(k.lstrip("-").isdigit() for k in keys):
        wanted = exp.In(this=column(key_name), expressions=[exp.Literal.number(int(k)) for k in keys])
    else:
        wanted = exp.In(this=exp.Cast(this=column(key_name), to=exp.DataType.build("TEXT")),
                        expressions=[exp.Literal.string(k) for k in keys])
    predicate, _ = row_predicate(policy, ctx.roles)
    condition = wanted if predicate is None else exp.and_(wanted, bind(predicate, ctx.principal), copy=False)
    source = exp.Table(this=qualifier.copy(), db=exp.to_identifier(table.schema, quoted=True) if table.schema else None)
    select = exp.Select(expressions=[exp.Cast(this=column(key_name), to=exp.DataType.build("TEXT"))]
                        + [column(c) for c in columns]).from_(source, copy=False).where(condition, copy=False)
    return portable(select, ctx.dialect).sql(dialect=ctx.dialect, comments=False)


def replace_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it, also inside lists, tuples, sets,
    dicts and bytes (decoded as UTF-8); values it does not change come back as they were."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value).decode("utf-8", "replace")
        new = change(text)
        return value if new == text else new
    if isinstance(value, dict):
        return {replace_strings(k, change): replace_strings(v, change) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(replace_strings(v, change) for v in value)
    return value


def strings_in(value: Any, into: list[str]) -> None:
    """Append every string in ``value`` (nested containers included, bytes decoded) to ``into``."""
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        into.append(bytes(value).decode("utf-8", "replace"))
    elif isinstance(value, dict):
        for k, v in value.items():
            strings_in(k, into)
            strings_in(v, into)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            strings_in(v, into)


def stored_positions(analysis, width: int) -> frozenset[int]:
    """Positions of the result columns whose value *is* a stored column of a governed table,
    unchanged (every arm of a set operation included), per the resolver's lineage of the
    query's outermost block. Empty when the lineage does not line up with the result."""
    root = getattr(analysis, "root", None)
    outputs = [o for o in getattr(root, "outputs", None) or () if not o.hidden]
    if not outputs or len(outputs) != width:
        return frozenset()

    def stored(output) -> bool:
        if output.alternatives:
            return all(stored(o) for o in output.alternatives)
        return output.base is not None and not output.hidden

    return frozenset(i for i, output in enumerate(outputs) if stored(output))
