"""The real Keycloak of the test session (deploy/keycloak/keycloak.sh): its issuer, real tokens (password
grant for people, client credentials for services), the people of the imported realm, and the admin
calls tests need (a new signing key, to rotate)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.support.kafka import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy/keycloak/keycloak.sh"
REALM_FILE = REPO_ROOT / "deploy/keycloak/mentoring-realm.json"
REALM = "mentoring"
PASSWORD = "mentoring-demo"  # the demo realm's password of every person (deploy/keycloak/generate_realm.py)
CONSOLE_CLIENT = "mentoring-console"
SHORT_LIVED_CLIENT = "mentoring-short-lived"
OTHER_AUDIENCE_CLIENT = "other-application"
SERVICE_SECRETS = {"notification-service": "notification-service-secret"}


@dataclass(frozen=True)
class Person:
    username: str
    tenant: str
    employee_id: str
    roles: frozenset[str]


@cache
def people() -> tuple[Person, ...]:
    """Every person of the imported realm, as the realm file says."""
    realm = json.loads(REALM_FILE.read_text())
    return tuple(
        Person(
            user["username"],
            user["attributes"]["tenant"][0],
            user["attributes"]["employee_id"][0],
            frozenset(user["realmRoles"]),
        )
        for user in realm["users"]
        if "attributes" in user
    )


def person(tenant: str, role: str = "employee") -> Person:
    """The first person of a tenant with a role (hr_admin, program_manager, employee)."""
    if role == "employee":
        return next(p for p in people() if p.tenant == tenant and p.roles == {"employee"})
    return next(p for p in people() if p.tenant == tenant and role in p.roles)


def port() -> int:
    return int(os.environ.get("KEYCLOAK_PORT", "18080"))


def issuer() -> str:
    """The issuer services under test trust: the Keycloak of this test run."""
    return f"http://127.0.0.1:{port()}/realms/{REALM}"


class Keycloak:
    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.base}/realms/{REALM}"

    @classmethod
    def ensure_up(cls) -> Keycloak:
        """Starts it unless it is up (idempotent; the first start imports the realm: a minute or two)."""
        process = subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True, check=False)
        if process.returncode != 0:
            raise RuntimeError(f"keycloak.sh up failed: {process.stdout}{process.stderr}")
        return cls(port())

    def _post(self, url: str, form: dict[str, str], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=30
        ) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result

    def password_token(self, username: str, client_id: str = CONSOLE_CLIENT) -> str:
        """A person's access token: the resource-owner password grant (allowed for the demo and tests)."""
        form = {"grant_type": "password", "client_id": client_id, "username": username, "password": PASSWORD}
        return str(self._post(f"{self.issuer}/protocol/openid-connect/token", form)["access_token"])

    def service_token(self, client_id: str = "notification-service") -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": SERVICE_SECRETS[client_id],
        }
        return str(self._post(f"{self.issuer}/protocol/openid-connect/token", form)["access_token"])

    # ------------------------------------------------------------------------------------------ admin

    def admin_token(self) -> str:
        form = {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": os.environ.get("KEYCLOAK_ADMIN", "admin"),
            "password": os.environ.get("KEYCLOAK_ADMIN_PASSWORD", "admin"),
        }
        return str(
            self._post(f"{self.base}/realms/master/protocol/openid-connect/token", form)["access_token"]
        )

    def _admin(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(
            f"{self.base}/admin/realms/{REALM}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.admin_token()}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers)

    def add_signing_key(self, priority: int = 1000) -> str:
        """A new RS256 key that outranks the realm's own: the next tokens are signed with it (a key
        rotation). Returns the key provider's id, for remove_signing_key."""
        name = f"rotated-{uuid.uuid4().hex[:8]}"
        body = {
            "name": name,
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": REALM,
            "config": {
                "priority": [str(priority)],
                "enabled": ["true"],
                "active": ["true"],
                "keySize": ["2048"],
                "algorithm": ["RS256"],
            },
        }
        _, headers = self._admin("POST", "/components", body)
        location = headers.get("Location") or headers.get("location") or ""
        return location.rstrip("/").rsplit("/", 1)[-1]

    def remove_signing_key(self, provider_id: str) -> None:
        self._admin("DELETE", f"/components/{provider_id}")
