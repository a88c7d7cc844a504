"""Errors govern raises. Each one names what is wrong so a caller can act on it."""

from __future__ import annotations


class GovernError(Exception):
    """Base class for every error govern raises."""


class PolicyLoadError(GovernError):
    """A policy bundle could not be loaded. Nothing from it is in force.

    ``problems`` lists every problem found as ``file:line: message`` strings, so
    a policy author sees all of them in one run rather than one per attempt.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("policy bundle did not load:\n  " + "\n  ".join(self.problems))


class Denied(GovernError):
    """Raised inside the SQL pipeline when a request must be denied.

    Carries one or more reasons an agent can act on (they name the table,
    column, attribute or construct).
    """

    def __init__(self, *reasons: str):
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class QueryDenied(GovernError):
    """Raised by ``Governor.execute`` when the governed query is denied.

    ``decision`` is the full ``SqlDecision``; denied is never an empty result.
    """

    def __init__(self, decision):
        self.decision = decision
        super().__init__("query denied: " + "; ".join(decision.reasons))


class QueryFailed(GovernError):
    """The governed query was allowed but the database raised while running it.

    ``message`` is the driver's message with PII masked for the principal (a
    database error can quote the value it failed on); the driver exception is
    not chained.
    """

    def __init__(self, decision, message: str):
        self.decision = decision
        self.message = message
        super().__init__(f"query failed: {message}")


class TokenError(GovernError):
    """A bearer token was refused: expired, unsigned, wrongly signed, wrong audience or issuer, malformed.

    ``kind`` is a short class (``expired``, ``unsigned``, ``signature``, ``audience``,
    ``issuer``, ``malformed``, ``algorithm``, ``missing_claim``, ``claim_type``,
    ``not_yet_valid``, ``unknown_key``, ``no_identity``); ``reason`` says what is
    wrong in words a client can act on. It never quotes the token.
    """

    def __init__(self, kind: str, reason: str):
        self.kind = kind
        self.reason = reason
        self.audit_id: str | None = None  # the audit record of the refusal, when one was written
        super().__init__(f"token refused ({kind}): {reason}")


class IdentityUnavailable(GovernError):
    """Tokens cannot be verified at all: the key identity.yaml names is missing or unusable.

    Not the token's fault (a service answers 503, not 401); ``reason`` names the setting.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"identity verification unavailable: {reason}")


class InvalidPrincipal(Denied):
    """A principal does not fit the bundle's attribute schema (principals.yaml ``attributes:``).

    ``reasons`` name each attribute and what is wrong with it
    (``attribute clinic_id must be an integer, got 'one'``); the request is denied.
    """
