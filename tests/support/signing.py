"""An issuer of the test's own for unit tests: keys it generates, its discovery document and JWKS
served through the fetch function JwksCache takes (no HTTP), and tokens it signs with PyJWT.
Integration tests use the real Keycloak instead (tests/support/keycloak.py)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://issuer.test/realms/mentoring"
AUDIENCE = "mentoring-api"


class SigningKey:
    def __init__(self, algorithm: str = "RS256", kid: str | None = None) -> None:
        self.algorithm = algorithm
        self.kid = kid or uuid.uuid4().hex[:12]
        if algorithm.startswith("ES"):
            self.private: Any = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        key = json.loads(jwt.get_algorithm_by_name(self.algorithm).to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        return jwt.encode(
            dict(claims), self.private, algorithm=self.algorithm, headers={"kid": self.kid, **(headers or {})}
        )


class TestIssuer:
    """Publishes its keys' JWKS; ``fetched`` lists the URLs read, so tests see every refresh."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.keys: list[SigningKey] = [SigningKey()]
        self.fetched: list[str] = []
        self.down = False

    @property
    def key(self) -> SigningKey:
        return self.keys[0]

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        """A new signing key first in the JWKS (the old one stays listed, as issuers do)."""
        key = SigningKey(algorithm)
        self.keys.insert(0, key)
        return key

    async def fetch(self, url: str) -> Mapping[str, Any]:
        from services.shared.auth import IssuerUnavailable

        self.fetched.append(url)
        if self.down:
            raise IssuerUnavailable("the test issuer is down")
        if url == f"{self.issuer}/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/certs"}
        if url == f"{self.issuer}/certs":
            return {"keys": [key.jwk() for key in self.keys]}
        raise IssuerUnavailable(f"no document at {url}")

    @property
    def jwks_fetches(self) -> int:
        return sum(url.endswith("/certs") for url in self.fetched)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "tenant": "demo",
            "employee_id": "E0007",
            "roles": ["employee"],
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: SigningKey | None = None, **overrides: Any) -> str:
        return (key or self.key).sign(self.claims(**overrides))


def unsigned(claims: Mapping[str, Any], kid: str | None = None) -> str:
    """A token with ``alg: none`` and no signature, as an attacker would send it."""

    def part(value: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT", **({"kid": kid} if kid else {})}
    return f"{part(header)}.{part(claims)}."


def hmac_with_public_key(key: SigningKey, claims: Mapping[str, Any]) -> str:
    """The algorithm-confusion attack: HS256 whose secret is the issuer's public key (PEM)."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing = jwt.get_algorithm_by_name("HS256")
    body = ".".join(
        base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        for value in (header, claims)
    )
    signature = base64.urlsafe_b64encode(signing.sign(body.encode(), pem)).rstrip(b"=").decode()
    return f"{body}.{signature}"


def payload(token: str) -> dict[str, Any]:
    """The claims of a token, unverified (to re-sign or tamper with a real one)."""
    part = token.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result
