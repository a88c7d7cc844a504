"""``pii.name_sources`` in the catalog: the load-time check of the columns a bundle names.

govern reads people's names from these columns at request time
(``govern/pii/sources.py``); here they are only looked up in the catalog.
"""

from __future__ import annotations

from typing import Any, Iterable


def resolve(sources: Iterable[str], catalog: Any) -> tuple[list[tuple[Any, Any]], list[tuple[int, str]]]:
    """((table, column) catalog entries, [(index, problem)]) of ``table.column`` specs."""
    found, problems = [], []
    for i, spec in enumerate(sources):
        table_name, _, column_name = spec.partition(".")
        table = catalog.table(table_name) if catalog is not None else None
        if table is None:
            problems.append((i, f"name source {spec!r}: unknown table {table_name!r} (not in the catalog)"))
            continue
        column = table.column(column_name)
        if column is None:
            problems.append((i, f"name source {spec!r}: table {table.name!r} has no column {column_name!r}"))
            continue
        found.append((table, column))
    return found, problems


def check_name_sources(sources: Iterable[str], catalog: Any) -> list[tuple[int, str]]:
    """Load-time check: every source names a catalog table and column."""
    return resolve(sources, catalog)[1]
