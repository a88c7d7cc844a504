"""A sink that keeps the chain in memory and writes nothing (tests, dry runs, benchmarks).

It declares ``keeps_records = False``: a caller that builds a record's fields only to have
them written (the governor's SQL decisions) may skip that work (``AuditTrail.keeps_records``);
``AuditTrail.record`` itself still runs the whole chain.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from ..model import GENESIS_HASH


class NullSink:
    keeps_records = False

    def __init__(self) -> None:
        self.head: tuple[int, str] = (0, GENESIS_HASH)
        self._lock = threading.Lock()

    @contextmanager
    def locked(self):
        with self._lock:
            yield self

    def write(self, line: bytes, record: dict) -> dict:
        self.head = (record["seq"], record["hash"])
        return record

    def close(self) -> None:
        pass
