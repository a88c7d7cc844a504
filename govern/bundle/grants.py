"""Who may touch what: casbin grants with a role hierarchy and deny-overrides.

The request subject is the principal's whole role set expanded through the
``g`` hierarchy, so one enforce call sees every role at once: any matching deny
on any role beats any allow on any other. Decisions are cached per role set,
because a casbin enforce costs ~100 µs and a query asks about every column.
"""

from __future__ import annotations

import configparser
import csv
import io
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import casbin
from casbin.util import glob_match_func as casbin_glob_match

from govern.bundle.catalog import Table
from govern.bundle.yaml_source import YamlProblem, read_text

# The shape of the model govern's queries rely on (whitespace-insensitive).
EXPECTED_MODEL = {
    ("request_definition", "r"): "sub,obj,act",
    ("policy_definition", "p"): "sub,obj,act,eft",
    ("role_definition", "g"): "_,_",
    ("policy_effect", "e"): "some(where(p.eft==allow))&&!some(where(p.eft==deny))",
    ("matchers", "m"): "p.subinr.sub&&globMatch(r.obj,p.obj)&&r.act==p.act",
}

ACTIONS = frozenset({"select", "retrieve", "reveal"})


@dataclass(frozen=True)
class TableAccess:
    """What one role set may read of one table."""

    permitted: tuple[str, ...]  # catalog column names, in catalog order
    denied: frozenset[str]  # lower-cased names of catalog columns not permitted

    @property
    def visible(self) -> bool:
        return bool(self.permitted)


CANONICAL_EFFECT = "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
# A role is a plain token: an empty or spaced name is a typo that would still match a principal.
ROLE_NAME = re.compile(r"^[^\s\x00-\x1f\x7f,]+$")


def check_model(path: Path) -> list[str]:
    """Problems with the casbin model file, as 'file:line: message'.

    The shape is compared whitespace-insensitively, but casbin itself reads the
    file textually (only `key = value`, `&&` replaced by `and` as text, the effect
    compared verbatim), so a model that passes the shape check is also run once on
    a probe request: whatever casbin would fail on at enforce time fails here.
    """
    try:
        text = read_text(path)
    except YamlProblem as err:
        return [err.message]
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in casbin
    try:
        parser.read_string(text)
    except configparser.Error as err:
        return [f"{path.name}:{getattr(err, 'lineno', 1)}: {err.message if hasattr(err, 'message') else err}"]
    problems = []
    for (section, key), expected in EXPECTED_MODEL.items():
        got = parser.get(section, key, fallback=None)
        line = _key_line(text, key) or _line_of(text, f"[{section}]") or 1
        if got is None or "".join(got.split()) != expected:
            problems.append(f"{path.name}:{line}: [{section}] {key} must be {expected!r} (govern relies on this shape)")
        elif not re.match(rf"^\s*{key}\s*=", text.splitlines()[line - 1]):
            problems.append(f"{path.name}:{line}: [{section}] write '{key} = ...' (casbin reads only '=' as the separator)")
        elif key == "e" and got.strip() != CANONICAL_EFFECT:
            problems.append(f"{path.name}:{line}: [{section}] e must be written exactly {CANONICAL_EFFECT!r} (casbin compares it as text)")
    return problems or _probe(path, text)


def _probe(path: Path, text: str) -> list[str]:
    """Decide two requests with the model: any error, or a decision unlike govern's, names the matcher line."""
    line = _key_line(text, "m") or 1
    try:
        enforcer = casbin.Enforcer(str(path))
        enforcer.add_policies([["probe", "probe.*", "select", "allow"], ["blocked", "probe.secret", "select", "deny"]])
        decisions = (enforcer.enforce(frozenset({"probe"}), "probe.x", "select"),
                     enforcer.enforce(frozenset({"probe", "blocked"}), "probe.secret", "select"),
                     enforcer.enforce(frozenset({"other"}), "probe.x", "select"))
    except Exception as err:  # casbin raises SyntaxError, RuntimeError, ... from its text handling
        where = _key_line(text, "e") if "effect" in str(err) else line
        return [f"{path.name}:{where or 1}: casbin cannot evaluate the model ({type(err).__name__}: {err})"]
    if decisions != (True, False, False):
        return [f"{path.name}:{line}: the model does not decide like govern's (allow, deny overrides allow, no grant)"]
    return []


def read_policy_lines(path: Path) -> tuple[list[list[str]], list[str]]:
    """Parse grants.csv into casbin rules, returning (rules, problems)."""
    numbered, problems = read_grant_file(path)
    return [fields for _, fields in numbered], problems


def read_grant_file(path: Path) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """grants.csv as (line number, casbin rule) pairs, and the problems found."""
    rules, problems = [], []
    try:
        text = read_text(path)
    except YamlProblem as err:
        return [], [err.message]
    name_ok = ROLE_NAME.match
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path.name}:{lineno}"
        if stripped.count('"') % 2:
            problems.append(f"{where}: unterminated quote: a '\"' on this line is never closed")
            continue
        if '"' in stripped:
            fields = [f.strip() for f in next(csv.reader(io.StringIO(stripped), skipinitialspace=True))]
        else:  # no quoting: csv would split at every comma (10x cheaper for a large file)
            fields = _COMMA.split(stripped)  # the line is stripped: so is every field
        kind = fields[0]
        if kind == "p" and len(fields) == 5 and fields[3] in ACTIONS and fields[4] in _EFFECTS \
                and name_ok(fields[1]) and name_ok(fields[2]):  # a well-formed line, the common case
            if fields[3] == "select":
                fields[2] = fields[2].lower()  # table and column names are case-insensitive
            rules.append((lineno, fields))
            continue
        if kind == "p":
            if len(fields) != 5:
                problems.append(f"{where}: a 'p' line needs 4 fields (role, object, action, allow|deny), got {len(fields) - 1}")
            elif fields[3] not in ACTIONS:
                problems.append(f"{where}: unknown action {fields[3]!r} (one of {sorted(ACTIONS)})")
            elif fields[4] not in _EFFECTS:
                problems.append(f"{where}: effect must be allow or deny, got {fields[4]!r}")
            else:
                _bad_names(where, fields[1:3], problems)
        elif kind == "g":
            if len(fields) != 3:
                problems.append(f"{where}: a 'g' line needs 2 fields (member role, inherited role), got {len(fields) - 1}")
            elif not _bad_names(where, fields[1:], problems):
                rules.append((lineno, fields))
        else:
            problems.append(f"{where}: a line starts with 'p' or 'g', not {kind!r}")
    return rules, problems


_EFFECTS = frozenset({"allow", "deny"})
_COMMA = re.compile(r"\s*,\s*")


def _bad_names(where: str, names: list[str], problems: list[str]) -> bool:
    bad = [n for n in names if not ROLE_NAME.match(n)]
    for name in bad:
        problems.append(f"{where}: {name!r} is not a valid name (empty, or has spaces or control characters)")
    return bool(bad)


def hierarchy_problems(file: str, numbered: list[tuple[int, list[str]]], principals: dict) -> list[str]:
    """`g` lines that name a principal id, and role cycles (each names its lines)."""
    problems = []
    held = {r for p in principals.values() for r in p.roles}
    granted = {f[1] for _, f in numbered if f[0] == "p"}
    roles_in_use = held | granted
    edges: dict[str, list[tuple[str, int]]] = {}
    for lineno, fields in numbered:
        if fields[0] != "g":
            continue
        member, parent = fields[1], fields[2]
        edges.setdefault(member, []).append((parent, lineno))
        if member in principals and member not in roles_in_use:
            # govern expands a principal's roles, never its id: such a line would be silently ignored.
            problems.append(f"{file}:{lineno}: {member!r} is a principal id (principals.yaml); `g` lines relate roles only: "
                            f"give the principal role {parent!r} in principals.yaml instead")
    for cycle in _cycles(edges):
        names = " -> ".join([member for member, _ in cycle] + [cycle[0][0]])
        lines = ", ".join(str(line) for _, line in cycle)
        problems.append(f"{file}:{cycle[0][1]}: role cycle {names} (lines {lines}): every role in a cycle inherits every other's grants and rules")
    return problems


def _cycles(edges: dict[str, list[tuple[str, int]]]) -> list[list[tuple[str, int]]]:
    """Each elementary cycle found by a depth-first search once, as (role, line of its edge) steps."""
    found, seen_sets, done = [], set(), set()

    def visit(role: str, path: list[tuple[str, int]], on_path: dict[str, int]) -> None:
        for parent, line in edges.get(role, ()):
            step = path + [(role, line)]
            if parent in on_path:
                cycle = step[on_path[parent]:]
                key = frozenset(r for r, _ in cycle)
                if key not in seen_sets:
                    seen_sets.add(key)
                    found.append(cycle)
            elif parent not in done:
                visit(parent, step, on_path | {parent: len(step)})
        done.add(role)

    for role in sorted(edges):
        if role not in done:
            visit(role, [], {role: 0})
    return found


class Grants:
    """The grants of one bundle, answering casbin's enforce from a view of the lines indexed by role.

    casbin stays the grant language: check_model holds the model to govern's shape (and runs
    casbin on a probe), and the role hierarchy (``g`` lines) is casbin's role manager. The
    ``p`` lines are not loaded into a casbin enforcer: adding n lines there costs n^2 (every
    line is compared with all before it) and every enforce scans all of them. For that model,
    enforce((roles), obj, act) is "some line of a held role, for act, whose object pattern
    globMatches obj, allows, and none denies", so the lines are indexed by (role, action) at
    load (RoleIndex) and enforce reads only the principal's roles' lines, matching patterns
    with casbin's own globMatch. tests/policy/test_grant_index.py proves it decides like
    casbin's enforcer over random grant sets.
    """

    def __init__(self, model_path: Path, rules: list[list[str]]):
        policies = [r[1:] for r in rules if r[0] == "p"]
        groupings = [r[1:] for r in rules if r[0] == "g"]
        self._enforcer = casbin.Enforcer(str(model_path))  # the role hierarchy only
        if groupings:
            self._enforcer.add_grouping_policies(groupings)
        self._index = RoleIndex(policies)
        self.roles: frozenset[str] = frozenset(p[0] for p in policies) | frozenset(x for g in groupings for x in g)
        # casbin evaluates matchers with simpleeval, which calls ast.parse; CPython 3.11
        # raises "AST constructor recursion depth mismatch" when threads do that at
        # once. The role manager is called only on cache misses, so one lock costs little.
        self._lock = threading.Lock()
        # lru_cache on bound methods keeps caches per instance and dies with it.
        self.expand_roles = lru_cache(maxsize=4096)(self._expand_roles)
        self.table_access = lru_cache(maxsize=16384)(self._table_access)
        self.allowed = lru_cache(maxsize=65536)(self._allowed)

    def _expand_roles(self, roles: tuple[str, ...]) -> frozenset[str]:
        """The roles plus every role they inherit through ``g`` lines."""
        expanded = set(roles)
        with self._lock:
            for role in roles:
                expanded.update(self._enforcer.get_implicit_roles_for_user(role))
        return frozenset(expanded)

    def _allowed(self, roles: frozenset[str], obj: str, act: str) -> bool:
        return self._index.enforce(roles, obj, act)

    def _table_access(self, roles: frozenset[str], table: Table) -> TableAccess:
        permitted = tuple(c.name for c in table.columns if self.allowed(roles, f"{table.name}.{c.name}".lower(), "select"))
        lowered = {p.lower() for p in permitted}
        return TableAccess(permitted, frozenset(c.name.lower() for c in table.columns if c.name.lower() not in lowered))


# Object names and patterns made only of these characters compare literally under casbin's
# globMatch (wcmatch: no wildcard, class, brace, escape or path separator among them).
_LITERAL = re.compile(r"^[A-Za-z0-9_.$:-]+$")


class RoleIndex:
    """``p`` lines (role, object pattern, action, effect) indexed by (role, action).

    Per (role, action): literal objects in a dict; patterns whose part before the first
    ``.`` is literal (``customers.*``) by that part, the table; other patterns in a list.
    A literal object (``customers.email``) can only match a literal line equal to it, a
    pattern filed under its own table part, or one of the other patterns; an object
    with any other character is matched against every line of the role, by globMatch.
    """

    def __init__(self, policies: list[list[str]]):
        self._lines: dict[tuple[str, str], _RoleLines] = {}
        for sub, obj, act, eft in policies:
            lines = self._lines.get((sub, act))
            if lines is None:
                lines = self._lines[(sub, act)] = _RoleLines()
            lines.add(obj, eft == "allow")

    def enforce(self, roles, obj: str, act: str) -> bool:
        """casbin's decision for the request (roles, obj, act) under govern's model."""
        literal = bool(_LITERAL.match(obj))
        head = obj.split(".", 1)[0]
        allow = False
        for role in roles:
            lines = self._lines.get((role, act))
            if lines is None:
                continue
            for allows in lines.matching(obj, literal, head):
                if not allows:
                    return False  # deny overrides
                allow = True
        return allow


class _RoleLines:
    __slots__ = ("literal", "by_table", "other")

    def __init__(self) -> None:
        self.literal: dict[str, list[bool]] = {}
        self.by_table: dict[str, list[tuple[str, bool]]] = {}
        self.other: list[tuple[str, bool]] = []

    def add(self, pattern: str, allows: bool) -> None:
        if _LITERAL.match(pattern):
            self.literal.setdefault(pattern, []).append(allows)
            return
        head, dot, _ = pattern.partition(".")
        if dot and head and _LITERAL.match(head):
            self.by_table.setdefault(head, []).append((pattern, allows))
        else:
            self.other.append((pattern, allows))

    def matching(self, obj: str, literal: bool, head: str):
        """The effects (True: allow) of the lines whose pattern globMatches ``obj``."""
        if literal:
            yield from self.literal.get(obj, ())
            candidates = self.by_table.get(head, ())
        else:
            candidates = [(p, a) for p, effects in self.literal.items() for a in effects]
            candidates += [line for lines in self.by_table.values() for line in lines]
        for pattern, allows in candidates:
            if glob_match(obj, pattern):
                yield allows
        for pattern, allows in self.other:
            if glob_match(obj, pattern):
                yield allows


@lru_cache(maxsize=65536)
def glob_match(obj: str, pattern: str) -> bool:
    """casbin's globMatch (the model's matcher function), cached."""
    return bool(casbin_glob_match(obj, pattern))


def _key_line(text: str, key: str) -> int | None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*{re.escape(key)}\s*[=:]", line):
            return lineno
    return None


def _line_of(text: str, needle: str) -> int | None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(needle):
            return lineno
    return None
