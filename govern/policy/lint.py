"""`govern policy lint DIR`: find mistakes in a bundle before it is deployed.

Every finding has a code, a severity, the file and line it is about, and a
message that says what to change. Codes:

==========================  ========  ===============================================
code                        severity  meaning
==========================  ========  ===============================================
load-error                  error     the bundle does not load (schema, YAML, SQL, ...)
unknown-table               error     grants.csv names a table the catalog lacks
unknown-column              error     grants.csv names a column the table lacks
unknown-role                error     a rule names a role no grant or hierarchy line has, or a role no
                                      principal holds looks like a typo of one that is held, or a `g` line
                                      inherits a role that exists nowhere else (did-you-mean)
unknown-attribute           error     a rule reads `:principal.NAME` that the attribute schema does not declare
                                      (without a schema: that no principal in principals.yaml has)
unexpected-file             error     a misnamed bundle file (documents.yml, principal.yaml) whose real
                                      name is missing (warning when it is present, or another policy-like file)
lint-crash                  error     a lint check failed (reported, never raised)
unknown-entity              error     an entity scope names an undefined entity
unknown-collection          error     a grant names a collection documents.yaml lacks (did-you-mean)
unknown-pii-type            error     `pii:TYPE, reveal` or a catalog `pii:` class for a type the PII settings do not detect
never-applies               warning   no principal can ever match the rule
shadowed-mask               warning   earlier mask rules match every principal this one matches
mask-on-denied-column       warning   whenever the mask matches, the column is not selectable
redundant-filter            warning   a permissive filter is covered by a `TRUE` one, or duplicated
unmasked-pii                warning   a PII column is readable raw by roles without `pii:TYPE, reveal`
partial-reveals-most        warning   a partial mask keeps more than half of a typical value of its column's PII type
role-without-grants         warning   a role (in hierarchy, rules or principals) is granted nothing
role-not-held               warning   a role in grants or rules that no principal holds, itself or inherited
no-rows-for-role            info      a role may select from a row-governed table but no permissive filter matches it
==========================  ========  ===============================================

Exit codes of the command: 0 no errors (and no warnings with ``--strict``);
1 findings at or above the failing severity; 2 usage error (no such directory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from govern.bundle.loader import CATALOG_FILE, GRANTS_FILE, PRINCIPALS_FILE, RULES_FILE, Bundle, load_bundle
from govern.bundle.yaml_source import YamlProblem, load_yaml
from govern.errors import PolicyLoadError
from govern.policy import lint_refs
from govern.policy.findings import Finding
from govern.policy.lint_refs import did_you_mean, read_grant_lines, unexpected_files
from govern.policy.roles import describe, known_roles, role_sets

SEVERITIES = ("error", "warning", "info")

# A short but typical value of each PII type (length, example): what `partial-reveals-most`
# measures a partial mask's keep_last against.
TYPICAL_PII_LENGTH: dict[str, tuple[int, str]] = {
    "PERSON": (11, "Omar Haddad"),
    "EMAIL_ADDRESS": (18, "omar.h@example.com"),
    "PHONE_NUMBER": (12, "415-555-0102"),
    "US_SSN": (11, "401-73-2894"),
    "CREDIT_CARD": (16, "4111111111111111"),
    "IBAN_CODE": (22, "DE89370400440532013000"),
    "IP_ADDRESS": (11, "192.168.1.7"),
    "URL": (16, "www.example.com/"),
    "STREET_ADDRESS": (16, "12 Market Street"),
}
_PROBLEM = re.compile(r"^(?P<file>[^:\s]+?)(?::(?P<line>\d+))?: (?P<message>.*)$", re.S)


@dataclass
class LintReport:
    directory: str
    findings: list[Finding] = field(default_factory=list)
    loaded: bool = True

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def failed(self, fail_on: str = "error") -> bool:
        limit = SEVERITIES.index(fail_on)
        return any(SEVERITIES.index(f.severity) <= limit for f in self.findings)

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self) -> dict:
        return {
            "directory": self.directory,
            "loaded": self.loaded,
            "summary": {s: self.count(s) for s in SEVERITIES},
            "findings": [f.to_dict() for f in self.findings],
        }


def finding_from_problem(problem: str) -> Finding:
    """A loader problem ('rules.yaml:12: message') as a load-error finding."""
    match = _PROBLEM.match(problem)
    if match and "." in match["file"]:
        return Finding("load-error", "error", match["message"], match["file"], int(match["line"]) if match["line"] else None)
    return Finding("load-error", "error", problem)


def lint_bundle(directory: str | Path) -> LintReport:
    """Lint the bundle in ``directory``; never raises for a bad bundle."""
    root = Path(directory)
    report = LintReport(str(root))
    files = _guarded("unexpected-files", lambda: unexpected_files(root))
    try:
        bundle = load_bundle(root)
    except PolicyLoadError as err:
        report.loaded = False
        report.findings = [finding_from_problem(p) for p in err.problems] + files
        report.findings += _guarded("grant-references", lambda: _grant_reference_findings_unloaded(root))
        return report
    linter = _Linter(bundle, root)
    linter.run()
    order = {s: i for i, s in enumerate(SEVERITIES)}
    report.findings = sorted(linter.findings + files, key=lambda f: (order[f.severity], f.file or "", f.line or 0, f.code))
    return report


def _guarded(name: str, check) -> list[Finding]:
    """Run one check; a check that fails is a finding, never a crash of the whole lint."""
    try:
        return list(check())
    except Exception as err:
        return [Finding("lint-crash", "error", f"lint check {name} failed ({type(err).__name__}: {err}); please report it")]


def _grant_reference_findings_unloaded(root: Path) -> list[Finding]:
    """Catalog references in grants.csv are still worth checking when rules.yaml is broken."""
    try:
        from govern.bundle.catalog import Catalog
        from govern.bundle.models import CatalogFile

        catalog = Catalog.from_file(CatalogFile.model_validate(load_yaml(root / CATALOG_FILE).data))
    except Exception:  # the loader already reported why
        return []
    return _grant_lines_findings(root, catalog, None, None)


# ---------------------------------------------------------------------------


def _grant_lines_findings(root: Path, catalog, pii_types: set[str] | None, collections: set[str] | None) -> list[Finding]:
    findings = []
    columns = [f"{t.name}.{c.name}".lower() for t in catalog for c in t.columns]
    tables = {t.name.lower(): t for t in catalog}
    for g in read_grant_lines(root / GRANTS_FILE):
        if g.fields[0] != "p" or len(g.fields) != 5:
            continue
        _, role, obj, act, _eft = g.fields
        if act == "select":
            pattern = obj.lower()
            if any(fnmatchcase(c, pattern) for c in columns):
                continue
            table_part, _, column_part = pattern.partition(".")
            if not any(ch in table_part for ch in "*?[") and table_part not in tables:
                findings.append(Finding("unknown-table", "error", f"grant to {role!r} names table {table_part!r}, which is not in the catalog"
                                        f"{did_you_mean(table_part, tables)}", GRANTS_FILE, g.line))
            elif not any(ch in table_part for ch in "*?[") and column_part:
                names = [c.name.lower() for c in tables[table_part].columns]
                findings.append(Finding("unknown-column", "error", f"grant to {role!r}: table {tables[table_part].name!r} has no column matching {column_part!r}"
                                        f"{did_you_mean(column_part, names)}", GRANTS_FILE, g.line))
            else:
                findings.append(Finding("unknown-table", "error", f"grant to {role!r}: {obj!r} matches no column of any catalog table", GRANTS_FILE, g.line))
        elif act == "reveal" and pii_types is not None:
            kind = obj.removeprefix("pii:")
            if not obj.startswith("pii:") or not any(fnmatchcase(t, kind) for t in pii_types):
                findings.append(Finding("unknown-pii-type", "error", f"grant to {role!r} reveals {obj!r}, but the PII settings detect only {sorted(pii_types)}"
                                        f"{did_you_mean(kind, pii_types)}", GRANTS_FILE, g.line))
        elif act == "retrieve" and collections is not None:
            name = obj.removeprefix("collection:")
            if not obj.startswith("collection:") or not any(fnmatchcase(c, name) for c in collections):
                findings.append(Finding("unknown-collection", "error", f"grant to {role!r} names {obj!r}, which documents.yaml does not define ({sorted(collections)})"
                                        f"{did_you_mean(name, collections)}", GRANTS_FILE, g.line))
    return findings


class _Linter:
    def __init__(self, bundle: Bundle, root: Path):
        self.bundle = bundle
        self.root = root
        self.findings: list[Finding] = []
        try:
            self.rules_src = load_yaml(root / RULES_FILE)
        except YamlProblem:  # it loaded a moment ago; a concurrent edit is not our problem here
            self.rules_src = None
        self.grant_lines = read_grant_lines(root / GRANTS_FILE)
        self.role_sets = role_sets(bundle)

    def where(self, loc: tuple) -> tuple[str, int | None]:
        if self.rules_src is None:
            return RULES_FILE, None
        file, _, line = self.rules_src.where(loc).partition(":")
        return file, int(line) if line else None

    def add(self, code: str, severity: str, message: str, loc: tuple | None = None, rule: str | None = None,
            file: str | None = None, line: int | None = None) -> None:
        if loc is not None:
            file, line = self.where(loc)
        self.findings.append(Finding(code, severity, message, file, line, rule))

    def run(self) -> None:
        b, root = self.bundle, self.root
        self.findings += _guarded("grant-references", lambda: _grant_lines_findings(root, b.catalog, set(b.rules.pii.entities), self.collections()))
        for check in (self.check_filters, self.check_masks, self.check_pii_columns, self.check_partial_masks,
                      self.check_roles_without_grants, self.check_entities):
            self.findings += _guarded(check.__name__, lambda: check() or ())
        for ref_check in (lint_refs.unknown_roles, lint_refs.roles_not_held, lint_refs.unknown_attributes,
                          lint_refs.unknown_hierarchy_roles):
            self.findings += _guarded(ref_check.__name__, lambda: ref_check(b, root))

    # -- helpers ---------------------------------------------------------------
    def collections(self) -> set[str] | None:
        path = self.root / "documents.yaml"
        if not path.is_file():
            return None
        try:
            data = load_yaml(path).data or {}
        except YamlProblem:
            return None
        found = data.get("collections") if isinstance(data, dict) else None
        if isinstance(found, dict):
            return set(found)
        if isinstance(found, list):
            return {c.get("name") if isinstance(c, dict) else str(c) for c in found}
        return None

    def table_visible(self, roles: frozenset[str], table_name: str) -> bool:
        table = self.bundle.catalog.table(table_name)
        return table is not None and self.bundle.grants.table_access(roles, table).visible

    def column_selectable(self, roles: frozenset[str], table_name: str, column: str) -> bool:
        return self.bundle.grants.allowed(roles, f"{table_name}.{column}".lower(), "select")

    # -- checks ----------------------------------------------------------------
    def check_filters(self) -> None:
        rules = self.bundle.rules.row_filters
        for i, rule in enumerate(rules):
            matching = [r for r in self.role_sets if _matches(rule.roles, (), r)]
            if not matching:
                self.add("never-applies", "warning", f"row filter {rule.id!r} matches no principal: none of its roles {rule.roles} is granted anything or held", ("row_filters", i, "roles"), rule.id)
                continue
            if not any(self.table_visible(r, rule.table) for r in matching):
                self.add("never-applies", "warning", f"row filter {rule.id!r}: no principal with roles {rule.roles} may select from {rule.table!r}, so the filter never takes effect", ("row_filters", i, "table"), rule.id)
                continue
            if rule.restrictive:
                continue
            for k, other in enumerate(rules):
                if k == i or other.restrictive or other.table.lower() != rule.table.lower():
                    continue
                if not all(_matches(other.roles, (), r) for r in matching):
                    continue
                if _normal_sql(other.where) == "TRUE" and _normal_sql(rule.where) != "TRUE":
                    self.add("redundant-filter", "warning",
                             f"permissive row filter {rule.id!r} is shadowed by {other.id!r} (where: TRUE), which matches every principal it matches; it never changes which rows are shown",
                             ("row_filters", i), rule.id)
                    break
                if k < i and _normal_sql(other.where) == _normal_sql(rule.where):
                    self.add("redundant-filter", "warning", f"row filter {rule.id!r} repeats {other.id!r} (same predicate, its roles covered)", ("row_filters", i), rule.id)
                    break
        # Row-governed tables a role may read where no permissive filter matches: always zero rows.
        governed = {r.table.lower() for r in rules}
        for table_name in sorted(governed):
            table = self.bundle.catalog.table(table_name)
            if table is None:
                continue
            permissive = [r for r in rules if r.table.lower() == table_name and not r.restrictive]
            for roles in self.role_sets:
                if roles and self.table_visible(roles, table.name) and not any(_matches(r.roles, (), roles) for r in permissive):
                    if any(roles > other and self.table_visible(other, table.name) for other in self.role_sets if other and other != roles):
                        continue  # report the smallest role sets only
                    first = next(k for k, r in enumerate(rules) if r.table.lower() == table_name)
                    self.add("no-rows-for-role", "info",
                             f"roles {describe(roles)} may select from {table.name!r}, which is row-governed, but no permissive row filter matches them: they always see zero rows (add a filter, `where: \"TRUE\"` for full access)",
                             ("row_filters", first, "table"))

    def check_masks(self) -> None:
        masks = self.bundle.rules.column_masks
        for i, rule in enumerate(masks):
            matching = [r for r in self.role_sets if _matches(rule.roles, rule.except_roles, r)]
            if not matching:
                self.add("never-applies", "warning", f"mask {rule.id!r} matches no principal (roles {rule.roles}, except {rule.except_roles})", ("column_masks", i), rule.id)
                continue
            earlier = [(k, m) for k, m in enumerate(masks[:i]) if m.table.lower() == rule.table.lower() and m.column.lower() == rule.column.lower()]
            reachable = [r for r in matching if not any(_matches(m.roles, m.except_roles, r) for _, m in earlier)]
            if not reachable:
                names = ", ".join(repr(m.id) for _, m in earlier)
                self.add("shadowed-mask", "warning",
                         f"mask {rule.id!r} on {rule.table}.{rule.column} is unreachable: earlier rule(s) {names} match every principal it matches (the first matching mask wins)",
                         ("column_masks", i), rule.id)
                continue
            if not any(self.column_selectable(r, rule.table, rule.column) for r in reachable):
                self.add("mask-on-denied-column", "warning",
                         f"mask {rule.id!r}: every principal it applies to is denied {rule.table}.{rule.column} by the grants, so the mask is never seen",
                         ("column_masks", i), rule.id)

    def check_pii_columns(self) -> None:
        b = self.bundle
        for table in b.catalog:
            for column in table.columns:
                if not column.pii:
                    continue
                if column.pii not in b.rules.pii.entities:
                    self.add("unknown-pii-type", "error",
                             f"{table.name}.{column.name} is classified {column.pii!r}, a type the PII settings do not detect "
                             f"({sorted(b.rules.pii.entities)}){did_you_mean(column.pii, b.rules.pii.entities)}",
                             file=CATALOG_FILE, line=self._catalog_line(table.name, column.name))
                masks = [m for m in b.rules.column_masks if m.table.lower() == table.name.lower() and m.column.lower() == column.name.lower()]
                exposed = []
                for roles in self.role_sets:
                    if not self.column_selectable(roles, table.name, column.name):
                        continue
                    if any(_matches(m.roles, m.except_roles, roles) for m in masks):
                        continue
                    if b.grants.allowed(roles, f"pii:{column.pii}", "reveal"):
                        continue
                    exposed.append(roles)
                minimal = [r for r in exposed if not any(o < r for o in exposed)]
                if minimal:
                    line = self._catalog_line(table.name, column.name)
                    self.add("unmasked-pii", "warning",
                             f"{table.name}.{column.name} is classified {column.pii} but roles {', '.join(describe(r) for r in minimal)} read it unmasked "
                             f"with no `pii:{column.pii}, reveal` grant; add a column mask or a reveal grant",
                             file=CATALOG_FILE, line=line)

    def check_partial_masks(self) -> None:
        """A partial mask never shows more than half of a value at run time (shorter values are
        masked whole); a rule asking for more than half of a typical value of its column's PII
        type would reveal most of it and is cut to half of each value: say so."""
        b = self.bundle
        for i, rule in enumerate(b.rules.column_masks):
            if rule.mask != "partial":
                continue
            column = next((c for t in b.catalog if t.name.lower() == rule.table.lower()
                           for c in t.columns if c.name.lower() == rule.column.lower()), None)
            kind = column.pii if column is not None else None
            if kind in TYPICAL_PII_LENGTH and rule.keep_last * 2 > TYPICAL_PII_LENGTH[kind][0]:
                length, example = TYPICAL_PII_LENGTH[kind]
                self.add("partial-reveals-most", "warning",
                         f"mask {rule.id!r} keeps the last {rule.keep_last} characters of {rule.table}.{rule.column} ({kind}): "
                         f"most of a typical {length}-character value ({example!r}); at run time a partial mask shows at most "
                         f"half of a value, so lower keep_last to at most {length // 2} or use another mask",
                         ("column_masks", i, "keep_last"), rule.id)
        for kind, op in b.rules.pii.operators.items():
            if getattr(op, "operator", None) != "partial" or kind not in TYPICAL_PII_LENGTH:
                continue
            length, example = TYPICAL_PII_LENGTH[kind]
            if op.keep_last * 2 > length:
                self.add("partial-reveals-most", "warning",
                         f"pii.operators.{kind} keeps the last {op.keep_last} characters: most of a typical {length}-character "
                         f"{kind} ({example!r}); at run time a partial mask shows at most half of a value, so lower keep_last "
                         f"to at most {length // 2}", ("pii", "operators", kind))

    def _catalog_line(self, table: str, column: str) -> int | None:
        try:
            src = load_yaml(self.root / CATALOG_FILE)
        except (YamlProblem, OSError):
            return None
        for name, spec in (src.data or {}).get("tables", {}).items():
            if name.lower() != table.lower():
                continue
            for j, col in enumerate(spec.get("columns") or ()):
                if isinstance(col, dict) and str(col.get("name", "")).lower() == column.lower():
                    return int(src.where(("tables", name, "columns", j)).partition(":")[2])
        return None

    def check_roles_without_grants(self) -> None:
        b = self.bundle
        granted = {g.fields[1] for g in self.grant_lines if g.fields[0] == "p" and len(g.fields) == 5 and g.fields[4] == "allow"}
        sources: dict[str, tuple[str, int | None]] = {}
        for g in self.grant_lines:
            if g.fields[0] == "g" and len(g.fields) == 3:
                for role in g.fields[1:]:
                    sources.setdefault(role, (GRANTS_FILE, g.line))
        for role in sorted(known_roles(b)):
            if b.grants.expand_roles((role,)) & granted:
                continue
            file, line = sources.get(role, (None, None))
            if file is None:
                file, line = self._role_mention(role)
            self.add("role-without-grants", "warning",
                     f"role {role!r} is granted nothing (no `p, {role}, ..., allow` line, none inherited): principals holding only it see nothing",
                     file=file, line=line)

    def _role_mention(self, role: str) -> tuple[str | None, int | None]:
        path = self.root / PRINCIPALS_FILE
        for file, p in ((PRINCIPALS_FILE, path), (RULES_FILE, self.root / RULES_FILE)):
            if p.is_file():
                for lineno, text in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
                    if re.search(rf"(?<![\w-]){re.escape(role)}(?![\w-])", text.split("#", 1)[0]):
                        return file, lineno
        return None, None

    def check_entities(self) -> None:
        """Entity scopes must name defined entities (rules.yaml `entities:` / `entity_scopes:`)."""
        rules = self.bundle.rules
        entities = getattr(rules, "entities", None)
        scopes = getattr(rules, "entity_scopes", None)
        if not scopes:
            return
        names = set(entities.keys()) if isinstance(entities, dict) else {getattr(e, "name", getattr(e, "id", None)) for e in entities or ()}
        for i, scope in enumerate(scopes):
            entity = getattr(scope, "entity", None)
            if entity is not None and entity not in names:
                self.add("unknown-entity", "error", f"entity scope {getattr(scope, 'id', i)!r} names entity {entity!r}, which `entities:` does not define ({sorted(n for n in names if n)})",
                         ("entity_scopes", i, "entity"), getattr(scope, "id", None))


def _matches(roles: list[str] | None, except_roles, held: frozenset[str]) -> bool:
    if held & set(except_roles or ()):
        return False
    return roles is None or bool(held & set(roles))


def _normal_sql(text: str) -> str:
    import sqlglot

    try:
        return sqlglot.parse_one(text, read="postgres").sql(dialect="postgres").upper()
    except Exception:
        return " ".join(text.split()).upper()


def format_text(report: LintReport) -> str:
    lines = [f"{f.where}: {f.severity}: [{f.code}] {f.message}" for f in report.findings]
    summary = ", ".join(f"{report.count(s)} {s}{'s' if report.count(s) != 1 else ''}" for s in SEVERITIES)
    status = "bundle loads" if report.loaded else "bundle does NOT load"
    lines.append(f"{report.directory}: {summary} ({status})")
    return "\n".join(lines)
