"""The `govern serve` ASGI app (FastAPI): governed SQL, PII masking and explanations over HTTP.

Every request but ``/healthz``, ``/readyz`` and ``/metrics`` carries the end user's
``Authorization: Bearer <JWT>``, verified by the bundle's identity.yaml; the
principal comes from the token only, never from the body. Each answered request
has exactly one audit record (a refused token, a rate-limited request and a
failed query included) written before the answer leaves: when the audit sink
refuses the record, the answer is 503 with no data (fail closed, never unaudited).

    401  token refused (expired, alg none, wrong key/audience/issuer, malformed)
    403  execute denied (the decision and its reasons)
    422  the request body is invalid, or an allowed query failed on the database (masked message)
    429  the principal's requests per minute (limits.requests_per_minute) are used up; Retry-After
    503  database unreachable or busy, statement timeout, audit sink unwritable, identity keys unset
    500  a fault of govern's own (audited; nothing of the request's data in the answer)
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import os
import re
import sys
import threading
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from govern.errors import IdentityUnavailable, QueryDenied, QueryFailed, TokenError
from govern.identity import TokenVerifier, claim_notes
from govern.principal import Principal
from govern.serve.database import Database, DatabaseUnavailable
from govern.serve.metrics import CONTENT_TYPE_LATEST, AuditUnavailable, CountingAudit, Metrics
from govern.serve.ratelimit import RateLimiter, retry_after_header

log = logging.getLogger("govern.serve")

ENDPOINTS = {  # path -> the action its audit records and metrics carry
    "/v1/sql/check": "check_sql",
    "/v1/sql/execute": "execute",
    "/v1/text/mask": "mask_text",
    "/v1/policy/explain": "explain",
}
MAX_TEXTS, MAX_TEXT_CHARS = 256, 100_000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# ---- request and response bodies (they make the OpenAPI document) ------------------------------


class SqlRequest(BaseModel):
    sql: str = Field(min_length=1, description="the SQL statement, as the LLM wrote it")
    dialect: str | None = Field(default=None, description="its SQL dialect (default: the database's, or duckdb)")


class MaskRequest(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS, description="passages to mask")
    conversation: str | None = Field(default=None, max_length=256,
                                     description="conversation id: consistent pseudonyms within it, per principal")


class Decision(BaseModel):
    allowed: bool
    sql: str | None = Field(description="the governed SQL (null when denied)")
    params: list[str] = Field(description="bind parameters the governed SQL takes, redacted (the hash-mask key never leaves)")
    reasons: list[str]
    policies: list[str]
    tables: list[str]
    columns: list[str]
    dialect: str
    bundle_hash: str | None
    notes: list[str] = []
    audit_id: str | None


class ExecuteResponse(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    pii: dict[str, int] = Field(description="PII masked in free text of the rows, by type")
    needs_review: bool
    decision: Decision


class MaskResponse(BaseModel):
    texts: list[str]
    counts: list[dict[str, int]] = Field(description="per text: PII findings masked, by type")
    needs_review: bool


class ErrorBody(BaseModel):
    error: str = Field(description="a short class: token_refused, rate_limited, denied, query_failed, timeout, "
                                   "database_unavailable, audit_unavailable, identity_unavailable, invalid_request, internal")
    reason: str
    audit_id: str | None = None
    decision: Decision | None = None


class ServiceError(Exception):
    def __init__(self, status: int, error: str, reason: str, *, audit_id: str | None = None,
                 decision: dict | None = None, headers: dict[str, str] | None = None):
        self.status, self.headers = status, headers or {}
        self.body = {"error": error, "reason": reason, "audit_id": audit_id}
        if decision is not None:
            self.body["decision"] = decision
        super().__init__(reason)


ERRORS = {s: {"model": ErrorBody} for s in (401, 403, 422, 429, 503)}


# ---- helpers ----------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A result value as JSON: exact decimals as strings, times as ISO 8601, bytes as base64."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def _decision_body(decision, principal: Principal | None = None, identity=None) -> dict:
    data = decision.model_dump(exclude={"params"})
    data["params"] = ["[REDACTED]"] * len(decision.params)
    if principal is not None and identity is not None:
        data["reasons"] = claim_notes(data["reasons"], principal, identity.spec.claims)
    return data


class Service:
    """What the routes share: the governor, its database, metrics and rate limits."""

    def __init__(self, gov, db: Database | None, metrics: Metrics, watch: float | None, warm: bool):
        self.gov = gov
        self.db = db
        self.metrics = metrics
        self.limiter = RateLimiter()
        self.watch = watch
        self.warm = warm
        self._stop = threading.Event()
        self._watcher_thread: threading.Thread | None = None
        if not isinstance(gov.audit, CountingAudit):
            gov.audit = CountingAudit(gov.audit, metrics)

    @property
    def default_dialect(self) -> str:
        return self.db.dialect if self.db is not None else "duckdb"

    def record(self, action: str, principal: Principal | None, reasons: list[str], cid: str, **fields) -> str:
        """One audit record of a request refused before governing (rate limit, database, body)."""
        who = principal.summary() if principal is not None else {"id": "(unauthenticated)", "roles": [], "tenant": None}
        rec = self.gov.audit.record(action=action, principal=who, decision="deny", reasons=reasons,
                                    bundle_hash=self.gov.bundle.content_hash, correlation_id=cid, **fields)
        return rec.event_id

    # -- bundle watching ------------------------------------------------------
    def start(self) -> None:
        self.metrics.bundle_in_force(self.gov.bundle.content_hash)
        if self.warm:
            self.gov.pii_engine()  # Presidio loads now, not on the first request
        if self.watch:
            from govern.policy.reload import BundleWatcher

            watcher = BundleWatcher(self.gov, interval=self.watch)

            def loop() -> None:
                while not self._stop.wait(self.watch):
                    try:
                        result = watcher.poll()
                    except Exception:
                        log.exception("bundle watcher poll failed")
                        self.metrics.reloads.labels("failed").inc()
                        continue
                    if result.reloaded:
                        self.metrics.reloads.labels("reloaded").inc()
                    elif result.problems and not result.settling and result.changed:
                        self.metrics.reloads.labels("failed").inc()
                    self.metrics.bundle_in_force(self.gov.bundle.content_hash)

            self._watcher_thread = threading.Thread(target=loop, name="govern-serve-watcher", daemon=True)
            self._watcher_thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher_thread is not None:
            self._watcher_thread.join(timeout=5)
        if self.db is not None:
            self.db.close()
        try:
            head = self.gov.audit.head
            self.gov.audit.close()  # a keyed trail's closing checkpoint
            print(f"govern serve: stopped; audit trail closed at record {head[0]}", file=sys.stderr, flush=True)
        except Exception:
            log.exception("closing the audit trail failed")

    # -- readiness ------------------------------------------------------------
    def readiness(self) -> dict[str, str]:
        checks = {"bundle": f"ok {self.gov.bundle.content_hash}"}
        try:
            TokenVerifier(self.gov.bundle.identity)
            checks["identity"] = "ok"
        except IdentityUnavailable as err:
            checks["identity"] = f"failed: {err.reason}"
        checks["audit"] = _audit_writable(self.gov.audit)
        if self.db is None:
            checks["database"] = "ok (none configured: /v1/sql/execute answers 503)"
        else:
            problem = self.db.ping()
            checks["database"] = "ok" if problem is None else f"failed: {problem}"
        return checks


def _audit_writable(audit) -> str:
    sink = getattr(getattr(audit, "trail", audit), "sink", None)
    path = getattr(sink, "path", None)
    if path is None:
        return "ok"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.close(fd)
        return "ok"
    except OSError as err:
        return f"failed: {path}: {err.strerror}"


# ---- the app ----------------------------------------------------------------------------------


class Measure:
    """ASGI middleware: the request id (X-Request-Id, or a new one) and latency and status metrics per endpoint."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"").decode("latin-1")
        cid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["cid"] = cid
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            endpoint = getattr(scope.get("route"), "path", None) or "other"
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            self.metrics.responses.labels(endpoint, str(status)).inc()



def create_app(gov, *, db: Database | None = None, watch: float | None = None, warm: bool = True) -> FastAPI:
    """The ASGI app for ``gov`` (a Governor whose bundle has an identity.yaml) and an optional database."""
    metrics = Metrics()
    service = Service(gov, db, metrics, watch, warm)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="govern", version="1", lifespan=lifespan,
                  description="Policy-aware governance for LLM-generated SQL and passages. Every /v1 request carries "
                              "the end user's `Authorization: Bearer <JWT>`, verified by the bundle's identity.yaml.")
    app.state.service = service

    app.add_middleware(Measure, metrics=metrics)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, err: ServiceError):
        return JSONResponse(err.body, status_code=err.status, headers=err.headers)

    @app.exception_handler(AuditUnavailable)
    async def audit_unavailable(request: Request, err: AuditUnavailable):
        return JSONResponse({"error": "audit_unavailable", "reason": f"{err.reason}; nothing is answered unaudited",
                             "audit_id": None}, status_code=503)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, err: Exception):
        """A fault of govern's own: 500, audited, nothing of the request's data in the answer."""
        log.error("internal error answering %s", request.url.path, exc_info=err)
        action = ENDPOINTS.get(request.url.path, "request")
        reason = f"internal error ({type(err).__name__}); nothing was returned"
        try:
            audit_id = service.record(action, getattr(request.state, "principal", None), [reason], getattr(request.state, "cid", None),
                                      error=type(err).__name__)
        except AuditUnavailable as unavailable:
            return await audit_unavailable(request, unavailable)
        metrics.decision(action, "error")
        return JSONResponse({"error": "internal", "reason": reason, "audit_id": audit_id}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()][:10]
        principal = getattr(request.state, "principal", None)
        action = ENDPOINTS.get(request.url.path, "request")
        try:
            audit_id = service.record(action, principal, [f"request body invalid: {p}" for p in problems], request.state.cid)
        except AuditUnavailable as unavailable:
            return await audit_unavailable(request, unavailable)
        metrics.decision(action, "deny", ["invalid request"])
        return JSONResponse({"error": "invalid_request", "reason": "; ".join(problems), "audit_id": audit_id}, status_code=422)

    async def authenticated(request: Request) -> Principal:
        """The verified principal of the request (401 otherwise), within its rate limit (429 otherwise).

        Runs on the event loop: verifying a token is a few microseconds of CPU; only a refusal
        writes (one audit record), which saves every accepted request a thread hop.
        """
        action = ENDPOINTS.get(request.url.path, "request")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        try:
            principal = gov.principal_from_token(token, correlation_id=request.state.cid)
        except TokenError as err:
            metrics.decision(action, "deny", [f"token refused ({err.kind})"])
            reason = f"token refused ({err.kind}): {err.reason}"
            raise ServiceError(401, "token_refused", reason, audit_id=err.audit_id, headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{err.kind}"'}) from None
        except IdentityUnavailable as err:
            audit_id = service.record(action, None, [f"identity unavailable: {err.reason}"], request.state.cid)
            metrics.decision(action, "error")
            raise ServiceError(503, "identity_unavailable", err.reason, audit_id=audit_id) from None
        request.state.principal = principal
        wait = service.limiter.take(principal.id, gov.bundle.rules.limits.requests_per_minute)
        if wait is not None:
            limit = gov.bundle.rules.limits.requests_per_minute
            reason = f"rate limit: {limit} requests per minute for principal {principal.id!r}; retry after {retry_after_header(wait)} s"
            audit_id = service.record(action, principal, [reason], request.state.cid)
            metrics.decision(action, "deny", [reason])
            raise ServiceError(429, "rate_limited", reason, audit_id=audit_id, headers={"Retry-After": retry_after_header(wait)})
        return principal

    identity = lambda: gov.bundle.identity  # noqa: E731 - the one in force, after reloads too

    @app.post("/v1/sql/check", response_model=Decision, responses=ERRORS, tags=["sql"],
              summary="Govern one SQL statement: the decision, the governed SQL, the reasons")
    def check_sql(body: SqlRequest, request: Request, principal: Principal = Depends(authenticated)):
        decision = gov.check_sql(body.sql, principal, dialect=body.dialect or service.default_dialect,
                                 correlation_id=request.state.cid)
        metrics.decision("check_sql", "rewrite" if decision.allowed else "deny", decision.reasons)
        return _decision_body(decision, principal, identity())

    @app.post("/v1/sql/execute", response_model=ExecuteResponse, responses=ERRORS, tags=["sql"],
              summary="Govern one SQL statement and run it on the server's database: masked rows")
    def execute(body: SqlRequest, request: Request, principal: Principal = Depends(authenticated)):
        cid = request.state.cid
        if db is None:
            audit_id = service.record("execute", principal, ["this server has no database (start it with --db)"], cid,
                                      input_text=body.sql)
            metrics.decision("execute", "error")
            raise ServiceError(503, "database_unavailable", "this server has no database (start it with --db)", audit_id=audit_id)
        if body.dialect is not None and body.dialect != db.dialect:
            reason = f"the database speaks {db.dialect}, not {body.dialect}: send {db.dialect} SQL (or omit dialect)"
            audit_id = service.record("execute", principal, [reason], cid, input_text=body.sql)
            metrics.decision("execute", "deny", ["statement dialect"])
            raise ServiceError(422, "invalid_request", reason, audit_id=audit_id)
        try:
            with db.connection() as conn, db.deadline(conn) as state:
                try:
                    result = gov.execute(conn, body.sql, principal, dialect=db.dialect, correlation_id=cid)
                except QueryFailed as failed:
                    raise _failure(failed, state, conn) from None
        except QueryDenied as denied:
            metrics.decision("execute", "deny", denied.decision.reasons)
            data = _decision_body(denied.decision, principal, identity())
            raise ServiceError(403, "denied", "; ".join(data["reasons"]), audit_id=denied.decision.audit_id,
                               decision=data) from None
        except DatabaseUnavailable as err:
            audit_id = service.record("execute", principal, [err.reason], cid, input_text=body.sql, error=err.reason)
            metrics.decision("execute", "error")
            raise ServiceError(503, "database_unavailable", err.reason, audit_id=audit_id) from None
        metrics.decision("execute", "mask" if result.pii else "rewrite")
        metrics.masked(result.pii)
        return {"columns": result.columns, "rows": [[json_value(v) for v in row] for row in result.rows],
                "pii": result.pii, "needs_review": result.needs_review, "decision": _decision_body(result.decision)}

    def _failure(failed: QueryFailed, state: dict, conn) -> ServiceError:
        """An allowed query failed: a timeout or a lost database is 503, an error of the query itself 422."""
        original = failed.__context__  # the driver's exception (never shown: its text can quote data)
        timed_out = state["timed_out"] or type(original).__name__ == "QueryCanceled"
        audit_id = failed.decision.audit_id
        if timed_out:
            metrics.decision("execute", "error")
            return ServiceError(503, "timeout", f"the query ran past the statement timeout ({db.timeout_ms} ms, "
                                "limits.statement_timeout_ms); no rows returned", audit_id=audit_id)
        if not db.usable(conn):
            metrics.decision("execute", "error")
            return ServiceError(503, "database_unavailable", "the database connection was lost; no rows returned",
                                audit_id=audit_id)
        metrics.decision("execute", "error")
        return ServiceError(422, "query_failed", failed.message, audit_id=audit_id, decision=_decision_body(failed.decision))

    @app.post("/v1/text/mask", response_model=MaskResponse, responses=ERRORS, tags=["text"],
              summary="Mask the PII in passages that the principal may not see")
    def mask(body: MaskRequest, request: Request, principal: Principal = Depends(authenticated)):
        if any(len(t) > MAX_TEXT_CHARS for t in body.texts):
            reason = f"a text is longer than {MAX_TEXT_CHARS} characters"
            audit_id = service.record("mask_text", principal, [reason], request.state.cid)
            metrics.decision("mask_text", "deny", ["too long"])
            raise ServiceError(422, "invalid_request", reason, audit_id=audit_id)
        masked = gov.mask_texts(body.texts, principal, conversation=body.conversation,
                                correlation_id=request.state.cid, action="mask_text")
        counts = [m.masked_counts for m in masked]
        total: dict[str, int] = {}
        for c in counts:
            for k, v in c.items():
                total[k] = total.get(k, 0) + v
        metrics.decision("mask_text", "mask" if total else "allow")
        metrics.masked(total)
        return {"texts": [m.text for m in masked], "counts": counts, "needs_review": any(m.needs_review for m in masked)}

    @app.post("/v1/policy/explain", responses=ERRORS, tags=["policy"],
              summary="Every policy considered for the statement and the principal, and the annotated governed SQL")
    def explain(body: SqlRequest, request: Request, principal: Principal = Depends(authenticated)):
        from govern.policy.explain import explain as explain_sql

        started = time.perf_counter()
        bundle = gov.bundle
        out = explain_sql(bundle, body.sql, principal, body.dialect or service.default_dialect, gov.hash_key)
        rec = gov.audit.record(action="explain", principal=principal.summary(), decision="allow" if out.allowed else "deny",
                               reasons=out.reasons, input_text=body.sql, tables=out.tables, policies=out.applied,
                               bundle_hash=bundle.content_hash, correlation_id=request.state.cid,
                               duration_ms=round((time.perf_counter() - started) * 1000, 3))
        metrics.decision("explain", "allow" if out.allowed else "deny", out.reasons)
        data = out.to_dict()
        data["reasons"] = claim_notes(data["reasons"], principal, identity().spec.claims) if identity() else data["reasons"]
        return {**data, "audit_id": rec.event_id}

    @app.get("/healthz", tags=["service"], summary="The process answers")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], summary="Bundle loaded, identity keys present, audit sink writable, database reachable")
    def readyz():
        checks = service.readiness()
        ready = all(v.startswith("ok") for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics")
    def metrics_endpoint():
        metrics.bundle_in_force(gov.bundle.content_hash)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
