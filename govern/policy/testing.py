"""`govern policy test DIR`: run the bundle's policy tests (``DIR/tests/*.yaml``).

A test file holds cases; each case is one principal, one input and the
expected outcome. The file format (validated; unknown keys are errors with
file and line) is documented in ``docs/policy-authoring.md``::

    principal: eve                 # default principal of the file's cases (id, or inline)
    kind: row_filter               # default kind (used for counting and filtering)
    cases:
      - name: eve sees EU customers of acme only
        sql: SELECT id, region, tenant FROM customers
        expect:
          allowed: true
          same_as: SELECT id, region, tenant FROM customers WHERE region = 'EU' AND tenant = 'acme'

SQL cases run on the demo database (``govern.demo.dataset``) through
``Governor.execute``, so rows are masked exactly as an application sees them.
``same_as`` is an oracle query run on the raw tables with the policy written
by hand; the governed rows must equal its rows as a multiset (as a list with
``ordered: true``).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from govern.bundle.yaml_source import YamlProblem, load_yaml
from govern.errors import QueryDenied
from govern.principal import Principal

KINDS = ("allowed", "denied", "row_filter", "mask", "entity_scope", "pii_passage", "retrieval")
DEFAULT_TEST_HASH_KEY = "govern-policy-tests-hash-key"
MAX_DIFF_ROWS = 15


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrincipalSpec(_Strict):
    """An inline principal, or a named one (``extends``) with changes."""

    id: str | None = None
    extends: str | None = None
    roles: list[str] | None = None
    attributes: dict[str, Any] | None = None
    set_attributes: dict[str, Any] = {}
    drop_attributes: list[str] = []

    @model_validator(mode="after")
    def _named_or_inline(self) -> PrincipalSpec:
        if self.extends is None and (self.id is None or self.roles is None):
            raise ValueError("an inline principal needs id and roles (or 'extends: NAME' to start from a named one)")
        return self


class RetrievalInput(_Strict):
    collection: str
    query: str = ""
    documents: list[dict[str, Any]] | None = None  # what the (fake) retriever returns; default: the demo corpus
    options: dict[str, Any] = {}


class EntityInput(_Strict):
    entity: str


Rows = list[list[Any]]


class Expect(_Strict):
    allowed: bool | None = None
    reason: str | list[str] | None = None  # substring(s) of the reasons (case-insensitive)
    policies: list[str] = []  # applied (subset)
    not_policies: list[str] = []  # not applied
    tables: list[str] | None = None
    # rows (SQL cases, run on the demo database)
    columns: list[str] | None = None
    rows: Rows | None = None
    ordered: bool = False
    rows_include: Rows | None = None
    rows_exclude: Rows | None = None
    row_count: int | None = None
    min_rows: int | None = None
    max_rows: int | None = None
    same_as: str | None = None
    values: dict[str, str] = {}  # column -> regex every non-NULL value matches
    values_not: dict[str, str] = {}  # column -> regex no value matches
    null: list[str] = []  # columns whose every value is NULL
    # PII (passages, and free-text values of SQL results)
    pii_masked: list[str] | dict[str, int] | None = None
    pii_revealed: list[str] | None = None
    text: str | None = None
    text_contains: list[str] = []
    text_excludes: list[str] = []
    needs_review: bool | None = None
    # retrieval
    documents: list[str] | None = None
    documents_include: list[str] | None = None
    documents_exclude: list[str] | None = None
    # entity scopes
    keys: list[Any] | None = None
    keys_include: list[Any] | None = None
    keys_exclude: list[Any] | None = None
    keys_same_as: str | None = None  # oracle SQL on the raw tables returning the keys

    def wants_rows(self) -> bool:
        return any(v is not None for v in (self.columns, self.rows, self.rows_include, self.rows_exclude, self.row_count,
                                           self.min_rows, self.max_rows, self.same_as)) or bool(self.values or self.values_not or self.null) \
            or self.pii_masked is not None


class Case(_Strict):
    name: str = Field(min_length=1)
    kind: str | None = None
    tags: list[str] = []
    principal: str | PrincipalSpec | None = None
    sql: str | None = None
    dialect: str = "duckdb"
    passage: str | None = None
    context: dict[str, Any] | None = None
    conversation: str | None = None
    retrieve: RetrievalInput | None = None
    entity: EntityInput | None = None
    expect: Expect
    skip: str | None = None  # a reason; the case is reported as skipped

    @model_validator(mode="after")
    def _one_input(self) -> Case:
        given = [k for k in ("sql", "passage", "retrieve", "entity") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a case needs exactly one input of sql, passage, retrieve, entity; got {given or 'none'}")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        return self


class TestFile(_Strict):
    __test__ = False  # not a pytest class
    description: str | None = None
    principal: str | PrincipalSpec | None = None
    kind: str | None = None
    tags: list[str] = []
    cases: list[Case] = Field(min_length=1)


@dataclass
class LoadedCase:
    case: Case
    file: str
    line: int
    kind: str
    principal_ref: str | PrincipalSpec

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def principal_label(self) -> str:
        p = self.principal_ref
        if isinstance(p, str):
            return p
        return p.id or f"{p.extends}*"


@dataclass
class Mismatch:
    check: str
    message: str
    diff: str = ""


@dataclass
class CaseResult:
    loaded: LoadedCase
    status: Literal["pass", "fail", "error", "skip"]
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class TestReport:
    __test__ = False  # not a pytest class
    directory: str
    results: list[CaseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # test files that did not load

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.status in ("pass", "skip") for r in self.results)

    def by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(r.loaded.kind for r in self.results).items()))

    def by_principal(self) -> dict[str, int]:
        return dict(sorted(Counter(r.loaded.principal_label for r in self.results).items()))

    def to_dict(self) -> dict:
        return {
            "directory": self.directory,
            "summary": {s: self.count(s) for s in ("pass", "fail", "error", "skip")} | {"total": len(self.results)},
            "by_kind": self.by_kind(),
            "by_principal": self.by_principal(),
            "problems": self.problems,
            "results": [
                {"file": r.loaded.file, "line": r.loaded.line, "name": r.loaded.case.name, "kind": r.loaded.kind,
                 "principal": r.loaded.principal_label, "status": r.status, "error": r.error, "seconds": round(r.seconds, 4),
                 "mismatches": [m.__dict__ for m in r.mismatches]}
                for r in self.results
            ],
        }


# ----------------------------------------------------------------------------- loading


def find_test_files(directory: str | Path) -> list[Path]:
    """The test files of a bundle: ``DIR/tests/*.yaml`` (or DIR itself when it holds them)."""
    root = Path(directory)
    tests = root / "tests" if (root / "tests").is_dir() else root
    return sorted([*tests.glob("*.yaml"), *tests.glob("*.yml")])


def load_test_files(paths: list[Path]) -> tuple[list[LoadedCase], list[str]]:
    """Every case of the files, and the problems ('file:line: message') of those that did not load."""
    cases: list[LoadedCase] = []
    problems: list[str] = []
    for path in paths:
        try:
            source = load_yaml(path)
        except YamlProblem as err:
            problems.append(err.message)
            continue
        try:
            spec = TestFile.model_validate(source.data if isinstance(source.data, dict) else {})
        except ValidationError as err:
            for e in err.errors():
                loc = tuple(e["loc"])
                message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
                problems.append(f"{source.where(loc)}: {'.'.join(map(str, loc)) or '(top level)'}: {message}")
            continue
        names = Counter(c.name for c in spec.cases)
        for i, case in enumerate(spec.cases):
            line = int(source.where(("cases", i)).rpartition(":")[2])
            if names[case.name] > 1:
                problems.append(f"{path.name}:{line}: case name {case.name!r} is used more than once in the file")
            if not case.skip and not case.expect.model_fields_set - {"ordered"}:
                # `expect: {}` checks nothing: reported, never passed silently.
                problems.append(f"{path.name}:{line}: case {case.name!r} expects nothing (give `expect` at least one check)")
                continue
            principal = case.principal or spec.principal
            if principal is None and case.sql is not None or principal is None and case.passage is not None \
                    or principal is None and (case.retrieve or case.entity):
                problems.append(f"{path.name}:{line}: case {case.name!r} has no principal (set it on the case or the file)")
                continue
            cases.append(LoadedCase(case, path.name, line, _kind(case, spec), principal))
    return cases, problems


def _kind(case: Case, spec: TestFile) -> str:
    if case.kind:
        return case.kind
    if case.passage is not None:
        return "pii_passage"
    if case.retrieve is not None:
        return "retrieval"
    if case.entity is not None:
        return "entity_scope"
    if case.expect.allowed is False:
        return "denied"
    return spec.kind or "allowed"


# ----------------------------------------------------------------------------- running


class Runner:
    """Runs cases against one Governor and one demo database connection."""

    def __init__(self, gov, conn=None):
        self.gov = gov
        self.conn = conn

    def principal(self, ref: str | PrincipalSpec) -> Principal:
        if isinstance(ref, str):
            return self.gov.principal(ref)
        if ref.extends:
            base = self.gov.principal(ref.extends)
            attributes = dict(base.attributes) if ref.attributes is None else dict(ref.attributes)
            roles = list(base.roles) if ref.roles is None else ref.roles
            pid = ref.id or base.id
        else:
            attributes, roles, pid = dict(ref.attributes or {}), ref.roles, ref.id
        attributes.update(ref.set_attributes)
        for name in ref.drop_attributes:
            attributes.pop(name, None)
        return Principal(pid, roles, attributes)

    def run(self, loaded: LoadedCase) -> CaseResult:
        # An oracle may select $hash_key, and a failing case prints its rows: the key
        # must never reach a report (CI logs keep it).
        return _redacted(self._run(loaded), self.gov.hash_key)

    def _run(self, loaded: LoadedCase) -> CaseResult:
        case = loaded.case
        if case.skip:
            return CaseResult(loaded, "skip", error=case.skip)
        started = time.perf_counter()
        try:
            principal = self.principal(loaded.principal_ref)
            if case.sql is not None:
                mismatches, detail = self._sql(case, principal)
            elif case.passage is not None:
                mismatches, detail = self._passage(case, principal)
            elif case.retrieve is not None:
                mismatches, detail = self._retrieve(case, principal)
            else:
                mismatches, detail = self._entity(case, principal)
        except Exception as err:  # a broken case is reported, never stops the run
            return CaseResult(loaded, "error", error=f"{type(err).__name__}: {err}", seconds=time.perf_counter() - started)
        return CaseResult(loaded, "fail" if mismatches else "pass", mismatches, seconds=time.perf_counter() - started, detail=detail)

    # -- SQL ---------------------------------------------------------------------
    def _sql(self, case: Case, principal: Principal) -> tuple[list[Mismatch], dict]:
        expect = case.expect
        out: list[Mismatch] = []
        wants_rows = expect.wants_rows()
        result = None
        if wants_rows and self.conn is not None and case.dialect == "duckdb":
            try:
                result = self.gov.execute(self.conn, case.sql, principal, dialect=case.dialect)
                decision = result.decision
            except QueryDenied as denied:
                decision = denied.decision
        else:
            decision = self.gov.check_sql(case.sql, principal, dialect=case.dialect)
        detail = {"allowed": decision.allowed, "reasons": decision.reasons, "policies": decision.policies, "sql": decision.sql}
        expected_allowed = expect.allowed if expect.allowed is not None else (True if wants_rows else None)
        if expected_allowed is not None and decision.allowed != expected_allowed:
            got = "allowed" if decision.allowed else "denied: " + "; ".join(decision.reasons)
            out.append(Mismatch("allowed", f"expected {'allowed' if expected_allowed else 'denied'}, got {got}",
                                _pair("allowed" if expected_allowed else "denied", got)))
            return out, detail
        out += _check_reasons(expect.reason, decision.reasons)
        missing = [p for p in expect.policies if p not in decision.policies]
        if missing:
            out.append(Mismatch("policies", f"policies not applied: {missing}", _pair(sorted(expect.policies), decision.policies)))
        unexpected = [p for p in expect.not_policies if p in decision.policies]
        if unexpected:
            out.append(Mismatch("not_policies", f"policies applied that must not be: {unexpected}", _pair(f"none of {expect.not_policies}", decision.policies)))
        if expect.tables is not None and sorted(t.lower() for t in expect.tables) != sorted(t.lower() for t in decision.tables):
            out.append(Mismatch("tables", "tables read differ", _pair(sorted(expect.tables), sorted(decision.tables))))
        if result is None:
            if wants_rows and decision.allowed:
                out.append(Mismatch("rows", "row expectations need the demo database (DuckDB) and a duckdb-dialect case"))
            return out, detail
        out += self._rows(expect, result.columns, result.rows)
        if expect.pii_masked is not None:
            out += _check_pii(expect.pii_masked, result.pii, "result free text")
        return out, detail

    def _rows(self, expect: Expect, columns: list[str], rows: list[tuple]) -> list[Mismatch]:
        out: list[Mismatch] = []
        got = [normalise_row(r) for r in rows]
        if expect.columns is not None and [c.lower() for c in expect.columns] != [c.lower() for c in columns]:
            out.append(Mismatch("columns", "output columns differ", _pair(expect.columns, columns)))
        if expect.same_as is not None:
            oracle = self._oracle(expect.same_as)
            out += _compare_rows("same_as", oracle, got, expect.ordered, "oracle (same_as, raw tables)")
        if expect.rows is not None:
            out += _compare_rows("rows", [normalise_row(r) for r in expect.rows], got, expect.ordered, "expected rows")
        if expect.rows_include is not None:
            missing = Counter(normalise_row(r) for r in expect.rows_include) - Counter(got)
            if missing:
                out.append(Mismatch("rows_include", f"{sum(missing.values())} expected row(s) not returned", _rows_diff(missing, Counter())))
        if expect.rows_exclude is not None:
            present = [r for r in (normalise_row(x) for x in expect.rows_exclude) if r in set(got)]
            if present:
                out.append(Mismatch("rows_exclude", f"{len(present)} row(s) returned that must not be", _rows_diff(Counter(), Counter(present))))
        n = len(got)
        if expect.row_count is not None and n != expect.row_count:
            out.append(Mismatch("row_count", f"expected {expect.row_count} rows, got {n}", _pair(expect.row_count, n)))
        if expect.min_rows is not None and n < expect.min_rows:
            out.append(Mismatch("min_rows", f"expected at least {expect.min_rows} rows, got {n}"))
        if expect.max_rows is not None and n > expect.max_rows:
            out.append(Mismatch("max_rows", f"expected at most {expect.max_rows} rows, got {n}"))
        index = {c.lower(): i for i, c in enumerate(columns)}
        for check, spec, want in (("values", expect.values, True), ("values_not", expect.values_not, False)):
            for column, pattern in spec.items():
                if column.lower() not in index:
                    out.append(Mismatch(check, f"no output column {column!r} (columns: {columns})"))
                    continue
                rx = re.compile(pattern)
                bad = [r[index[column.lower()]] for r in rows if r[index[column.lower()]] is not None
                       and bool(rx.search(str(r[index[column.lower()]]))) != want]
                if bad:
                    how = "match" if want else "must not match"
                    out.append(Mismatch(check, f"{len(bad)} value(s) of {column!r} do not {how} /{pattern}/" if want else
                                        f"{len(bad)} value(s) of {column!r} match /{pattern}/", "\n".join(f"+ {v!r}" for v in bad[:MAX_DIFF_ROWS])))
        for column in expect.null:
            if column.lower() not in index:
                out.append(Mismatch("null", f"no output column {column!r} (columns: {columns})"))
                continue
            bad = [r[index[column.lower()]] for r in rows if r[index[column.lower()]] is not None]
            if bad:
                out.append(Mismatch("null", f"{len(bad)} value(s) of {column!r} are not NULL", "\n".join(f"+ {v!r}" for v in bad[:MAX_DIFF_ROWS])))
        return out

    def _oracle(self, sql: str) -> list[tuple]:
        params = {"hash_key": self.gov.hash_key} if "$hash_key" in sql else None
        return [normalise_row(r) for r in self.conn.execute(sql, params).fetchall()]

    # -- passages ----------------------------------------------------------------
    def _passage(self, case: Case, principal: Principal) -> tuple[list[Mismatch], dict]:
        expect = case.expect
        masked = self.gov.mask_text(case.passage, principal, context=case.context, conversation=case.conversation)
        found = masked.counts
        masked_counts = masked.masked_counts
        revealed = {t: n - masked_counts.get(t, 0) for t, n in found.items() if n - masked_counts.get(t, 0) > 0}
        out = _check_text(expect, masked.text)
        if expect.pii_masked is not None:
            out += _check_pii(expect.pii_masked, masked_counts, "passage")
        if expect.pii_revealed is not None:
            missing = [t for t in expect.pii_revealed if t not in revealed]
            if missing:
                out.append(Mismatch("pii_revealed", f"types not shown unmasked: {missing}", _pair(sorted(expect.pii_revealed), revealed)))
        if expect.needs_review is not None and masked.needs_review != expect.needs_review:
            out.append(Mismatch("needs_review", f"needs_review is {masked.needs_review}", _pair(expect.needs_review, masked.needs_review)))
        return out, {"text": masked.text, "masked": masked_counts, "revealed": revealed}

    # -- retrieval -----------------------------------------------------------------
    def _retrieve(self, case: Case, principal: Principal) -> tuple[list[Mismatch], dict]:
        from govern.policy.retrieval_cases import run_retrieval

        expect = case.expect
        allowed, reasons, docs, texts, pii = run_retrieval(self.gov, case.retrieve, principal, self.conn)
        out: list[Mismatch] = []
        if expect.allowed is not None and allowed != expect.allowed:
            got = "allowed" if allowed else "denied: " + "; ".join(reasons)
            out.append(Mismatch("allowed", f"expected {'allowed' if expect.allowed else 'denied'}, got {got}", _pair(expect.allowed, got)))
            return out, {"documents": docs, "reasons": reasons}
        out += _check_reasons(expect.reason, reasons)
        out += _check_ids("documents", expect.documents, expect.documents_include, expect.documents_exclude, docs)
        joined = "\n".join(texts)
        out += _check_text(expect, joined, exact=False)
        if expect.pii_masked is not None:
            out += _check_pii(expect.pii_masked, pii, "retrieved passages")
        return out, {"documents": docs, "reasons": reasons}

    # -- entity scopes -------------------------------------------------------------
    def _entity(self, case: Case, principal: Principal) -> tuple[list[Mismatch], dict]:
        from govern.policy.retrieval_cases import run_entity_scope

        expect = case.expect
        allowed, reasons, keys = run_entity_scope(self.gov, principal, case.entity.entity, self.conn)
        out: list[Mismatch] = []
        if expect.allowed is not None and allowed != expect.allowed:
            out.append(Mismatch("allowed", f"expected {'allowed' if expect.allowed else 'denied'}, got {'allowed' if allowed else 'denied: ' + '; '.join(reasons)}"))
            return out, {"keys": keys}
        out += _check_reasons(expect.reason, reasons)
        if keys == "ALL":
            if expect.keys is not None and expect.keys != ["ALL"]:
                out.append(Mismatch("keys", "the scope is every instance (unrestricted)", _pair(expect.keys, "ALL")))
            if expect.keys_exclude:
                out.append(Mismatch("keys_exclude", "the scope is every instance, so excluded keys are visible", _pair(expect.keys_exclude, "ALL")))
            return out, {"keys": keys}
        out += _check_ids("keys", expect.keys, expect.keys_include, expect.keys_exclude, keys)
        if expect.keys_same_as is not None:
            oracle = [r[0] for r in self._oracle(expect.keys_same_as)]
            out += _check_ids("keys_same_as", oracle, None, None, keys)
        return out, {"keys": keys}


REDACTED = "[hash_key]"


def _redacted(result: CaseResult, secret: str | None) -> CaseResult:
    """``result`` with every occurrence of the hash key in its texts replaced."""
    if not secret:
        return result

    def scrub(value):
        if isinstance(value, str):
            return value.replace(secret, REDACTED)
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(scrub(v) for v in value)
        return value

    result.mismatches = [Mismatch(m.check, scrub(m.message), scrub(m.diff)) for m in result.mismatches]
    result.error = scrub(result.error)
    result.detail = scrub(result.detail)
    return result


def _check_reasons(wanted, reasons: list[str]) -> list[Mismatch]:
    if wanted is None:
        return []
    wanted = [wanted] if isinstance(wanted, str) else wanted
    joined = "; ".join(reasons).lower()
    missing = [w for w in wanted if w.lower() not in joined]
    if missing:
        return [Mismatch("reason", f"reason does not mention {missing}", _pair(missing, reasons))]
    return []


def _check_text(expect: Expect, text: str, exact: bool = True) -> list[Mismatch]:
    out = []
    if exact and expect.text is not None and text != expect.text:
        out.append(Mismatch("text", "masked text differs", _pair(expect.text, text)))
    for needle in expect.text_contains:
        if needle not in text:
            out.append(Mismatch("text_contains", f"text does not contain {needle!r}", f"+ {text[:400]!r}"))
    for needle in expect.text_excludes:
        if needle in text:
            out.append(Mismatch("text_excludes", f"text contains {needle!r}, which must be masked or absent", f"+ {text[:400]!r}"))
    return out


def _check_pii(wanted, counts: dict[str, int], what: str) -> list[Mismatch]:
    if isinstance(wanted, dict):
        if {k: v for k, v in counts.items() if v} != {k: v for k, v in wanted.items() if v}:
            return [Mismatch("pii_masked", f"masked PII counts in the {what} differ", _pair(dict(sorted(wanted.items())), dict(sorted(counts.items()))))]
        return []
    missing = [t for t in wanted if not counts.get(t)]
    if missing:
        return [Mismatch("pii_masked", f"types not masked in the {what}: {missing}", _pair(sorted(wanted), dict(sorted(counts.items()))))]
    return []


def _check_ids(name: str, exact, include, exclude, got: list) -> list[Mismatch]:
    out = []
    norm = [normalise(v) for v in got]
    if exact is not None and sorted(map(repr, (normalise(v) for v in exact))) != sorted(map(repr, norm)):
        want = Counter(normalise(v) for v in exact)
        out.append(Mismatch(name, f"{name} differ", _rows_diff(want - Counter(norm), Counter(norm) - want)))
    if include is not None:
        missing = [v for v in include if normalise(v) not in norm]
        if missing:
            out.append(Mismatch(f"{name}_include", f"expected {name} missing: {missing}", _pair(include, got)))
    if exclude is not None:
        present = [v for v in exclude if normalise(v) in norm]
        if present:
            out.append(Mismatch(f"{name}_exclude", f"{name} returned that must not be: {present}", _pair(f"none of {exclude}", got)))
    return out


# ----------------------------------------------------------------------------- rows


def normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, dtime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(normalise(v) for v in value)
    return value


def normalise_row(row) -> tuple:
    return tuple(normalise(v) for v in row)


def _fmt(row: tuple) -> str:
    return "(" + ", ".join("NULL" if v is None else (f"{v:g}" if isinstance(v, float) else repr(v)) for v in row) + ")"


def _rows_diff(missing: Counter, extra: Counter) -> str:
    lines = []
    for label, rows in (("-", missing), ("+", extra)):
        items = sorted(rows.items(), key=lambda kv: repr(kv[0]))
        for row, n in items[:MAX_DIFF_ROWS]:
            lines.append(f"{label} {_fmt(row) if isinstance(row, tuple) else repr(row)}" + (f"  x{n}" if n > 1 else ""))
        if len(items) > MAX_DIFF_ROWS:
            lines.append(f"{label} ... {len(items) - MAX_DIFF_ROWS} more")
    return "\n".join(lines)


def _compare_rows(check: str, expected: list[tuple], got: list[tuple], ordered: bool, label: str) -> list[Mismatch]:
    if ordered:
        if expected == got:
            return []
        first = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
        diff = [f"  first difference at row {first}"]
        diff += [f"- {_fmt(r)}" for r in expected[first:first + 3]] + [f"+ {_fmt(r)}" for r in got[first:first + 3]]
        return [Mismatch(check, f"rows differ from the {label} (ordered; {len(expected)} expected, {len(got)} returned)", "\n".join(diff))]
    want, have = Counter(expected), Counter(got)
    if want == have:
        return []
    missing, extra = want - have, have - want
    return [Mismatch(check, f"rows differ from the {label}: {sum(missing.values())} missing, {sum(extra.values())} unexpected "
                            f"({len(expected)} expected, {len(got)} returned)", "--- " + label + "\n+++ governed result\n" + _rows_diff(missing, extra))]


def _pair(expected, actual) -> str:
    return f"- expected: {expected!r}\n+ actual:   {actual!r}"


# ----------------------------------------------------------------------------- top level


def open_demo_db(path: str | Path | None):
    """A read-only DuckDB connection to the demo database, building it when missing."""
    import duckdb

    from govern.demo.dataset import build_demo_db

    if path is None:
        path = Path(tempfile.gettempdir()) / "govern-policy-tests" / "demo-seed7.duckdb"
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_demo_db(path)
    return duckdb.connect(str(path), read_only=True)


def run_tests(directory: str | Path, *, gov=None, conn=None, db: str | Path | None = None, hash_key: str | None = None,
              select: str | None = None, kinds: list[str] | None = None, progress: bool = False) -> TestReport:
    """Run ``DIR/tests/*.yaml`` against the bundle in ``DIR`` (or ``gov``'s bundle)."""
    import os

    from govern.audit import AuditTrail
    from govern.governor import Governor

    report = TestReport(str(directory))
    cases, report.problems = load_test_files(find_test_files(directory))
    if select:
        cases = [c for c in cases if select.lower() in c.case.name.lower() or select.lower() in c.file.lower()]
    if kinds:
        cases = [c for c in cases if c.kind in kinds]
    if gov is None:
        key = hash_key or os.environ.get("GOVERN_HASH_KEY") or DEFAULT_TEST_HASH_KEY
        gov = Governor.from_path(directory, audit=AuditTrail.null(), hash_key=key)
    own_conn = conn is None
    if own_conn:
        conn = open_demo_db(db)
    runner = Runner(gov, conn)
    try:
        if progress:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("[bold]policy tests"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
                          TimeElapsedColumn(), console=Console(stderr=True), transient=False) as bar:
                task = bar.add_task("cases", total=len(cases), failed=0)
                failed = 0
                for loaded in cases:
                    result = runner.run(loaded)
                    failed += result.status in ("fail", "error")
                    report.results.append(result)
                    bar.update(task, advance=1, failed=failed)
        else:
            report.results = [runner.run(c) for c in cases]
    finally:
        if own_conn:
            conn.close()
    return report


def format_text(report: TestReport, verbose: bool = False) -> str:
    lines = [f"test files did not load: {p}" for p in report.problems]
    for r in report.results:
        case = r.loaded
        head = f"{case.where}: {case.case.name} [{case.kind}, {case.principal_label}]"
        if r.status == "pass":
            if verbose:
                lines.append(f"PASS {head}")
            continue
        if r.status == "skip":
            lines.append(f"SKIP {head}: {r.error}")
            continue
        if r.status == "error":
            lines.append(f"ERROR {head}\n    {r.error}")
            continue
        lines.append(f"FAIL {head}")
        for m in r.mismatches:
            lines.append(f"    {m.check}: {m.message}")
            if m.diff:
                lines += ["      " + d for d in m.diff.splitlines()]
        if r.detail.get("sql") and verbose:
            lines.append(f"    governed SQL: {r.detail['sql']}")
    total = len(report.results)
    kinds = ", ".join(f"{k} {n}" for k, n in report.by_kind().items())
    lines.append(f"{report.count('pass')} passed, {report.count('fail')} failed, {report.count('error')} errors, "
                 f"{report.count('skip')} skipped of {total} cases ({kinds})")
    return "\n".join(lines)


def junit_xml(report: TestReport) -> str:
    root = ET.Element("testsuites", name="govern policy tests", tests=str(len(report.results)),
                      failures=str(report.count("fail")), errors=str(report.count("error") + len(report.problems)),
                      skipped=str(report.count("skip")))
    by_file: dict[str, list[CaseResult]] = {}
    for r in report.results:
        by_file.setdefault(r.loaded.file, []).append(r)
    for problem in report.problems:
        suite = ET.SubElement(root, "testsuite", name="load", tests="1", failures="0", errors="1")
        case = ET.SubElement(suite, "testcase", classname="load", name=problem.split(":", 1)[0])
        ET.SubElement(case, "error", message=problem).text = problem
    for file, results in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(results)),
                              failures=str(sum(r.status == "fail" for r in results)),
                              errors=str(sum(r.status == "error" for r in results)),
                              skipped=str(sum(r.status == "skip" for r in results)),
                              time=f"{sum(r.seconds for r in results):.3f}")
        for r in results:
            tc = ET.SubElement(suite, "testcase", classname=f"policies.tests.{Path(file).stem}", name=r.loaded.case.name,
                               file=r.loaded.file, line=str(r.loaded.line), time=f"{r.seconds:.4f}")
            if r.status == "fail":
                message = "; ".join(m.message for m in r.mismatches)
                body = "\n".join(f"{m.check}: {m.message}\n{m.diff}" for m in r.mismatches)
                ET.SubElement(tc, "failure", message=message, type="PolicyTestFailure").text = body
            elif r.status == "error":
                ET.SubElement(tc, "error", message=r.error or "", type="PolicyTestError").text = r.error
            elif r.status == "skip":
                ET.SubElement(tc, "skipped", message=r.error or "")
            props = ET.SubElement(tc, "properties")
            ET.SubElement(props, "property", name="kind", value=r.loaded.kind)
            ET.SubElement(props, "property", name="principal", value=r.loaded.principal_label)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
