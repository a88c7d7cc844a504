"""Prometheus metrics of `govern serve` (prometheus-client), one registry per app.

    govern_decisions_total{action, outcome}         every governed request: allow, rewrite, mask, deny, error
    govern_denials_total{reason_class}              denials by class (token, rate_limit, cost, column, table, ...)
    govern_request_duration_seconds{endpoint}       latency histogram per endpoint
    govern_http_responses_total{endpoint, status}   answers per endpoint and status code
    govern_pii_masked_total{type}                   PII findings masked, by type
    govern_audit_records_total{outcome}             audit records written / failed
    govern_bundle_info{bundle_hash}                 1 for the bundle in force
    govern_bundle_reloads_total{outcome}            hot reloads: reloaded / failed
"""

from __future__ import annotations

import re
import threading
from typing import Any, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "AuditUnavailable", "CountingAudit", "Metrics", "reason_class"]

# First match wins: the class of a denial reason, for a bounded label set.
_CLASSES = [
    ("token", re.compile(r"^token refused")),
    ("rate_limit", re.compile(r"^rate limit")),
    ("cost", re.compile(r"limits\.max_cost")),
    ("attribute", re.compile(r"lacks attribute")),
    ("column", re.compile(r"\bcolumns?\b.*\bnot permitted|\bcolumn\b")),
    ("table", re.compile(r"\btable\b|\brelation\b")),
    ("statement", re.compile(r"statement|only SELECT|not a query", re.I)),
    ("function", re.compile(r"\bfunction\b")),
    ("too_complex", re.compile(r"too complex|too long|too deep", re.I)),
    ("parse", re.compile(r"parse|syntax", re.I)),
    ("internal", re.compile(r"internal error")),
]


def reason_class(reason: str) -> str:
    for name, pattern in _CLASSES:
        if pattern.search(reason):
            return name
    return "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter("govern_decisions", "Governed requests by action and outcome", ["action", "outcome"], registry=r)
        self.denials = Counter("govern_denials", "Denials by reason class", ["reason_class"], registry=r)
        self.latency = Histogram("govern_request_duration_seconds", "Request latency by endpoint", ["endpoint"], registry=r,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.responses = Counter("govern_http_responses", "Answers by endpoint and status code", ["endpoint", "status"], registry=r)
        self.pii = Counter("govern_pii_masked", "PII findings masked, by type", ["type"], registry=r)
        self.audit = Counter("govern_audit_records", "Audit records by outcome (written, failed)", ["outcome"], registry=r)
        self.bundle = Gauge("govern_bundle_info", "The bundle in force (value 1)", ["bundle_hash"], registry=r)
        self.reloads = Counter("govern_bundle_reloads", "Bundle hot reloads by outcome (reloaded, failed)", ["outcome"], registry=r)
        self._bundle_hash: str | None = None
        self._lock = threading.Lock()

    def decision(self, action: str, outcome: str, reasons: Iterable[str] = ()) -> None:
        self.decisions.labels(action, outcome).inc()
        if outcome == "deny":
            for cls in {reason_class(r) for r in reasons} or {"other"}:
                self.denials.labels(cls).inc()

    def masked(self, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            if n:
                self.pii.labels(kind).inc(n)

    def bundle_in_force(self, bundle_hash: str) -> None:
        with self._lock:
            if bundle_hash == self._bundle_hash:
                return
            if self._bundle_hash is not None:
                self.bundle.remove(self._bundle_hash)
            self.bundle.labels(bundle_hash).set(1)
            self._bundle_hash = bundle_hash

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class AuditUnavailable(Exception):
    """The audit sink refused a record: the request is answered 503 and no data leaves."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class CountingAudit:
    """An AuditTrail that counts written and failed records; a failed write raises AuditUnavailable."""

    def __init__(self, trail: Any, metrics: Metrics):
        self.trail = trail
        self.metrics = metrics

    def record(self, **fields: Any):
        try:
            rec = self.trail.record(**fields)
        except Exception as err:
            self.metrics.audit.labels("failed").inc()
            raise AuditUnavailable(f"the audit sink did not take the record ({type(err).__name__}: {err})") from None
        self.metrics.audit.labels("written").inc()
        return rec

    def __getattr__(self, name: str) -> Any:  # head, sink, checkpoint, close: the trail's own
        return getattr(self.trail, name)
