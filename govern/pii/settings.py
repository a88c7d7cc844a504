"""The `pii:` section of a bundle's rules.yaml, validated by pydantic v2.

Every model forbids unknown keys, so a typo in a bundle is a load error, never a
silently ignored setting.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Types the pattern mode can detect (Presidio pattern recognizers + govern's own).
PATTERN_TYPES: frozenset[str] = frozenset(
    {
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "US_SSN",
        "IBAN_CODE",
        "IP_ADDRESS",
        "URL",
        "DATE_TIME",
        "US_ITIN",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "UK_NHS",
        "UK_NINO",
        "CRYPTO",
        "MAC_ADDRESS",
        "STREET_ADDRESS",
        "ZIP_CODE",
        "AGE",
        # detected from structured context (names) and deny lists in every mode
        "PERSON",
    }
)
# Types only a spaCy NER model can add (PERSON also comes from context names).
NER_TYPES: frozenset[str] = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})

DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "URL",
)

# What setting `nlp_model` adds when a bundle does not list `entities`: the types the
# model supports, and the project's patterns for what it does not (addresses, postal
# codes and ages, each with the words that make it one). A bundle's own list narrows it.
NER_DEFAULT_EXTRA: tuple[str, ...] = (
    "LOCATION",
    "ORGANIZATION",
    "NRP",
    "DATE_TIME",
    "STREET_ADDRESS",
    "ZIP_CODE",
    "AGE",
)


def default_entities(nlp_model: str | None) -> list[str]:
    return list(DEFAULT_ENTITIES) + (list(NER_DEFAULT_EXTRA) if nlp_model else [])


# Presidio's base scores: a phone number without a context word scores 0.4, an
# email 0.5, a Luhn-valid card or checksum-valid IBAN 1.0.
DEFAULT_THRESHOLDS: dict[str, float] = {"default": 0.5, "PHONE_NUMBER": 0.4}

_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SOURCE_RE = re.compile(r"^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlaceholderOp(_Strict):
    """`<EMAIL_ADDRESS_1>`: typed, numbered per distinct value within one result (and conversation); never revealed."""

    operator: Literal["placeholder"] = "placeholder"


class RedactOp(_Strict):
    """A constant replacement; nothing of the value (not even its type) survives."""

    operator: Literal["redact"] = "redact"
    replacement: str = "[REDACTED]"


class PartialOp(_Strict):
    """A fixed prefix plus the last N characters (`***1234`); length is hidden."""

    operator: Literal["partial"] = "partial"
    keep_last: int = Field(4, ge=0, le=8)
    prefix: str = "***"


class HashOp(_Strict):
    """Keyed HMAC-SHA256 of the canonical value: `<EMAIL_ADDRESS:3f2a...>`."""

    operator: Literal["hash"] = "hash"
    length: int = Field(16, ge=8, le=64, description="hex characters kept")


class PseudonymOp(_Strict):
    """`<EMAIL_ADDRESS_1>`, the same for the same value across turns of a conversation."""

    operator: Literal["pseudonym"] = "pseudonym"


Operator = Annotated[
    Union[PlaceholderOp, RedactOp, PartialOp, HashOp, PseudonymOp],
    Field(discriminator="operator"),
]


class CustomRecognizer(_Strict):
    """A bundle-defined recognizer: a regex or a deny list (exactly one)."""

    name: str = Field(min_length=1)
    entity: str
    regex: str | None = None
    deny_list: list[str] | None = None
    score: float = Field(0.85, gt=0.0, le=1.0)
    context: list[str] = Field(default_factory=list)
    case_sensitive: bool = False

    @field_validator("entity")
    @classmethod
    def _entity_name(cls, v: str) -> str:
        if not _TYPE_RE.match(v):
            raise ValueError(f"entity type {v!r} must be UPPER_SNAKE_CASE")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> "CustomRecognizer":
        if (self.regex is None) == (self.deny_list is None):
            raise ValueError(f"recognizer {self.name!r}: give exactly one of `regex` or `deny_list`")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"recognizer {self.name!r}: invalid regex: {exc}") from None
        if self.deny_list is not None and not [w for w in self.deny_list if w.strip()]:
            raise ValueError(f"recognizer {self.name!r}: deny_list is empty")
        return self


class VaultSettings(_Strict):
    """The pseudonym vault: where it lives and its bounds.

    ``memory`` (default): in the engine's process. ``postgresql``: a table shared by
    every worker and kept across restarts (govern/pii/vault_pg.py); the connection
    string and the encryption secret come from the environment variables named
    here, never from the bundle, and values are stored AES-GCM encrypted.
    """

    backend: Literal["memory", "postgresql"] = "memory"
    ttl_seconds: float = Field(3600.0, gt=0, description="a conversation idle this long is forgotten")
    max_conversations: int = Field(10_000, ge=1, description="in-memory backend: least recently used evicted")
    max_values_per_conversation: int = Field(1_000, ge=1)
    dsn_env: str = Field("GOVERN_VAULT_DSN", description="postgresql: env var with the libpq connection string")
    key_env: str = Field(
        "GOVERN_VAULT_KEY", description="postgresql: env var with the secret (>= 32 bytes) that encrypts and keys"
    )
    table: str = Field("govern_pii_vault", pattern=r"^[a-z_][a-z0-9_]{0,40}$")


class PiiSettings(_Strict):
    """The `pii:` section of rules.yaml."""

    nlp_model: str | None = Field(
        None, description="spaCy model name for NER mode (e.g. en_core_web_sm); null = pattern mode"
    )
    entities: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENTITIES),
        description="types to detect; default: the 8 pattern-mode types, plus LOCATION, ORGANIZATION, NRP, "
        "DATE_TIME, STREET_ADDRESS, ZIP_CODE and AGE when nlp_model is set",
    )
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"])
    operators: dict[str, Operator] = Field(default_factory=lambda: {"default": PlaceholderOp()})
    custom_recognizers: list[CustomRecognizer] = Field(default_factory=list)
    context_names: bool = Field(True, description="mask names passed in context={'names': [...]}")
    name_sources: list[str] = Field(
        default_factory=list,
        description="catalog columns (table.column) whose values are people's names: govern reads them "
        "from the connection and masks them in every free-text value it scans (gov.execute, retrievers with conn=)",
    )
    allow_list: list[str] = Field(default_factory=list, description="exact strings never treated as PII")
    vault: VaultSettings = Field(default_factory=VaultSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_entities(cls, data):
        # `entities` not given: the mode's default list (NER mode is on when it is on)
        if isinstance(data, dict) and data.get("entities") is None:
            data = {**data, "entities": default_entities(data.get("nlp_model"))}
        return data

    @field_validator("entities")
    @classmethod
    def _entities(cls, v: list[str]) -> list[str]:
        for e in v:
            if not _TYPE_RE.match(e):
                raise ValueError(f"entity type {e!r} must be UPPER_SNAKE_CASE")
        if len(set(v)) != len(v):
            raise ValueError("entities lists a type twice")
        return v

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if k != "default" and not _TYPE_RE.match(k):
                raise ValueError(f"threshold key {k!r} must be `default` or an entity type")
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"threshold for {k} must be within [0, 1], got {s}")
        return {**DEFAULT_THRESHOLDS, **v}

    @field_validator("name_sources")
    @classmethod
    def _name_sources(cls, v: list[str]) -> list[str]:
        for src in v:
            if not _SOURCE_RE.match(src):
                raise ValueError(f"name source {src!r} must be `table.column`")
        if len({s.lower() for s in v}) != len(v):
            raise ValueError("name_sources lists a column twice")
        return v

    @field_validator("phone_regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        import phonenumbers

        out = []
        for r in v:
            r = r.upper()
            if r not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"unknown phone region {r!r} (ISO 3166-1 alpha-2 expected)")
            if r not in out:
                out.append(r)
        return out

    @field_validator("operators")
    @classmethod
    def _operator_keys(cls, v: dict[str, object]) -> dict[str, object]:
        for k in v:
            if k != "default" and not _TYPE_RE.match(k):
                raise ValueError(f"operator key {k!r} must be `default` or an entity type")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "PiiSettings":
        names = [r.name for r in self.custom_recognizers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"custom recognizer names must be unique: {sorted(dup)}")
        known = set(self.all_entities())
        if self.name_sources and "PERSON" not in known:
            raise ValueError("name_sources finds PERSON values: add PERSON to `entities`")
        for k in list(self.thresholds) + list(self.operators):
            if k != "default" and k not in known and k not in DEFAULT_THRESHOLDS:
                raise ValueError(f"{k} has a threshold or operator but is not in `entities`")
        return self

    # ---- derived -------------------------------------------------------------
    def all_entities(self) -> list[str]:
        """Configured entity types plus the types of custom recognizers."""
        out = list(self.entities)
        for r in self.custom_recognizers:
            if r.entity not in out:
                out.append(r.entity)
        return out

    def threshold(self, entity: str) -> float:
        return self.thresholds.get(entity, self.thresholds["default"])

    def operator(self, entity: str):
        return self.operators.get(entity) or self.operators.get("default") or PlaceholderOp()

    def uses_hash(self) -> list[str]:
        return [k for k, op in self.operators.items() if isinstance(op, HashOp)]
