"""Foreign-key paths from a member table to an entity's key.

A path is a chain of single-column foreign-key hops, ``order_items.order_id ->
orders.id``, ``orders.customer_id -> customers.id``, whose last hop ends at the
entity's key column. Paths are declared in ``rules.yaml`` (``"order_id ->
orders.id"``, the source table implied) or suggested from the catalog's foreign
keys (``catalog.yaml`` ``foreign_keys``, or introspected from the database).
"""

from __future__ import annotations

import re

from govern.bundle.catalog import Catalog, Table
from govern.bundle.compiled import Hop

MAX_HOPS = 4
HOP_TEXT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_$]*)\s*->\s*([A-Za-z_][A-Za-z0-9_$]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_$]*)\s*$")


def foreign_key_hops(table: Table, catalog: Catalog) -> list[Hop]:
    """The single-column foreign keys of ``table`` whose target is in the catalog, as hops."""
    hops = []
    for fk in table.foreign_keys:
        if len(fk.columns) != 1:
            continue  # composite keys cannot be an entity path (single-column semi-joins only)
        target = catalog.table(fk.references.table)
        column = table.column(fk.columns[0])
        if target is None or column is None or target.column(fk.references.columns[0]) is None:
            continue
        hops.append(Hop(table.name, column.name, target.name, target.column(fk.references.columns[0]).name))
    return hops


def candidate_paths(catalog: Catalog, member: Table, entity_table: Table, key: str, max_hops: int = MAX_HOPS) -> list[tuple[Hop, ...]]:
    """Every foreign-key path (no table visited twice) from ``member`` to ``entity_table.key``, shortest first."""
    found: list[tuple[Hop, ...]] = []
    target_key = key.lower()

    def walk(table: Table, path: tuple[Hop, ...], seen: frozenset[str]) -> None:
        if len(path) >= max_hops:
            return
        for hop in foreign_key_hops(table, catalog):
            if hop.target.lower() == entity_table.name.lower():
                if hop.target_column.lower() == target_key:
                    found.append(path + (hop,))
                continue  # a path ends at the entity table; it never passes through it
            if hop.target.lower() in seen:
                continue
            walk(catalog.table(hop.target), path + (hop,), seen | {hop.target.lower()})

    walk(member, (), frozenset({member.name.lower()}))
    return sorted(found, key=len)


def suggest_path(catalog: Catalog, member: Table, entity_table: Table, key: str) -> tuple[tuple[Hop, ...] | None, str | None]:
    """(the unique shortest path, None) or (None, why there is none)."""
    paths = candidate_paths(catalog, member, entity_table, key)
    if not paths:
        return None, (f"no foreign-key path from {member.name} to {entity_table.name}.{key} in the catalog "
                      f"(at most {MAX_HOPS} hops); declare one with 'path'")
    shortest = [p for p in paths if len(p) == len(paths[0])]
    if len(shortest) > 1:
        listed = "; ".join(format_path(p) for p in shortest)
        return None, f"several foreign-key paths from {member.name} to {entity_table.name}.{key} ({listed}); choose one with 'path'"
    return paths[0], None


def suggest_members(catalog: Catalog, entity_table: Table, key: str) -> dict[str, list[tuple[Hop, ...]]]:
    """Every table with a foreign-key path to ``entity_table.key``: its shortest paths (several = ambiguous)."""
    out = {}
    for table in catalog:
        if table is entity_table:
            continue
        paths = candidate_paths(catalog, table, entity_table, key)
        if paths:
            out[table.name] = [p for p in paths if len(p) == len(paths[0])]
    return out


def parse_path(hops: list[str], member: Table, catalog: Catalog) -> tuple[tuple[Hop, ...] | None, list[tuple[int, str]]]:
    """A declared path, or the problems found as (hop index, message)."""
    problems: list[tuple[int, str]] = []
    out: list[Hop] = []
    current: Table | None = member
    for i, text in enumerate(hops):
        m = HOP_TEXT.match(text)
        if m is None:
            problems.append((i, f"hop {text!r} is not 'column -> table.column'"))
            return None, problems
        column, target_name, target_column = m.groups()
        if current is None:
            return None, problems
        source_column = current.column(column)
        if source_column is None:
            problems.append((i, f"table {current.name!r} has no column {column!r}"))
        target = catalog.table(target_name)
        if target is None:
            problems.append((i, f"unknown table {target_name!r} (not in the catalog)"))
        elif target.column(target_column) is None:
            problems.append((i, f"table {target.name!r} has no column {target_column!r}"))
        if problems:
            return None, problems
        out.append(Hop(current.name, source_column.name, target.name, target.column(target_column).name))
        current = target
    return tuple(out), problems


def format_path(path: tuple[Hop, ...]) -> str:
    return ", ".join(str(h) for h in path)


def path_yaml(path: tuple[Hop, ...]) -> list[str]:
    """The ``path:`` entries of rules.yaml for a path."""
    return [f"{h.column} -> {h.target}.{h.target_column}" for h in path]
