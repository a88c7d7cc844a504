"""Load a policy bundle directory whole or not at all."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from threading import Lock
from pathlib import Path
from typing import Any

from govern.bundle.attributes import PrincipalSchema, validate_principal
from govern.bundle.catalog import Catalog, catalog_problems
from govern.bundle.compile import compile_rules, denied_column_grants
from govern.bundle.compiled import TablePolicy
from govern.bundle.documents import load_documents
from govern.bundle.grants import Grants, check_model, hierarchy_problems, read_grant_file
from govern.bundle.identity import load_identity
from govern.bundle.models import CatalogFile, PrincipalsFile, RulesFile
from govern.bundle.yaml_source import YamlSource, validated
from govern.errors import InvalidPrincipal, PolicyLoadError
from govern.principal import Principal
from govern.sql.safety import dialect_functions

MODEL_FILE, GRANTS_FILE, CATALOG_FILE, RULES_FILE, PRINCIPALS_FILE = (
    "model.conf", "grants.csv", "catalog.yaml", "rules.yaml", "principals.yaml",
)


@dataclass(frozen=True)
class Bundle:
    """A loaded, validated, compiled policy bundle. Immutable once built."""

    path: Path
    content_hash: str
    catalog: Catalog
    grants: Grants
    rules: RulesFile
    policies: dict[str, TablePolicy]  # lower-case table name -> filters and masks
    principals: dict[str, Principal]
    # Document rules for retrieval (govern.bundle.compiled.DocumentRules, from documents.yaml).
    documents: Any = field(default=None, compare=False, repr=False)
    # How bearer tokens are verified and become principals (govern.bundle.identity.IdentityConfig,
    # from identity.yaml); None when the bundle has no identity.yaml.
    identity: Any = field(default=None, compare=False, repr=False)
    # True when the catalog was passed in (introspected), not read from catalog.yaml:
    # a reload must pass it again rather than look for a file.
    external_catalog: bool = field(default=False, compare=False)
    # The principals' attribute schema (principals.yaml `attributes:`), None when the bundle declares none.
    principal_schema: PrincipalSchema | None = field(default=None, compare=False)
    # Per-bundle caches of derived, request-independent structures (relation templates).
    templates: BoundedCache = field(default_factory=lambda: BoundedCache(8192), compare=False, repr=False)
    renders: BoundedCache = field(default_factory=lambda: BoundedCache(8192), compare=False, repr=False)
    function_lists: dict = field(default_factory=dict, compare=False, repr=False)  # dialect -> functions(dialect)

    # Facts of the bundle a request reads are computed once (cached_property on the frozen
    # bundle), not per request: a catalog walk or a set union of 1,300 names each time adds up.
    @cached_property
    def unclassified(self) -> bool:
        """An introspected catalog nobody classified: no column carries a PII type, so no mask can
        follow a classification, and until it is classified every string in results is scanned."""
        return self.external_catalog and bool(self.rules.pii.entities) and not any(
            c.pii for t in self.catalog for c in t.columns)

    @cached_property
    def allowed_functions(self) -> frozenset[str]:
        return frozenset(f.lower() for f in self.rules.limits.functions)

    def functions(self, dialect: str) -> frozenset[str]:
        """Functions sqlglot does not model that a query in ``dialect`` may call: the dialect's
        reviewed list (sql.safety.dialect_functions) and the bundle's ``limits.functions``."""
        known = self.function_lists.get(dialect)
        if known is None:
            if len(self.function_lists) >= 64:  # a dialect name may carry settings: not a fixed set
                self.function_lists.clear()
            known = self.function_lists[dialect] = dialect_functions(dialect) | self.allowed_functions
        return known

    def table_policy(self, table_name: str) -> TablePolicy:
        return self.policies.get(table_name.lower(), _NO_POLICY)


_NO_POLICY = TablePolicy()


class BoundedCache:
    """A small thread-safe LRU map; entries are immutable, so readers share them."""

    def __init__(self, size: int):
        self._size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)


def load_bundle(directory: str | Path, catalog: Catalog | None = None) -> Bundle:
    """Load ``directory``. Raises PolicyLoadError listing every problem, file and line."""
    root = Path(directory)
    if not root.is_dir():
        raise PolicyLoadError([f"{root}: not a directory"])
    try:
        return _load(root, catalog)
    except PolicyLoadError:
        raise
    except Exception as err:  # fail closed with a PolicyLoadError, never a raw exception half-way
        raise PolicyLoadError([f"{root}: the bundle could not be read ({type(err).__name__}: {err})"]) from None


def _load(root: Path, catalog: Catalog | None) -> Bundle:
    external = catalog is not None
    problems: list[str] = []
    hashed = content_hash(root)

    def require(name: str) -> Path | None:
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing from bundle {root}")
            return None
        return path

    model_path, grants_path, rules_path = require(MODEL_FILE), require(GRANTS_FILE), require(RULES_FILE)
    catalog_path = root / CATALOG_FILE
    if catalog is None and not catalog_path.is_file():
        problems.append(f"{CATALOG_FILE}: missing from bundle {root} (or pass a catalog introspected from a connection)")

    if catalog is None and catalog_path.is_file():
        spec, catalog_source = validated(catalog_path, CatalogFile, problems)
        found = catalog_problems(spec, catalog_source.where) if spec is not None else []
        problems += found
        if spec is not None and not found:
            try:
                catalog = Catalog.from_file(spec)
            except ValueError as err:
                problems.append(f"{CATALOG_FILE}: {err}")
    rules, rules_source = validated(rules_path, RulesFile, problems) if rules_path else (None, None)
    principals_path = root / PRINCIPALS_FILE
    principals, principals_source = validated(principals_path, PrincipalsFile, problems) if principals_path.is_file() else (PrincipalsFile(), None)
    schema = principals.schema() if principals is not None else None
    by_id = _principals_by_id(principals, principals_source, problems, schema)

    grant_lines: list[list[str]] = []
    if model_path:
        problems += check_model(model_path)
    if grants_path:
        numbered, grant_problems = read_grant_file(grants_path)
        problems += grant_problems + hierarchy_problems(GRANTS_FILE, numbered, by_id)
        grant_lines = [fields for _, fields in numbered]

    policies: dict[str, TablePolicy] = {}
    if rules is not None and catalog is not None:
        policies, rule_problems = compile_rules(rules, catalog, rules_source.where)
        problems += rule_problems
        grant_lines += denied_column_grants(rules)
    documents = load_documents(root, problems)  # optional documents.yaml: document rules for retrieval
    identity = load_identity(root, problems, schema)  # optional identity.yaml: bearer tokens -> principals
    if problems:
        raise PolicyLoadError(problems)

    try:
        grants = Grants(model_path, grant_lines)
    except Exception as err:  # casbin reports model errors with its own exception types
        raise PolicyLoadError([f"{MODEL_FILE}: casbin could not load the model: {err}"]) from None
    if content_hash(root) != hashed:
        # An editor saved a file mid-load: what was read may mix two versions.
        raise PolicyLoadError([f"{root}: the bundle changed while it was loading; load it again"])
    return Bundle(
        path=root,
        content_hash=hashed,
        catalog=catalog,
        grants=grants,
        rules=rules,
        policies=policies,
        principals=by_id,
        documents=documents,
        identity=identity,
        external_catalog=external,
        principal_schema=schema,
    )


def _principals_by_id(principals: PrincipalsFile | None, source: YamlSource | None, problems: list[str],
                      schema: PrincipalSchema | None = None) -> dict[str, Principal]:
    """Principals by id (checked against the attribute schema); a repeated id is an error (the last would silently win)."""
    by_id: dict[str, Principal] = {}
    for i, p in enumerate(principals.principals if principals is not None else ()):
        where = source.where(("principals", i)) if source is not None else PRINCIPALS_FILE
        if p.id in by_id:
            where = source.where(("principals", i, "id")) if source is not None else PRINCIPALS_FILE
            problems.append(f"{where}: principal id {p.id!r} is listed twice")
        try:
            p = validate_principal(schema, p)
        except InvalidPrincipal as err:
            problems += [f"{where}: {reason}" for reason in err.reasons]
        by_id.setdefault(p.id, p)
    return by_id


# Not policy: the bundle's own test cases (govern policy test) do not change what is enforced.
UNHASHED_DIRS = frozenset({"tests", "__pycache__"})


def content_hash(root: Path) -> str:
    """SHA-256 over every policy file of the bundle (names and bytes), in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not UNHASHED_DIRS & set(p.relative_to(root).parts)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()
