"""`govern policy report`: the entitlement matrix of a bundle, for a security review (HTML or CSV)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govern.cli.args import add_format


def register(sub) -> None:
    report = sub.add_parser(
        "report", help="entitlement matrix: per role and principal, every table and column (allowed / masked by which rule / denied), "
                       "row filters, entity scopes, collections, PII reveals",
        description="Writes what each role and each named principal may see, from the bundle alone (no database): "
                    "HTML (self-contained, no scripts) or CSV (one row per subject x object). Exit 0 written, 2 error.")
    report.add_argument("directory", help="policy bundle directory")
    add_format(report, ("html", "csv", "json"), "html", help="html | csv | json (default html)")
    report.add_argument("--out", "-o", default="-", help="file to write (default: stdout)")
    report.add_argument("--title", default=None, help="page title (default: the bundle's path)")
    report.set_defaults(policy_func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from govern.bundle import load_bundle
    from govern.policy.entitlements import entitlements, to_csv, to_html, to_json

    bundle = load_bundle(args.directory)
    matrix = entitlements(bundle)
    render = {"html": lambda: to_html(matrix, title=args.title), "csv": lambda: to_csv(matrix), "json": lambda: to_json(matrix)}
    text = render[args.format]()
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {len(matrix.subjects)} subjects x {len(matrix.columns)} columns", file=sys.stderr)
    return 0
