"""PII detection and masking for passages and free-text columns (offline by default).

    from govern.pii import PiiSettings, PiiEngine
    engine = PiiEngine(PiiSettings.model_validate(rules["pii"]), hash_key=key)
    m = engine.mask(text, reveal=frozenset({"PHONE_NUMBER"}), context={"names": [...]}, conversation="c1")

See govern/pii/README.md for what pattern mode and NER mode detect.
"""

from .engine import Finding, MaskedText, PiiEngine, canonical
from .names import NameSet, name_set
from .nlp import NerModelNotInstalled, PiiConfigError
from .settings import (
    DEFAULT_ENTITIES,
    CustomRecognizer,
    HashOp,
    PartialOp,
    PiiSettings,
    PlaceholderOp,
    PseudonymOp,
    RedactOp,
    VaultSettings,
)
from .sources import NameSourceError
from .vault import PseudonymVault

__all__ = [
    "CustomRecognizer",
    "DEFAULT_ENTITIES",
    "Finding",
    "HashOp",
    "MaskedText",
    "NameSet",
    "NameSourceError",
    "NerModelNotInstalled",
    "PartialOp",
    "PiiConfigError",
    "PiiEngine",
    "PiiSettings",
    "PlaceholderOp",
    "PseudonymOp",
    "PseudonymVault",
    "RedactOp",
    "VaultSettings",
    "canonical",
    "name_set",
]
