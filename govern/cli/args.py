"""Argument helpers shared by the command groups, and the user errors they raise.

A user mistake (a missing file, a principal file that is not YAML, a bad date,
an unknown principal or dialect) raises ``CliError`` with one line naming the
file and line where there is one; ``govern.cli.main`` prints it and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json")


class CliError(Exception):
    """A mistake in what the user gave the command: printed as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error printed as one line (the usage itself is one `--help` away)."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = FORMATS, default: str = "text", help: str | None = None) -> None:
    """The one output-format flag every subcommand has."""
    p.add_argument("--format", choices=choices, default=default,
                   help=help or f"output format: {' | '.join(choices)} (default {default})")


def principal_from_file(path: str) -> Any:
    """A principal from a YAML/JSON file; a CliError naming ``file:line`` when it is not one."""
    from govern.bundle.yaml_source import validated
    from govern.principal import Principal

    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such principal file")
    if p.is_dir():
        raise CliError(f"{path}: is a directory, not a principal file")
    problems: list[str] = []
    principal, _ = validated(p, Principal, problems)
    if problems:
        where = str(p.parent / problems[0]) if p.parent != Path(".") else problems[0]
        raise CliError(where + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return principal


def principal_from_args(args, gov):
    """The principal a command runs as: --principal FILE, --as ID (named), or --as/--id ID with --role/--attr."""
    import yaml

    from govern.bundle.yaml_source import PolicyYamlLoader
    from govern.principal import Principal

    if args.principal:
        if args.role or args.attr:
            raise CliError("--role/--attr go with --as, not with --principal")
        return principal_from_file(args.principal)
    pid = getattr(args, "as_id", None) or getattr(args, "id", None)
    if not (args.role or args.attr):
        try:
            return gov.principal(pid)
        except KeyError as err:
            raise CliError(str(err.args[0]) if err.args else f"unknown principal {pid!r}") from None
    attributes = {}
    for item in args.attr:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--attr needs K=V, got {item!r}")
        try:
            attributes[key] = yaml.load(value, Loader=PolicyYamlLoader) if value else ""  # noqa: S506 - `NO` stays "NO"
        except yaml.YAMLError:
            raise CliError(f"--attr {key}: {value!r} is not a YAML value (quote it)") from None
    return Principal(pid, args.role, attributes)


def check_dialect(name: str) -> str:
    """A sqlglot dialect name, or a CliError listing the known ones."""
    from sqlglot.dialects.dialect import Dialect, Dialects

    known = sorted(d.value for d in Dialects if d.value)
    if name not in known:
        try:
            Dialect.get_or_raise(name)
        except ValueError:
            raise CliError(f"unknown dialect {name!r}; known: {', '.join(known)}") from None
    return name


def check_time(value: str | None, flag: str) -> str | None:
    """An ISO 8601 time (2026-12-07, 2026-12-07T10:00:00Z), or a CliError naming the flag."""
    if value is None:
        return None
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{flag} {value!r} is not an ISO 8601 time (e.g. 2026-12-07 or 2026-12-07T10:00:00Z)") from None
    return value
