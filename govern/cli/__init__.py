"""The `govern` command line: check SQL as a principal, run the demo, work with the audit trail and policies.

One module per command group: ``check`` (govern check), ``demo`` (govern demo),
``audit`` (govern audit ...), ``policy`` (govern policy ..., govern explain);
``catalog`` (govern catalog classify); ``serve`` (govern serve, govern token --dev); ``mcp`` (govern mcp);
``args`` holds the argument helpers they share.
"""

from __future__ import annotations

import argparse
import sys

from govern.cli import audit as cli_audit
from govern.cli import catalog as cli_catalog
from govern.cli import mcp as cli_mcp
from govern.cli import check, demo
from govern.cli import policy as cli_policy
from govern.cli import serve as cli_serve
from govern.cli.args import EXIT_ERROR
from govern.errors import PolicyLoadError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govern", description="Policy-aware governance for LLM-generated SQL and retrieved passages.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    check.register(sub)
    demo.register(sub)
    cli_audit.register(sub)
    cli_policy.register(sub)  # `govern policy lint|test`, `govern explain`
    cli_catalog.register(sub)  # `govern catalog classify`
    cli_serve.register(sub)  # `govern serve`, `govern token --dev`
    cli_mcp.register(sub)  # `govern mcp`: the MCP server (govern.mcp_server)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "audit":
        return cli_audit.run(args)
    if args.cmd in ("policy", "explain"):
        return cli_policy.run(args)
    try:
        return args.func(args)
    except PolicyLoadError as err:
        print(f"govern: {err}", file=sys.stderr)
        return EXIT_ERROR
