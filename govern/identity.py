"""Verified identity: a bearer token (JWT) of the end user becomes a principal, by the bundle's identity.yaml.

Verification is PyJWT's (``pip install govern[serve]``): signature with the
configured key (a JWKS file in the bundle, or a PEM public key or an HMAC secret
named by an environment variable), the algorithm among those configured (never
``none``), ``exp``/``nbf``/``iat`` with the configured leeway, ``iss`` and ``aud``,
the required claims. Every refusal is a ``TokenError`` with a short ``kind`` and a
reason; nothing of the token is trusted, or quoted, before it verifies.

    verifier = TokenVerifier(bundle.identity)
    principal = verifier.principal(token)          # TokenError when refused

Claims become the principal as identity.yaml's ``claims`` says: the id from
``sub`` (or another claim), roles from one claim, each attribute from one claim.
An attribute whose claim is absent is absent from the principal: a rule that
needs it denies the query, naming the attribute (``claim_notes`` names the claim).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from govern.bundle.attributes import validate_principal
from govern.bundle.identity import IdentityConfig
from govern.bundle.identity_models import SYMMETRIC, ClaimMapping, ClaimRef
from govern.errors import IdentityUnavailable, InvalidPrincipal, TokenError
from govern.principal import Principal

MAX_TOKEN_BYTES = 16 * 1024  # larger "tokens" are refused before any parsing
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}  # RFC 7518 3.2: at least the hash size


def _jwt():
    try:
        import jwt
    except ImportError:  # pragma: no cover - the serve extra is missing
        raise IdentityUnavailable("PyJWT is not installed: pip install 'govern[serve]'") from None
    return jwt


class TokenVerifier:
    """Verifies tokens against one bundle's identity.yaml; keys are read once, when it is built.

    Raises IdentityUnavailable when the bundle has no identity.yaml or the key it
    names cannot be read (an unset environment variable, a short secret, a bad PEM).
    """

    def __init__(self, config: IdentityConfig | None, environ: Mapping[str, str] | None = None, schema: Any = None):
        self.schema = schema  # the principals' attribute schema (govern.bundle.attributes), applied to mapped claims
        if config is None:
            raise IdentityUnavailable("the bundle has no identity.yaml: tokens cannot be verified")
        self.config = config
        self.spec = config.spec
        jwt = _jwt()
        environ = os.environ if environ is None else environ
        keys = self.spec.keys
        self._jwks: dict[str | None, Any] = {}
        self._key: Any = None
        if keys.jwks_file is not None:
            try:
                jwk_set = jwt.PyJWKSet.from_dict(config.jwks)
            except jwt.PyJWTError as err:
                raise IdentityUnavailable(f"identity.yaml: keys.jwks_file {keys.jwks_file!r} has no usable key ({err})") from None
            for key in jwk_set.keys:
                self._jwks[key.key_id] = key
        elif keys.public_key_env is not None:
            pem = environ.get(keys.public_key_env)
            if not pem:
                raise IdentityUnavailable(f"identity.yaml: keys.public_key_env: ${keys.public_key_env} is not set")
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            try:
                self._key = load_pem_public_key(pem.encode())
            except (ValueError, TypeError) as err:
                raise IdentityUnavailable(f"identity.yaml: ${keys.public_key_env} is not a PEM public key ({err})") from None
        else:
            secret = environ.get(keys.secret_env)
            if not secret:
                raise IdentityUnavailable(f"identity.yaml: keys.secret_env: ${keys.secret_env} is not set")
            need = max(MIN_SECRET_BYTES[a] for a in self.spec.algorithms)
            if len(secret.encode()) < need:
                raise IdentityUnavailable(f"identity.yaml: ${keys.secret_env} is shorter than {need} bytes "
                                          f"(too short for {', '.join(self.spec.algorithms)})")
            self._key = secret.encode()
        issuer = self.spec.issuer
        self._issuer = issuer if isinstance(issuer, str) else tuple(issuer)
        self._audience = self.spec.audience if isinstance(self.spec.audience, str) else list(self.spec.audience)

    # -- verification ---------------------------------------------------------
    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; TokenError naming what is wrong."""
        jwt = _jwt()
        if not isinstance(token, str) or not token.strip():
            raise TokenError("malformed", "no bearer token (send Authorization: Bearer <JWT>)")
        token = token.strip()
        if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
            raise TokenError("malformed", f"token longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed", "not a JWT (three base64url parts, a JSON header)") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise TokenError("unsigned", "unsigned token (alg: none) is never accepted")
        if alg not in self.spec.algorithms:
            raise TokenError("algorithm", f"algorithm {alg} is not accepted (identity.yaml allows {', '.join(self.spec.algorithms)})")
        key = self._key_for(header)
        try:
            return jwt.decode(
                token, key, algorithms=list(self.spec.algorithms), audience=self._audience, issuer=self._issuer,
                leeway=self.spec.leeway_seconds,
                options={"require": list(self.spec.require), "verify_signature": True, "verify_exp": True,
                         "verify_nbf": True, "verify_iat": True, "verify_aud": True, "verify_iss": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired", "token expired (exp is in the past)") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("not_yet_valid", "token not yet valid (nbf is in the future)") from None
        except jwt.InvalidIssuedAtError:
            raise TokenError("not_yet_valid", "token issued in the future (iat)") from None
        except jwt.InvalidAudienceError:
            raise TokenError("audience", f"wrong audience: the token is not for {self.spec.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenError("issuer", f"wrong issuer: the token is not from {self.spec.issuer!r}") from None
        except jwt.MissingRequiredClaimError as err:
            raise TokenError("missing_claim", f"the token lacks the required claim {err.claim!r}") from None
        except (jwt.exceptions.InvalidSubjectError, jwt.exceptions.InvalidJTIError) as err:
            raise TokenError("claim_type", f"a registered claim has the wrong type ({err})") from None
        except jwt.InvalidSignatureError:
            raise TokenError("signature", "signature does not verify with the configured key") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError("algorithm", "the token's algorithm does not fit the key") from None
        except (jwt.InvalidKeyError, jwt.PyJWKError):
            raise TokenError("unknown_key", "no configured key verifies this token") from None
        except jwt.DecodeError:
            raise TokenError("malformed", "not a well-formed signed JWT") from None
        except jwt.PyJWTError as err:  # any other refusal of PyJWT's: refused, with its class named
            raise TokenError("malformed", f"token refused ({type(err).__name__})") from None

    def _key_for(self, header: dict[str, Any]) -> Any:
        if not self._jwks:
            return self._key
        kid = header.get("kid")
        if kid is None and len(self._jwks) == 1:
            return next(iter(self._jwks.values()))
        if not isinstance(kid, str) or kid not in self._jwks:
            raise TokenError("unknown_key", "the token's key id (kid) is not in the bundle's JWKS"
                             if kid is not None else "the token names no key id (kid) and the JWKS has several keys")
        return self._jwks[kid]

    def principal(self, token: str) -> Principal:
        """The principal of a verified token: ``principal_from_claims`` of its claims, checked against the
        bundle's attribute schema (defaults filled in); a claim that does not fit it is refused, naming the claim."""
        principal = principal_from_claims(self.claims(token), self.spec.claims)
        return apply_schema(self.schema, principal, self.spec.claims)


def claim_value(claims: Mapping[str, Any], ref: ClaimRef) -> tuple[bool, Any]:
    """(present, value) of a claim name or path."""
    if isinstance(ref, str):
        return (ref in claims, claims.get(ref))
    value: Any = claims
    for part in ref:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _label(ref: ClaimRef) -> str:
    return ref if isinstance(ref, str) else ".".join(ref)


def principal_from_claims(claims: Mapping[str, Any], mapping: ClaimMapping) -> Principal:
    """The principal the mapping makes of verified claims; TokenError when a claim does not fit."""
    present, pid = claim_value(claims, mapping.id)
    if not present:
        raise TokenError("missing_claim", f"the token lacks the claim {_label(mapping.id)!r} that is the principal id")
    if not isinstance(pid, str) or not pid:
        raise TokenError("claim_type", f"claim {_label(mapping.id)!r} (the principal id) is not a non-empty string")
    roles: list[str] = []
    if mapping.roles is not None:
        present, value = claim_value(claims, mapping.roles)
        if present and value is not None:
            if isinstance(value, str):
                roles = value.split(mapping.roles_separator) if mapping.roles_separator else [value]
                roles = [r for r in roles if r]
            elif isinstance(value, list) and all(isinstance(r, str) for r in value):
                roles = list(value)
            else:
                raise TokenError("claim_type", f"claim {_label(mapping.roles)!r} (roles) is not a string or a list of strings")
    attributes: dict[str, Any] = {}
    for name, ref in mapping.attributes.items():
        present, value = claim_value(claims, ref)
        if present and value is not None:
            attributes[name] = value
    try:
        return Principal(pid, roles, attributes)
    except ValidationError as err:
        bad = sorted({str(e["loc"][1]) for e in err.errors() if len(e["loc"]) > 1 and e["loc"][0] == "attributes"})
        claims_named = [_label(mapping.attributes[b]) for b in bad if b in mapping.attributes]
        raise TokenError("claim_type", f"claim(s) {claims_named or '?'} for attribute(s) {bad or '?'}: not a string, "
                                       "number, boolean or list of them") from None


def apply_schema(schema: Any, principal: Principal, mapping: ClaimMapping) -> Principal:
    """``principal`` checked against the attribute schema (govern.bundle.attributes); TokenError naming the
    claims that do not fit (``missing_claim`` when every problem is a required attribute without its claim)."""
    if schema is None:
        return principal
    try:
        return validate_principal(schema, principal)
    except InvalidPrincipal as err:
        reasons = []
        for reason in err.reasons:
            reason = _VALUE.sub("", reason)  # never the claim's value: the audit trail records this reason
            for name, ref in mapping.attributes.items():
                if f"attribute {name} " in reason:
                    reason += f" (claim {_label(ref)!r})"
                    break
            reasons.append(reason)
        missing = all("is required" in r and "missing" in r for r in reasons)
        raise TokenError("missing_claim" if missing else "claim_type", "; ".join(reasons)) from None


_VALUE = re.compile(r", got .*$", re.S)


def claim_notes(reasons: list[str], principal: Principal, mapping: ClaimMapping) -> list[str]:
    """Reasons with each missing attribute's claim named: "lacks attribute 'region'" gets
    "(claim 'region' is absent from the token)" when identity.yaml maps it from a claim."""
    out = []
    for reason in reasons:
        for name, ref in mapping.attributes.items():
            if f"lacks attribute {name!r}" in reason and not principal.has(name):
                reason += f" (its claim {_label(ref)!r} is absent from the token)"
                break
        out.append(reason)
    return out


def mint_dev_token(config: IdentityConfig, principal: Principal, *, expires_in: int = 3600,
                   environ: Mapping[str, str] | None = None, now: float | None = None) -> str:
    """A token for ``principal`` signed with the bundle's HMAC secret: for local trials only.

    Needs identity.yaml's keys to be ``secret_env`` (an HS* algorithm): a service that
    verifies with an identity provider's public key never accepts these tokens.
    """
    spec = config.spec
    if spec.keys.secret_env is None or spec.algorithms[0] not in SYMMETRIC:
        raise IdentityUnavailable("dev tokens are signed with identity.yaml's keys.secret_env; this bundle verifies "
                                  "tokens of an identity provider (jwks_file / public_key_env): get a token from it")
    verifier = TokenVerifier(config, environ)  # the same checks of the secret
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": spec.issuer if isinstance(spec.issuer, str) else spec.issuer[0],
        "aud": spec.audience,
        "iat": issued, "nbf": issued, "exp": issued + int(expires_in),
    }
    _put(claims, spec.claims.id, principal.id)
    if spec.claims.roles is not None:
        roles = list(principal.roles)
        _put(claims, spec.claims.roles, spec.claims.roles_separator.join(roles) if spec.claims.roles_separator else roles)
    for name, ref in spec.claims.attributes.items():
        if principal.has(name):
            _put(claims, ref, principal.attribute(name))
    return _jwt().encode(claims, verifier._key, algorithm=spec.algorithms[0])


def _put(claims: dict[str, Any], ref: ClaimRef, value: Any) -> None:
    if isinstance(ref, str):
        claims[ref] = value
        return
    node = claims
    for part in ref[:-1]:
        node = node.setdefault(part, {})
    node[ref[-1]] = value
