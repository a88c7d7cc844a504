"""Turn validated rule models into the indexed, parsed form the request path uses.

All SQL in rules is parsed here, once, at load; the request path only copies
and binds. Every problem is returned with its file and line, never raised one
at a time, so an author sees them all.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from govern.bundle.catalog import Catalog, Table
from govern.bundle.compiled import CompiledFilter, CompiledMask, TablePolicy, is_text_type
from govern.bundle.models import RulesFile
from govern.bundle.policy_sql import BUNDLE_FUNCTIONS, column_problems, guard_problems, mask_column_problems, parse_expression

Where = Callable[[tuple], str]  # YAML path -> "rules.yaml:12"


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
            problems.append(f"{where(loc + ('table',))}: unknown table {name!r} (not in the catalog)")
        return table

    for i, rule in enumerate(rules.row_filters):
        loc = ("row_filters", i)
        unique(rule.id, loc)
        table = table_of(rule.table, loc)
        predicate = _parse(rule.where, rules.expression_dialect, where(loc + ("where",)), problems)
        if table is None or predicate is None:
            continue
        found = _check_expression(predicate, table, catalog, allow_subqueries=True, dialect=rules.expression_dialect)
        problems += [f"{where(loc + ('where',))}: {p}" for p in found]
        if found:
            continue
        _qualify(predicate, table, catalog)
        policies.setdefault(table.name.lower(), TablePolicy()).filters.append(
            CompiledFilter(rule.id, table.name, _roles(rule.roles), rule.restrictive, predicate)
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
            expression = _parse(rule.expression, rules.expression_dialect, where(loc + ("expression",)), problems)
            if expression is None:
                continue
            found = _check_expression(expression, table, catalog, allow_subqueries=False, dialect=rules.expression_dialect)
            found += mask_column_problems(expression, column.name)
            problems += [f"{where(loc + ('expression',))}: {p}" for p in found]
            if found:
                continue
            _qualify(expression, table, catalog)
        policies.setdefault(table.name.lower(), TablePolicy()).masks.setdefault(column.name.lower(), []).append(
            CompiledMask(
                id=rule.id, table=table.name, column=column.name, kind=rule.mask,
                roles=_roles(rule.roles), except_roles=frozenset(rule.except_roles),
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
    from govern.bundle.entities import compile_entities  # imported here: it uses this module's helpers

    problems += compile_entities(rules, catalog, where, unique, policies)

    # pii.name_sources: catalog columns whose values govern masks as names (govern/pii/sources.py).
    from govern.pii.sources import check_name_sources

    problems += [
        f"{where(('pii', 'name_sources', i))}: pii.name_sources.{i}: {p}"
        for i, p in check_name_sources(rules.pii.name_sources, catalog)
    ]
    return policies, problems


def denied_column_grants(rules: RulesFile) -> list[list[str]]:
    """`denied_columns` as casbin deny lines: one mechanism decides column access."""
    return [["p", role, f"{r.table}.{c}".lower(), "select", "deny"] for r in rules.denied_columns for role in r.roles for c in r.columns]


def _roles(roles: list[str] | None) -> frozenset[str] | None:
    return None if roles is None else frozenset(roles)


def _parse(text: str, dialect: str, at: str, problems: list[str]) -> exp.Expression | None:
    expression, problem = parse_expression(text, dialect)
    if problem is not None:
        problems.append(f"{at}: {problem}")
    return expression


def _top_level_columns(expression: exp.Expression) -> list[exp.Column]:
    """Columns not inside a subquery (those refer to the rule's own table)."""
    return [c for c in expression.find_all(exp.Column) if c.find_ancestor(exp.Query) is None]


def _check_expression(expression: exp.Expression, table: Table, catalog: Catalog, allow_subqueries: bool,
                      dialect: str = "postgres") -> list[str]:
    problems = guard_problems(expression, dialect)
    if not allow_subqueries and any(expression.find_all(exp.Query)):
        problems.append("subqueries are not allowed here")
    problems += column_problems(expression, table, catalog)
    for ref in expression.find_all(exp.Table):
        if isinstance(ref.this, exp.Identifier) and catalog.table(ref.name, ref.db or None) is None:
            problems.append(f"unknown table {ref.sql()!r} in a lookup subquery (only catalog tables)")
    return problems


def _qualify(expression: exp.Expression, table: Table, catalog: Catalog) -> None:
    """Qualify the rule's own columns with the scanned table, quoted as the catalog spells it.

    Qualified names cannot be captured by a select-list alias (DuckDB lets WHERE
    see aliases), so the filter always reads the raw base column.
    """
    for col in _top_level_columns(expression):
        col.set("this", exp.to_identifier(table.column(col.name).name, quoted=True))
        col.set("table", exp.to_identifier(table.name, quoted=True))
    for ref in expression.find_all(exp.Table):
        looked_up = catalog.table(ref.name) if isinstance(ref.this, exp.Identifier) else None
        if looked_up is not None and looked_up.schema and not ref.db:
            ref.set("db", exp.to_identifier(looked_up.schema))
