"""The `govern` command line: check SQL as a principal, run the demo, work with the audit trail and policies.

One module per command group: ``check`` (govern check), ``demo`` (govern demo),
``audit`` (govern audit ...), ``policy`` (govern policy ..., govern explain);
``catalog`` (govern catalog classify); ``serve`` (govern serve, govern token --dev); ``mcp`` (govern mcp); ``compile`` (govern compile);
``args`` holds the argument helpers they share.
"""

from __future__ import annotations

import argparse
import sys

from govern.cli import audit as cli_audit
from govern.cli import catalog as cli_catalog
from govern.cli import compile as cli_compile
from govern.cli import mcp as cli_mcp
from govern.cli import check, demo
from govern.cli import policy as cli_policy
from govern.cli import serve as cli_serve
from govern.cli.args import EXIT_ERROR
from govern.errors import PolicyLoadError
from govern.cli.args import CliError, Parser  # noqa: E402,I001 - kept apart from the lines above (merges)

# Exit codes, every command: 0 ok / allowed, 1 denied (or: a check failed), 2 a user mistake
# (usage, a missing or malformed file, an unknown principal or dialect, a bad date), printed as
# one line on stderr, never a traceback. Modules are imported by the command that needs them:
# `govern --help` loads neither sqlglot nor Presidio nor spaCy (tests/test_cli_errors.py).


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("govern")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="govern", description="Policy-aware governance for LLM-generated SQL and retrieved passages.",
                    epilog="Exit codes: 0 ok, 1 denied / a check failed, 2 a usage or input error.")
    parser.add_argument("--version", action="version", version=f"govern {version()}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    check.register(sub)
    demo.register(sub)
    cli_audit.register(sub)
    cli_policy.register(sub)  # `govern policy lint|test`, `govern explain`
    cli_catalog.register(sub)  # `govern catalog classify`
    cli_serve.register(sub)  # `govern serve`, `govern token --dev`
    cli_mcp.register(sub)  # `govern mcp`: the MCP server (govern.mcp_server)
    cli_compile.register(sub)  # `govern compile --target postgres-rls` (govern.compile_rls)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # bare `govern`: the help, not an error
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if not args.cmd:
        parser.print_help()
        return 0
    try:
        if args.cmd == "audit":
            return cli_audit.run(args)
        if args.cmd in ("policy", "explain"):
            return cli_policy.run(args)
        return args.func(args)
    except BrokenPipeError:
        # `govern ... | head -1`: the reader left. Say so once; Python must not complain again at exit.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("govern: output closed before it was complete (broken pipe)", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - the one place a user error becomes one line and exit 2
        print(f"govern: {one_line(err)}", file=sys.stderr)
        if __import__("os").environ.get("GOVERN_DEBUG"):
            raise
        return EXIT_ERROR


def one_line(err: BaseException) -> str:
    """A user-facing line for an error: the message of a known user mistake, the type of anything else."""
    if isinstance(err, CliError):
        return str(err)
    if isinstance(err, PolicyLoadError):
        more = f" (and {len(err.problems) - 1} more; run govern policy lint)" if len(err.problems) > 1 else ""
        return f"policy bundle did not load: {err.problems[0] if err.problems else ''}{more}"
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or type(err).__name__}"
    if isinstance(err, KeyError):
        return str(err.args[0]) if err.args else "unknown key"
    if isinstance(err, (ValueError, FileNotFoundError)):
        text = str(err).strip().splitlines()
        return text[0] if text else type(err).__name__
    return (f"internal error ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
            "set GOVERN_DEBUG=1 for the traceback")
