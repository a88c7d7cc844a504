"""PII detection and masking for passages and free-text columns (offline by default).

    from govern.pii import PiiSettings, PiiEngine
    engine = PiiEngine(PiiSettings.model_validate(rules["pii"]), hash_key=key)
    m = engine.mask(text, reveal=frozenset({"PHONE_NUMBER"}), context={"names": [...]}, conversation="c1")

See govern/pii/README.md for what pattern mode and NER mode detect.

The settings (the ``pii:`` section of rules.yaml) are imported with the bundle;
the engine and everything that needs Presidio or spaCy is imported on first use
of one of its names (module ``__getattr__``), so ``import govern`` and loading a
bundle stay light.
"""

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
from .vault import PseudonymVault, VaultBackend

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
    "PostgresVault",
    "PseudonymVault",
    "RedactOp",
    "VaultBackend",
    "VaultSettings",
    "canonical",
    "name_set",
]


def __getattr__(name: str):
    """The names that need Presidio or spaCy, imported when first asked for."""
    if name in ("Finding", "MaskedText", "PiiEngine", "canonical"):
        from . import engine as module
    elif name in ("NameSet", "name_set"):
        from . import names as module
    elif name in ("NerModelNotInstalled", "PiiConfigError"):
        from . import nlp as module
    elif name == "NameSourceError":
        from . import sources as module
    elif name == "PostgresVault":
        from . import vault_pg as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
