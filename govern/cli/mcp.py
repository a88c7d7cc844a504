"""`govern mcp`: serve governed SQL tools to agents over the Model Context Protocol (see govern.mcp_server)."""

from __future__ import annotations

import argparse
import os
import sys

import json

from govern.cli.args import EXIT_ERROR, add_format


def register(sub) -> None:
    mcp = sub.add_parser(
        "mcp", help="an MCP server with governed SQL tools (list_tables, describe_table, run_sql, search_documents)",
        description="Serve the database to agents over the Model Context Protocol (stdio or streamable HTTP). Every tool "
                    "acts for the verified end user: over HTTP each request's bearer token, over stdio the token given "
                    "at start (--token or $GOVERN_MCP_TOKEN), verified by the bundle's identity.yaml. run_sql is "
                    "gov.execute: rewritten, masked, capped at limits.max_rows, under limits.statement_timeout_ms, "
                    "audited; a denial is a tool error carrying the reasons. Needs the mcp extra: pip install 'govern[mcp]'.")
    mcp.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    mcp.add_argument("--db", required=True, help="DuckDB file, SQLite file (.sqlite/.db) or postgresql:// URL")
    mcp.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                     help="stdio (default; one user, --token) or http (streamable HTTP at /mcp; a bearer token per request)")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP: address to listen on (default 127.0.0.1)")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP: port (default 8765)")
    mcp.add_argument("--token", default=None,
                     help="stdio: the end user's token (JWT); default $GOVERN_MCP_TOKEN. Prefer the variable: "
                          "arguments are visible to other users of the machine")
    add_format(mcp, help="the startup line on stderr (HTTP): text, or one JSON object (url) (default text)")
    mcp.add_argument("--audit", metavar="PATH", help="audit trail file (default: $GOVERN_AUDIT_PATH or audit/trail.jsonl)")
    mcp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from govern.mcp_server import TOKEN_ENV, build_server
    except ImportError as err:
        print(f"govern mcp: the mcp package is not installed ({err}): pip install 'govern[mcp]'", file=sys.stderr)
        return EXIT_ERROR
    from govern.cli.catalog import connect
    from govern.errors import GovernError, IdentityUnavailable, TokenError
    from govern.governor import Governor

    gov = Governor.from_path(args.policies, audit=args.audit)
    token = None
    if args.transport == "stdio":
        token = args.token or os.environ.get(TOKEN_ENV)
        if not token:
            print(f"govern mcp: over stdio the end user's token is needed: --token or ${TOKEN_ENV}", file=sys.stderr)
            return EXIT_ERROR
        try:
            gov.principal_from_token(token, action="mcp_authenticate")  # refused now, or the server does not start
        except (TokenError, IdentityUnavailable) as err:
            print(f"govern mcp: {err}", file=sys.stderr)
            return EXIT_ERROR
    else:  # HTTP: the keys identity.yaml names must be there now, or no request could ever be verified
        from govern.identity import TokenVerifier

        try:
            TokenVerifier(gov.bundle.identity)
        except IdentityUnavailable as err:
            print(f"govern mcp: {err}", file=sys.stderr)
            return EXIT_ERROR
    try:
        conn = connect(args.db)
    except Exception as err:  # noqa: BLE001 - a user mistake: one line, exit 2
        print(f"govern mcp: cannot open {args.db}: {err}", file=sys.stderr)
        return EXIT_ERROR
    if type(conn).__module__.startswith("psycopg"):
        conn.autocommit = True  # each governed query on its own; a failed one leaves no aborted transaction
    try:
        server = (build_server(gov, conn, token=token) if args.transport == "stdio"
                  else build_server(gov, conn, http=True, host=args.host, port=args.port))
    except GovernError as err:  # e.g. a documents.yaml sql_store naming a table the catalog lacks
        print(f"govern mcp: {err}", file=sys.stderr)
        return EXIT_ERROR
    if args.transport == "stdio":
        server.run("stdio")
    else:
        url = f"http://{args.host}:{args.port}/mcp"
        print(json.dumps({"url": url}) if args.format == "json" else
              f"govern mcp: streamable HTTP on {url} (bearer tokens per identity.yaml)", file=sys.stderr)
        server.run("streamable-http", host=args.host, port=args.port)
    return 0
