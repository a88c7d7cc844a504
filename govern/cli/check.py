"""`govern check`: govern one SQL statement for a principal; exit 1 when denied."""

from __future__ import annotations

import argparse
import json
import sys

from govern.cli.args import EXIT_ALLOWED, EXIT_DENIED, add_format, check_dialect, principal_from_args


def register(sub) -> None:
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
    add_format(check)
    check.add_argument("--json", dest="format", action="store_const", const="json", help=argparse.SUPPRESS)  # older spelling
    check.add_argument("--audit", metavar="PATH",
                       help="audit trail file (default: $GOVERN_AUDIT_PATH, else the bundle's settings.audit.trail)")
    check.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from govern.governor import Governor

    dialect = check_dialect(args.dialect)
    gov = Governor.from_path(args.policies, audit=args.audit)
    principal = principal_from_args(args, gov)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    decision = gov.check_sql(sql, principal, dialect=dialect)
    if args.format == "json":
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
