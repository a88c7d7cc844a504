"""govern: policy-aware governance for LLM-generated SQL and retrieved passages.

    gov = Governor.from_path("policies")
    decision = gov.check_sql(sql, Principal("eve", ["sales_rep"], {"region": "EU"}), dialect="duckdb")

The names below are imported on first use (PEP 562), so ``govern --help`` and
``import govern.cli`` do not pay for sqlglot, casbin or the PII engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Denied", "GovernError", "Governor", "PolicyLoadError", "Principal", "QueryDenied", "QueryFailed", "QueryResult", "SqlDecision"]

_WHERE = {
    "Denied": "govern.errors", "GovernError": "govern.errors", "PolicyLoadError": "govern.errors",
    "QueryDenied": "govern.errors", "QueryFailed": "govern.errors",
    "Governor": "govern.governor", "QueryResult": "govern.governor",
    "Principal": "govern.principal", "SqlDecision": "govern.sql.decision",
}

if TYPE_CHECKING:
    from govern.errors import Denied, GovernError, PolicyLoadError, QueryDenied, QueryFailed
    from govern.governor import Governor, QueryResult
    from govern.principal import Principal
    from govern.sql.decision import SqlDecision


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'govern' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
