"""`govern policy test --coverage`: the grants and rules no policy-test case exercised.

Like ``opa test --coverage``: a rule no case reaches is a rule nobody has shown to do what
it says. A case exercises

- a row filter, a column mask, an entity scope or a document rule when the rule id is among the
  policies its decision applied;
- a denied-columns rule when a case's principal holds one of its roles and its query read
  (or asked for) one of the columns;
- a `select` grant when a case's principal holds the role (itself or inherited) and its query read a
  column the grant's object matches; a `retrieve` grant when such a case retrieved from the
  collection; a `reveal` grant when such a case's text held PII of that type.

``uncovered(bundle, report)`` reads the cases' results (their ``detail``: policies, tables,
columns, roles, collection, PII types found), so it needs no second run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from govern.bundle.loader import GRANTS_FILE, RULES_FILE, Bundle
from govern.bundle.yaml_source import YamlProblem, load_yaml
from govern.policy.lint_refs import read_grant_lines

DOCUMENTS_FILE = "documents.yaml"
KINDS = ("grant", "row_filter", "column_mask", "denied_columns", "entity_scope", "document_rule")


@dataclass(frozen=True)
class Uncovered:
    kind: str  # one of KINDS
    id: str  # the rule id, or the grant line as written
    file: str
    line: int | None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict:
        return asdict(self)


def uncovered(bundle: Bundle, report) -> list[Uncovered]:
    """What no case of ``report`` (a govern.policy.testing.TestReport) exercised, in file order."""
    runs = [r.detail for r in report.results if r.status in ("pass", "fail") and r.detail]
    applied = {p for d in runs for p in d.get("policies") or ()}
    out: list[Uncovered] = []
    root = Path(bundle.path)
    out += _grants(root, runs)
    rules = _source(root / RULES_FILE)
    r = bundle.rules
    for section, kind, items in (("row_filters", "row_filter", r.row_filters), ("column_masks", "column_mask", r.column_masks),
                                 ("entity_scopes", "entity_scope", r.entity_scopes)):
        for i, rule in enumerate(items):
            if rule.id not in applied:
                out.append(Uncovered(kind, rule.id, RULES_FILE, _line(rules, (section, i))))
    for i, rule in enumerate(r.denied_columns):
        wanted = {f"{rule.table}.{c}".lower() for c in rule.columns}
        if not any(set(rule.roles) & set(d.get("roles") or ()) and wanted & {c.lower() for c in d.get("columns") or ()} for d in runs):
            out.append(Uncovered("denied_columns", rule.id, RULES_FILE, _line(rules, ("denied_columns", i))))
    documents = getattr(bundle, "documents", None)
    collections = getattr(documents, "collections", None) or {}
    docs = _source(root / DOCUMENTS_FILE) if collections else None
    for name, collection in collections.items():
        for i, rule in enumerate(collection.spec.rules):
            if rule.id not in applied:
                out.append(Uncovered("document_rule", f"{name}/{rule.id}", DOCUMENTS_FILE, _line(docs, ("collections", name, "rules", i))))
    return out


def _grants(root: Path, runs: list[dict]) -> list[Uncovered]:
    out = []
    for g in read_grant_lines(root / GRANTS_FILE):
        if g.fields[0] != "p" or len(g.fields) != 5:
            continue
        _, role, obj, act, _effect = g.fields
        holders = [d for d in runs if role in (d.get("roles") or ())]
        pattern = obj.lower()
        if act == "select":
            hit = any(fnmatchcase(c.lower(), pattern) for d in holders for c in d.get("columns") or ())
        elif act == "retrieve":
            hit = any(d.get("collection") and fnmatchcase(f"collection:{d['collection']}".lower(), pattern) for d in holders)
        elif act == "reveal":
            hit = any(fnmatchcase(f"pii:{t}".lower(), pattern) for d in holders for t, n in (d.get("pii_found") or {}).items() if n)
        else:
            hit = False
        if not hit:
            out.append(Uncovered("grant", ", ".join(g.fields), GRANTS_FILE, g.line))
    return out


def _source(path: Path):
    try:
        return load_yaml(path) if path.is_file() else None
    except (YamlProblem, OSError):
        return None


def _line(source, loc: tuple) -> int | None:
    return int(source.where(loc).rpartition(":")[2]) if source is not None else None


def format_uncovered(items: list[Uncovered]) -> str:
    if not items:
        return "coverage: every grant, row filter, mask, entity scope and document rule is exercised by a case"
    lines = [f"coverage: {len(items)} not exercised by any case:"]
    for kind in KINDS:
        for u in (u for u in items if u.kind == kind):
            lines.append(f"  {u.where}: {kind} {u.id}")
    return "\n".join(lines)
