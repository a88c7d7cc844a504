"""Per-principal rate limits: a token bucket per principal id (``limits.requests_per_minute``).

A principal may burst up to the per-minute limit and then gets one request per
60/limit seconds; a refused request is told when the next one will be taken
(``Retry-After``). Buckets live in the server process; the map is bounded
(full buckets, which hold no state worth keeping, are dropped first).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_principals: int = 100_000):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, at)
        self._lock = threading.Lock()
        self._max = max_principals

    def take(self, principal_id: str, per_minute: int | None) -> float | None:
        """None when the request may go ahead; otherwise the seconds until it would (Retry-After)."""
        if per_minute is None:
            return None
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(principal_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[principal_id] = (tokens - 1.0, now)
                if len(self._buckets) > self._max:
                    self._prune(now, rate, per_minute)
                return None
            self._buckets[principal_id] = (tokens, now)
            return (1.0 - tokens) / rate

    def _prune(self, now: float, rate: float, per_minute: int) -> None:
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * rate >= per_minute]
        for k in full:
            del self._buckets[k]
        while len(self._buckets) > self._max:  # still too many: drop the stalest
            del self._buckets[min(self._buckets, key=lambda k: self._buckets[k][1])]


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, never 0 (a client told 0 would retry at once and be refused again)."""
    return str(max(1, math.ceil(seconds)))
