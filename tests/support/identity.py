"""Access tokens for tests, one interface over two issuers:

- :class:`KeycloakTokens` (integration and end-to-end tests): real tokens from the real Keycloak; a
  person a test invents (any tenant, any employee id) is created in the realm through the admin API the
  first time it is asked for, then logs in with the password grant. Tokens are kept until shortly before
  they expire.
- :class:`SignedTokens` (unit tests): tokens of the test's own issuer (tests/support/signing.py).

Both give ``person(tenant, employee_id, *roles)``, ``hr(tenant)``, ``service(client)`` and
``metadata(token)`` for a call: ``stub.ListMatches(request, metadata=tokens.metadata(token))``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import grpc

from services.shared.auth_keys import JwksCache
from services.shared.auth_tokens import TokenPolicy, TokenVerifier
from tests.support.keycloak import PASSWORD, REALM, Keycloak
from tests.support.signing import AUDIENCE, TestIssuer

Metadata = tuple[tuple[str, str], ...]
# The service accounts of the realm (deploy/keycloak/generate_realm.py): client id -> (service, roles).
SERVICE_CLIENTS = {"notification-service": ("notification", ("contact_lookup",))}


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


class Tokens(Protocol):
    def person(self, tenant: str, employee_id: str, *roles: str) -> str: ...

    def service(self, client_id: str = "notification-service") -> str: ...


def hr(tokens: Tokens, tenant: str, employee_id: str = "HR-ADMIN") -> str:
    """An HR admin of ``tenant`` (an employee of its own, so HR's own actions name someone)."""
    return tokens.person(tenant, employee_id, "hr_admin")


class SignedTokens:
    """Tokens signed by a :class:`TestIssuer`; ``verifier()`` is the matching server-side verifier."""

    def __init__(self, issuer: TestIssuer | None = None) -> None:
        self.issuer = issuer or TestIssuer()

    def verifier(self) -> TokenVerifier:
        policy = TokenPolicy(issuer=self.issuer.issuer, audience=AUDIENCE)
        return TokenVerifier(policy, JwksCache(self.issuer.issuer, self.issuer.fetch, min_refresh_seconds=0))

    def person(self, tenant: str, employee_id: str, *roles: str) -> str:
        return self.issuer.token(tenant=tenant, employee_id=employee_id, roles=["employee", *roles])

    def service(self, client_id: str = "notification-service") -> str:
        service, roles = SERVICE_CLIENTS[client_id]
        return self.issuer.token(tenant=None, employee_id=None, service=service, roles=list(roles))


class KeycloakTokens:
    """Real tokens of the real Keycloak, for people created on demand and the realm's service clients."""

    RENEW_BEFORE_SECONDS = 60.0

    def __init__(self, keycloak: Keycloak) -> None:
        self.keycloak = keycloak
        self._cache: dict[tuple[str, ...], tuple[str, float]] = {}
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def person(self, tenant: str, employee_id: str, *roles: str) -> str:
        username = self.ensure_person(tenant, employee_id, roles)
        return self._cached(("person", username), lambda: self.keycloak.password_token(username))

    def service(self, client_id: str = "notification-service") -> str:
        return self._cached(("service", client_id), lambda: self.keycloak.service_token(client_id))

    def _cached(self, key: tuple[str, ...], fetch: Callable[[], str]) -> str:
        with self._lock:
            held = self._cache.get(key)
            if held is not None and time.monotonic() < held[1]:
                return held[0]
        token = fetch()
        lifetime = _lifetime_seconds(token)
        with self._lock:
            self._cache[key] = (token, time.monotonic() + max(lifetime - self.RENEW_BEFORE_SECONDS, 5.0))
        return token

    def ensure_person(self, tenant: str, employee_id: str, roles: Sequence[str]) -> str:
        """The username of a person of the realm with these attributes and roles (created if absent)."""
        # One account per tenant, employee and set of roles (the same employee may be tried in two roles).
        username = "-".join([tenant, employee_id, *sorted(roles)]).lower().replace("_", "-")
        with self._lock:
            if username in self._known:
                return username
        admin = self.keycloak.admin_token()
        body = {
            "username": username,
            "enabled": True,
            "email": f"{username}@{tenant.lower()}.invalid",
            "emailVerified": True,
            "firstName": "Test",
            "lastName": "Person",
            "attributes": {"tenant": [tenant], "employee_id": [employee_id]},
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
        status = self._admin(admin, "POST", "/users", body)
        if status == 201:
            user_id = self._user_id(admin, username)
            wanted = ["employee", *roles]
            mapping = [self._admin_json(admin, f"/roles/{name}") for name in wanted]
            self._admin(admin, "POST", f"/users/{user_id}/role-mappings/realm", mapping)
        elif status != 409:  # 409: made by an earlier test of this Keycloak's life
            raise RuntimeError(f"keycloak refused to create a test person: HTTP {status}")
        with self._lock:
            self._known.add(username)
        return username

    def _user_id(self, admin: str, username: str) -> str:
        users = self._admin_json(admin, f"/users?exact=true&username={username}")
        return str(users[0]["id"])

    def _admin_json(self, admin: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.keycloak.base}/admin/realms/{REALM}{path}", headers={"Authorization": f"Bearer {admin}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def _admin(self, admin: str, method: str, path: str, body: Any) -> int:
        request = urllib.request.Request(
            f"{self.keycloak.base}/admin/realms/{REALM}{path}",
            method=method,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


def _lifetime_seconds(token: str) -> float:
    from tests.support.signing import payload

    claims = payload(token)
    return float(claims.get("exp", time.time() + 60)) - time.time()


class TokenInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds a bearer token to every call of a blocking channel (tests' synchronous clients)."""

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        metadata = list(client_call_details.metadata or ())
        if not any(key.lower() == "authorization" for key, _ in metadata):
            metadata.append(("authorization", f"Bearer {self._token()}"))
        details = _CallDetails(
            client_call_details.method,
            client_call_details.timeout,
            metadata,
            client_call_details.credentials,
            client_call_details.wait_for_ready,
            client_call_details.compression,
        )
        return continuation(details, request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: Any,
        credentials: Any,
        wait_for_ready: Any,
        compression: Any,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def authenticated(channel: grpc.Channel, token: Callable[[], str]) -> grpc.Channel:
    """A blocking channel whose every unary call carries ``token()`` (unless the call sets its own)."""
    return grpc.intercept_channel(channel, TokenInterceptor(token))
