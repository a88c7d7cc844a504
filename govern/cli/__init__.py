"""The `govern` command line: check SQL as a principal, run the demo, work with the audit trail."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

import yaml

from govern.cli import audit as cli_audit
from govern.errors import PolicyLoadError
from govern.principal import Principal

EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govern", description="Policy-aware governance for LLM-generated SQL and retrieved passages.")
    sub = parser.add_subparsers(dest="cmd", required=True)

    check = sub.add_parser("check", help="govern one SQL statement for a principal; exit 1 when denied",
                           description="Print the decision, the governed SQL and the reasons. Exit 0 allowed, 1 denied, 2 error.")
    check.add_argument("sql", help="the SQL statement (use - to read it from stdin)")
    check.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    who = check.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="as_id", metavar="ID",
                     help="principal id: with --role/--attr an inline principal, alone one named in the bundle's principals.yaml")
    who.add_argument("--principal", metavar="FILE", help="YAML/JSON file with id, roles, attributes")
    check.add_argument("--role", action="append", default=[], help="role of the --as principal (repeatable)")
    check.add_argument("--attr", action="append", default=[], metavar="K=V", help="attribute of the --as principal (repeatable; V is read as YAML: 7, true, [a, b])")
    check.add_argument("--dialect", default="duckdb", help="SQL dialect of the query and the output (default: duckdb)")
    check.add_argument("--json", action="store_true", help="print the decision as JSON")
    check.add_argument("--audit", metavar="PATH", help="audit trail file (default: $GOVERN_AUDIT_PATH or audit/trail.jsonl)")
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser("demo", help="build the demo database if needed and answer the demo questions for three principals",
                          description="Answers the same questions for eve (EU sales rep), sam (NA support agent) and ada (auditor) side by side.")
    demo.add_argument("--db", default="data/demo.duckdb", help="demo DuckDB file (built when missing; default data/demo.duckdb)")
    demo.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    demo.add_argument("--as", dest="principals", action="append", metavar="ID", help="principals to show (default: eve, sam, ada)")
    demo.add_argument("--show-sql", action="store_true", help="also print each governed query")
    demo.add_argument("--audit", metavar="PATH", help="audit trail file (default: $GOVERN_AUDIT_PATH or audit/trail.jsonl)")
    demo.set_defaults(func=cmd_demo)

    cli_audit.register(sub)
    from govern.cli import policy as cli_policy  # `govern policy lint|test`, `govern explain`

    cli_policy.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "audit":
        return cli_audit.run(args)
    if args.cmd in ("policy", "explain"):
        from govern.cli import policy as cli_policy

        return cli_policy.run(args)
    try:
        return args.func(args)
    except PolicyLoadError as err:
        print(f"govern: {err}", file=sys.stderr)
        return EXIT_ERROR


def principal_from_args(args, gov) -> Principal:
    from govern.bundle.yaml_source import PolicyYamlLoader

    if args.principal:
        if args.role or args.attr:
            raise ValueError("--role/--attr go with --as, not with --principal")
        data = yaml.load(Path(args.principal).read_text(), Loader=PolicyYamlLoader)  # noqa: S506 - safe subclass
        return Principal.model_validate(data)
    if not (args.role or args.attr):
        return gov.principal(args.as_id)
    attributes = {}
    for item in args.attr:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"govern check: --attr needs K=V, got {item!r}")
        attributes[key] = yaml.load(value, Loader=PolicyYamlLoader) if value else ""  # noqa: S506 - `NO` stays "NO"
    return Principal(args.as_id, args.role, attributes)


def cmd_check(args) -> int:
    from govern.governor import Governor

    gov = Governor.from_path(args.policies, audit=args.audit)
    try:
        principal = principal_from_args(args, gov)
    except (KeyError, ValueError) as err:
        print(f"govern check: {err}", file=sys.stderr)
        return EXIT_ERROR
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    decision = gov.check_sql(sql, principal, dialect=args.dialect)
    if args.json:
        print(json.dumps(decision.model_dump(exclude={"params"}), indent=2))
    else:
        print("ALLOWED" if decision.allowed else "DENIED", f"(audit {decision.audit_id})")
        for reason in decision.reasons:
            print(f"  reason: {reason}")
        if decision.policies:
            print(f"  policies: {', '.join(decision.policies)}")
        if decision.sql:
            print(decision.sql)
    return EXIT_ALLOWED if decision.allowed else EXIT_DENIED


def cmd_demo(args) -> int:
    from govern.demo.show import run_demo

    if not os.environ.get("GOVERN_HASH_KEY"):
        # The demo bundle hashes emails for auditors; a per-run key keeps hashes
        # consistent within the run without shipping a secret.
        os.environ["GOVERN_HASH_KEY"] = secrets.token_hex(16)
    return run_demo(Path(args.db), Path(args.policies), args.principals or ["eve", "sam", "ada"], args.show_sql, args.audit)
