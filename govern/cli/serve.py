"""`govern serve` (the HTTP service) and `govern token --dev` (a token for local trials)."""

from __future__ import annotations

import sys

import json

from govern.cli.args import EXIT_ALLOWED, EXIT_ERROR, add_format, principal_from_args


def register(sub) -> None:
    serve = sub.add_parser(
        "serve", help="serve governed SQL, masking and explanations over HTTP (verified identity, metrics)",
        description="An HTTP API (OpenAPI at /openapi.json): POST /v1/sql/check, /v1/sql/execute, /v1/text/mask, "
                    "/v1/policy/explain; GET /healthz, /readyz, /metrics. Every /v1 request carries the end user's "
                    "'Authorization: Bearer <JWT>', verified by the bundle's identity.yaml. Needs the serve extra.")
    serve.add_argument("--policies", default="policies", help="policy bundle directory, with identity.yaml (default: policies)")
    serve.add_argument("--db", metavar="URL", help="database of /v1/sql/execute: postgresql://..., a DuckDB or SQLite file "
                                                   "(duckdb:///PATH, sqlite:///PATH); files are opened read-only")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8181, help="port (default: 8181)")
    serve.add_argument("--audit", metavar="PATH", help="audit trail file (default: $GOVERN_AUDIT_PATH or audit/trail.jsonl)")
    serve.add_argument("--pool", type=int, default=4, metavar="N", help="database connections (default: 4)")
    serve.add_argument("--watch", type=float, metavar="SECONDS", help="poll the bundle directory and hot-reload it when it changes")
    serve.add_argument("--lazy", action="store_true", help="load the PII engine on the first request that needs it, not at startup")
    serve.add_argument("--log-level", default="warning", help="uvicorn's log level (default: warning)")
    add_format(serve, help="the startup line on stderr: text, or one JSON object (url, bundle_hash, database) (default text)")
    serve.set_defaults(func=cmd_serve)

    token = sub.add_parser(
        "token", help="mint a bearer token for local trials (--dev): signed with identity.yaml's secret",
        description="For local trials only: a JWT for a principal, signed with the HMAC secret named by the bundle's "
                    "identity.yaml (keys.secret_env). A bundle that verifies an identity provider's keys never accepts it.")
    token.add_argument("--dev", action="store_true", required=True, help="acknowledge that this is a local-trial token")
    token.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="as_id", metavar="ID", help="principal id: alone one named in principals.yaml, with --role/--attr inline")
    who.add_argument("--principal", metavar="FILE", help="YAML/JSON file with id, roles, attributes")
    token.add_argument("--role", action="append", default=[], help="role of the --as principal (repeatable)")
    token.add_argument("--attr", action="append", default=[], metavar="K=V", help="attribute of the --as principal (repeatable)")
    token.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS", help="lifetime (default: 3600)")
    add_format(token, help="text: the token alone; json: {\"token\", \"principal\", \"expires_in\"} (default text)")
    token.set_defaults(func=cmd_token)


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from govern.serve import Database, create_app, parse_target
    except ImportError as err:
        print(f"govern serve: {err.name} is missing: pip install 'govern[serve]'", file=sys.stderr)
        return EXIT_ERROR
    import logging

    from govern.governor import Governor

    logging.getLogger("casbin").setLevel(logging.ERROR)  # casbin logs every refused grant check as a warning
    gov = Governor.from_path(args.policies, audit=args.audit)
    db = None
    if args.db:
        try:
            db = Database(parse_target(args.db), size=args.pool, timeout_ms=gov.bundle.rules.limits.statement_timeout_ms)
        except ValueError as err:
            print(f"govern serve: {err}", file=sys.stderr)
            return EXIT_ERROR
    app = create_app(gov, db=db, watch=args.watch, warm=not args.lazy)
    url, database = f"http://{args.host}:{args.port}", db.target.kind if db else None
    if args.format == "json":
        print(json.dumps({"url": url, "bundle_hash": gov.bundle.content_hash, "database": database}), file=sys.stderr, flush=True)
    else:
        print(f"govern serve: {url} (bundle {gov.bundle.content_hash}, database {database or 'none'})",
              file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                timeout_graceful_shutdown=30)
    return EXIT_ALLOWED


def cmd_token(args) -> int:
    from govern.bundle import load_bundle
    from govern.errors import IdentityUnavailable
    from govern.identity import mint_dev_token

    bundle = load_bundle(args.policies)
    if bundle.identity is None:
        print(f"govern token: {args.policies} has no identity.yaml", file=sys.stderr)
        return EXIT_ERROR

    class _Named:  # principal_from_args looks principals up by id in the bundle
        def principal(self, principal_id):
            try:
                return bundle.principals[principal_id]
            except KeyError:
                raise KeyError(f"no principal {principal_id!r} in {bundle.path / 'principals.yaml'}") from None

    try:
        principal = principal_from_args(args, _Named())
        token = mint_dev_token(bundle.identity, principal, expires_in=args.expires_in)
        if args.format == "json":
            print(json.dumps({"token": token, "principal": principal.id, "expires_in": args.expires_in}))
        else:
            print(token)
    except (KeyError, ValueError, IdentityUnavailable) as err:
        print(f"govern token: {err}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ALLOWED
