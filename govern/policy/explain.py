"""`govern explain`: which policies were considered for one principal and one SQL, and why.

The explanation runs the Governor's own passes (parse, check_statement,
resolve, authorize) and builds each governed relation with the same
``build_template`` / ``instantiate`` functions the rewrite pass uses; only the
inputs are annotated: each row filter's predicate is wrapped in parentheses
carrying a ``/* row filter ID */`` comment, and each masked projection carries
a ``/* mask ID */`` comment. So the annotated SQL is the governed SQL, plus
comments and parentheses, and ``governed_sql`` is exactly what
``Governor.check_sql`` returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from sqlglot import exp

from govern.bundle.compiled import TablePolicy
from govern.bundle.loader import Bundle
from govern.errors import Denied
from govern.principal import Principal
from govern.sql.decision import SqlContext
from govern.sql.passes import PASSES, authorize, cap_rows, check_statement, emit, parse, resolve, verify_output
from govern.sql.relation import build_template, instantiate, row_predicate
from govern.sql.passes.rewrite import rewrite, table_classification, table_plan

STAGES = (("parse", parse), ("check_statement", check_statement), ("resolve", resolve), ("authorize", authorize))


@dataclass
class Considered:
    """One policy (grant, row filter, mask, denied column, entity scope) looked at for the request."""

    kind: str  # grant | row_filter | mask | denied_columns | entity_scope | limit
    id: str
    table: str | None
    applied: bool
    why: str
    column: str | None = None
    detail: str | None = None


@dataclass
class Explanation:
    principal: dict
    roles: list[str]
    sql: str
    dialect: str
    allowed: bool
    reasons: list[str]
    denied_at: str | None
    tables: list[str]
    considered: list[Considered] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    governed_sql: str | None = None
    annotated_sql: str | None = None
    bundle_hash: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def explain(bundle: Bundle, sql: str, principal: Principal | dict, dialect: str = "duckdb", hash_key: str | None = None) -> Explanation:
    principal = principal if isinstance(principal, Principal) else Principal.model_validate(principal)
    roles = bundle.grants.expand_roles(tuple(principal.roles))
    ctx = SqlContext(sql=sql, principal=principal, dialect=dialect, bundle=bundle, hash_key=hash_key, roles=roles)
    out = Explanation(principal=principal.summary() | {"attributes": dict(principal.attributes)}, roles=sorted(roles), sql=sql,
                      dialect=dialect, allowed=False, reasons=[], denied_at=None, tables=[], bundle_hash=bundle.content_hash)
    for name, step in STAGES:
        try:
            step(ctx)
        except Denied as denied:
            out.reasons, out.denied_at = denied.reasons, name
            out.tables = list(ctx.tables)
            out.considered = _considered(bundle, ctx, roles, principal)
            return out
    out.tables = list(ctx.tables)
    out.considered = _considered(bundle, ctx, roles, principal)

    # The real governed SQL: the remaining passes on a copy of the context.
    real = SqlContext(sql=sql, principal=principal, dialect=dialect, bundle=bundle, hash_key=hash_key, roles=roles)
    try:
        for step in PASSES:
            if step is not verify_output:
                step(real)
    except Denied as denied:
        out.reasons, out.denied_at = denied.reasons, "rewrite"
        return out
    out.allowed, out.governed_sql, out.applied = True, real.governed_sql, list(real.policies)

    # The annotated SQL: the same templates, built from commented inputs.
    for ref in ctx.references:
        table = ref.table
        policy = bundle.table_policy(table.name)
        access = bundle.grants.table_access(roles, table)
        classified = table_classification(ctx, table)
        template = build_template(table, access, _annotated(policy), roles, dialect, table_plan(ctx, table), classified)
        _comment_masks(template.select, policy, roles, access.permitted, classified)
        alias = ref.node.args.get("alias") or exp.TableAlias(this=ref.node.this)
        relation = instantiate(template, principal, alias)
        relation.add_comments([_relation_comment(table.name, access.permitted, table, policy, roles)])
        ref.node.replace(relation)
    cap_rows(ctx)
    out.annotated_sql = ctx.tree.sql(dialect=dialect, pretty=True, comments=True)
    return out


def _safe(text: str) -> str:
    return text.replace("*/", "* /").replace("/*", "/ *")


def _annotated(policy: TablePolicy) -> TablePolicy:
    """A copy of the table's policy whose filter and scope predicates carry their rule ids as comments."""
    filters = [replace(f, predicate=_commented(f.predicate, f"{'restrictive' if f.restrictive else 'permissive'} row filter {f.id}"))
               for f in policy.filters]
    entities = []
    for binding in getattr(policy, "entities", None) or ():
        via = f" via {' -> '.join(str(h) for h in binding.path)}" if binding.path else ""
        scopes = tuple(s if _is_true(s.predicate) else replace(s, predicate=_commented(s.predicate, f"entity scope {s.id} ({binding.entity}{via})"))
                       for s in binding.scopes)
        entities.append(replace(binding, scopes=scopes))
    kwargs = {"filters": filters}
    if hasattr(policy, "entities"):
        kwargs["entities"] = entities
    return replace(policy, **kwargs)


def _commented(predicate: exp.Expression, comment: str) -> exp.Expression:
    wrapped = exp.Paren(this=predicate.copy())
    wrapped.add_comments([_safe(comment)])
    return wrapped


def _is_true(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _comment_masks(select: exp.Expression, policy: TablePolicy, roles: frozenset[str], permitted,
                   classified: dict | None = None) -> None:
    applied = {}
    for name in permitted:
        mask = next((m for m in policy.masks.get(name.lower(), ()) if m.applies_to(roles)), None)
        mask = mask or (classified or {}).get(name.lower())
        if mask is not None:
            applied[name.lower()] = mask
    for sel in select.find_all(exp.Select):
        for projection in sel.expressions:
            if isinstance(projection, exp.Alias) and projection.alias.lower() in applied:
                mask = applied[projection.alias.lower()]
                if mask.label is not None:  # from the catalog's classification, not a rule
                    note = f"mask {mask.id}: classified pii:{mask.label}, no reveal grant ({mask.kind})"
                else:
                    note = f"mask {mask.id} ({mask.kind})"
                projection.add_comments([_safe(note)])


def _relation_comment(name: str, permitted, table, policy: TablePolicy, roles: frozenset[str]) -> str:
    _, filters = row_predicate(policy, roles)
    hidden = len(table.columns) - len(permitted)
    parts = [f"governed {name}: {len(permitted)}/{len(table.columns)} columns granted" + (f" ({hidden} hidden)" if hidden else "")]
    if not policy.filters:
        parts.append("not row-governed")
    elif not any(not f.restrictive for f in filters):
        parts.append("row-governed, no permissive filter matches: no rows")
    return _safe("; ".join(parts))


def _considered(bundle: Bundle, ctx: SqlContext, roles: frozenset[str], principal: Principal) -> list[Considered]:
    out: list[Considered] = []
    held = sorted(roles)
    seen: set[str] = set()
    wheres = {r.id: r.where for r in bundle.rules.row_filters}
    for ref in ctx.references:
        table = ref.table
        if table is None or table.name.lower() in seen:
            continue
        seen.add(table.name.lower())
        access = bundle.grants.table_access(roles, table)
        denied = [c.name for c in table.columns if c.name.lower() in access.denied]
        out.append(Considered("grant", f"grants.csv:{table.name}", table.name, access.visible,
                              f"roles {held} may select {len(access.permitted)} of {len(table.columns)} columns"
                              + (f"; not granted: {', '.join(denied)}" if denied else "")))
        policy = bundle.table_policy(table.name)
        if not policy.filters:
            out.append(Considered("row_filter", "(none)", table.name, False, "the table has no row filter: the grant alone decides which rows"))
        for f in policy.filters:
            kind = "restrictive" if f.restrictive else "permissive"
            if f.applies_to(roles):
                why = "applies to everyone (no roles)" if f.roles is None else f"applies: the principal holds {sorted(roles & f.roles)}"
                missing = [n for _, n in _placeholders(f.predicate) if not principal.has(n)]
                if missing:
                    why += f"; the principal lacks attribute(s) {missing}, so the query is denied"
            else:
                why = f"does not apply: needs one of {sorted(f.roles)}, the principal holds {held}"
            out.append(Considered("row_filter", f.id, table.name, f.applies_to(roles), why, detail=f"{kind}: {wheres.get(f.id, f.predicate.sql())}"))
        if policy.filters and not any(f.applies_to(roles) and not f.restrictive for f in policy.filters):
            out.append(Considered("row_filter", "(default deny)", table.name, True,
                                  "row-governed table and no permissive filter applies: the principal sees no rows (WHERE FALSE)"))
        for column in table.columns:
            rules = policy.masks.get(column.name.lower(), [])
            winner = None
            for m in rules:
                if column.name not in access.permitted:
                    out.append(Considered("mask", m.id, table.name, False, "column not granted to the principal: never shown, mask not needed", column=column.name, detail=m.kind))
                    continue
                if winner is not None:
                    why = f"shadowed: {winner.id!r} comes first and applies (the first matching mask wins)" if m.applies_to(roles) else _mask_miss(m, roles)
                    out.append(Considered("mask", m.id, table.name, False, why, column=column.name, detail=m.kind))
                elif m.applies_to(roles):
                    winner = m
                    why = "applies to everyone" if m.roles is None else f"applies: the principal holds {sorted(roles & m.roles)}"
                    if m.except_roles:
                        why += f" and none of the excepted roles {sorted(m.except_roles)}"
                    out.append(Considered("mask", m.id, table.name, True, why, column=column.name, detail=m.kind))
                else:
                    out.append(Considered("mask", m.id, table.name, False, _mask_miss(m, roles), column=column.name, detail=m.kind))
        for rule in bundle.rules.denied_columns:
            if rule.table.lower() == table.name.lower():
                hits = sorted(roles & set(rule.roles))
                out.append(Considered("denied_columns", rule.id, table.name, bool(hits),
                                      f"denies {rule.columns} to the principal (holds {hits}); deny overrides any allow" if hits
                                      else f"does not apply: needs one of {rule.roles}", detail=", ".join(rule.columns)))
        out += _entity_scopes(bundle, table.name, roles)
    limit = bundle.rules.limits.max_rows
    out.append(Considered("limit", "limits.max_rows", None, limit is not None, f"every governed query is capped at {limit} rows" if limit else "no row cap"))
    return out


def _mask_miss(m, roles: frozenset[str]) -> str:
    if roles & m.except_roles:
        return f"does not apply: the principal holds excepted role(s) {sorted(roles & m.except_roles)}"
    return f"does not apply: needs one of {sorted(m.roles or ())}, the principal holds {sorted(roles)}"


def _placeholders(expression):
    from govern.sql.binding import principal_placeholders

    return principal_placeholders(expression)


def _entity_scopes(bundle: Bundle, table_name: str, roles: frozenset[str]) -> list[Considered]:
    """Entity scopes bound to the table (govern.entities compiles them into TablePolicy.entities)."""
    out = []
    for binding in getattr(bundle.table_policy(table_name), "entities", None) or ():
        via = f" via {' -> '.join(str(h) for h in binding.path)}" if binding.path else " (key table)"
        applicable = [s for s in binding.scopes if s.applies_to(roles)]
        for s in binding.scopes:
            if s.applies_to(roles):
                who = "everyone" if s.roles is None else f"the principal holds {sorted(roles & s.roles)}"
                why = f"applies ({who}): rows limited to the {binding.entity} instances it allows{via}"
                if _is_true(s.predicate):
                    why = f"applies ({who}): every {binding.entity} instance (TRUE), no condition added"
            else:
                why = f"does not apply: needs one of {sorted(s.roles or ())}, the principal holds {sorted(roles)}"
            out.append(Considered("entity_scope", s.id, table_name, s.applies_to(roles), why, detail=f"entity {binding.entity}{via}"))
        if not applicable:
            out.append(Considered("entity_scope", f"(default deny: {binding.entity})", table_name, True,
                                  f"no scope of entity {binding.entity!r} applies to the principal: no rows (WHERE FALSE)"))
    return out


def format_text(e: Explanation) -> str:
    lines = [f"principal {e.principal['id']} roles {e.roles} attributes {e.principal.get('attributes', {})}",
             f"decision: {'ALLOWED (rewritten)' if e.allowed else 'DENIED'}" + (f" at {e.denied_at}" if e.denied_at else "")]
    lines += [f"  reason: {r}" for r in e.reasons]
    lines.append("policies considered:")
    for c in e.considered:
        mark = "APPLIED" if c.applied else "skipped"
        target = f"{c.table}.{c.column}" if c.column else (c.table or "*")
        detail = f" [{c.detail}]" if c.detail else ""
        lines.append(f"  {mark:7} {c.kind:14} {c.id} on {target}{detail}\n          {c.why}")
    if e.applied:
        lines.append(f"applied, in order: {', '.join(e.applied)}")
    if e.annotated_sql:
        lines.append("governed SQL (annotated):")
        lines.append(e.annotated_sql)
    return "\n".join(lines)
