"""``identity.yaml``: how a bearer token (JWT) of the end user is verified and becomes a principal.

Optional in a bundle; a service (``govern serve``) or ``Governor.principal_from_token``
needs it. Unknown keys are errors, like every policy file::

    version: 1
    issuer: https://idp.example.com/
    audience: govern                 # or a list: the token's aud must name one of them
    algorithms: [RS256]              # never none; HS* only with keys.secret_env
    keys:
      jwks_file: keys/jwks.json      # exactly one of jwks_file (a JWKS in the bundle),
      # public_key_env: IDP_PEM      # a PEM public key in an environment variable,
      # secret_env: GOVERN_JWT_SECRET  # a shared secret (HS*) in an environment variable
    leeway_seconds: 30               # clock skew tolerated on exp / nbf / iat
    require: [exp, sub]              # claims a token must carry
    claims:
      id: sub                        # the principal id
      roles: roles                   # a claim holding a list of roles (or one role)
      attributes:                    # principal attribute <- claim
        region: region
        tenant: [org, tenant]        # a list is a path into nested objects
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})

# A claim: a top-level claim name (used as is: namespaced claims like
# "https://example.com/roles" contain dots), or a path of names into nested objects.
ClaimRef = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityKeys(_Strict):
    """Where the verification key comes from: exactly one source."""

    jwks_file: str | None = Field(default=None, min_length=1, description="a JWKS file, relative to the bundle")
    public_key_env: str | None = Field(default=None, min_length=1, description="environment variable holding a PEM public key")
    secret_env: str | None = Field(default=None, min_length=1, description="environment variable holding an HMAC secret (HS*)")

    @model_validator(mode="after")
    def _exactly_one(self) -> IdentityKeys:
        given = [k for k in ("jwks_file", "public_key_env", "secret_env") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"keys needs exactly one of 'jwks_file', 'public_key_env', 'secret_env' (got {given or 'none'})")
        return self


class ClaimMapping(_Strict):
    id: ClaimRef = "sub"
    roles: ClaimRef | None = None  # omitted: principals from tokens have no roles
    # A string claim value is one role; with a separator it is split (e.g. " " for an OAuth scope string).
    roles_separator: str | None = Field(default=None, min_length=1)
    attributes: dict[str, ClaimRef] = {}

    @field_validator("id", "roles")
    @classmethod
    def _non_empty_path(cls, value):
        if isinstance(value, list) and (not value or not all(value)):
            raise ValueError("a claim path is a non-empty list of non-empty names")
        if isinstance(value, str) and not value:
            raise ValueError("a claim name is not empty")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_claims(cls, value: dict[str, ClaimRef]):
        for name, ref in value.items():
            if name == "id":
                raise ValueError("'id' is the principal id (claims.id), not an attribute")
            if not ref or (isinstance(ref, list) and not all(ref)):
                raise ValueError(f"attribute {name!r}: a claim name or a non-empty path of names")
        return value


class IdentityFile(_Strict):
    version: Literal[1] = 1
    issuer: str | list[str] = Field(min_length=1)
    audience: str | list[str] = Field(min_length=1)
    algorithms: list[str] = Field(min_length=1)
    keys: IdentityKeys
    leeway_seconds: int = Field(default=30, ge=0, le=600)
    require: list[str] = ["exp", "sub"]
    claims: ClaimMapping = ClaimMapping()

    @field_validator("algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        for alg in value:
            if alg.lower() == "none":
                raise ValueError("'none' (unsigned tokens) is never accepted")
            if alg not in SYMMETRIC | ASYMMETRIC:
                raise ValueError(f"unknown algorithm {alg!r} (one of {', '.join(sorted(SYMMETRIC | ASYMMETRIC))})")
        return value

    @model_validator(mode="after")
    def _keys_fit_algorithms(self) -> IdentityFile:
        symmetric = [a for a in self.algorithms if a in SYMMETRIC]
        if self.keys.secret_env is not None and len(symmetric) != len(self.algorithms):
            raise ValueError("keys.secret_env is an HMAC secret: algorithms must all be HS256/HS384/HS512")
        if self.keys.secret_env is None and symmetric:
            raise ValueError(f"algorithms {symmetric} need keys.secret_env (a public key never verifies HMAC tokens)")
        return self
