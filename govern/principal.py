"""The requester. Passed by the caller from its own authentication, never by the LLM."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

AttributeValue = str | int | float | bool | list[str] | list[int] | list[float] | list[bool]


class Principal(BaseModel):
    """Who is asking: an id, roles, and attributes (tenant, region, clearance, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    roles: tuple[str, ...] = ()
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    def __init__(self, id: str | None = None, roles: Any = (), attributes: Any = None, **data: Any):
        # Positional form Principal("eve", ["sales_rep"], {"region": "EU"}) as well as keywords.
        if id is not None:
            data["id"] = id
        super().__init__(roles=roles, attributes=attributes or {}, **data)

    @field_validator("roles", mode="before")
    @classmethod
    def _roles_as_tuple(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise ValueError(f"roles must be a list of role names, got {type(value).__name__}")  # not a TypeError: pydantic reports it
        return tuple(value)

    def attribute(self, name: str) -> Any:
        """The value of ``name`` (``id`` is the principal id); KeyError when absent."""
        if name == "id":
            return self.id
        return self.attributes[name]

    def has(self, name: str) -> bool:
        return name == "id" or name in self.attributes

    def summary(self) -> dict[str, Any]:
        """What the audit trail records about the principal."""
        return {"id": self.id, "roles": list(self.roles), "tenant": self.attributes.get("tenant")}
