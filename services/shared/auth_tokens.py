"""Access-token verification with PyJWT: the signature by a key of the issuer's JWKS, an allow-list of
asymmetric algorithms (never ``none``, never HMAC, whose "secret" could be the public key), then ``iss``,
``aud``, ``exp`` and ``nbf`` with a small leeway; and the Principal the claims name."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from services.shared.auth import AuthReason, ClaimNames, Principal, Unauthenticated, principal_from_claims
from services.shared.auth_keys import JwksCache, http_json_fetcher
from services.shared.config import ServiceSettings

# Algorithms a token may be signed with, by the key type that must verify it. Symmetric (HS*) and "none"
# are not in this table, so no setting can allow them.
KEY_TYPE_OF_ALGORITHM = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must satisfy. ``leeway_seconds`` absorbs clock skew between issuer and service."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: float = 30.0
    claims: ClaimNames = field(default_factory=ClaimNames)

    def __post_init__(self) -> None:
        refused = [name for name in self.algorithms if name not in KEY_TYPE_OF_ALGORITHM]
        if refused or not self.algorithms:
            raise ValueError(
                f"token algorithms must be asymmetric ones of {sorted(KEY_TYPE_OF_ALGORITHM)}: {refused}"
            )
        if not self.issuer or not self.audience:
            raise ValueError("the token issuer and audience must be set")
        if not 0 <= self.leeway_seconds <= 300:
            raise ValueError("the token leeway must be between 0 and 300 seconds")


_ERRORS: tuple[tuple[type[jwt.InvalidTokenError], AuthReason, str], ...] = (
    (jwt.ExpiredSignatureError, AuthReason.EXPIRED, "the token has expired"),
    (jwt.ImmatureSignatureError, AuthReason.NOT_YET_VALID, "the token is not valid yet"),
    (jwt.InvalidAudienceError, AuthReason.WRONG_AUDIENCE, "the token is not meant for this audience"),
    (jwt.InvalidIssuerError, AuthReason.WRONG_ISSUER, "the token comes from another issuer"),
    (jwt.InvalidSignatureError, AuthReason.BAD_SIGNATURE, "the token's signature does not verify"),
    (jwt.MissingRequiredClaimError, AuthReason.MISSING_CLAIM, "the token lacks a required claim"),
    (jwt.InvalidAlgorithmError, AuthReason.ALGORITHM_NOT_ALLOWED, "the token's algorithm is not allowed"),
)


class TokenVerifier:
    """Verifies bearer tokens of one issuer and returns the Principal they name.

    A token that verified is remembered (up to ``MAX_REMEMBERED`` of them) for at most
    ``REMEMBER_SECONDS`` and never past its ``exp``: a caller's next calls with the same token cost a
    dictionary lookup instead of an RSA verification. The price: a key the issuer withdraws stops
    tokens it signed within ``REMEMBER_SECONDS``, not at once.
    """

    MAX_REMEMBERED = 10_000
    REMEMBER_SECONDS = 60.0

    def __init__(self, policy: TokenPolicy, keys: JwksCache) -> None:
        if keys.issuer != policy.issuer.rstrip("/"):
            raise ValueError("the key cache belongs to another issuer")
        self.policy = policy
        self.keys = keys
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def for_issuer(
        cls,
        policy: TokenPolicy,
        cache_seconds: float = 300.0,
        min_refresh_seconds: float = 10.0,
        http_timeout_seconds: float = 5.0,
    ) -> TokenVerifier:
        """A verifier that reads the issuer's keys over HTTP(S) from its discovery document."""
        keys = JwksCache(
            policy.issuer, http_json_fetcher(http_timeout_seconds), cache_seconds, min_refresh_seconds
        )
        return cls(policy, keys)

    async def verify(self, token: str) -> Principal:
        now = time.time()
        remembered = self._verified.get(token)
        if remembered is not None:
            if now < remembered[1]:
                return remembered[0]
            del self._verified[token]
        claims = await self.claims(token)
        principal = principal_from_claims(claims, self.policy.claims)
        if len(self._verified) >= self.MAX_REMEMBERED:
            self._forget_expired(now)
        expiry = float(claims["exp"]) + self.policy.leeway_seconds
        self._verified[token] = (principal, min(expiry, now + self.REMEMBER_SECONDS))
        return principal

    def _forget_expired(self, now: float) -> None:
        for token in [token for token, (_, until) in self._verified.items() if until <= now]:
            del self._verified[token]
        while len(self._verified) >= self.MAX_REMEMBERED:  # all still valid: forget the oldest
            del self._verified[next(iter(self._verified))]

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token; Unauthenticated with the reason otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise Unauthenticated(AuthReason.MALFORMED_TOKEN, "the token is not a signed JWT") from error
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.policy.algorithms:
            raise Unauthenticated(AuthReason.ALGORITHM_NOT_ALLOWED, "the token's algorithm is not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated(AuthReason.MALFORMED_TOKEN, "the token's key id is not a string")
        key = await self.keys.key_for(kid)
        if key.key_type != KEY_TYPE_OF_ALGORITHM[algorithm]:
            raise Unauthenticated(
                AuthReason.ALGORITHM_NOT_ALLOWED, "the token's algorithm does not fit its key"
            )
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.policy.audience,
                issuer=self.policy.issuer,
                leeway=self.policy.leeway_seconds,
                options={"require": ["exp", "iss", "aud"], "verify_signature": True},
            )
        except jwt.InvalidTokenError as error:
            for kind, reason, message in _ERRORS:
                if isinstance(error, kind):
                    raise Unauthenticated(reason, message) from error
            raise Unauthenticated(AuthReason.MALFORMED_TOKEN, "the token is not a valid JWT") from error


def token_policy(settings: ServiceSettings) -> TokenPolicy:
    return TokenPolicy(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        algorithms=tuple(settings.auth_algorithms),
        leeway_seconds=settings.auth_leeway_seconds,
        claims=ClaimNames(
            tenant=settings.auth_tenant_claim,
            employee_id=settings.auth_employee_id_claim,
            roles=settings.auth_roles_claim,
            service=settings.auth_service_claim,
        ),
    )


def verifier_from_settings(settings: ServiceSettings) -> TokenVerifier:
    """The verifier of a service: the issuer, audience and claims of its settings."""
    return TokenVerifier.for_issuer(
        token_policy(settings),
        cache_seconds=settings.auth_jwks_cache_seconds,
        min_refresh_seconds=settings.auth_jwks_min_refresh_seconds,
        http_timeout_seconds=settings.auth_http_timeout_seconds,
    )
