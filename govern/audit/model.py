"""The audit record: one per governance decision.

The model is the contract with reviewers; `audit/schema.json` is generated
from it (`python -m govern.audit.model` rewrites it, a test checks it is current).
Records carry PII *types and counts*, never values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64  # prev_hash of the first record of a trail

Decision = Literal["allow", "deny", "rewrite", "mask", "drop"]
KNOWN_ACTIONS = ("check_sql", "execute", "mask_text", "mask_texts", "mask_rows", "reveal", "retrieve", "entity_scope", "policy_load")

_HEX64 = r"^[0-9a-f]{64}$"


class Principal(BaseModel):
    """Who asked: only the identity fields; other attributes may be personal data."""

    model_config = ConfigDict(extra="forbid")

    id: str
    roles: list[str] = Field(default_factory=list)
    tenant: str | None = None


class AuditRecord(BaseModel):
    """One governance decision, chained to the record before it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "$id": "https://govern.invalid/audit/record.schema.json",
            "x-hash": (
                "hash = SHA-256 over the record's canonical encoding without `hash`: "
                'compact JSON, ASCII, `{"seq":..,"prev_hash":..,` then the other keys sorted; '
                "that is exactly the line's bytes up to `,\"hash\"` plus `}`."
            ),
            "x-mac": (
                "mac (trails written with a key) = HMAC-SHA256(key, the 64 ASCII hex digits of `hash`); "
                "it follows `hash` at the very end of the line and is not part of the hashed bytes."
            ),
        },
    )

    schema_version: int = Field(SCHEMA_VERSION, description="Version of this record layout.")
    seq: int = Field(..., ge=1, description="Position in the trail, 1-based, no gaps.")
    prev_hash: str = Field(..., pattern=_HEX64, description="`hash` of record seq-1 (64 zeros for seq 1).")
    event_id: str = Field(..., description="Unique id of this decision (UUID4 hex); SqlDecision.audit_id.")
    time: str = Field(..., description="UTC time the record was sequenced, RFC 3339 with microseconds.")
    duration_ms: float | None = Field(None, ge=0, description="Time the governed step took.")
    correlation_id: str | None = Field(None, description="Request / conversation id supplied by the caller.")
    action: str = Field(..., description="What was governed: " + ", ".join(KNOWN_ACTIONS) + ", ...")
    principal: Principal
    input_text: str | None = Field(None, description="SQL text or retrieval query as submitted.")
    input_sha256: str | None = Field(None, pattern=_HEX64, description="SHA-256 of input_text (UTF-8).")
    tables: list[str] = Field(default_factory=list, description="Tables read.")
    columns: list[str] = Field(default_factory=list, description="Columns read (table.column).")
    columns_shown: list[str] = Field(default_factory=list, description="Columns returned to the caller.")
    decision: Decision
    reasons: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list, description="Ids of the policy rules applied.")
    bundle_hash: str | None = Field(None, description="Content hash of the policy bundle in force.")
    governed_sql: str | None = Field(None, description="The SQL actually sent to the database.")
    pii: dict[str, int] = Field(default_factory=dict, description="PII entity type -> count masked/found.")
    rows: int | None = Field(None, ge=0, description="Rows returned.")
    documents: int | None = Field(None, ge=0, description="Documents / passages returned.")
    error: str | None = None
    host: str | None = Field(None, description="Host name of the writer.")
    pid: int | None = Field(None, description="Process id of the writer.")
    extra: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="Caller-supplied scalar attributes (redacted like the rest)."
    )
    hash: str = Field(..., pattern=_HEX64, description="SHA-256 of this record's canonical encoding.")
    mac: str | None = Field(
        None, pattern=_HEX64,
        description="HMAC-SHA256(key, hash) when the trail is written with a key; absent otherwise.",
    )


FIELDS = tuple(AuditRecord.model_fields)


def json_schema() -> dict:
    return AuditRecord.model_json_schema()


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: str | Path = "audit/schema.json") -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(schema_text(), encoding="utf-8")
    return p


if __name__ == "__main__":  # python -m govern.audit.model [path]
    import sys

    print(write_schema(*sys.argv[1:2]))
