"""govern: policy-aware governance for LLM-generated SQL and retrieved passages.

    gov = Governor.from_path("policies")
    decision = gov.check_sql(sql, Principal("eve", ["sales_rep"], {"region": "EU"}), dialect="duckdb")
"""

from govern.errors import Denied, GovernError, IdentityUnavailable, PolicyLoadError, QueryDenied, QueryFailed, TokenError
from govern.governor import Governor, QueryResult
from govern.principal import Principal
from govern.sql.decision import SqlDecision

__all__ = ["Denied", "GovernError", "Governor", "PolicyLoadError", "Principal", "QueryDenied", "QueryFailed", "QueryResult", "SqlDecision",
           "IdentityUnavailable", "TokenError"]
