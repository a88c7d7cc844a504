"""Role sets a principal can hold, for static reasoning about rules.

A principal's roles are expanded through the ``g`` hierarchy before any rule
is matched, so the role sets that matter are closures of sets of base roles.
``role_sets`` enumerates every distinct closure over the roles the bundle
names (exact up to ``FULL_ENUMERATION_LIMIT`` base roles, then singles and
pairs). A role the bundle does not name matches no rule and no grant, so it
adds nothing: the empty set stands for it.
"""

from __future__ import annotations

from itertools import combinations

from govern.bundle.loader import Bundle

FULL_ENUMERATION_LIMIT = 10


def known_roles(bundle: Bundle) -> set[str]:
    """Every role named in grants, rules and principals."""
    roles = set(bundle.grants.roles)
    rules = bundle.rules
    for rule in [*rules.row_filters, *rules.column_masks]:
        roles.update(rule.roles or ())
    for rule in rules.column_masks:
        roles.update(rule.except_roles)
    for rule in rules.denied_columns:
        roles.update(rule.roles)
    for principal in bundle.principals.values():
        roles.update(principal.roles)
    for rule in _extra_role_rules(bundle):
        roles.update(rule)
    return roles


def _extra_role_rules(bundle: Bundle):
    """Role lists of rule kinds added after this module (entity scopes): read defensively."""
    for name in ("entity_scopes",):
        for rule in getattr(bundle.rules, name, None) or ():
            roles = getattr(rule, "roles", None)
            if roles:
                yield roles


def role_sets(bundle: Bundle) -> list[frozenset[str]]:
    """Distinct expanded role sets a principal can hold, the empty set first."""
    base = sorted(known_roles(bundle))
    expand = bundle.grants.expand_roles
    if len(base) <= FULL_ENUMERATION_LIMIT:
        combos = (c for n in range(len(base) + 1) for c in combinations(base, n))
    else:
        combos = (c for n in range(3) for c in combinations(base, n))
    seen: dict[frozenset[str], None] = {}
    for combo in combos:
        seen.setdefault(expand(tuple(combo)) if combo else frozenset(), None)
    return list(seen)


def describe(roles: frozenset[str]) -> str:
    return "[" + ", ".join(sorted(roles)) + "]" if roles else "[] (no roles)"
