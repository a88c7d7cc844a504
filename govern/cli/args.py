"""Argument helpers shared by the command groups."""

from __future__ import annotations

from pathlib import Path

import yaml

from govern.principal import Principal

EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2


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
