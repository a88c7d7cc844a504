"""`govern policy lint|test` and `govern explain`.

`register(subparsers)` adds both commands to the main `govern` parser;
`run(args)` dispatches them; `main(argv)` runs them standalone
(`python -m govern.cli.policy policy lint policies/`).

Exit codes
  policy lint: 0 no finding at or above --fail-on (default error; --strict = warning); 1 there are; 2 usage error.
  policy test: 0 every case passed; 1 a case failed, errored, or a test file did not load; 2 the bundle did not load,
               --db names no database / cannot be reached, usage.
  explain:     0 allowed; 1 denied; 2 error (the bundle did not load, unknown principal).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from govern.cli.args import check_dialect, principal_from_args

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def register(subparsers) -> None:
    policy = subparsers.add_parser("policy", help="lint a policy bundle and run its policy tests",
                                   description="Policy authoring as code: `lint` finds mistakes, `test` runs DIR/tests/*.yaml.")
    sub = policy.add_subparsers(dest="policy_cmd", required=True)

    lint = sub.add_parser("lint", help="find schema errors, dangling references, dead and shadowed rules, unmasked PII",
                          description="Exit 0 when no finding reaches --fail-on, 1 when one does, 2 on a usage error.")
    lint.add_argument("directory", help="policy bundle directory")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument("--fail-on", choices=("error", "warning", "info"), default="error", help="lowest severity that fails (default error)")
    lint.add_argument("--strict", action="store_true", help="same as --fail-on warning")
    lint.set_defaults(policy_func=cmd_lint)

    test = sub.add_parser("test", help="run the bundle's policy tests (DIR/tests/*.yaml) on the demo data (DuckDB or PostgreSQL)",
                          description="Exit 0 when every case passes, 1 when one fails or errors, 2 when the bundle does not "
                                      "load or --db names no usable database.")
    test.add_argument("directory", help="policy bundle directory (its tests/ folder holds the test files)")
    test.add_argument("--format", choices=("text", "json", "junit"), default="text")
    test.add_argument("--output", "-o", metavar="FILE", help="write the report (json/junit) to FILE instead of stdout")
    test.add_argument("--db", metavar="PATH|URL", help="where the SQL cases run: a demo DuckDB file (it must exist), or "
                      "postgresql://... (the demo data is loaded into a fresh database of a random name there, dropped "
                      "afterwards; `{postgres: ...}` oracles run there, DuckDB ones on a DuckDB copy); default a cached demo DuckDB file")
    test.add_argument("--coverage", action="store_true", help="also list the grants, row filters, masks, entity scopes "
                      "and document rules no case exercised")
    test.add_argument("-k", dest="select", metavar="TEXT", help="only cases whose name or file contains TEXT")
    test.add_argument("--kind", action="append", help="only cases of this kind (repeatable)")
    test.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                      help="progress bar on stderr (default: when stderr is a terminal)")
    test.add_argument("--verbose", "-v", action="store_true", help="list passing cases and the governed SQL of failures")
    test.set_defaults(policy_func=cmd_test)

    from govern.cli import policy_report  # `govern policy report`: the entitlement matrix

    policy_report.register(sub)

    explain = subparsers.add_parser("explain", help="every policy considered for one principal and one SQL, and the annotated governed SQL",
                                    description="Exit 0 allowed, 1 denied, 2 error.")
    explain.add_argument("sql", help="the SQL statement (use - to read it from stdin)")
    explain.add_argument("--policies", default="policies", help="policy bundle directory (default: policies)")
    who = explain.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="as_id", metavar="ID", help="a principal named in the bundle's principals.yaml")
    who.add_argument("--principal", metavar="FILE", help="YAML/JSON file with id, roles, attributes")
    who.add_argument("--id", metavar="ID", help="principal id, with --role and --attr")
    explain.add_argument("--role", action="append", default=[], help="role of --id (repeatable)")
    explain.add_argument("--attr", action="append", default=[], metavar="K=V", help="attribute of --id (repeatable)")
    explain.add_argument("--dialect", default="duckdb")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.set_defaults(policy_func=cmd_explain)


def cmd_lint(args) -> int:
    from govern.policy.lint import format_text, lint_bundle

    if not Path(args.directory).is_dir():
        print(f"govern policy lint: {args.directory}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    report = lint_bundle(args.directory)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_text(report))
    return EXIT_FAIL if report.failed("warning" if args.strict else args.fail_on) else EXIT_OK


def cmd_test(args) -> int:
    from govern.errors import PolicyLoadError
    from govern.policy.testing import PolicyTestError, format_text, junit_xml, run_tests

    if not Path(args.directory).is_dir():
        print(f"govern policy test: {args.directory}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    try:
        report = run_tests(args.directory, db=args.db, select=args.select, kinds=args.kind, progress=progress,
                           coverage=args.coverage)
    except (PolicyLoadError, PolicyTestError) as err:
        print(f"govern policy test: {err}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "junit":
        text = junit_xml(report)
    elif args.format == "json":
        text = json.dumps(report.to_dict(), indent=2, default=str)
    else:
        text = format_text(report, verbose=args.verbose)
        if report.uncovered is not None:
            from govern.policy.coverage import format_uncovered

            text += "\n" + format_uncovered(report.uncovered)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(format_text(report).splitlines()[-1], file=sys.stderr)
    else:
        print(text)
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_explain(args) -> int:
    from govern.bundle import load_bundle
    from govern.policy.explain import explain, format_text

    bundle = load_bundle(args.policies)  # a PolicyLoadError is printed by govern.cli.main as one line, exit 2

    class _Named:  # principal_from_args looks principals up through .principal(id)
        @staticmethod
        def principal(pid):
            try:
                return bundle.principals[pid]
            except KeyError:
                raise KeyError(f"no principal {pid!r} in {bundle.path / 'principals.yaml'}") from None

    try:
        principal = principal_from_args(args, _Named)
    except (KeyError, ValueError) as err:
        print(f"govern explain: {err}", file=sys.stderr)
        return EXIT_ERROR
    check_dialect(args.dialect)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    key = os.environ.get(bundle.rules.settings.hash_key_env) or "(explain: no key needed to build SQL)"
    result = explain(bundle, sql, principal, dialect=args.dialect, hash_key=key)
    print(json.dumps(result.to_dict(), indent=2) if args.format == "json" else format_text(result))
    return EXIT_OK if result.allowed else EXIT_FAIL


def run(args: argparse.Namespace) -> int:
    """Dispatch parsed `govern policy ...` / `govern explain` arguments; returns the exit code."""
    try:
        return args.policy_func(args)
    except FileNotFoundError as err:
        print(f"govern {args.cmd}: {err}", file=sys.stderr)
        return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    from govern.cli.args import Parser

    parser = Parser(prog="govern")
    register(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
