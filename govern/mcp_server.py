"""`govern mcp`: a Model Context Protocol server whose SQL tools are governed per verified user.

Built on the official ``mcp`` package (extra ``govern[mcp]``), over stdio or streamable HTTP:

* ``list_tables`` / ``describe_table``: the schema the principal may see (``gov.schema_for``):
  hidden tables and columns absent, masked columns saying what the mask shows,
  row-governed tables saying rows are filtered (never how);
* ``run_sql``: ``gov.execute`` (rewritten, masked, audited); a denial is a tool error
  (``isError``) whose text carries the reasons, so the model can repair its query; the
  bundle's row cap (``limits.max_rows``) and statement timeout (``limits.statement_timeout_ms``) apply;
* ``search_documents``: only when the bundle declares a collection backed by a SQL chunk
  store (documents.yaml ``sql_store:``), through ``gov.sql_retriever``.

Identity is verified, never supplied: no tool takes a principal. Over HTTP every
request's ``Authorization: Bearer`` token is verified by ``gov.principal_from_token``
(the bundle's identity.yaml; a refused token is a 401 and an audit record); over stdio
the end user's token is given at start (``--token`` or ``$GOVERN_MCP_TOKEN``) and
verified the same way before the server starts, and again at every tool call (an
expired token stops working). A streamable HTTP session belongs to the token that
opened it: the SDK answers another principal's request on it with 404.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import logging
import uuid
from typing import Any
from urllib.parse import urlparse

import anyio
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from govern.adapters.sql_tools import GovernedSql, denial_text
from govern.errors import GovernError, IdentityUnavailable, QueryDenied, QueryFailed, TokenError
from govern.principal import Principal

__all__ = ["build_server", "GovernTokenVerifier", "TOKEN_ENV", "jsonable"]

log = logging.getLogger("govern.mcp")
TOKEN_ENV = "GOVERN_MCP_TOKEN"
_PRINCIPAL_CLAIM = "govern_principal"
INSTRUCTIONS = (
    "Governed SQL over a database: call list_tables and describe_table first and write SELECT queries that use "
    "only what they show. Masked columns return masked values; rows of filtered tables are limited to what the "
    "user may see. A refused query returns an error with the reasons: rewrite the query accordingly."
)


class GovernTokenVerifier:
    """The MCP SDK's TokenVerifier over ``gov.principal_from_token`` (identity.yaml; refusals audited)."""

    def __init__(self, gov: Any):
        self.gov = gov

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            principal = await anyio.to_thread.run_sync(
                lambda: self.gov.principal_from_token(token, action="mcp_authenticate"))
        except TokenError as err:
            log.info("bearer token refused (%s): %s", err.kind, err.reason)
            return None
        except IdentityUnavailable as err:  # not the token's fault; still nobody gets in
            log.error("tokens cannot be verified: %s", err.reason)
            return None
        return AccessToken(token=token, client_id=principal.id, scopes=[], subject=principal.id,
                           claims={_PRINCIPAL_CLAIM: principal.model_dump(mode="json")})


def jsonable(value: Any) -> Any:
    """A result value as JSON: dates ISO 8601, decimals as strings (exact), bytes as hex."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return str(value)


def build_server(gov: Any, conn: Any, *, token: str | None = None, http: bool = False,
                 host: str = "127.0.0.1", port: int = 8765, dialect: str | None = None) -> MCPServer:
    """The MCP server over ``conn``. Over stdio pass the end user's ``token`` (verified again on every
    tool call, so an expired token stops working); over HTTP (``http=True``) each request's bearer
    token is verified and there is no fixed identity."""
    if http == (token is not None):
        raise ValueError("over HTTP the identity comes from each request's token; over stdio pass the user's token")
    sql = GovernedSql(gov, conn, dialect=dialect)
    options: dict[str, Any] = {}
    if http:
        base = f"http://{host}:{port}"
        issuer = _issuer_url(gov) or base
        options = dict(token_verifier=GovernTokenVerifier(gov),
                       auth=AuthSettings(issuer_url=issuer, resource_server_url=f"{base}/mcp", validate_token_resource=False))
    server = MCPServer("govern", instructions=INSTRUCTIONS, **options)

    def who(ctx: Context) -> Principal:
        if not http:
            try:
                return gov.principal_from_token(token, action="mcp_authenticate")
            except (TokenError, IdentityUnavailable) as err:
                raise ToolError(str(err)) from None
        request = ctx.request_context.request
        user = request.scope.get("user") if request is not None else None
        access = getattr(user, "access_token", None)
        claims = (access.claims or {}) if access is not None else {}
        if _PRINCIPAL_CLAIM not in claims:  # the bearer middleware lets no request through without one
            raise ToolError("no verified identity for this request")
        return Principal.model_validate(claims[_PRINCIPAL_CLAIM])

    async def schema_of(ctx: Context):
        try:
            return await anyio.to_thread.run_sync(sql.schema, who(ctx))
        except GovernError as err:  # a principal the attribute schema refuses: every request of theirs is denied
            raise ToolError(str(err)) from None

    @server.tool(description="The tables you may query, and whether rows of each are filtered by policy.")
    async def list_tables(ctx: Context) -> dict:
        schema = await schema_of(ctx)
        return {"tables": [{"name": t.name, "rows_filtered": t.rows_filtered, "no_rows": t.no_rows,
                            **({"denied": list(t.denied)} if t.denied else {})} for t in schema.tables],
                "dialect": sql.dialect, "max_rows": schema.max_rows}

    @server.tool(description="CREATE TABLE text of one table as you may see it: visible columns with types and keys; "
                             "masked columns say what the mask shows.")
    async def describe_table(table: str, ctx: Context) -> str:
        schema = await schema_of(ctx)
        try:
            return schema.text_for([table])
        except KeyError as err:
            raise ToolError(err.args[0]) from None

    @server.tool(description="Run one SELECT statement (in the database's dialect) under your policies. Rows come back "
                             "masked and capped; a refused query returns an error with the reasons to repair it.")
    async def run_sql(query: str, ctx: Context) -> dict:
        principal = who(ctx)
        try:
            result = await anyio.to_thread.run_sync(lambda: sql.execute(query, principal, correlation_id=ctx.request_id))
        except (QueryDenied, QueryFailed) as err:
            raise ToolError(denial_text(err)) from None
        return {"columns": result.columns, "rows": [[jsonable(v) for v in row] for row in result.rows],
                "row_count": len(result.rows), "max_rows": gov.bundle.rules.limits.max_rows,
                "pii_masked": result.pii, "audit_id": result.decision.audit_id}

    stores = _sql_collections(gov)
    if stores:
        # Built now: a store naming a table or column the catalog lacks stops the server at start (ChunkStoreError).
        retrievers = {name: gov.sql_retriever(conn, spec.table, name, id_column=spec.id_column, text_column=spec.text_column,
                                              metadata_columns=spec.metadata_columns, search_columns=spec.search_columns)
                      for name, spec in stores.items()}

        names = ", ".join(sorted(stores))

        @server.tool(description=f"Search governed documents (collections: {names}); passages come back filtered "
                                 "by your document rules and PII-masked.")
        async def search_documents(query: str, ctx: Context, k: int = 5, collection: str | None = None) -> dict:
            principal = who(ctx)
            name = collection or sorted(stores)[0]
            if name not in stores:
                raise ToolError(f"no searchable collection {name!r} (collections: {names})")

            def search():
                with sql.lock:
                    return retrievers[name](query, principal, k=k, correlation_id=ctx.request_id)
            try:
                result = await anyio.to_thread.run_sync(search)
                documents = result.documents
            except GovernError as err:
                raise ToolError(str(err)) from None
            return {"collection": name, "documents": [jsonable(d) for d in documents]}

    return server


def _sql_collections(gov: Any) -> dict:
    documents = gov.bundle.documents
    collections = getattr(documents, "collections", None) or {}
    return {name: c.spec.sql_store for name, c in collections.items() if getattr(c.spec, "sql_store", None) is not None}


def _issuer_url(gov: Any) -> str | None:
    identity = getattr(gov.bundle, "identity", None)
    issuer = getattr(getattr(identity, "spec", None), "issuer", None)
    issuer = issuer if isinstance(issuer, str) else (issuer[0] if issuer else None)
    return issuer if issuer and urlparse(issuer).scheme in ("http", "https") else None
