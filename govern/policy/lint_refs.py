"""Lint checks on names: roles, principal attributes and bundle file names.

A name that matches nothing is not an error to the loader (a role nobody holds
is legal), but it is usually a typo, and a typo in a deny or a restrictive rule
silently drops it. Each check is one function ``(bundle, root) -> findings``;
``read_grant_lines`` reads grants.csv with line numbers for them and for lint.py.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from govern.bundle.loader import CATALOG_FILE, GRANTS_FILE, MODEL_FILE, PRINCIPALS_FILE, RULES_FILE, Bundle
from govern.bundle.policy_sql import parse_expression
from govern.bundle.yaml_source import YamlProblem, YamlSource, load_yaml
from govern.policy.findings import Finding
from govern.sql.binding import principal_placeholders

DOCUMENTS_FILE = "documents.yaml"
BUNDLE_FILES = (MODEL_FILE, GRANTS_FILE, CATALOG_FILE, RULES_FILE, PRINCIPALS_FILE, DOCUMENTS_FILE, "identity.yaml")
POLICY_SUFFIXES = (".yaml", ".yml", ".csv", ".conf")


@dataclass(frozen=True)
class Ref:
    """One mention of a name: where it is and which rule holds it."""

    name: str
    file: str
    line: int | None
    rule: str | None = None


# ---------------------------------------------------------------- collecting mentions


@dataclass(frozen=True)
class GrantLine:
    line: int
    fields: tuple[str, ...]


def read_grant_lines(path: Path) -> list[GrantLine]:
    """grants.csv lines with their line numbers (the loader keeps only the fields)."""
    out = []
    if not path.is_file():
        return out
    for lineno, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = tuple(f.strip() for f in next(csv.reader(io.StringIO(stripped), skipinitialspace=True)))
        out.append(GrantLine(lineno, fields))
    return out


def _source(root: Path, name: str) -> YamlSource | None:
    try:
        return load_yaml(root / name) if (root / name).is_file() else None
    except (YamlProblem, OSError):
        return None


def _at(source: YamlSource | None, file: str, loc: tuple) -> int | None:
    return int(source.where(loc).rpartition(":")[2]) if source is not None else None


def grant_role_refs(root: Path) -> list[Ref]:
    refs = []
    for g in read_grant_lines(root / GRANTS_FILE):
        if g.fields[0] == "p" and len(g.fields) == 5:
            refs.append(Ref(g.fields[1], GRANTS_FILE, g.line))
        elif g.fields[0] == "g" and len(g.fields) == 3:
            refs += [Ref(g.fields[1], GRANTS_FILE, g.line), Ref(g.fields[2], GRANTS_FILE, g.line)]
    return refs


def rule_role_refs(bundle: Bundle, root: Path) -> list[Ref]:
    """Roles named by rules.yaml and documents.yaml rules (roles, except_roles)."""
    src = _source(root, RULES_FILE)
    refs = []
    r = bundle.rules
    for section, rules in (("row_filters", r.row_filters), ("column_masks", r.column_masks),
                           ("denied_columns", r.denied_columns), ("entity_scopes", r.entity_scopes)):
        for i, rule in enumerate(rules):
            for key in ("roles", "except_roles"):
                for j, role in enumerate(getattr(rule, key, None) or ()):
                    refs.append(Ref(role, RULES_FILE, _at(src, RULES_FILE, (section, i, key, j)), rule.id))
    docs = _source(root, DOCUMENTS_FILE)
    for name, collection in _collections(bundle):
        for i, rule in enumerate(collection.spec.rules):
            for j, role in enumerate(rule.roles or ()):
                refs.append(Ref(role, DOCUMENTS_FILE, _at(docs, DOCUMENTS_FILE, ("collections", name, "rules", i, "roles", j)), rule.id))
    return refs


def _collections(bundle: Bundle):
    documents = getattr(bundle, "documents", None)
    return list((getattr(documents, "collections", None) or {}).items())


def attribute_refs(bundle: Bundle, root: Path) -> list[Ref]:
    """`:principal.NAME` attributes read by row filters, mask expressions, entity scopes and document rules."""
    src = _source(root, RULES_FILE)
    r = bundle.rules
    texts: list[tuple[str, tuple, str]] = [(f.where, ("row_filters", i, "where"), f.id) for i, f in enumerate(r.row_filters)]
    texts += [(m.expression, ("column_masks", i, "expression"), m.id) for i, m in enumerate(r.column_masks) if m.expression]
    refs = []
    for i, s in enumerate(r.entity_scopes):
        if s.where:
            texts.append((s.where, ("entity_scopes", i, "where"), s.id))
        if s.lookup is not None:
            texts.append((s.lookup.where, ("entity_scopes", i, "lookup", "where"), s.id))
        if s.keys:
            refs.append(Ref(s.keys, RULES_FILE, _at(src, RULES_FILE, ("entity_scopes", i, "keys")), s.id))
    for text, loc, rule_id in texts:
        expression, _ = parse_expression(text, r.expression_dialect)
        for _, name in principal_placeholders(expression) if expression is not None else ():
            refs.append(Ref(name, RULES_FILE, _at(src, RULES_FILE, loc), rule_id))
    docs = _source(root, DOCUMENTS_FILE)
    for name, collection in _collections(bundle):
        by_id = {i: rule for i, rule in enumerate(collection.spec.rules)}
        compiled = {c.id: c for c in collection.rules}
        for i, rule in by_id.items():
            for attribute in sorted(getattr(compiled.get(rule.id), "attributes", ())):
                refs.append(Ref(attribute, DOCUMENTS_FILE, _at(docs, DOCUMENTS_FILE, ("collections", name, "rules", i, "where")), rule.id))
    return refs


# ---------------------------------------------------------------- checks


def unknown_roles(bundle: Bundle, root: Path) -> list[Finding]:
    """A rule's role that no line of grants.csv names: the rule never matches (a deny or restriction is dropped)."""
    granted = {ref.name for ref in grant_role_refs(root)}
    findings = []
    for ref in rule_role_refs(bundle, root):
        if ref.name not in granted:
            hint = _did_you_mean(ref.name, granted)
            findings.append(Finding("unknown-role", "error",
                                    f"rule {ref.rule!r} names role {ref.name!r}, which no line of grants.csv has{hint}; the rule never matches it",
                                    ref.file, ref.line, ref.rule))
    return findings


def roles_not_held(bundle: Bundle, root: Path) -> list[Finding]:
    """Roles no principal holds, itself or through the hierarchy: an error when it looks like a typo of one that is."""
    if not bundle.principals:
        return []  # no named principals: who holds what is decided by the application
    held = set().union(*(bundle.grants.expand_roles(tuple(p.roles)) for p in bundle.principals.values()))
    granted = {ref.name for ref in grant_role_refs(root)}
    findings, seen = [], set()
    for ref in grant_role_refs(root) + rule_role_refs(bundle, root):
        if ref.name in held or ref.name in seen or (ref.file != GRANTS_FILE and ref.name not in granted):
            continue  # held, reported already, or an unknown-role finding
        seen.add(ref.name)
        close = _closest(ref.name, held)
        if close is not None:
            findings.append(Finding("unknown-role", "error",
                                    f"role {ref.name!r} is held by no principal and looks like a typo of {close!r}; what names it never applies to them",
                                    ref.file, ref.line, ref.rule))
        else:
            findings.append(Finding("role-not-held", "warning",
                                    f"role {ref.name!r} is held by no principal in principals.yaml, directly or through `g` lines (a typo, or a role only the application assigns?)",
                                    ref.file, ref.line, ref.rule))
    return findings


def unknown_attributes(bundle: Bundle, root: Path) -> list[Finding]:
    """`:principal.NAME` that the attribute schema does not declare (or, without one, no principal has):
    every principal the rule applies to is denied."""
    schema = getattr(bundle, "principal_schema", None)
    if schema is not None:
        have, where = schema.names(), "the attribute schema in principals.yaml does not declare"
    elif bundle.principals:
        have, where = {"id"} | {name for p in bundle.principals.values() for name in p.attributes}, "no principal in principals.yaml has"
    else:
        return []
    findings, seen = [], set()
    for ref in attribute_refs(bundle, root):
        if ref.name in have or (ref.name, ref.rule) in seen:
            continue
        seen.add((ref.name, ref.rule))
        findings.append(Finding("unknown-attribute", "error",
                                f"rule {ref.rule!r} reads principal attribute {ref.name!r}, which {where}"
                                f"{_did_you_mean(ref.name, have)}; it denies every principal it applies to",
                                ref.file, ref.line, ref.rule))
    return findings


def unknown_hierarchy_roles(bundle: Bundle, root: Path) -> list[Finding]:
    """A role in a `g` line that exists nowhere else (no `p` line, no other `g` line, no rule, no principal):
    an inherited role nothing grants, or a member role that looks like a typo of a known one."""
    lines = read_grant_lines(root / GRANTS_FILE)
    elsewhere: dict[str, int] = {}
    for ref in grant_role_refs(root) + rule_role_refs(bundle, root):
        elsewhere[ref.name] = elsewhere.get(ref.name, 0) + 1
    for p in bundle.principals.values():
        for role in p.roles:
            elsewhere[role] = elsewhere.get(role, 0) + 1
    known = {name for name, n in elsewhere.items() if n > 1}
    findings = []
    for g in lines:
        if g.fields[0] != "g" or len(g.fields) != 3:
            continue
        member, inherited = g.fields[1], g.fields[2]
        if elsewhere.get(inherited, 0) <= 1:
            findings.append(Finding("unknown-role", "error",
                                    f"`g` line: {member!r} inherits role {inherited!r}, which exists nowhere else (no grant, rule "
                                    f"or principal names it){did_you_mean(inherited, known)}; the line grants nothing",
                                    GRANTS_FILE, g.line))
        if elsewhere.get(member, 0) <= 1:
            close = _closest(member, known)
            if close is not None:
                findings.append(Finding("unknown-role", "error",
                                        f"`g` line: role {member!r} exists nowhere else and looks like a typo (did you mean {close!r}?)",
                                        GRANTS_FILE, g.line))
    return findings


def unexpected_files(root: Path) -> list[Finding]:
    """Files the loader does not read: a misnamed bundle file is silently ignored."""
    findings = []
    for path in sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.name in BUNDLE_FILES:
            continue
        close = _closest(path.name.lower(), BUNDLE_FILES)
        if close is not None:
            missing = not (root / close).is_file()
            findings.append(Finding("unexpected-file", "error" if missing else "warning",
                                    f"{path.name} is not read by the loader: did you mean {close}?"
                                    + (f" ({close} is missing, so what this file says does not apply)" if missing else ""),
                                    path.name))
        elif path.suffix.lower() in POLICY_SUFFIXES:
            findings.append(Finding("unexpected-file", "warning",
                                    f"{path.name} is not a bundle file (expected {', '.join(BUNDLE_FILES)}); the loader ignores it", path.name))
    return findings


# ---------------------------------------------------------------- typo distance


def _closest(name: str, candidates) -> str | None:
    """The candidate within a small edit distance of ``name`` (a likely typo), if any."""
    limit = 1 if len(name) <= 4 else 2
    best = min(((_distance(name, c), c) for c in candidates if c != name), default=None)
    return best[1] if best is not None and best[0] <= limit else None


def did_you_mean(name: str, candidates) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or `` (typo?)``."""
    return _did_you_mean(name, candidates)


def _did_you_mean(name: str, candidates) -> str:
    close = _closest(name, candidates)
    return f" (did you mean {close!r}?)" if close else " (typo?)"


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
