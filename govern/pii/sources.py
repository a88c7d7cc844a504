"""``pii.name_sources``: people's names that govern reads itself from catalog columns.

Pattern mode finds a name only when it is known (no NER model), and a
free-text column (a ticket body) does not say whose names it holds. So a bundle
lists the columns that hold people's names (``customers.name``,
``employees.name``); govern reads their distinct values from the connection and
masks them in every free-text value it scans (``gov.execute``, retrievers given
``conn=``), as a *strict* name set (see names.py: full names in any case, a
single name part only capitalised and when it is not an everyday word).

This is govern's own read, not the principal's: the query is built here with
sqlglot from the catalog entry (never from request input) and runs on the
connection as it is, outside any policy -- the names only ever serve to mask.

Bounded: at most ``MAX_NAMES`` values per column, ``MAX_ENTRIES`` cached
(connection, bundle version) pairs, each re-read after ``TTL_SECONDS`` so new
rows are picked up.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from typing import Any, Callable

from govern.bundle.name_sources import resolve

from .names import NameSet
from .nlp import PiiConfigError

MAX_NAMES = 100_000
MAX_ENTRIES = 16
TTL_SECONDS = 300.0


class NameSourceError(PiiConfigError):
    """A name source could not be read from the connection (fail closed: nothing is returned unmasked)."""


def source_query(table: Any, column: Any, dialect: str, limit: int = MAX_NAMES) -> str:
    """SELECT DISTINCT col FROM [schema.]table WHERE col IS NOT NULL LIMIT n, in the connection's dialect."""
    from sqlglot import exp

    col = exp.column(column.name, quoted=True)
    query = (
        exp.select(col)
        .distinct()
        .from_(exp.table_(table.name, db=table.schema, quoted=True))
        .where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())))
        .limit(limit)
    )
    return query.sql(dialect=dialect)


def read_names(conn: Any, sources: list[tuple[Any, Any]], dialect: str, limit: int = MAX_NAMES) -> NameSet:
    names: set[str] = set()
    for table, column in sources:
        cursor = conn.cursor()
        try:
            cursor.execute(source_query(table, column, dialect, limit))
            names.update(v for (v,) in cursor.fetchall() if isinstance(v, str))
        except Exception as err:  # the driver's message is not passed on: it can quote data
            raise NameSourceError(
                f"pii.name_sources: cannot read {table.name}.{column.name} from the connection ({type(err).__name__})"
            ) from None
        finally:
            close = getattr(cursor, "close", None)
            if close is not None:
                close()
    return NameSet(names, strict=True)


def _ref(conn: Any) -> Callable[[], Any]:
    try:
        return weakref.ref(conn)
    except TypeError:  # some drivers' connections take no weak references
        return lambda: conn


class NameSourceCache:
    """Name sets per (connection, bundle version); LRU-bounded, entries expire."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl: float = TTL_SECONDS, clock=time.monotonic) -> None:
        self._max, self._ttl, self._clock = max_entries, ttl, clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, str], tuple[Callable[[], Any], float, NameSet]] = OrderedDict()

    def names(self, conn: Any, version: str, sources: list[tuple[Any, Any]], dialect: str) -> NameSet:
        key = (id(conn), version)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            # the same id may be a new connection once the old one is gone
            if hit is not None and hit[0]() is conn and now - hit[1] < self._ttl:
                self._entries.move_to_end(key)
                return hit[2]
        names = read_names(conn, sources, dialect)
        with self._lock:
            self._entries[key] = (_ref(conn), now, names)
            self._entries.move_to_end(key)
            # drop the expired and the least recently used: an entry may hold its connection
            for k in [k for k, (_, at, _) in self._entries.items() if now - at >= self._ttl]:
                del self._entries[k]
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return names

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = NameSourceCache()


def source_names(conn: Any, bundle: Any, dialect: str) -> NameSet | None:
    """The bundle's ``pii.name_sources`` names on ``conn`` (None when it lists none)."""
    specs = bundle.rules.pii.name_sources
    if not specs or conn is None:
        return None
    sources, problems = resolve(specs, bundle.catalog)
    if problems:  # the loader checked them; a catalog swapped in later might not have them
        raise NameSourceError("; ".join(p for _, p in problems))
    return CACHE.names(conn, bundle.content_hash, sources, dialect)
