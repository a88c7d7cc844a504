"""``identity.yaml`` loaded with the bundle: the token rules and, for a JWKS file, its keys.

The JWKS file lives inside the bundle (its bytes are part of the bundle hash, so a
key rotation is a reviewed bundle change); keys named by an environment variable
are read when a verifier is built (``govern.identity``), never stored in the bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govern.bundle.identity_models import IdentityFile
from govern.bundle.yaml_source import validated

IDENTITY_FILE = "identity.yaml"


@dataclass(frozen=True)
class IdentityConfig:
    """A bundle's identity.yaml, validated; ``jwks`` is the parsed JWKS file when the keys come from one."""

    spec: IdentityFile
    path: Path
    jwks: dict[str, Any] | None = field(default=None, repr=False)


def load_identity(root: Path, problems: list[str], schema: Any = None) -> IdentityConfig | None:
    """Validate ``root/identity.yaml`` (optional); problems as ``file:line: message``.

    ``schema`` (the principals' attribute schema, govern.bundle.attributes.PrincipalSchema):
    a claim mapped to an attribute the schema does not declare is an error when the schema
    denies unknown attributes (every token would be refused).
    """
    path = Path(root) / IDENTITY_FILE
    if not path.is_file():
        return None
    spec, source = validated(path, IdentityFile, problems)
    if spec is None:
        return None
    if schema is not None and schema.unknown_attributes == "deny":
        for name in spec.claims.attributes:
            if name not in schema.attributes:
                problems.append(f"{source.where(('claims', 'attributes', name))}: claims.attributes.{name}: attribute "
                                f"{name!r} is not in the attribute schema (principals.yaml attributes:)")
    jwks = None
    if spec.keys.jwks_file is not None:
        where = source.where(("keys", "jwks_file"))
        jwks = _read_jwks(Path(root), spec.keys.jwks_file, where, problems)
        if jwks is None:
            return None
    return IdentityConfig(spec, path, jwks)


def _read_jwks(root: Path, name: str, where: str, problems: list[str]) -> dict[str, Any] | None:
    relative = Path(name)
    target = (root / relative).resolve()
    if relative.is_absolute() or not target.is_relative_to(root.resolve()):
        problems.append(f"{where}: keys.jwks_file {name!r} must be a file inside the bundle (its keys are part of the bundle hash)")
        return None
    if not target.is_file():
        problems.append(f"{where}: keys.jwks_file {name!r}: no such file in the bundle")
        return None
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.append(f"{where}: keys.jwks_file {name!r} is not JSON ({err})")
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) and isinstance(k.get("kty"), str) for k in keys):
        problems.append(f"{where}: keys.jwks_file {name!r} is not a JWKS (an object with a non-empty 'keys' list of keys with 'kty')")
        return None
    private = [k.get("kid", i) for i, k in enumerate(keys) if "d" in k or "k" in k]
    if private:
        problems.append(f"{where}: keys.jwks_file {name!r} holds secret or private key material (keys {private}); "
                        "publish only public keys in a bundle")
        return None
    return data
