"""The attribute schema of principals, and the check every request makes against it.

A bundle may declare, in principals.yaml, which attributes a principal carries::

    attributes:
      tenant:      {type: string, required: true}
      clinic_id:   {type: integer}
      clinics:     {type: integer, list: true, default: []}
      since:       {type: date}
    unknown_attributes: deny     # or allow

``validate_principal(schema, principal)`` checks one principal against it and
returns the principal with defaults filled in, or raises
:class:`govern.errors.InvalidPrincipal` listing every problem
(``attribute clinic_id must be an integer, got 'one'``). The Governor calls it on
every request (check_sql, execute, retrieval, mask); an identity layer (JWT
claims mapped to attributes) calls it on what it maps. No schema (``None``):
the principal is returned as it is.

Types: ``string``, ``integer`` (not a boolean), ``number`` (an integer or a
finite float), ``boolean``, ``date`` (an ISO ``YYYY-MM-DD`` string or a
``datetime.date``; kept as the ISO string). ``list: true`` takes a list of
values of that type (a scalar is not a list of one). A required attribute has no
default; an optional one without a default may be absent (a rule that needs it
then denies, as without a schema).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govern.errors import InvalidPrincipal
from govern.principal import Principal

AttributeType = Literal["string", "integer", "number", "boolean", "date"]
TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "date")
_ARTICLE = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
            "date": "a date (YYYY-MM-DD)"}


class AttributeSpec(BaseModel):
    """One attribute: its type, list or scalar, required or optional (with a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: AttributeType
    list: bool = False
    required: bool = False
    default: Any = None
    description: str | None = None

    @model_validator(mode="after")
    def _default_fits(self) -> AttributeSpec:
        if self.default is not None:
            if self.required:
                raise ValueError("a required attribute has no default (drop 'default' or 'required')")
            problem = _problem("default", self, self.default)
            if problem:
                raise ValueError(problem)
        return self


class PrincipalSchema(BaseModel):
    """The attributes a principal may carry; ``unknown_attributes`` says what to do with others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    unknown_attributes: Literal["deny", "allow"] = "deny"

    def names(self) -> set[str]:
        return set(self.attributes) | {"id"}


def validate_principal(schema: PrincipalSchema | None, principal: Principal | Mapping[str, Any], *,
                       from_text: bool = False) -> Principal:
    """``principal`` checked against ``schema``, with defaults filled in.

    Raises InvalidPrincipal (a Denied) naming every attribute that is missing,
    of the wrong type or not in the schema. ``principal`` may be a Principal or a
    mapping ``{id, roles, attributes}`` (date values may be ``datetime.date``).
    ``from_text=True`` is for values that can only arrive as text (``--attr K=V`` on a
    command line, a string claim): a string that is exactly the canonical text of the
    declared type is read as that type (``"7"`` an integer, ``"true"`` a boolean,
    ``"2.5"`` a number; items of a list too); anything else is still denied.
    """
    if isinstance(principal, Principal):
        pid, roles, attributes = principal.id, principal.roles, dict(principal.attributes)
    elif isinstance(principal, Mapping):
        pid, roles, attributes = principal.get("id"), principal.get("roles", ()), dict(principal.get("attributes") or {})
    else:
        raise InvalidPrincipal(f"a principal must be a Principal or a mapping, got {type(principal).__name__}")
    if schema is None:
        return principal if isinstance(principal, Principal) else _build(pid, roles, attributes)
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        spec = schema.attributes.get(name)
        if spec is None:
            if schema.unknown_attributes == "deny":
                problems.append(f"attribute {name} is not in the bundle's attribute schema"
                                f"{_hint(name, schema.attributes)}")
            else:
                out[name] = value
            continue
        if from_text:
            value = _from_text(spec, value)
        problem = _problem(f"attribute {name}", spec, value)
        if problem:
            problems.append(problem)
        else:
            out[name] = _normal(spec, value)
    for name, spec in schema.attributes.items():
        if name in attributes:
            continue
        if spec.required:
            problems.append(f"attribute {name} is required ({_expected(spec)}) and missing")
        elif spec.default is not None:
            out[name] = _normal(spec, spec.default)
    if problems:
        raise InvalidPrincipal(*(f"principal {pid!r}: {p}" for p in problems))
    return _build(pid, roles, out)


def _build(pid: Any, roles: Any, attributes: dict) -> Principal:
    try:
        return Principal(id=pid, roles=roles or (), attributes=attributes)
    except Exception as err:  # pydantic's message, first line: the id or roles are malformed
        raise InvalidPrincipal(f"principal {pid!r} is malformed: {str(err).splitlines()[0]}") from None


def _expected(spec: AttributeSpec) -> str:
    return f"a list of {spec.type} values" if spec.list else _ARTICLE[spec.type]


def _problem(label: str, spec: AttributeSpec, value: Any) -> str | None:
    """Why ``value`` does not fit ``spec``, or None."""
    if spec.list:
        if not isinstance(value, (list, tuple)):
            return f"{label} must be a list of {spec.type} values, got {value!r}"
        for item in value:
            if not _fits(spec.type, item):
                return f"{label} must be a list of {spec.type} values, got item {item!r}"
        return None
    if not _fits(spec.type, value):
        return f"{label} must be {_ARTICLE[spec.type]}, got {value!r}"
    return None


def _fits(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and math.isfinite(value))
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        if isinstance(value, _dt.datetime):
            return False  # a timestamp is not a date
        if isinstance(value, _dt.date):
            return True
        if isinstance(value, str) and len(value) == 10:
            try:
                _dt.date.fromisoformat(value)
                return True
            except ValueError:
                return False
        return False
    return False


def _from_text(spec: AttributeSpec, value: Any) -> Any:
    def one(v: Any) -> Any:
        if not isinstance(v, str) or spec.type in ("string", "date"):
            return v
        if spec.type == "boolean":
            return {"true": True, "false": False}.get(v, v)
        try:
            number = int(v) if spec.type == "integer" else float(v)
        except ValueError:
            return v
        canonical = str(number) if spec.type == "integer" else v
        return number if canonical == v and (spec.type == "integer" or math.isfinite(number)) else v

    return [one(v) for v in value] if spec.list and isinstance(value, (list, tuple)) else one(value)


def _normal(spec: AttributeSpec, value: Any) -> Any:
    def one(v: Any) -> Any:
        return v.isoformat() if isinstance(v, _dt.date) else v

    return [one(v) for v in value] if spec.list else one(value)


def _hint(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
