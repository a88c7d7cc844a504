"""A finding of ``govern policy lint``: code, severity, message, and where it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    rule: str | None = None

    @property
    def where(self) -> str:
        if self.file is None:
            return "(bundle)"
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict:
        return asdict(self)
