"""Writes deploy/keycloak/mentoring-realm.json, the realm Keycloak imports at its first start.

    .venv/bin/python deploy/keycloak/generate_realm.py          # rewrite the file
    .venv/bin/python deploy/keycloak/generate_realm.py --check  # exit 1 if the file is out of date

One realm, one issuer, two tenants told apart by the `tenant` user attribute (a token claim):
- `demo`: the demo organisation of services/demo.py, one account per employee (username
  `demo-e0001`, claim `employee_id` = `E0001`); the People head is HR admin, the first People manager a
  program manager.
- `globex`: a small second organisation (`globex-g0001` ... `G0012`) for tenant-isolation tests.
Every person has the realm role `employee`, plus `hr_admin` or `program_manager`; the roles reach the
token as the `roles` claim. Clients: `mentoring-console` (public: code + PKCE for browsers, password
grant for the demo and tests), `notification-service` (confidential, client credentials, role
`contact_lookup`), `mentoring-short-lived` (password grant, 2-second access tokens: tests of expiry)
and `other-application` (tokens for another audience: tests). Every client adds the audience `mentoring-api`, which the services require.
Passwords are demo values for a loopback IdP; a real deployment brings its own issuer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from services.demo import TENANT as DEMO_TENANT  # noqa: E402
from services.demo import organisation  # noqa: E402

REALM = "mentoring"
REALM_FILE = Path(__file__).with_name("mentoring-realm.json")
AUDIENCE = "mentoring-api"
PASSWORD = "mentoring-demo"
SERVICE_CLIENTS = {
    # client id: (service name in the token, realm roles of its service account, secret)
    "notification-service": ("notification", ["contact_lookup"], "notification-service-secret"),
}
ROLES = {
    "hr_admin": "HR of a tenant: programs, matching, manual matches, overrides, reports",
    "program_manager": "manages the programs they are named on",
    "employee": "an employee acting for themselves",
    "contact_lookup": "a service that may look an employee's contact up (the notification service)",
}
SECOND_TENANT = "globex"
SECOND_TENANT_SIZE = 12


def _claim(name: str, mapper: str, config: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": mapper,
        "consentRequired": False,
        "config": {"access.token.claim": "true", "introspection.token.claim": "true", **config},
    }


def _attribute_claim(attribute: str) -> dict[str, Any]:
    return _claim(
        attribute,
        "oidc-usermodel-attribute-mapper",
        {
            "user.attribute": attribute,
            "claim.name": attribute,
            "jsonType.label": "String",
            "id.token.claim": "true",
            "userinfo.token.claim": "true",
        },
    )


AUDIENCE_MAPPER = _claim(
    "audience", "oidc-audience-mapper", {"included.custom.audience": AUDIENCE, "id.token.claim": "false"}
)
OTHER_AUDIENCE_MAPPER = _claim(
    "audience", "oidc-audience-mapper", {"included.custom.audience": "other-api", "id.token.claim": "false"}
)
ROLES_MAPPER = _claim(
    "roles",
    "oidc-usermodel-realm-role-mapper",
    {"claim.name": "roles", "multivalued": "true", "jsonType.label": "String", "id.token.claim": "false"},
)
# Keycloak's built-in scopes an access token gets: `basic` (sub, auth_time), `acr`, `web-origins` and
# `roles`; not `profile` or `email`, so tokens that reach the services carry no names or e-mail addresses.
TOKEN_SCOPES = ["basic", "acr", "web-origins", "roles"]
PERSON_MAPPERS = [AUDIENCE_MAPPER, ROLES_MAPPER, _attribute_claim("tenant"), _attribute_claim("employee_id")]


def _person_client(
    client_id: str, name: str, mappers: list[dict[str, Any]] = PERSON_MAPPERS, **attributes: str
) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "name": name,
        "enabled": True,
        "publicClient": True,
        "standardFlowEnabled": True,
        "directAccessGrantsEnabled": True,
        "serviceAccountsEnabled": False,
        "redirectUris": ["http://127.0.0.1:8000/*", "http://localhost:8000/*"],
        "webOrigins": ["+"],
        "attributes": {"pkce.code.challenge.method": "S256", **attributes},
        "protocol": "openid-connect",
        "defaultClientScopes": TOKEN_SCOPES,
        "optionalClientScopes": [],
        "protocolMappers": mappers,
    }


def _service_client(client_id: str, service: str, secret: str) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "name": f"the {service} service",
        "enabled": True,
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": secret,
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "protocol": "openid-connect",
        "defaultClientScopes": TOKEN_SCOPES,
        "optionalClientScopes": [],
        "protocolMappers": [
            AUDIENCE_MAPPER,
            ROLES_MAPPER,
            _claim(
                "service",
                "oidc-hardcoded-claim-mapper",
                {"claim.name": "service", "claim.value": service, "jsonType.label": "String"},
            ),
        ],
    }


def _person(tenant: str, employee_id: str, roles: list[str]) -> dict[str, Any]:
    number = employee_id[1:]
    return {
        "username": f"{tenant}-{employee_id.lower()}",
        "enabled": True,
        "email": f"{employee_id.lower()}@{tenant}.invalid",
        "emailVerified": True,
        "firstName": tenant.capitalize(),
        "lastName": f"Person {number}",
        "attributes": {"tenant": [tenant], "employee_id": [employee_id]},
        "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        "realmRoles": ["employee", *roles],
    }


def _people() -> list[dict[str, Any]]:
    people = organisation()
    hr_admin = next(p.employee_id for p in people if p.department == "People" and p.manager_id == "E0001")
    manager = next(p.employee_id for p in people if p.department == "People" and p.manager_id == hr_admin)
    special = {hr_admin: ["hr_admin"], manager: ["program_manager"]}
    users = [_person(DEMO_TENANT, p.employee_id, special.get(p.employee_id, [])) for p in people]
    special = {"G0002": ["hr_admin"], "G0003": ["program_manager"]}
    for number in range(1, SECOND_TENANT_SIZE + 1):
        employee_id = f"G{number:04d}"
        users.append(_person(SECOND_TENANT, employee_id, special.get(employee_id, [])))
    return users


def _attribute(name: str, display: str, edit: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": display,
        "permissions": {"view": ["admin", "user"], "edit": edit},
        "multivalued": False,
        **extra,
    }


# Keycloak's declarative user profile: the standard attributes, and tenant and employee id, which only
# an administrator may set (a person editing their own tenant in the account console would be a hole).
USER_PROFILE = {
    "attributes": [
        _attribute(
            "username",
            "${username}",
            ["admin", "user"],
            validations={"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}},
        ),
        _attribute("email", "${email}", ["admin", "user"], validations={"email": {}}),
        _attribute("firstName", "${firstName}", ["admin", "user"], validations={"length": {"max": 255}}),
        _attribute("lastName", "${lastName}", ["admin", "user"], validations={"length": {"max": 255}}),
        _attribute("tenant", "Tenant", ["admin"]),
        _attribute("employee_id", "Employee id", ["admin"]),
    ],
    "groups": [{"name": "user-metadata", "displayHeader": "User metadata"}],
}


def realm() -> dict[str, Any]:
    service_accounts = [
        {
            "username": f"service-account-{client_id}",
            "enabled": True,
            "serviceAccountClientId": client_id,
            "realmRoles": roles,
        }
        for client_id, (_, roles, _) in SERVICE_CLIENTS.items()
    ]
    return {
        "id": REALM,
        "realm": REALM,
        "displayName": "Mentoring platform (demo)",
        "enabled": True,
        "sslRequired": "none",
        "registrationAllowed": False,
        "loginWithEmailAllowed": False,
        "duplicateEmailsAllowed": True,
        "editUsernameAllowed": False,
        "bruteForceProtected": False,
        "defaultSignatureAlgorithm": "RS256",
        "accessTokenLifespan": 300,
        "roles": {"realm": [{"name": name, "description": text} for name, text in ROLES.items()]},
        "clients": [
            _person_client("mentoring-console", "the mentoring console and demo"),
            _person_client("mentoring-short-lived", "tests of token expiry", **{"access.token.lifespan": "2"}),
            _person_client(
                "other-application",
                "an application of the same issuer whose tokens are for another API (tests: wrong audience)",
                [OTHER_AUDIENCE_MAPPER, *PERSON_MAPPERS[1:]],
            ),
            *(_service_client(cid, service, secret) for cid, (service, _, secret) in SERVICE_CLIENTS.items()),
        ],
        "users": [*_people(), *service_accounts],
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {
                    "providerId": "declarative-user-profile",
                    "subComponents": {},
                    "config": {"kc.user.profile.config": [json.dumps(USER_PROFILE)]},
                }
            ]
        },
    }


def render() -> str:
    return json.dumps(realm(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not REALM_FILE.exists() or REALM_FILE.read_text() != text:
            sys.stderr.write(f"{REALM_FILE} is out of date: run {Path(__file__).name}\n")
            return 1
        return 0
    REALM_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
