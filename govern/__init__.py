"""govern: policy-aware governance for LLM-generated SQL and retrieved passages.

    gov = Governor.from_path("policies")
    decision = gov.check_sql(sql, Principal("eve", ["sales_rep"], {"region": "EU"}), dialect="duckdb")
"""

from typing import TYPE_CHECKING

from govern.errors import Denied, GovernError, IdentityUnavailable, PolicyLoadError, QueryDenied, QueryFailed, TokenError

__all__ = ["Denied", "GovernError", "Governor", "PolicyLoadError", "Principal", "QueryDenied", "QueryFailed", "QueryResult", "SqlDecision",
           "IdentityUnavailable", "TokenError"]

# Governor, Principal and SqlDecision are imported on first use (PEP 562): `govern --help` and
# `import govern.cli` then load neither pydantic nor sqlglot nor casbin (tests/test_cli_errors.py).
_LAZY = {"Governor": "govern.governor", "QueryResult": "govern.governor", "SqlDecision": "govern.sql.decision",
         "Principal": "govern.principal"}
if TYPE_CHECKING:  # the same imports, for type checkers and the import-arrow walk (tests/test_architecture.py)
    from govern.governor import Governor, QueryResult
    from govern.principal import Principal
    from govern.sql.decision import SqlDecision


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'govern' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
