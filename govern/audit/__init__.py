"""Tamper-evident audit trail: one chained record per governance decision.

    trail = AuditTrail.to_file("audit/trail.jsonl")   # or .to_postgres(conninfo, table=...), .null()
    rec = trail.record(action="check_sql", principal={...}, decision="rewrite", ...)
    verify_file("audit/trail.jsonl").ok
"""

from .model import GENESIS_HASH, AuditRecord, Principal
from .trail import AuditTrail
from .verify import VerifyReport, verify_file, verify_lines, verify_postgres

__all__ = [
    "AuditRecord", "AuditTrail", "GENESIS_HASH", "Principal", "VerifyReport",
    "verify_file", "verify_lines", "verify_postgres",
]
