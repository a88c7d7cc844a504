"""Turn validated rule models into the indexed, parsed form the request path uses.

All SQL in rules is parsed here, once, at load; the request path only copies
and binds. Every problem is returned with its file and line, never raised one
at a time, so an author sees them all.
"""

from __future__ import annotations

from govern.bundle.catalog import Catalog, Table
from govern.bundle.compiled import CompiledFilter, CompiledMask, TablePolicy, is_text_type, role_set
from govern.bundle.entities import compile_entities
from govern.bundle.models import RulesFile
from govern.bundle.name_sources import check_name_sources
from govern.bundle.policy_sql import BUNDLE_FUNCTIONS, check_expression, mask_column_problems, parse, qualify
from govern.bundle.yaml_source import Where


def compile_rules(rules: RulesFile, catalog: Catalog, where: Where) -> tuple[dict[str, TablePolicy], list[str]]:
    """Per-table policies keyed by lower-case table name, and the problems found."""
    token = BUNDLE_FUNCTIONS.set(frozenset(f.lower() for f in rules.limits.functions))
    try:
        return _compile_rules(rules, catalog, where)
    finally:
        BUNDLE_FUNCTIONS.reset(token)


def _compile_rules(rules: RulesFile, catalog: Catalog, where: Where) -> tuple[dict[str, TablePolicy], list[str]]:
    problems: list[str] = []
    policies: dict[str, TablePolicy] = {}
    seen_ids: dict[str, tuple] = {}

    def unique(rule_id: str, loc: tuple) -> None:
        if rule_id in seen_ids:
            problems.append(f"{where(loc + ('id',))}: rule id {rule_id!r} is already used at {where(seen_ids[rule_id] + ('id',))}")
        else:
            seen_ids[rule_id] = loc

    def table_of(name: str, loc: tuple) -> Table | None:
        table = catalog.table(name)
        if table is None:
            problems.append(f"{where(loc + ('table',))}: unknown table {name!r} (not in the catalog){catalog.did_you_mean(name)}")
        return table

    for i, rule in enumerate(rules.row_filters):
        loc = ("row_filters", i)
        unique(rule.id, loc)
        table = table_of(rule.table, loc)
        predicate = parse(rule.where, rules.expression_dialect, where(loc + ("where",)), problems)
        if table is None or predicate is None:
            continue
        found = check_expression(predicate, table, catalog, allow_subqueries=True, dialect=rules.expression_dialect)
        problems += [f"{where(loc + ('where',))}: {p}" for p in found]
        if found:
            continue
        qualify(predicate, table, catalog)
        policies.setdefault(table.name.lower(), TablePolicy()).filters.append(
            CompiledFilter(rule.id, table.name, role_set(rule.roles), rule.restrictive, predicate)
        )

    for i, rule in enumerate(rules.column_masks):
        loc = ("column_masks", i)
        unique(rule.id, loc)
        table = table_of(rule.table, loc)
        if table is None:
            continue
        column = table.column(rule.column)
        if column is None:
            problems.append(f"{where(loc + ('column',))}: table {table.name!r} has no column {rule.column!r}")
            continue
        if rule.mask == "redact" and not is_text_type(column.type):
            problems.append(f"{where(loc + ('mask',))}: 'redact' needs a text column; {table.name}.{column.name} is {column.type} (use 'null')")
        expression = None
        if rule.mask == "expression":
            expression = parse(rule.expression, rules.expression_dialect, where(loc + ("expression",)), problems)
            if expression is None:
                continue
            found = check_expression(expression, table, catalog, allow_subqueries=False, dialect=rules.expression_dialect)
            found += mask_column_problems(expression, column.name)
            problems += [f"{where(loc + ('expression',))}: {p}" for p in found]
            if found:
                continue
            qualify(expression, table, catalog)
        policies.setdefault(table.name.lower(), TablePolicy()).masks.setdefault(column.name.lower(), []).append(
            CompiledMask(
                id=rule.id, table=table.name, column=column.name, kind=rule.mask,
                roles=role_set(rule.roles), except_roles=frozenset(rule.except_roles),
                keep_last=rule.keep_last, replacement=rule.replacement, expression=expression,
            )
        )

    for i, rule in enumerate(rules.denied_columns):
        loc = ("denied_columns", i)
        unique(rule.id, loc)
        table = table_of(rule.table, loc)
        if table is not None:
            for j, name in enumerate(rule.columns):
                if table.column(name) is None:
                    problems.append(f"{where(loc + ('columns', j))}: table {table.name!r} has no column {name!r}")

    # Entities and entity scopes: compiled into per-table bindings (govern/bundle/entities.py).
    problems += compile_entities(rules, catalog, where, unique, policies)

    # pii.name_sources: catalog columns whose values govern masks as names (govern/pii/sources.py).
    problems += [
        f"{where(('pii', 'name_sources', i))}: pii.name_sources.{i}: {p}"
        for i, p in check_name_sources(rules.pii.name_sources, catalog)
    ]
    return policies, problems


def denied_column_grants(rules: RulesFile) -> list[list[str]]:
    """`denied_columns` as casbin deny lines: one mechanism decides column access."""
    return [["p", role, f"{r.table}.{c}".lower(), "select", "deny"] for r in rules.denied_columns for role in r.roles for c in r.columns]
