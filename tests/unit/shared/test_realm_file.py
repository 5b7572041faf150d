"""The realm Keycloak imports (deploy/keycloak/mentoring-realm.json) is what its generator writes, and
its people are the demo organisation's: every demo employee id has an account of the demo tenant."""

from __future__ import annotations

import importlib.util
import json

from services.demo import TENANT, organisation
from tests.support.kafka import REPO_ROOT
from tests.support.keycloak import REALM_FILE, people, person


def test_the_realm_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_realm", REPO_ROOT / "deploy/keycloak/generate_realm.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert REALM_FILE.read_text() == generator.render(), "run deploy/keycloak/generate_realm.py"


def test_every_demo_employee_has_an_account_of_the_demo_tenant() -> None:
    demo = {p.employee_id for p in people() if p.tenant == TENANT}
    assert demo == {p.employee_id for p in organisation()}


def test_each_tenant_has_an_hr_admin_and_a_program_manager() -> None:
    for tenant in (TENANT, "globex"):
        assert person(tenant, "hr_admin").tenant == tenant
        assert person(tenant, "program_manager").tenant == tenant


def test_a_person_may_not_edit_their_own_tenant_or_employee_id() -> None:
    realm = json.loads(REALM_FILE.read_text())
    (profile,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    attributes = {
        a["name"]: a for a in json.loads(profile["config"]["kc.user.profile.config"][0])["attributes"]
    }
    assert attributes["tenant"]["permissions"]["edit"] == ["admin"]
    assert attributes["employee_id"]["permissions"]["edit"] == ["admin"]
