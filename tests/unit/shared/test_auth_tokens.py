"""Token verification against an issuer of the test's own (keys it generates, no HTTP): the Principal a
valid token names, every kind of bad token refused with its reason, and the JWKS cache (refresh on an
unknown kid, rate-limited; refresh on expiry; stale keys kept when the issuer is down)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from services.shared.auth import AuthReason, ClaimNames, IssuerUnavailable, Unauthenticated
from services.shared.auth_keys import JwksCache
from services.shared.auth_tokens import TokenPolicy, TokenVerifier
from tests.support.signing import AUDIENCE, SigningKey, TestIssuer, hmac_with_public_key, unsigned


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_of(
    issuer: TestIssuer, clock: Clock | None = None, claims: ClaimNames | None = None, **cache: float
) -> TokenVerifier:
    policy = TokenPolicy(
        issuer=issuer.issuer, audience=AUDIENCE, leeway_seconds=5, claims=claims or ClaimNames()
    )
    keys = JwksCache(issuer.issuer, issuer.fetch, clock=clock or Clock(), **cache)
    return TokenVerifier(policy, keys)


async def refused(verifier: TokenVerifier, token: str) -> AuthReason:
    with pytest.raises(Unauthenticated) as raised:
        await verifier.verify(token)
    return raised.value.reason


async def test_a_valid_token_names_the_person_their_tenant_and_roles() -> None:
    issuer = TestIssuer()
    principal = await verifier_of(issuer).verify(
        issuer.token(sub="s-1", tenant="globex", employee_id="G0002", roles=["employee", "hr_admin"])
    )
    assert (principal.subject, principal.tenant, principal.employee_id, principal.service) == (
        "s-1",
        "globex",
        "G0002",
        None,
    )
    assert principal.roles == {"employee", "hr_admin"}
    assert principal.has_role("hr_admin") and not principal.is_service


async def test_a_service_token_names_the_service_and_no_tenant() -> None:
    issuer = TestIssuer()
    token = issuer.token(employee_id=None, tenant=None, service="notification", roles=["contact_lookup"])
    principal = await verifier_of(issuer).verify(token)
    assert principal.is_service and principal.service == "notification" and principal.tenant is None
    assert principal.roles == {"contact_lookup"}


async def test_claim_names_are_settings_and_may_be_nested() -> None:
    issuer = TestIssuer()
    names = ClaimNames(tenant="org", employee_id="emp", roles="realm_access.roles", service="svc")
    token = issuer.token(
        tenant=None, employee_id=None, roles=None, org="acme", emp="A1", realm_access={"roles": ["employee"]}
    )
    principal = await verifier_of(issuer, claims=names).verify(token)
    assert (principal.tenant, principal.employee_id, principal.roles) == ("acme", "A1", {"employee"})


async def test_an_ec_key_verifies_es256_tokens() -> None:
    issuer = TestIssuer()
    key = issuer.rotate("ES256")
    principal = await verifier_of(issuer).verify(issuer.token(key=key, employee_id="E0009"))
    assert principal.employee_id == "E0009"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        # Instants as offsets from when the test runs (collection may be minutes earlier): see below.
        ({"exp": -60}, AuthReason.EXPIRED),
        ({"nbf": 60}, AuthReason.NOT_YET_VALID),
        ({"iss": "https://elsewhere.test/realms/mentoring"}, AuthReason.WRONG_ISSUER),
        ({"aud": "account"}, AuthReason.WRONG_AUDIENCE),
        ({"aud": None}, AuthReason.MISSING_CLAIM),
        ({"exp": None}, AuthReason.MISSING_CLAIM),
        ({"tenant": None}, AuthReason.MISSING_CLAIM),
        ({"employee_id": None}, AuthReason.NO_SUBJECT),
        ({"service": "matching"}, AuthReason.AMBIGUOUS_SUBJECT),
        ({"roles": {"hr_admin": True}}, AuthReason.MISSING_CLAIM),
    ],
    ids=lambda value: value.name if isinstance(value, AuthReason) else "",
)
async def test_bad_claims_are_refused_with_their_reason(
    overrides: dict[str, object], reason: AuthReason
) -> None:
    issuer = TestIssuer()
    now = int(time.time())
    claims = {
        name: now + value if name in ("exp", "nbf") and isinstance(value, int) else value
        for name, value in overrides.items()
    }
    assert await refused(verifier_of(issuer), issuer.token(**claims)) == reason


async def test_the_leeway_absorbs_a_little_clock_skew_only() -> None:
    issuer = TestIssuer()
    verifier = verifier_of(issuer)  # leeway 5 s
    assert await verifier.verify(issuer.token(exp=int(time.time()) - 2))
    assert await refused(verifier, issuer.token(exp=int(time.time()) - 20)) == AuthReason.EXPIRED


async def test_alg_none_is_refused_before_any_key_is_looked_at() -> None:
    issuer = TestIssuer()
    verifier = verifier_of(issuer)
    assert (
        await refused(verifier, unsigned(issuer.claims(), kid=issuer.key.kid))
        == AuthReason.ALGORITHM_NOT_ALLOWED
    )
    assert issuer.fetched == []


async def test_hmac_signed_with_the_public_key_is_refused() -> None:
    issuer = TestIssuer()
    token = hmac_with_public_key(issuer.key, issuer.claims())
    assert await refused(verifier_of(issuer), token) == AuthReason.ALGORITHM_NOT_ALLOWED


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused() -> None:
    issuer = TestIssuer()
    forger = SigningKey(kid=issuer.key.kid)
    assert await refused(verifier_of(issuer), forger.sign(issuer.claims())) == AuthReason.BAD_SIGNATURE


async def test_an_ec_algorithm_on_an_rsa_key_is_refused() -> None:
    issuer = TestIssuer()
    forger = SigningKey("ES256", kid=issuer.key.kid)
    assert (
        await refused(verifier_of(issuer), forger.sign(issuer.claims())) == AuthReason.ALGORITHM_NOT_ALLOWED
    )


async def test_garbage_is_malformed() -> None:
    assert await refused(verifier_of(TestIssuer()), "not-a-jwt") == AuthReason.MALFORMED_TOKEN


def test_no_setting_can_allow_none_or_hmac() -> None:
    for algorithms in (("none",), ("HS256",), ("RS256", "HS512"), ()):
        with pytest.raises(ValueError, match="asymmetric"):
            TokenPolicy(issuer="https://i", audience="a", algorithms=algorithms)


async def test_a_rotated_key_is_fetched_once_on_its_unknown_kid() -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, min_refresh_seconds=10)
    await verifier.verify(issuer.token())
    assert issuer.jwks_fetches == 1
    clock.now += 11
    new_key = issuer.rotate()
    for _ in range(3):
        assert (await verifier.verify(issuer.token(key=new_key))).employee_id == "E0007"
    assert issuer.jwks_fetches == 2


async def test_unknown_kids_refresh_at_most_once_per_interval() -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, min_refresh_seconds=10)
    await verifier.verify(issuer.token())
    clock.now += 11
    for _ in range(5):
        assert await refused(verifier, SigningKey().sign(issuer.claims())) == AuthReason.UNKNOWN_KEY
    assert issuer.jwks_fetches == 2, "a stream of forged kids is one fetch per interval, not one each"
    clock.now += 11
    assert await refused(verifier, SigningKey().sign(issuer.claims())) == AuthReason.UNKNOWN_KEY
    assert issuer.jwks_fetches == 3


async def test_the_cache_is_read_again_when_it_expires() -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, cache_seconds=300, min_refresh_seconds=10)
    await verifier.verify(issuer.token())
    clock.now += 200
    await verifier.verify(issuer.token())
    assert issuer.jwks_fetches == 1
    clock.now += 101
    await verifier.verify(issuer.token())
    assert issuer.jwks_fetches == 2


async def test_a_withdrawn_key_stops_verifying_once_the_cache_expires() -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, cache_seconds=300, min_refresh_seconds=10)
    old = issuer.key
    await verifier.verify(issuer.token(key=old))
    issuer.keys = [SigningKey()]
    clock.now += 301
    assert await refused(verifier, issuer.token(key=old)) == AuthReason.UNKNOWN_KEY


async def test_stale_keys_serve_while_the_issuer_is_down() -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, cache_seconds=300, min_refresh_seconds=10)
    await verifier.verify(issuer.token())
    issuer.down = True
    clock.now += 301
    assert (await verifier.verify(issuer.token())).employee_id == "E0007"


async def test_no_keys_at_all_is_issuer_unavailable() -> None:
    issuer = TestIssuer()
    issuer.down = True
    with pytest.raises(IssuerUnavailable):
        await verifier_of(issuer).verify(issuer.token())


async def test_a_discovery_document_naming_another_issuer_is_not_trusted() -> None:
    issuer = TestIssuer()

    async def lying(url: str) -> dict[str, object]:
        document = dict(await issuer.fetch(url))
        if "issuer" in document:
            document["issuer"] = "https://attacker.test"
        return document

    policy = TokenPolicy(issuer=issuer.issuer, audience=AUDIENCE)
    verifier = TokenVerifier(policy, JwksCache(issuer.issuer, lying))
    with pytest.raises(IssuerUnavailable, match="another issuer"):
        await verifier.verify(issuer.token())


async def test_a_verified_token_is_remembered_for_its_next_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = TestIssuer()
    verifier = verifier_of(issuer)
    token = issuer.token()
    first = await verifier.verify(token)

    async def no_key_lookup(kid: str | None) -> None:
        raise AssertionError("a remembered token is not verified again")

    monkeypatch.setattr(verifier.keys, "key_for", no_key_lookup)
    assert await verifier.verify(token) == first


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    issuer = TestIssuer()
    verifier = verifier_of(issuer)  # leeway 5 s
    token = issuer.token(exp=int(time.time()) - 4)  # expired, but within the leeway
    await verifier.verify(token)
    await asyncio.sleep(1.5)
    assert await refused(verifier, token) == AuthReason.EXPIRED


async def test_a_remembered_token_is_checked_again_after_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = TestIssuer()
    clock = Clock()
    verifier = verifier_of(issuer, clock, cache_seconds=300)
    now = time.time()
    token = issuer.token(exp=int(now) + 3600)
    await verifier.verify(token)
    issuer.keys = [SigningKey()]  # the issuer withdraws the key
    clock.now += 301  # the JWKS cache expires
    monkeypatch.setattr(time, "time", lambda: now + TokenVerifier.REMEMBER_SECONDS + 1)
    assert await refused(verifier, token) == AuthReason.UNKNOWN_KEY


async def test_callers_arriving_during_the_first_key_read_wait_for_it() -> None:
    issuer = TestIssuer()
    fetch = issuer.fetch

    async def slow_fetch(url: str) -> Any:
        await asyncio.sleep(0.2)  # a busy issuer
        return await fetch(url)

    verifier = TokenVerifier(
        TokenPolicy(issuer=issuer.issuer, audience=AUDIENCE), JwksCache(issuer.issuer, slow_fetch)
    )
    tokens = [issuer.token() for _ in range(10)]

    async def later(delay: float, token: str) -> Any:
        await asyncio.sleep(delay)
        return await verifier.verify(token)

    principals = await asyncio.gather(*(later(0.02 * index, token) for index, token in enumerate(tokens)))
    assert len(principals) == 10
    assert issuer.jwks_fetches == 1
