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
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import casbin

from govern.bundle.catalog import Table

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


def check_model(path: Path) -> list[str]:
    """Problems with the casbin model file's shape, as 'file:line: message'."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in casbin
    text = path.read_text(encoding="utf-8")
    try:
        parser.read_string(text)
    except configparser.Error as err:
        return [f"{path.name}:{getattr(err, 'lineno', 1)}: {err.message if hasattr(err, 'message') else err}"]
    problems = []
    for (section, key), expected in EXPECTED_MODEL.items():
        got = parser.get(section, key, fallback=None)
        if got is None or "".join(got.split()) != expected:
            line = _line_of(text, f"{key} =") or _line_of(text, f"[{section}]") or 1
            problems.append(f"{path.name}:{line}: [{section}] {key} must be {expected!r} (govern relies on this shape)")
    return problems


def read_policy_lines(path: Path) -> tuple[list[list[str]], list[str]]:
    """Parse grants.csv into casbin rules, returning (rules, problems)."""
    rules, problems = [], []
    text = path.read_text(encoding="utf-8")
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader(io.StringIO(stripped), skipinitialspace=True))]
        where = f"{path.name}:{lineno}"
        if fields[0] == "p":
            if len(fields) != 5:
                problems.append(f"{where}: a 'p' line needs 4 fields (role, object, action, allow|deny), got {len(fields) - 1}")
            elif fields[3] not in ACTIONS:
                problems.append(f"{where}: unknown action {fields[3]!r} (one of {sorted(ACTIONS)})")
            elif fields[4] not in ("allow", "deny"):
                problems.append(f"{where}: effect must be allow or deny, got {fields[4]!r}")
            else:
                if fields[3] == "select":
                    fields[2] = fields[2].lower()  # table and column names are case-insensitive
                rules.append(fields)
        elif fields[0] == "g":
            if len(fields) != 3:
                problems.append(f"{where}: a 'g' line needs 2 fields (member role or principal, parent role), got {len(fields) - 1}")
            else:
                rules.append(fields)
        else:
            problems.append(f"{where}: a line starts with 'p' or 'g', not {fields[0]!r}")
    return rules, problems


class Grants:
    def __init__(self, model_path: Path, rules: list[list[str]]):
        self._enforcer = casbin.Enforcer(str(model_path))
        policies = [r[1:] for r in rules if r[0] == "p"]
        groupings = [r[1:] for r in rules if r[0] == "g"]
        if policies:
            self._enforcer.add_policies(policies)
        if groupings:
            self._enforcer.add_grouping_policies(groupings)
        self.roles: frozenset[str] = frozenset(p[0] for p in policies) | frozenset(x for g in groupings for x in g)
        # casbin evaluates matchers with simpleeval, which calls ast.parse; CPython 3.11
        # raises "AST constructor recursion depth mismatch" when threads do that at
        # once. Enforcer calls happen only on cache misses, so one lock costs little.
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
        with self._lock:
            return bool(self._enforcer.enforce(roles, obj, act))

    def _table_access(self, roles: frozenset[str], table: Table) -> TableAccess:
        permitted = tuple(c.name for c in table.columns if self.allowed(roles, f"{table.name}.{c.name}".lower(), "select"))
        lowered = {p.lower() for p in permitted}
        return TableAccess(permitted, frozenset(c.name.lower() for c in table.columns if c.name.lower() not in lowered))


def _line_of(text: str, needle: str) -> int | None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(needle):
            return lineno
    return None
