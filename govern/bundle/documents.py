"""``documents.yaml``: a bundle's document rules for retrieval, validated and compiled at load.

Each rule's ``where`` is parsed once into the document predicate language
(``bundle/document_predicate.py``); retrieval binds it per principal
(``govern.retrieval.rules.derive_filter``).
"""

from __future__ import annotations

from pathlib import Path

from govern.bundle import document_predicate as P
from govern.bundle.compiled import Collection, CompiledRule, DocumentRules
from govern.bundle.document_models import DocumentsFile
from govern.bundle.yaml_source import validated

DOCUMENTS_FILE = "documents.yaml"


def load_documents(root: Path, problems: list[str]) -> DocumentRules:
    """Validate and compile ``root/documents.yaml`` (optional); problems as ``file:line: message``."""
    path = Path(root) / DOCUMENTS_FILE
    if not path.is_file():
        return DocumentRules()
    spec, source = validated(path, DocumentsFile, problems)
    if spec is None:
        return DocumentRules(path=path)
    where = source.where
    collections: dict[str, Collection] = {}
    seen: dict[str, tuple] = {}
    for name, coll in spec.collections.items():
        compiled = []
        for i, rule in enumerate(coll.rules):
            loc = ("collections", name, "rules", i)
            if rule.id in seen:
                problems.append(f"{where(loc + ('id',))}: rule id {rule.id!r} is already used at {where(seen[rule.id] + ('id',))}")
            seen.setdefault(rule.id, loc)
            try:
                node = P.parse_rule(rule.where, spec.expression_dialect)
                P.check_operands(node)
            except P.RuleSyntaxError as err:
                problems.append(f"{where(loc + ('where',))}: {err}")
                continue
            compiled.append(CompiledRule(
                id=rule.id, roles=None if rule.roles is None else frozenset(rule.roles), restrictive=rule.restrictive,
                node=node, attributes=frozenset(P.attributes(node)), scopes=frozenset(P.scopes(node)),
            ))
        collections[name] = Collection(name, coll, tuple(compiled))
    return DocumentRules(collections, path)
