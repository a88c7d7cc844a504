"""Verified identity: identity.yaml loads with the bundle, tokens verify with PyJWT or are refused with a reason.

Keys are generated per run (RSA and EC with cryptography, an HMAC secret); the
properties are over families of principals and of tampered tokens (Hypothesis),
each refusal class (expired, alg none, wrong key, wrong audience or issuer,
malformed, missing claim) is checked against the same verifier that accepts
the untampered token.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path

import pytest

if os.environ.get("GOVERN_REQUIRE_EXTRAS", "").strip().lower() in {"1", "true", "yes", "on"}:
    import jwt  # CI: a missing serve extra fails instead of skipping
else:
    jwt = pytest.importorskip("jwt", reason="PyJWT (the serve extra) is not installed")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from govern import Governor, IdentityUnavailable, PolicyLoadError, Principal, TokenError  # noqa: E402
from govern.audit import AuditTrail, verify_file  # noqa: E402
from govern.bundle import load_bundle  # noqa: E402
from govern.identity import TokenVerifier, claim_notes, mint_dev_token, principal_from_claims  # noqa: E402

MINI = Path(__file__).parent / "bundles" / "mini"
HASH_KEY = "identity-test-hash-key"
SECRET = "s" * 40
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())

RS_IDENTITY = """\
version: 1
issuer: https://idp.example.test/
audience: [govern, other-api]
algorithms: [RS256]
keys:
  jwks_file: keys/jwks.json
leeway_seconds: 10
claims:
  id: sub
  roles: [realm_access, roles]
  attributes:
    tenant: https://example.test/tenant
    tenants: [org, tenants]
"""

HS_IDENTITY = """\
version: 1
issuer: govern-dev
audience: govern
algorithms: [HS256]
keys:
  secret_env: TEST_JWT_SECRET
claims:
  roles: roles
  attributes:
    tenant: tenant
    tenants: tenants
"""


def pem_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwk_of(key, kid: str) -> dict:
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


def bundle_dir(tmp: Path, identity: str | None, jwks: dict | None = None) -> Path:
    root = tmp / "bundle"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(MINI, root)
    if identity is not None:
        (root / "identity.yaml").write_text(identity)
    if jwks is not None:
        (root / "keys").mkdir()
        (root / "keys" / "jwks.json").write_text(json.dumps(jwks))
    return root


@pytest.fixture(scope="module")
def rs_bundle(tmp_path_factory):
    root = bundle_dir(tmp_path_factory.mktemp("rs"), RS_IDENTITY, {"keys": [jwk_of(RSA_KEY, "k1"), jwk_of(OTHER_RSA_KEY, "k2")]})
    return load_bundle(root)


@pytest.fixture(scope="module")
def hs_bundle(tmp_path_factory):
    return load_bundle(bundle_dir(tmp_path_factory.mktemp("hs"), HS_IDENTITY))


def rs_claims(**over) -> dict:
    now = int(time.time())
    claims = {"iss": "https://idp.example.test/", "aud": "govern", "sub": "u1", "iat": now, "exp": now + 300,
              "realm_access": {"roles": ["member"]}, "https://example.test/tenant": "a", "org": {"tenants": ["a", "b"]}}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def rs_token(claims: dict, key=RSA_KEY, kid: str | None = "k1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


# ---- loading ------------------------------------------------------------------------


def test_identity_loads_with_the_bundle(rs_bundle, tmp_path):
    assert rs_bundle.identity.spec.algorithms == ["RS256"]
    assert [k["kid"] for k in rs_bundle.identity.jwks["keys"]] == ["k1", "k2"]
    assert load_bundle(bundle_dir(tmp_path, None)).identity is None  # optional


@pytest.mark.parametrize("text, expected", [
    (HS_IDENTITY + "colour: blue\n", "identity.yaml:12: colour: unknown key"),
    (HS_IDENTITY.replace("[HS256]", "[HS256, none]"), "identity.yaml:4: algorithms: Value error, 'none' (unsigned tokens) is never accepted"),
    (HS_IDENTITY.replace("[HS256]", "[RS256]"), "keys.secret_env is an HMAC secret"),
    (RS_IDENTITY.replace("[RS256]", "[RS256, HS256]"), "need keys.secret_env (a public key never verifies HMAC tokens)"),
    (HS_IDENTITY.replace("  secret_env: TEST_JWT_SECRET\n", "  secret_env: A\n  public_key_env: B\n"), "keys needs exactly one of"),
    (HS_IDENTITY.replace("[HS256]", "[HS257]"), "unknown algorithm 'HS257'"),
    (HS_IDENTITY.replace("    tenants: tenants\n", "    id: uid\n"), "'id' is the principal id"),
    (RS_IDENTITY, "keys.jwks_file 'keys/jwks.json': no such file in the bundle"),
    (RS_IDENTITY.replace("keys/jwks.json", "../jwks.json"), "must be a file inside the bundle"),
])
def test_identity_problems_name_file_and_line(tmp_path, text, expected):
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle_dir(tmp_path, text))
    assert any(expected in p and p.startswith("identity.yaml:") for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("jwks, expected", [
    ({"keys": []}, "is not a JWKS"),
    ({"keys": [{"kid": "x"}]}, "is not a JWKS"),
    ({"keys": [{**jwk_of(RSA_KEY, "k1"), "d": "AQAB"}]}, "holds secret or private key material"),
    ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, "holds secret or private key material"),
])
def test_jwks_file_must_hold_public_keys(tmp_path, jwks, expected):
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(bundle_dir(tmp_path, RS_IDENTITY, jwks))
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_keys_from_environment_are_required_when_verifying(hs_bundle, tmp_path):
    with pytest.raises(IdentityUnavailable, match=r"\$TEST_JWT_SECRET is not set"):
        TokenVerifier(hs_bundle.identity, environ={})
    with pytest.raises(IdentityUnavailable, match="shorter than 32 bytes"):
        TokenVerifier(hs_bundle.identity, environ={"TEST_JWT_SECRET": "short"})
    with pytest.raises(IdentityUnavailable, match="no identity.yaml"):
        TokenVerifier(load_bundle(bundle_dir(tmp_path, None)).identity)


# ---- accepted tokens ------------------------------------------------------------------

attribute_values = st.one_of(st.text(min_size=0, max_size=12), st.integers(-10**6, 10**6), st.booleans(),
                             st.lists(st.text(max_size=6), max_size=4))
principals = st.builds(
    Principal,
    id=st.text(min_size=1, max_size=20),
    roles=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10), max_size=4),
    attributes=st.fixed_dictionaries({}, optional={"tenant": attribute_values, "tenants": attribute_values}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(principal=principals)
def test_every_principal_round_trips_through_a_dev_token(hs_bundle, principal):
    env = {"TEST_JWT_SECRET": SECRET}
    token = mint_dev_token(hs_bundle.identity, principal, environ=env)
    assert TokenVerifier(hs_bundle.identity, environ=env).principal(token) == principal


def test_rs256_token_from_the_jwks_maps_claims(rs_bundle):
    verifier = TokenVerifier(rs_bundle.identity)
    p = verifier.principal(rs_token(rs_claims()))
    assert p == Principal("u1", ["member"], {"tenant": "a", "tenants": ["a", "b"]})
    # the second key of the JWKS verifies tokens naming it; another audience of the list is accepted
    assert verifier.principal(rs_token(rs_claims(aud="other-api"), OTHER_RSA_KEY, "k2")).id == "u1"


def test_pem_public_key_from_the_environment(tmp_path):
    text = RS_IDENTITY.replace("[RS256]", "[ES256]").replace("jwks_file: keys/jwks.json", "public_key_env: TEST_PEM")
    bundle = load_bundle(bundle_dir(tmp_path, text))
    verifier = TokenVerifier(bundle.identity, environ={"TEST_PEM": pem_public(EC_KEY)})
    assert verifier.principal(rs_token(rs_claims(), EC_KEY, None, "ES256")).roles == ("member",)
    with pytest.raises(IdentityUnavailable, match="not a PEM public key"):
        TokenVerifier(bundle.identity, environ={"TEST_PEM": "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----"})


def test_leeway_tolerates_clock_skew_and_no_more(rs_bundle):
    verifier = TokenVerifier(rs_bundle.identity)  # leeway_seconds: 10
    now = int(time.time())
    assert verifier.principal(rs_token(rs_claims(exp=now - 5))).id == "u1"
    with pytest.raises(TokenError) as err:
        verifier.principal(rs_token(rs_claims(exp=now - 30)))
    assert err.value.kind == "expired"


# ---- refused tokens ----------------------------------------------------------------------


def _unsigned(claims: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _hs_with_public_key(claims: dict) -> str:
    # algorithm confusion: an HMAC token keyed with the (public) PEM of the RSA key
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    import hashlib
    import hmac
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(pem_public(RSA_KEY).encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(mac)}"


REFUSALS = [
    ("expired", lambda: rs_token(rs_claims(exp=int(time.time()) - 3600))),
    ("unsigned", lambda: _unsigned(rs_claims())),
    ("unsigned", lambda: _unsigned(rs_claims()).replace("bm9uZS", "Tk9ORS")),  # alg NONE, any case
    ("signature", lambda: rs_token(rs_claims(), OTHER_RSA_KEY, "k1")),  # wrong key under a known kid
    ("unknown_key", lambda: rs_token(rs_claims(), OTHER_RSA_KEY, "k9")),
    ("unknown_key", lambda: rs_token(rs_claims(), RSA_KEY, None)),  # several keys, no kid
    ("audience", lambda: rs_token(rs_claims(aud="someone-else"))),
    ("missing_claim", lambda: rs_token(rs_claims(aud=None))),  # no aud at all
    ("issuer", lambda: rs_token(rs_claims(iss="https://evil.example/"))),
    ("missing_claim", lambda: rs_token(rs_claims(exp=None))),
    ("missing_claim", lambda: rs_token(rs_claims(sub=None))),
    ("not_yet_valid", lambda: rs_token(rs_claims(nbf=int(time.time()) + 3600))),
    ("algorithm", lambda: _hs_with_public_key(rs_claims())),
    ("algorithm", lambda: rs_token(rs_claims(), RSA_KEY, "k1", "RS512")),
    ("malformed", lambda: "not.a.token"),
    ("malformed", lambda: ""),
    ("malformed", lambda: "a" * 20000),
    ("claim_type", lambda: rs_token(rs_claims(sub=42))),
    ("claim_type", lambda: rs_token(rs_claims(realm_access={"roles": {"x": 1}}))),
    ("claim_type", lambda: rs_token(rs_claims(org={"tenants": {"nested": "object"}}))),
]


@pytest.mark.parametrize("kind, make", REFUSALS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(REFUSALS)])
def test_each_fault_is_refused_with_its_reason(rs_bundle, kind, make):
    verifier = TokenVerifier(rs_bundle.identity)
    assert verifier.principal(rs_token(rs_claims())).id == "u1"  # the same verifier accepts a good token
    token = make()
    with pytest.raises(TokenError) as err:
        verifier.principal(token)
    assert err.value.kind == kind, err.value.reason
    assert err.value.reason and (not token or token not in str(err.value))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_tampered_token_is_refused_or_means_the_same(rs_bundle, data):
    """Change one character anywhere: refused, or (an unused base64 bit) the very same claims."""
    verifier = TokenVerifier(rs_bundle.identity)
    token = rs_token(rs_claims())
    i = data.draw(st.integers(0, len(token) - 1))
    c = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "))
    assume(token[i] != c)
    tampered = token[:i] + c + token[i + 1:]
    try:
        claims = verifier.claims(tampered)
    except TokenError:
        return
    assert claims == verifier.claims(token)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode()))
def test_arbitrary_text_is_refused_as_a_token_error(rs_bundle, junk):
    verifier = TokenVerifier(rs_bundle.identity)
    for text in (junk, f"{junk}.{junk}.{junk}"):
        with pytest.raises(TokenError):
            verifier.principal(text)


# ---- mapping -------------------------------------------------------------------------------


def test_claim_mapping_roles_separator_and_absent_claims(hs_bundle):
    spec = hs_bundle.identity.spec.claims.model_copy(update={"roles": "scope", "roles_separator": " "})
    p = principal_from_claims({"sub": "x", "scope": "member  lead", "tenant": "a"}, spec)
    assert p.roles == ("member", "lead") and p.attributes == {"tenant": "a"}
    p = principal_from_claims({"sub": "x"}, spec)
    assert p.roles == () and p.attributes == {}


def test_missing_attribute_claim_is_a_denial_naming_it(hs_bundle, tmp_path):
    env = {"TEST_JWT_SECRET": SECRET}
    token = mint_dev_token(hs_bundle.identity, Principal("u9", ["member"]), environ=env)  # no tenants claim
    p = TokenVerifier(hs_bundle.identity, environ=env).principal(token)
    gov = Governor(hs_bundle, audit=AuditTrail.null(), hash_key=HASH_KEY)
    d = gov.check_sql("SELECT body FROM notes", p)
    assert not d.allowed
    assert any("lacks attribute 'tenants'" in r for r in d.reasons)
    noted = claim_notes(d.reasons, p, hs_bundle.identity.spec.claims)
    assert any("lacks attribute 'tenants'" in r and "its claim 'tenants' is absent from the token" in r for r in noted)


def test_governor_principal_from_token_audits_refusals(hs_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_JWT_SECRET", SECRET)
    trail = tmp_path / "trail.jsonl"
    gov = Governor(hs_bundle, audit=AuditTrail.to_file(trail), hash_key=HASH_KEY)
    good = mint_dev_token(hs_bundle.identity, Principal("u1", ["member"], {"tenants": ["a"]}))
    assert gov.principal_from_token(good) == Principal("u1", ["member"], {"tenants": ["a"]})
    assert not trail.exists() or trail.read_text() == ""  # an accepted token is recorded with the decision it leads to
    expired = mint_dev_token(hs_bundle.identity, Principal("u1"), expires_in=-3600)
    with pytest.raises(TokenError) as err:
        gov.principal_from_token(expired, correlation_id="req-1")
    assert err.value.kind == "expired"
    lines = [json.loads(x) for x in trail.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["action"] == "authenticate" and lines[0]["decision"] == "deny"
    assert lines[0]["reasons"] == ["token refused (expired): token expired (exp is in the past)"]
    assert lines[0]["correlation_id"] == "req-1" and expired not in trail.read_text()
    assert verify_file(trail).ok


def test_dev_tokens_need_a_secret_bundle(rs_bundle):
    with pytest.raises(IdentityUnavailable, match="dev tokens are signed with identity.yaml's keys.secret_env"):
        mint_dev_token(rs_bundle.identity, Principal("u1"))


# ---- the bundle's attribute schema applies to mapped claims ---------------------------------

SCHEMA_PRINCIPALS = """\
attributes:
  tenant: {type: string, required: true}
  tenants: {type: string, list: true, default: []}
principals:
  - {id: u1, roles: [member], attributes: {tenant: a, tenants: [a]}}
"""


@pytest.fixture(scope="module")
def schema_bundle(tmp_path_factory):
    root = bundle_dir(tmp_path_factory.mktemp("schema"), HS_IDENTITY)
    (root / "principals.yaml").write_text(SCHEMA_PRINCIPALS)
    return load_bundle(root)


def test_attribute_schema_applies_to_claims(schema_bundle):
    env = {"TEST_JWT_SECRET": SECRET}
    verifier = TokenVerifier(schema_bundle.identity, environ=env, schema=schema_bundle.principal_schema)
    # a default fills an absent optional claim
    p = verifier.principal(mint_dev_token(schema_bundle.identity, Principal("u1", ["member"], {"tenant": "a"}), environ=env))
    assert p.attributes == {"tenant": "a", "tenants": []}
    # a claim of the wrong type is refused naming the claim, never quoting its value
    with pytest.raises(TokenError) as err:
        verifier.principal(mint_dev_token(schema_bundle.identity, Principal("u1", [], {"tenant": 90210}), environ=env))
    assert err.value.kind == "claim_type" and "attribute tenant must be a string" in err.value.reason
    assert "(claim 'tenant')" in err.value.reason and "90210" not in err.value.reason
    # a required attribute whose claim is absent
    with pytest.raises(TokenError) as err:
        verifier.principal(mint_dev_token(schema_bundle.identity, Principal("u1", [], {}), environ=env))
    assert err.value.kind == "missing_claim" and "tenant" in err.value.reason


def test_governor_applies_the_schema(schema_bundle, monkeypatch):
    monkeypatch.setenv("TEST_JWT_SECRET", SECRET)
    gov = Governor(schema_bundle, audit=AuditTrail.null(), hash_key=HASH_KEY)
    with pytest.raises(TokenError) as err:
        gov.principal_from_token(mint_dev_token(schema_bundle.identity, Principal("u1", [], {"tenants": "a"})))
    assert err.value.kind in {"claim_type", "missing_claim"} and "(claim 'tenants')" in err.value.reason


def test_a_mapped_attribute_outside_the_schema_is_a_load_error(tmp_path):
    root = bundle_dir(tmp_path, HS_IDENTITY.replace("    tenants: tenants\n", "    tenants: tenants\n    region: region\n"))
    (root / "principals.yaml").write_text(SCHEMA_PRINCIPALS)
    with pytest.raises(PolicyLoadError) as err:
        load_bundle(root)
    assert any(p.startswith("identity.yaml:12: claims.attributes.region") for p in err.value.problems), err.value.problems
