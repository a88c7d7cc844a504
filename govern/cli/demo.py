"""`govern demo`: answer the demo questions for three principals side by side."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from govern.cli.args import add_format


def register(sub) -> None:
    demo = sub.add_parser("demo", help="build the demo database if needed and answer the demo questions for three principals",
                          description="Answers the same questions for eve (EU sales rep), sam (NA support agent) and ada (auditor) side by side.")
    demo.add_argument("--db", default="data/demo.duckdb", help="demo DuckDB file (built when missing; default data/demo.duckdb)")
    demo.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    demo.add_argument("--as", dest="principals", action="append", metavar="ID", help="principals to show (default: eve, sam, ada)")
    demo.add_argument("--show-sql", action="store_true", help="also print each governed query")
    demo.add_argument("--audit", metavar="PATH",
                      help="audit trail file (default: $GOVERN_AUDIT_PATH, else the bundle's settings.audit.trail)")
    add_format(demo)
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from govern.demo.show import run_demo, run_demo_json

    if not os.environ.get("GOVERN_HASH_KEY"):
        # The demo bundle hashes emails for auditors; a per-run key keeps hashes
        # consistent within the run without shipping a secret.
        os.environ["GOVERN_HASH_KEY"] = secrets.token_hex(16)
    run = run_demo_json if args.format == "json" else run_demo
    return run(Path(args.db), Path(args.policies), args.principals or ["eve", "sam", "ada"], args.show_sql, args.audit)
