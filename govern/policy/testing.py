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

Every SQL case is executed on the target database (the demo data, ``govern.demo.dataset``,
in DuckDB or loaded into a fresh PostgreSQL database) through ``Governor.execute``, so rows
are masked exactly as an application sees them. ``same_as`` is an oracle query run on the
raw tables with the policy written by hand; the governed rows must equal its rows as a
multiset (as a list with ``ordered: true``).

Which expectation keys a case may use, and how each is evaluated, is one table:
``CHECKERS[(input, key)]`` (input: sql, passage, retrieve, entity). The loader accepts
exactly its keys per input (anything else is an error at its line) and the runner calls
exactly its checkers; a check that cannot be evaluated (``Unevaluable``) makes the case an
error, never a pass.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from govern.bundle.yaml_source import YamlProblem, load_yaml
from govern.errors import Denied, GovernError, QueryDenied
from govern.principal import Principal

KINDS = ("allowed", "denied", "row_filter", "mask", "entity_scope", "pii_passage", "retrieval")
INPUTS = ("sql", "passage", "retrieve", "entity")  # what a case gives: its input decides which expectations it may use
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


Oracle = str | dict[str, str]  # SQL on the raw tables: one text (DuckDB SQL, transpiled to the target) or dialect -> SQL


class Expect(_Strict):
    """What a case must produce. Which keys a case may use depends on its input (sql, passage,
    retrieve, entity): the table CHECKERS below says, and the loader rejects any other."""

    allowed: bool | None = None
    reason: str | list[str] | None = None  # substring(s) of the reasons (case-insensitive)
    policies: list[str] | None = None  # applied (subset)
    not_policies: list[str] | None = None  # not applied
    tables: list[str] | None = None
    # rows (SQL cases, run on the target database)
    columns: list[str] | None = None
    rows: Rows | None = None
    ordered: bool = False
    rows_include: Rows | None = None
    rows_exclude: Rows | None = None
    row_count: int | None = None
    min_rows: int | None = None
    max_rows: int | None = None
    same_as: Oracle | None = None
    values: dict[str, str] | None = None  # column -> regex every non-NULL value matches
    values_not: dict[str, str] | None = None  # column -> regex no value matches
    null: list[str] | None = None  # columns whose every value is NULL
    # PII (passages, free text of SQL results, retrieved passages)
    pii_masked: list[str] | dict[str, int] | None = None
    pii_revealed: list[str] | None = None
    text: str | None = None
    text_contains: list[str] | None = None
    text_excludes: list[str] | None = None
    needs_review: bool | None = None
    # retrieval
    documents: list[str] | None = None
    documents_include: list[str] | None = None
    documents_exclude: list[str] | None = None
    # entity scopes
    keys: list[Any] | None = None
    keys_include: list[Any] | None = None
    keys_exclude: list[Any] | None = None
    keys_same_as: Oracle | None = None  # oracle SQL on the raw tables returning the keys

    @model_validator(mode="before")
    @classmethod
    def _null_key(cls, data):
        # YAML reads an unquoted `null:` key as None: it means the `null` expectation.
        if isinstance(data, dict) and None in data and "null" not in data:
            data = {("null" if k is None else k): v for k, v in data.items()}
        return data

    def given(self) -> list[str]:
        """The expectation keys the case sets, in declaration order."""
        return [k for k in type(self).model_fields if k in self.model_fields_set]


class Case(_Strict):
    name: str = Field(min_length=1)
    kind: str | None = None
    tags: list[str] = []
    principal: str | PrincipalSpec | None = None
    sql: str | None = None
    dialect: str | None = None  # the SQL's dialect; default: the target database's (duckdb, postgres)
    passage: str | None = None
    context: dict[str, Any] | None = None
    conversation: str | None = None
    retrieve: RetrievalInput | None = None
    entity: EntityInput | None = None
    expect: Expect
    skip: str | None = None  # a reason; the case is reported as skipped

    @model_validator(mode="after")
    def _one_input(self) -> Case:
        given = [k for k in INPUTS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a case needs exactly one input of sql, passage, retrieve, entity; got {given or 'none'}")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        return self

    @property
    def input(self) -> str:
        return next(k for k in INPUTS if getattr(self, k) is not None)


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
    target: str = ""  # the database the SQL cases ran on
    uncovered: list | None = None  # with coverage: what no case exercised (govern.policy.coverage.Uncovered)

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
            "target": self.target,
            **({"uncovered": [u.to_dict() for u in self.uncovered]} if self.uncovered is not None else {}),
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
            if not case.skip and not set(case.expect.given()) - set(MODIFIERS):
                # `expect: {}` checks nothing: reported, never passed silently.
                problems.append(f"{path.name}:{line}: case {case.name!r} expects nothing (give `expect` at least one check)")
                continue
            unusable = expectation_problems(case)
            if unusable:
                problems += [f"{source.where(('cases', i, 'expect', key))}: case {case.name!r}: {message}" for key, message in unusable]
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


# ----------------------------------------------------------------------------- checkers


class Unevaluable(Exception):
    """A check that cannot be evaluated on what the case produced: the case is an error, never a pass."""


@dataclass
class Outcome:
    """What one case produced: the facts every checker reads (None: the input does not produce it)."""

    input: str
    allowed: bool
    reasons: list[str]
    policies: list[str] | None = None
    tables: list[str] | None = None
    columns: list[str] | None = None
    rows: list[tuple] | None = None
    text: str | None = None
    pii_masked: dict[str, int] | None = None
    needs_review: bool | None = None
    documents: list[str] | None = None
    keys: list | str | None = None
    revealed_of: Callable[[], set[str]] | None = None  # PII types shown unmasked (computed only when a case asks)
    detail: dict = field(default_factory=dict)

    def need(self, name: str):
        value = getattr(self, name)
        if value is None:
            raise Unevaluable(f"the {self.input} case produced no {name} to check")
        return value


Checker = Callable[["Runner", Expect, Outcome], list[Mismatch]]

# (case input, expectation key) -> the function that evaluates it. The loader accepts exactly these
# keys per input (an expectation nothing evaluates cannot load) and the runner calls exactly these.
CHECKERS: dict[tuple[str, str], Checker] = {}
# Keys that only modify another check, and the checks they modify.
MODIFIERS: dict[str, tuple[str, ...]] = {"ordered": ("rows", "same_as")}
# Keys that hold on a denied case too; every other key needs the case to be allowed.
ON_DENIED = frozenset({"allowed", "reason", "policies", "not_policies", "tables"})


def checks(key: str, *inputs: str):
    def register(fn: Checker) -> Checker:
        for name in inputs:
            CHECKERS[(name, key)] = fn
        return fn
    return register


def accepted_keys(input_name: str) -> list[str]:
    return [k for (i, k) in CHECKERS if i == input_name] + [m for m, on in MODIFIERS.items()
                                                            if any((input_name, k) in CHECKERS for k in on)]


def expectation_problems(case: Case) -> list[tuple[str, str]]:
    """(key, message) for every expectation of ``case`` that cannot be evaluated on its input."""
    out = []
    given = case.expect.given()
    for key in given:
        if key in MODIFIERS:
            if not any(k in given for k in MODIFIERS[key]):
                out.append((key, f"`{key}` modifies {' or '.join(MODIFIERS[key])}, which the case does not expect"))
        elif (case.input, key) not in CHECKERS:
            inputs = sorted(i for (i, k) in CHECKERS if k == key)
            article = "an" if case.input[0] in "aeiou" else "a"
            out.append((key, f"expectation `{key}` is not evaluated for {article} {case.input} case "
                             f"({'it applies to ' + ', '.join(inputs) + ' cases' if inputs else 'no case evaluates it'}; "
                             f"{article} {case.input} case accepts: {', '.join(sorted(accepted_keys(case.input)))})"))
    if case.expect.allowed is False:
        for key in given:
            if key not in ON_DENIED and key not in MODIFIERS:
                out.append((key, f"expectation `{key}` cannot be evaluated on a case expected to be denied (allowed: false)"))
    return out


# ---- the checkers ------------------------------------------------------------------


@checks("allowed", *INPUTS)
def _c_allowed(r, e, o):
    """Allowed or denied as expected; without `allowed`, a case expecting anything of the result expects it allowed."""
    wanted = e.allowed if e.allowed is not None else (True if any(k not in ON_DENIED for k in e.given()) else None)
    if wanted is None or o.allowed == wanted:
        return []
    got = "allowed" if o.allowed else "denied: " + "; ".join(o.reasons)
    return [Mismatch("allowed", f"expected {'allowed' if wanted else 'denied'}, got {got}", _pair("allowed" if wanted else "denied", got))]


@checks("reason", *INPUTS)
def _c_reason(r, e, o):
    return _check_reasons(e.reason, o.reasons)


@checks("policies", "sql", "retrieve", "entity")
def _c_policies(r, e, o):
    got = o.need("policies")
    missing = [p for p in e.policies if p not in got]
    return [Mismatch("policies", f"policies not applied: {missing}", _pair(sorted(e.policies), got))] if missing else []


@checks("not_policies", "sql", "retrieve", "entity")
def _c_not_policies(r, e, o):
    got = o.need("policies")
    bad = [p for p in e.not_policies if p in got]
    return [Mismatch("not_policies", f"policies applied that must not be: {bad}", _pair(f"none of {e.not_policies}", got))] if bad else []


@checks("tables", "sql")
def _c_tables(r, e, o):
    got = o.need("tables")
    if sorted(t.lower() for t in e.tables) != sorted(t.lower() for t in got):
        return [Mismatch("tables", "tables read differ", _pair(sorted(e.tables), sorted(got)))]
    return []


def _got(o: Outcome) -> list[tuple]:
    return [normalise_row(r) for r in o.need("rows")]


@checks("columns", "sql")
def _c_columns(r, e, o):
    got = o.need("columns")
    if [c.lower() for c in e.columns] != [c.lower() for c in got]:
        return [Mismatch("columns", "output columns differ", _pair(e.columns, got))]
    return []


@checks("same_as", "sql")
def _c_same_as(r, e, o):
    return _compare_rows("same_as", r.oracle(e.same_as), _got(o), e.ordered, "oracle (same_as, raw tables)")


@checks("rows", "sql")
def _c_rows(r, e, o):
    return _compare_rows("rows", [normalise_row(x) for x in e.rows], _got(o), e.ordered, "expected rows")


@checks("rows_include", "sql")
def _c_rows_include(r, e, o):
    missing = Counter(normalise_row(x) for x in e.rows_include) - Counter(_got(o))
    return [Mismatch("rows_include", f"{sum(missing.values())} expected row(s) not returned", _rows_diff(missing, Counter()))] if missing else []


@checks("rows_exclude", "sql")
def _c_rows_exclude(r, e, o):
    got = set(_got(o))
    present = [x for x in (normalise_row(y) for y in e.rows_exclude) if x in got]
    return [Mismatch("rows_exclude", f"{len(present)} row(s) returned that must not be", _rows_diff(Counter(), Counter(present)))] if present else []


@checks("row_count", "sql")
def _c_row_count(r, e, o):
    n = len(o.need("rows"))
    return [Mismatch("row_count", f"expected {e.row_count} rows, got {n}", _pair(e.row_count, n))] if n != e.row_count else []


@checks("min_rows", "sql")
def _c_min_rows(r, e, o):
    n = len(o.need("rows"))
    return [Mismatch("min_rows", f"expected at least {e.min_rows} rows, got {n}")] if n < e.min_rows else []


@checks("max_rows", "sql")
def _c_max_rows(r, e, o):
    n = len(o.need("rows"))
    return [Mismatch("max_rows", f"expected at most {e.max_rows} rows, got {n}")] if n > e.max_rows else []


def _column(o: Outcome, check: str, column: str) -> list:
    columns = o.need("columns")
    index = {c.lower(): i for i, c in enumerate(columns)}
    if column.lower() not in index:
        raise Unevaluable(f"{check}: no output column {column!r} (columns: {columns})")
    return [row[index[column.lower()]] for row in o.need("rows")]


@checks("values", "sql")
def _c_values(r, e, o):
    out = []
    for column, pattern in e.values.items():
        rx = re.compile(pattern)
        bad = [v for v in _column(o, "values", column) if v is not None and not rx.search(str(v))]
        if bad:
            out.append(Mismatch("values", f"{len(bad)} value(s) of {column!r} do not match /{pattern}/",
                                "\n".join(f"+ {v!r}" for v in bad[:MAX_DIFF_ROWS])))
    return out


@checks("values_not", "sql")
def _c_values_not(r, e, o):
    out = []
    for column, pattern in e.values_not.items():
        rx = re.compile(pattern)
        bad = [v for v in _column(o, "values_not", column) if v is not None and rx.search(str(v))]
        if bad:
            out.append(Mismatch("values_not", f"{len(bad)} value(s) of {column!r} match /{pattern}/",
                                "\n".join(f"+ {v!r}" for v in bad[:MAX_DIFF_ROWS])))
    return out


@checks("null", "sql")
def _c_null(r, e, o):
    out = []
    for column in e.null:
        bad = [v for v in _column(o, "null", column) if v is not None]
        if bad:
            out.append(Mismatch("null", f"{len(bad)} value(s) of {column!r} are not NULL", "\n".join(f"+ {v!r}" for v in bad[:MAX_DIFF_ROWS])))
    return out


@checks("pii_masked", "sql", "passage", "retrieve")
def _c_pii_masked(r, e, o):
    what = {"sql": "result free text", "passage": "passage", "retrieve": "retrieved passages"}[o.input]
    return _check_pii(e.pii_masked, o.need("pii_masked"), what)


@checks("pii_revealed", "sql", "passage", "retrieve")
def _c_pii_revealed(r, e, o):
    if o.revealed_of is None:
        raise Unevaluable(f"the {o.input} case cannot tell which PII types were shown")
    revealed = o.revealed_of()
    missing = [t for t in e.pii_revealed if t not in revealed]
    return [Mismatch("pii_revealed", f"types not shown unmasked: {missing}", _pair(sorted(e.pii_revealed), sorted(revealed)))] if missing else []


@checks("text", "passage")
def _c_text(r, e, o):
    text = o.need("text")
    return [Mismatch("text", "masked text differs", _pair(e.text, text))] if text != e.text else []


@checks("text_contains", "sql", "passage", "retrieve")
def _c_text_contains(r, e, o):
    text = o.need("text")
    return [Mismatch("text_contains", f"text does not contain {n!r}", f"+ {text[:400]!r}") for n in e.text_contains if n not in text]


@checks("text_excludes", "sql", "passage", "retrieve")
def _c_text_excludes(r, e, o):
    text = o.need("text")
    return [Mismatch("text_excludes", f"text contains {n!r}, which must be masked or absent", f"+ {text[:400]!r}")
            for n in e.text_excludes if n in text]


@checks("needs_review", "sql", "passage", "retrieve")
def _c_needs_review(r, e, o):
    got = o.need("needs_review")
    return [Mismatch("needs_review", f"needs_review is {got}", _pair(e.needs_review, got))] if got != e.needs_review else []


@checks("documents", "retrieve")
def _c_documents(r, e, o):
    return _check_ids("documents", e.documents, None, None, o.need("documents"))


@checks("documents_include", "retrieve")
def _c_documents_include(r, e, o):
    return _check_ids("documents", None, e.documents_include, None, o.need("documents"))


@checks("documents_exclude", "retrieve")
def _c_documents_exclude(r, e, o):
    return _check_ids("documents", None, None, e.documents_exclude, o.need("documents"))


@checks("keys", "entity")
def _c_keys(r, e, o):
    keys = o.need("keys")
    if keys == "ALL":
        return [] if e.keys == ["ALL"] else [Mismatch("keys", "the scope is every instance (unrestricted)", _pair(e.keys, "ALL"))]
    return _check_ids("keys", e.keys, None, None, keys)


@checks("keys_include", "entity")
def _c_keys_include(r, e, o):
    keys = o.need("keys")
    return [] if keys == "ALL" else _check_ids("keys", None, e.keys_include, None, keys)


@checks("keys_exclude", "entity")
def _c_keys_exclude(r, e, o):
    keys = o.need("keys")
    if keys == "ALL":
        return [Mismatch("keys_exclude", "the scope is every instance, so excluded keys are visible", _pair(e.keys_exclude, "ALL"))]
    return _check_ids("keys", None, None, e.keys_exclude, keys)


@checks("keys_same_as", "entity")
def _c_keys_same_as(r, e, o):
    keys = o.need("keys")
    oracle = [row[0] for row in r.oracle(e.keys_same_as)]
    if keys == "ALL":
        raise Unevaluable("keys_same_as: the scope is every instance (unrestricted); expect `keys: [ALL]`")
    return _check_ids("keys_same_as", oracle, None, None, keys)


_UNCHECKED = set(Expect.model_fields) - {k for _, k in CHECKERS} - set(MODIFIERS)
if _UNCHECKED:  # structural: an expectation key nothing evaluates must not exist
    raise RuntimeError(f"expectation keys without a checker: {sorted(_UNCHECKED)}")


# ----------------------------------------------------------------------------- running


class Runner:
    """Runs cases against one Governor and one database connection (the target, in ``dialect``)."""

    def __init__(self, gov, conn=None, dialect: str = "duckdb"):
        self.gov = gov
        self.conn = conn
        self.dialect = dialect
        self.reference = None  # the demo DuckDB database, for DuckDB oracles when the target is another engine

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
        if case.sql is not None and case.dialect is not None and case.dialect != self.dialect:
            return CaseResult(loaded, "skip", error=f"the case's SQL is {case.dialect} SQL; the target database is {self.dialect}")
        started = time.perf_counter()
        detail: dict = {}
        try:
            problems = expectation_problems(case)
            if problems:  # the loader rejects these; a case built in code gets the same answer
                raise Unevaluable("; ".join(m for _, m in problems))
            outcome = self.outcome(loaded)
            detail = outcome.detail
            mismatches = self.evaluate(case.expect, outcome)
        except Unevaluable as err:
            return CaseResult(loaded, "error", error=f"cannot be evaluated: {err}", seconds=time.perf_counter() - started, detail=detail)
        except Exception as err:  # a broken case is reported, never stops the run
            return CaseResult(loaded, "error", error=f"{type(err).__name__}: {err}", seconds=time.perf_counter() - started, detail=detail)
        return CaseResult(loaded, "fail" if mismatches else "pass", mismatches, seconds=time.perf_counter() - started, detail=detail)

    def outcome(self, loaded: LoadedCase) -> Outcome:
        """Run the case's input (SQL, passage, retrieval, entity scope) for its principal: what it produced."""
        case = loaded.case
        principal = self.principal(loaded.principal_ref)
        outcome = {"sql": self._sql, "passage": self._passage, "retrieve": self._retrieve, "entity": self._entity}[case.input](case, principal)
        outcome.detail["roles"] = sorted(self.gov.bundle.grants.expand_roles(tuple(principal.roles)))
        return outcome

    def evaluate(self, expect: Expect, outcome: Outcome) -> list[Mismatch]:
        """Every expectation of the case, each by its checker; `allowed` first (a wrong decision makes the rest moot)."""
        wrong = CHECKERS[(outcome.input, "allowed")](self, expect, outcome)
        if wrong:
            return wrong
        out: list[Mismatch] = []
        for key in expect.given():
            if key == "allowed" or key in MODIFIERS:
                continue
            out += CHECKERS[(outcome.input, key)](self, expect, outcome)
        return out

    # -- SQL: always executed on the target ---------------------------------------
    def _sql(self, case: Case, principal: Principal) -> Outcome:
        if self.conn is None:
            raise Unevaluable("no database to run the SQL on")
        result = None
        try:
            result = self.gov.execute(self.conn, case.sql, principal, dialect=self.dialect)
            decision = result.decision
        except QueryDenied as denied:
            decision = denied.decision
        detail = {"allowed": decision.allowed, "reasons": decision.reasons, "policies": decision.policies, "sql": decision.sql,
                  "tables": list(decision.tables), "columns": list(decision.columns)}
        if result is None:
            return Outcome("sql", False, list(decision.reasons), list(decision.policies), list(decision.tables), detail=detail)
        strings = [str(v) for row in result.rows for v in row if v is not None]
        revealed = _lazy(lambda: self._visible_types(strings))
        detail["pii_found"] = result.pii
        return Outcome("sql", True, list(decision.reasons), list(decision.policies), list(decision.tables), list(result.columns),
                       list(result.rows), "\n".join(strings), dict(result.pii), result.needs_review, revealed_of=revealed, detail=detail)

    def _visible_types(self, strings: list[str]) -> set[str]:
        """PII types still detectable in what the principal was shown (shown unmasked)."""
        if not strings:
            return set()
        masked = self.gov.pii_engine().mask_many(list(dict.fromkeys(strings)), reveal=frozenset())
        return {t for m in masked for t, n in m.counts.items() if n}

    def oracle(self, spec: Oracle) -> list[tuple]:
        """Rows of an oracle query on the raw tables.

        A mapping ``{dialect: SQL}`` runs the target's entry on the target itself (no entry for the
        target: the case cannot be evaluated). One text is DuckDB SQL: it runs on the target when that
        is DuckDB, else on the reference DuckDB copy of the same demo data (an independent engine
        computing the expected rows).
        """
        if isinstance(spec, dict):
            sql = spec.get(self.dialect)
            if sql is None:
                raise Unevaluable(f"no oracle for dialect {self.dialect!r} (given: {sorted(spec)})")
            conn, dialect = self.conn, self.dialect
        elif self.dialect == "duckdb":
            sql, conn, dialect = spec, self.conn, "duckdb"
        else:
            if self.reference is None:
                self.reference = open_demo_db(None)
            sql, conn, dialect = spec, self.reference, "duckdb"
        return [normalise_row(r) for r in run_oracle(conn, dialect, sql, self.gov.hash_key)]

    def close(self) -> None:
        if self.reference is not None:
            self.reference.close()
            self.reference = None

    # -- passages ----------------------------------------------------------------
    def _passage(self, case: Case, principal: Principal) -> Outcome:
        try:
            masked = self.gov.mask_text(case.passage, principal, context=case.context, conversation=case.conversation)
        except Denied as denied:  # a principal that does not fit the bundle's attribute schema
            return Outcome("passage", False, list(denied.reasons), detail={"reasons": list(denied.reasons)})
        found = masked.counts
        masked_counts = masked.masked_counts
        revealed = {t: n - masked_counts.get(t, 0) for t, n in found.items() if n - masked_counts.get(t, 0) > 0}
        detail = {"text": masked.text, "masked": masked_counts, "revealed": revealed, "pii_found": found}
        return Outcome("passage", True, [], text=masked.text, pii_masked=dict(masked_counts), needs_review=masked.needs_review,
                       revealed_of=lambda: set(revealed), detail=detail)

    # -- retrieval -----------------------------------------------------------------
    def _retrieve(self, case: Case, principal: Principal) -> Outcome:
        from govern.policy.retrieval_cases import run_retrieval

        got = run_retrieval(self.gov, case.retrieve, principal, self.conn)
        detail = {"documents": got.documents, "reasons": got.reasons, "policies": got.policies, "collection": case.retrieve.collection,
                  "pii_found": got.pii}
        if not got.allowed:
            return Outcome("retrieve", False, got.reasons, got.policies, detail=detail)
        texts = list(got.texts)
        return Outcome("retrieve", True, got.reasons, got.policies, text="\n".join(texts), pii_masked=dict(got.pii),
                       needs_review=got.needs_review, documents=got.documents,
                       revealed_of=_lazy(lambda: self._visible_types(texts)), detail=detail)

    # -- entity scopes -------------------------------------------------------------
    def _entity(self, case: Case, principal: Principal) -> Outcome:
        from govern.policy.retrieval_cases import run_entity_scope

        allowed, reasons, keys, policies = run_entity_scope(self.gov, principal, case.entity.entity, self.conn)
        detail = {"keys": keys, "policies": policies}
        return Outcome("entity", allowed, reasons, policies, keys=keys if allowed else None, detail=detail)


def _lazy(fn: Callable[[], set[str]]) -> Callable[[], set[str]]:
    cache: list[set[str]] = []

    def get() -> set[str]:
        if not cache:
            cache.append(fn())
        return cache[0]
    return get


def run_oracle(conn, dialect: str, sql: str, hash_key: str | None) -> list[tuple]:
    """Run an oracle query (``$hash_key`` is the bundle's hash key) on the target connection."""
    if dialect == "duckdb":
        params = {"hash_key": hash_key} if "$hash_key" in sql else None
        return conn.execute(sql, params).fetchall()
    with conn.cursor() as cur:
        if "$hash_key" in sql:
            cur.execute(sql.replace("%", "%%").replace("$hash_key", "%(hash_key)s"), {"hash_key": hash_key})
        else:
            cur.execute(sql)
        return cur.fetchall()


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
        if value.tzinfo is not None:  # an aware timestamp (PostgreSQL timestamptz): the same instant in UTC, naive
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
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


class PolicyTestError(GovernError):
    """The policy tests could not run (a --db that names no database, an unreachable server)."""


@dataclass
class Target:
    """The database the SQL cases run on: a connection, its dialect, and how to let it go."""

    conn: Any
    dialect: str
    label: str
    close: Callable[[], None] = lambda: None


def open_demo_db(path: str | Path | None):
    """A read-only DuckDB connection to the demo database; ``None``: a cached copy, built when missing.

    A ``path`` that does not exist is an error (PolicyTestError), never a silently built database.
    """
    import duckdb

    from govern.demo.dataset import build_demo_db

    if path is None:
        path = Path(tempfile.gettempdir()) / "govern-policy-tests" / "demo-seed7.duckdb"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            build_demo_db(path)
    path = Path(path)
    if not path.is_file():
        raise PolicyTestError(f"--db {path}: no such database file (build one with `python -m govern.demo.dataset {path}`, "
                              "or omit --db to use the demo database)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except Exception as err:
        raise PolicyTestError(f"--db {path}: not a DuckDB database ({type(err).__name__}: {str(err).splitlines()[0]})") from None


def open_target(db: str | Path | None) -> Target:
    """``None`` or a DuckDB file: that database; ``postgresql://...``: the demo data loaded into a fresh
    database of a random name on that server (dropped afterwards)."""
    text = str(db) if db is not None else ""
    if text.startswith(("postgresql://", "postgres://")):
        return _postgres_target(text)
    conn = open_demo_db(db)
    return Target(conn, "duckdb", str(db or "demo DuckDB"), conn.close)


def _postgres_target(url: str) -> Target:
    import secrets

    try:
        import psycopg
        from psycopg import sql as pgsql
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError:
        raise PolicyTestError("--db postgresql://...: psycopg is not installed (pip install 'govern[postgres]')") from None
    name = f"govern_policy_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except Exception as err:
        raise PolicyTestError(f"--db: cannot connect to PostgreSQL ({type(err).__name__}: {str(err).strip().splitlines()[0]})") from None
    try:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    except Exception as err:
        admin.close()
        raise PolicyTestError(f"--db: cannot create a test database ({type(err).__name__}: {str(err).strip().splitlines()[0]})") from None

    def drop() -> None:
        try:
            admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        finally:
            admin.close()

    try:
        params = conninfo_to_dict(url)
        params["dbname"] = name
        conn = psycopg.connect(make_conninfo(**params), autocommit=True)
        load_demo_into_postgres(conn, "main")
    except BaseException:
        drop()
        raise

    def close() -> None:
        try:
            conn.close()
        finally:
            drop()

    return Target(conn, "postgres", f"PostgreSQL database {name}", close)


def load_demo_into_postgres(conn, schema: str) -> None:
    """The demo data (govern.demo.dataset, seed 7) into ``schema`` of a PostgreSQL connection."""
    from govern.demo.dataset import TABLES, create_table_sql, generate

    data = generate()

    def q(ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'

    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
        for table in TABLES:  # creation order respects the foreign keys
            cur.execute(create_table_sql(table, schema))
            cols = ", ".join(q(c) for c in table.column_names)
            with cur.copy(f"COPY {q(schema)}.{q(table.name)} ({cols}) FROM STDIN") as copy:
                for row in data[table.name]:
                    copy.write_row(row)
            cur.execute(f"ANALYZE {q(schema)}.{q(table.name)}")


def run_tests(directory: str | Path, *, gov=None, conn=None, db: str | Path | None = None, hash_key: str | None = None,
              select: str | None = None, kinds: list[str] | None = None, progress: bool = False,
              coverage: bool = False) -> TestReport:
    """Run ``DIR/tests/*.yaml`` against the bundle in ``DIR`` (or ``gov``'s bundle).

    ``db``: a DuckDB demo database file (must exist), ``postgresql://...`` (the demo data is
    loaded into a fresh database of a random name there, dropped afterwards), or None (a cached
    demo DuckDB database). ``conn``: an open connection instead. ``coverage``: also list the
    grants and rules no case exercised (``report.uncovered``).
    """
    import os

    from govern.connections import dialect_of

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
    target = open_target(db) if conn is None else Target(conn, dialect_of(conn), "the given connection")
    report.target = target.label
    runner = Runner(gov, target.conn, target.dialect)
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
        runner.close()
        if conn is None:
            target.close()
    if coverage:
        from govern.policy.coverage import uncovered

        report.uncovered = uncovered(gov.bundle, report)
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
