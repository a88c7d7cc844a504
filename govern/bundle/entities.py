"""Compile ``entities`` and ``entity_scopes`` of rules.yaml at load.

Every scope becomes, for the entity's key table and for each member table, one
predicate over that table's row (a ``CompiledFilter`` inside an
``EntityBinding`` of the table's ``TablePolicy``):

* key table: the scope itself: ``where`` as written; ``lookup`` as
  ``id IN (SELECT customer_id FROM assignments WHERE ...)``; ``keys`` as
  ``id IN (:principal.customer_ids)``;
* member at path ``h1 .. hn``: a semi-join per hop,
  ``order_id IN (SELECT id FROM orders WHERE customer_id IN (<key set>))``,
  where the key set is ``SELECT id FROM customers WHERE <where>``, the lookup
  query, or the principal's key list.

Lookup subqueries name base tables, schema-qualified when the catalog has a
schema, and are built here from the policy text; the user's query never
reaches them (govern replaces only the user's own table references, and
renames user CTEs named like catalog tables).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from govern.bundle.catalog import Catalog, Table
from govern.bundle.compiled import CompiledFilter, EntityBinding, Hop, TablePolicy, role_set
from govern.bundle.entity_paths import parse_path, suggest_path
from govern.bundle.models import EntityScopeRule, RulesFile
from govern.bundle.policy_sql import check_expression, parse, qualify
from govern.bundle.yaml_source import Where
from govern.sql.binding import PRINCIPAL


@dataclass(frozen=True)
class EntityDef:
    name: str
    table: Table
    key: str
    members: tuple[tuple[Table, tuple[Hop, ...]], ...]


def compile_entities(rules: RulesFile, catalog: Catalog, where: Where, unique, policies: dict[str, TablePolicy]) -> list[str]:
    """Add the entity bindings of every scoped entity to ``policies``; return the problems found."""
    problems: list[str] = []
    entities = _entities(rules, catalog, where, problems)
    scopes: dict[str, list[tuple[EntityScopeRule, exp.Expression | list[exp.Expression] | None, exp.Expression]]] = {}
    for i, rule in enumerate(rules.entity_scopes):
        loc = ("entity_scopes", i)
        unique(rule.id, loc)
        entity = entities.get(rule.entity.lower())
        if entity is None:
            if rule.entity.lower() not in {e.name.lower() for e in rules.entities}:
                known = ", ".join(sorted(e.name for e in rules.entities)) or "none"
                problems.append(f"{where(loc + ('entity',))}: unknown entity {rule.entity!r} (entities: {known})")
            continue  # an entity with problems of its own: reported there
        compiled = _compile_scope(rule, entity, catalog, rules.expression_dialect, where, loc, problems)
        if compiled is not None:
            scopes.setdefault(entity.name.lower(), []).append((rule, *compiled))
    if problems:
        return problems
    for entity in entities.values():
        compiled = scopes.get(entity.name.lower())
        if not compiled:
            continue  # an entity without scopes governs nothing (like a table without row filters)
        targets = [(entity.table, ())] + list(entity.members)
        for table, path in targets:
            hops = tuple(table_ref(catalog.table(hop.target)) for hop in path)
            binding = EntityBinding(
                entity=entity.name, table=entity.table.name, key=entity.key, path=path,
                scopes=tuple(
                    CompiledFilter(rule.id, table.name, role_set(rule.roles), False,
                                   key_predicate.copy() if not path else member_predicate(path, hops, keyset))
                    for rule, keyset, key_predicate in compiled
                ),
                key_predicates=tuple(None if keyset is None else key_predicate for rule, keyset, key_predicate in compiled),
                hop_tables=hops,
            )
            policies.setdefault(table.name.lower(), TablePolicy()).entities.append(binding)
    return problems


def _entities(rules: RulesFile, catalog: Catalog, where: Where, problems: list[str]) -> dict[str, EntityDef]:
    out: dict[str, EntityDef] = {}
    seen: dict[str, int] = {}
    for i, spec in enumerate(rules.entities):
        loc = ("entities", i)
        before = len(problems)
        if spec.name.lower() in seen:
            problems.append(f"{where(loc + ('name',))}: entity {spec.name!r} is already defined at {where(('entities', seen[spec.name.lower()], 'name'))}")
        seen.setdefault(spec.name.lower(), i)
        table = catalog.table(spec.table)
        if table is None:
            problems.append(f"{where(loc + ('table',))}: unknown table {spec.table!r} (not in the catalog){catalog.did_you_mean(spec.table)}")
            continue
        key = _key(spec.key, table, where(loc + ("key",) if spec.key else loc + ("table",)), problems)
        if key is None:
            continue
        members: list[tuple[Table, tuple[Hop, ...]]] = []
        listed = {table.name.lower(): "the entity's key table"}
        for j, member in enumerate(spec.members):
            mloc = loc + ("members", j)
            mtable = catalog.table(member.table)
            if mtable is None:
                problems.append(f"{where(mloc + ('table',))}: unknown table {member.table!r} (not in the catalog){catalog.did_you_mean(member.table)}")
                continue
            if mtable.name.lower() in listed:
                problems.append(f"{where(mloc + ('table',))}: table {mtable.name!r} is already {listed[mtable.name.lower()]} of entity {spec.name!r}")
                continue
            listed[mtable.name.lower()] = "a member"
            if member.path is not None:
                path, found = parse_path(member.path, mtable, catalog)
                problems += [f"{where(mloc + ('path', k))}: {message}" for k, message in found]
                if path is not None and (path[-1].target.lower() != table.name.lower() or path[-1].target_column.lower() != key.lower()):
                    problems.append(f"{where(mloc + ('path', len(path) - 1))}: the path must end at the entity's key "
                                    f"{table.name}.{key}, not at {path[-1].target}.{path[-1].target_column}")
                    path = None
            else:
                path, why = suggest_path(catalog, mtable, table, key)
                if why:
                    problems.append(f"{where(mloc)}: member {mtable.name!r} of entity {spec.name!r}: {why}")
            if path is not None:
                members.append((mtable, path))
        if len(problems) == before:
            out[spec.name.lower()] = EntityDef(spec.name, table, key, tuple(members))
    return out


def _key(declared: str | None, table: Table, at: str, problems: list[str]) -> str | None:
    if declared is not None:
        column = table.column(declared)
        if column is None:
            problems.append(f"{at}: table {table.name!r} has no column {declared!r}")
            return None
        return column.name
    if len(table.primary_key) != 1:
        problems.append(f"{at}: table {table.name!r} has no single-column primary key in the catalog; name the entity's 'key'")
        return None
    column = table.column(table.primary_key[0])
    return column.name if column is not None else table.primary_key[0]


def _compile_scope(rule: EntityScopeRule, entity: EntityDef, catalog: Catalog, dialect: str, where: Where, loc: tuple,
                   problems: list[str]):
    """(key set, predicate on the key table), or None with problems recorded.

    The key set is a SELECT of keys, a list of placeholder expressions (``keys``),
    or None when the scope means every instance (``where: "TRUE"``).
    """
    table, key_column = entity.table, column_ref(entity.table.name, entity.key)
    if rule.where is not None:
        predicate = _checked(rule.where, table, catalog, dialect, where(loc + ("where",)), problems)
        if predicate is None:
            return None
        if isinstance(predicate, exp.Boolean) and predicate.this is True:
            return None, exp.true()  # every instance: no condition on any member either
        keyset = exp.Select(expressions=[key_column.copy()]).from_(table_ref(table), copy=False).where(predicate.copy(), copy=False)
        return keyset, predicate
    if rule.lookup is not None:
        lookup = catalog.table(rule.lookup.table)
        if lookup is None:
            problems.append(f"{where(loc + ('lookup', 'table'))}: unknown table {rule.lookup.table!r} (not in the catalog){catalog.did_you_mean(rule.lookup.table)}")
            return None
        column = lookup.column(rule.lookup.key)
        if column is None:
            problems.append(f"{where(loc + ('lookup', 'key'))}: table {lookup.name!r} has no column {rule.lookup.key!r}")
            return None
        predicate = _checked(rule.lookup.where, lookup, catalog, dialect, where(loc + ("lookup", "where")), problems)
        if predicate is None:
            return None
        keyset = exp.Select(expressions=[column_ref(lookup.name, column.name)]).from_(table_ref(lookup), copy=False).where(predicate, copy=False)
        return keyset, _in(key_column, keyset.copy())
    keys = [exp.Dot(this=exp.Placeholder(this=PRINCIPAL), expression=exp.to_identifier(rule.keys))]
    return keys, _in(key_column, [k.copy() for k in keys])


def _checked(text: str, table: Table, catalog: Catalog, dialect: str, at: str, problems: list[str]) -> exp.Expression | None:
    predicate = parse(text, dialect, at, problems)
    if predicate is None:
        return None
    found = check_expression(predicate, table, catalog, allow_subqueries=True)
    problems += [f"{at}: {p}" for p in found]
    if found:
        return None
    qualify(predicate, table, catalog)
    return predicate


def member_predicate(path: tuple[Hop, ...], hop_tables: tuple[exp.Table, ...], keyset) -> exp.Expression:
    """``h1.col IN (SELECT h1.target_col FROM h1.target WHERE h2.col IN (... <key set>))``."""
    if keyset is None:
        return exp.true()
    last = path[-1]
    predicate = _in(column_ref(last.table, last.column), keyset.copy() if isinstance(keyset, exp.Expression) else [k.copy() for k in keyset])
    for hop, target in reversed(list(zip(path[:-1], hop_tables[:-1]))):
        step = exp.Select(expressions=[column_ref(hop.target, hop.target_column)]).from_(
            target.copy(), copy=False).where(predicate, copy=False)
        predicate = _in(column_ref(hop.table, hop.column), step)
    return predicate


def combined_member_predicate(binding: EntityBinding, scopes: list[CompiledFilter]) -> exp.Expression | None:
    """Several scopes of one member table as one semi-join on a key set that ORs them, or None
    when they cannot be combined (a scope meaning every instance, or no key predicates)."""
    index = {id(s): i for i, s in enumerate(binding.scopes)}
    predicates = [binding.key_predicates[index[id(s)]] for s in scopes] if binding.key_predicates else []
    if not binding.path or len(predicates) < 2 or any(p is None for p in predicates):
        return None
    keyset = exp.Select(expressions=[column_ref(binding.table, binding.key)]).from_(
        binding.hop_tables[-1].copy(), copy=False).where(exp.or_(*(p.copy() for p in predicates), copy=False), copy=False)
    return member_predicate(binding.path, binding.hop_tables, keyset)


def _in(column: exp.Expression, keyset) -> exp.Expression:
    if isinstance(keyset, list):
        return exp.In(this=column.copy(), expressions=keyset)
    return exp.In(this=column.copy(), query=exp.Subquery(this=keyset))


def column_ref(table: str, column: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(column, quoted=True), table=exp.to_identifier(table, quoted=True))


def table_ref(table: Table) -> exp.Table:
    return exp.Table(this=exp.to_identifier(table.name, quoted=True),
                     db=exp.to_identifier(table.schema, quoted=True) if table.schema else None)
