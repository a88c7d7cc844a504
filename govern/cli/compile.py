"""`govern compile --target postgres-rls`: the bundle as PostgreSQL row-level security DDL (govern.compile_rls)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govern.cli.args import add_format


def register(sub) -> None:
    p = sub.add_parser(
        "compile", help="compile the bundle to database DDL (postgres-rls: roles, column GRANTs, policies, masking views)",
        description="Writes reviewable PostgreSQL DDL for the bundle: a role per bundle role (and per principal's role "
                    "set), column GRANTs, ENABLE/FORCE ROW LEVEL SECURITY, CREATE POLICY ... USING (...) with "
                    "current_setting('govern.<attr>') for principal attributes, masking views where a mask applies. "
                    "What cannot be compiled faithfully (keyed hash masks, opaque handles, free text) is listed by "
                    "name and left out, never approximated. Exit 0 written, 2 error.")
    p.add_argument("--target", required=True, choices=("postgres-rls",), help="what to compile to: postgres-rls")
    p.add_argument("--policies", required=True, help="policy bundle directory")
    p.add_argument("--schema", default="public", help="schema of the governed tables (default public)")
    p.add_argument("--prefix", default="govern", help="prefix of the roles and view schemas (default govern)")
    p.add_argument("-o", "--out", default="-", help="file to write the DDL to (default: stdout)")
    add_format(p, help="text | json: the summary (the DDL itself goes to --out; with json and no --out, "
                       "the statements are in the JSON)")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args: argparse.Namespace) -> int:
    from govern.bundle import load_bundle
    from govern.compile_rls import compile_rls

    compiled = compile_rls(load_bundle(args.policies), schema=args.schema, prefix=args.prefix)
    ddl = compiled.ddl()
    if args.out != "-":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(ddl, encoding="utf-8")
    if args.format == "json":
        report = compiled.to_json()
        if args.out != "-":
            report.pop("statements")
            report["written"] = args.out
        print(json.dumps(report, indent=1))
    elif args.out == "-":
        sys.stdout.write(ddl)
    else:
        print(f"wrote {args.out}: {len(compiled.statements)} statements, {len(compiled.roles)} roles, "
              f"{len(compiled.not_compiled)} not compiled")
        for item in compiled.not_compiled:
            print(f"  not compiled: {item}")
    return 0
