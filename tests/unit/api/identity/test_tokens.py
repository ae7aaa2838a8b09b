"""POST/GET/HEAD/DELETE /identity/v3/auth/tokens against the real app (clients.md §2.2-2.4)."""

import re
from typing import Any

from pier.api.identity import changes, store
from pier.db.engine import transaction
from tests.unit.api.identity.conftest import BASE, Identity, password_body

TOKENS = "/identity/v3/auth/tokens"
UNAUTHORIZED = {
    "error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
}


def issue(identity: Identity, body: dict[str, Any], status: int = 201) -> Any:
    response = identity.client.post(TOKENS, json=body)
    assert response.status_code == status, response.text
    return response


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == f'Keystone uri="{BASE}/identity"'


def test_password_by_names_gives_the_full_keystone_token(identity: Identity) -> None:
    response = issue(identity, password_body("demo", identity.passwords["demo"], "demo"))

    assert len(response.headers["X-Subject-Token"]) >= 43
    token = response.json()["token"]
    assert set(token) == {
        "methods",
        "user",
        "audit_ids",
        "expires_at",
        "issued_at",
        "project",
        "is_domain",
        "roles",
        "catalog",
    }
    assert token["methods"] == ["password"]
    assert token["user"] == {
        "domain": {"id": "default", "name": "Default"},
        "id": identity.boot.user_ids["demo"],
        "name": "demo",
        "password_expires_at": None,
    }
    assert token["project"] == {
        "domain": {"id": "default", "name": "Default"},
        "id": identity.boot.project_ids["demo"],
        "name": "demo",
    }
    assert token["is_domain"] is False
    assert token["issued_at"] == "2026-11-22T14:00:00.000000Z"
    assert token["expires_at"] == "2026-11-22T15:00:00.000000Z"
    assert len(token["audit_ids"]) == 1 and len(token["audit_ids"][0]) == 22
    assert sorted(r["name"] for r in token["roles"]) == ["load-balancer_member", "member", "reader"]
    assert all(len(r["id"]) == 32 for r in token["roles"])


def test_catalog_lists_identity_load_balancer_and_network_in_the_region(identity: Identity) -> None:
    catalog = issue(identity, password_body("demo", identity.passwords["demo"], "demo")).json()[
        "token"
    ]["catalog"]

    urls = {
        entry["type"]: {e["interface"]: e["url"] for e in entry["endpoints"]} for entry in catalog
    }
    assert urls == {
        "identity": dict.fromkeys(("public", "internal", "admin"), f"{BASE}/identity/v3"),
        "load-balancer": dict.fromkeys(("public", "internal", "admin"), BASE),
        "network": dict.fromkeys(("public", "internal", "admin"), f"{BASE}/network"),
    }
    for entry in catalog:
        assert {"id", "name", "type", "endpoints"} <= set(entry)
        for endpoint in entry["endpoints"]:
            assert endpoint["region"] == endpoint["region_id"] == "RegionOne"
            assert len(endpoint["id"]) == 32


def test_admin_roles_expand_through_manager_member_reader(identity: Identity) -> None:
    token = issue(identity, password_body("admin", identity.passwords["admin"], "admin")).json()[
        "token"
    ]

    assert [r["name"] for r in token["roles"]] == ["admin", "manager", "member", "reader"]


def test_password_by_ids(identity: Identity) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "id": identity.boot.user_ids["demo"],
                        "password": identity.passwords["demo"],
                    }
                },
            },
            "scope": {"project": {"id": identity.boot.project_ids["demo"]}},
        }
    }

    token = issue(identity, body).json()["token"]

    assert token["project"]["name"] == "demo"


def test_domain_may_be_given_by_id(identity: Identity) -> None:
    body = password_body(
        "demo",
        identity.passwords["demo"],
        scope={"project": {"name": "demo", "domain": {"id": "default"}}},
    )
    body["auth"]["identity"]["password"]["user"]["domain"] = {"id": "default"}

    assert issue(identity, body).json()["token"]["project"]["name"] == "demo"


def test_scopeless_password_request_uses_the_default_project(identity: Identity) -> None:
    token = issue(identity, password_body("demo", identity.passwords["demo"])).json()["token"]

    assert token["project"]["name"] == "demo"


def test_unscoped_token_has_no_project_roles_or_catalog(identity: Identity) -> None:
    with transaction(identity.services.sessions) as session:
        changes.create_user(session, "loner", "pw-loner")

    token = issue(identity, password_body("loner", "pw-loner")).json()["token"]

    assert set(token) == {"methods", "user", "audit_ids", "expires_at", "issued_at"}


def test_explicit_unscoped_request_ignores_the_default_project(identity: Identity) -> None:
    body = password_body("demo", identity.passwords["demo"])
    body["auth"]["scope"] = "unscoped"

    assert "project" not in issue(identity, body).json()["token"]


def test_token_method_rescopes_and_keeps_the_expiry(identity: Identity) -> None:
    with transaction(identity.services.sessions) as session:
        user = changes.create_user(session, "roamer", "pw-roamer")
        member = store.find_role_by_name(session, "member")
        assert member is not None
        changes.assign_role(session, user.id, identity.boot.project_ids["demo"], member.id)
    first = issue(identity, password_body("roamer", "pw-roamer"))
    identity.clock.advance(600)

    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": first.headers["X-Subject-Token"]}},
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    token = issue(identity, body).json()["token"]

    assert token["methods"] == ["token", "password"]
    assert token["project"]["name"] == "demo"
    assert token["expires_at"] == first.json()["token"]["expires_at"]
    assert token["issued_at"] == "2026-11-22T14:10:00.000000Z"
    assert token["audit_ids"][1] == first.json()["token"]["audit_ids"][0]
    assert "catalog" in token


def test_token_method_without_scope_is_unscoped(identity: Identity) -> None:
    old = identity.token("demo")
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": old}}}}

    token = issue(identity, body).json()["token"]

    assert "catalog" not in token and "project" not in token


def _app_credential(identity: Identity, roles: list[str] | None = None) -> tuple[str, str]:
    with transaction(identity.services.sessions) as session:
        user = store.get_user(session, identity.boot.user_ids["demo"])
        role_ids = [
            r.id
            for r in store.effective_roles(session, user.id, identity.boot.project_ids["demo"])
            if roles is None or r.name in roles
        ]
        cred, secret = changes.create_application_credential(
            session, user, identity.boot.project_ids["demo"], "ci", role_ids
        )
        return cred.id, secret


def test_application_credential_by_id(identity: Identity) -> None:
    cred_id, secret = _app_credential(identity, ["reader"])
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }

    token = issue(identity, body).json()["token"]

    assert token["methods"] == ["application_credential"]
    assert token["application_credential"] == {"id": cred_id, "name": "ci", "restricted": True}
    assert token["project"]["name"] == "demo"
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert "catalog" in token


def test_application_credential_by_name_and_user(identity: Identity) -> None:
    _, secret = _app_credential(identity)
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {
                    "name": "ci",
                    "secret": secret,
                    "user": {"name": "demo", "domain": {"name": "Default"}},
                },
            }
        }
    }

    token = issue(identity, body).json()["token"]

    assert sorted(r["name"] for r in token["roles"]) == ["load-balancer_member", "member", "reader"]


def test_application_credential_failures_are_401(identity: Identity) -> None:
    cred_id, secret = _app_credential(identity)
    good = {"id": cred_id, "secret": secret}
    for cred, scope in (
        ({"id": cred_id, "secret": "wrong"}, None),
        ({"id": "0" * 32, "secret": secret}, None),
        (good, {"project": {"id": identity.boot.project_ids["demo"]}}),
    ):
        auth: dict[str, Any] = {
            "identity": {"methods": ["application_credential"], "application_credential": cred}
        }
        if scope:
            auth["scope"] = scope
        assert_unauthorized(identity.client.post(TOKENS, json={"auth": auth}))


def test_application_credential_token_cannot_be_rescoped(identity: Identity) -> None:
    cred_id, secret = _app_credential(identity)
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }
    token = issue(identity, body).headers["X-Subject-Token"]

    rescope = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    assert_unauthorized(identity.client.post(TOKENS, json=rescope))


def test_bad_credentials_are_401_in_keystone_shape(identity: Identity) -> None:
    demo = identity.passwords["demo"]
    wrong_domain = password_body("demo", demo, "demo")
    wrong_domain["auth"]["identity"]["password"]["user"]["domain"] = {"name": "Other"}
    for body in (
        password_body("demo", "wrong", "demo"),
        password_body("nobody", demo, "demo"),
        wrong_domain,
        password_body("demo", demo, "admin"),  # no role there
        password_body("demo", demo, "missing"),
        {"auth": {"identity": {"methods": ["totp"], "totp": {}}}},
    ):
        assert_unauthorized(identity.client.post(TOKENS, json=body))


def test_disabled_user_cannot_authenticate(identity: Identity) -> None:
    with transaction(identity.services.sessions) as session:
        store.get_user(session, identity.boot.user_ids["demo"]).enabled = False

    assert_unauthorized(
        identity.client.post(TOKENS, json=password_body("demo", identity.passwords["demo"], "demo"))
    )


def test_malformed_request_is_400(identity: Identity) -> None:
    response = identity.client.post(TOKENS, json={"nope": {}})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_nocatalog_on_issue(identity: Identity) -> None:
    body = password_body("demo", identity.passwords["demo"], "demo")

    response = identity.client.post(f"{TOKENS}?nocatalog", json=body)

    assert response.status_code == 201
    assert "catalog" not in response.json()["token"]


def test_validate_own_token_and_nocatalog(identity: Identity) -> None:
    token = identity.token("demo")
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}

    full = identity.client.get(TOKENS, headers=headers)
    bare = identity.client.get(f"{TOKENS}?nocatalog", headers=headers)

    assert full.status_code == bare.status_code == 200
    assert full.headers["X-Subject-Token"] == token
    assert "catalog" in full.json()["token"]
    assert set(bare.json()["token"]) == {
        "methods",
        "user",
        "audit_ids",
        "expires_at",
        "issued_at",
        "project",
        "is_domain",
        "roles",
    }


def test_admin_validates_other_tokens_members_may_not(identity: Identity) -> None:
    demo = identity.token("demo")
    admin = identity.token("admin")

    by_admin = identity.client.get(TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": demo})
    by_demo = identity.client.get(TOKENS, headers={"X-Auth-Token": demo, "X-Subject-Token": admin})
    unknown = identity.client.get(
        TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": "bogus"}
    )
    head = identity.client.head(TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": demo})

    assert by_admin.json()["token"]["user"]["name"] == "demo"
    assert by_demo.status_code == 403
    assert by_demo.json()["error"]["title"] == "Forbidden"
    assert unknown.status_code == 404
    assert head.status_code == 200 and head.content == b""


def test_revoked_token_is_rejected(identity: Identity) -> None:
    token = identity.token("demo")
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}

    assert identity.client.delete(TOKENS, headers=headers).status_code == 204
    assert_unauthorized(identity.client.get(TOKENS, headers=headers))


def test_expired_token_is_401(identity: Identity) -> None:
    token = identity.token("demo")
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    assert identity.client.get(TOKENS, headers=headers).status_code == 200

    identity.clock.advance(3600)

    assert_unauthorized(identity.client.get(TOKENS, headers=headers))
    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}
    assert_unauthorized(identity.client.post(TOKENS, json=rescope))


def test_token_stops_working_when_its_role_is_removed(identity: Identity) -> None:
    token = identity.token("demo")
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    admin = identity.headers("admin")
    p, u = identity.boot.project_ids["demo"], identity.boot.user_ids["demo"]
    with identity.services.sessions() as session:
        role_ids = [r.id for r in store.assigned_roles(session, u, p)]

    for role_id in role_ids:
        url = f"/identity/v3/projects/{p}/users/{u}/roles/{role_id}"
        assert identity.client.delete(url, headers=admin).status_code == 204

    assert_unauthorized(identity.client.get(TOKENS, headers=headers))


def test_only_hashes_are_stored(identity: Identity) -> None:
    token = identity.token("demo")
    with identity.services.sessions() as session:
        from pier.db.tables.identity import Token, User

        ids = [row.id for row in session.query(Token).all()]
        hashes = [row.password_hash or "" for row in session.query(User).all()]

    assert token not in ids and all(len(i) == 64 for i in ids)
    assert all(h.startswith("scrypt$") for h in hashes)
    assert identity.passwords["demo"] not in "".join(hashes)


def test_timestamps_are_keystone_format(identity: Identity) -> None:
    token = issue(identity, password_body("demo", identity.passwords["demo"], "demo")).json()[
        "token"
    ]

    for key in ("issued_at", "expires_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z", token[key])
