"""The admin identity API tempest's dynamic credentials and OSC use (clients.md §4.2)."""

from typing import Any

from pier.api.identity import store
from tests.unit.api.identity.conftest import BASE, Identity, password_body

V3 = "/identity/v3"


def call(
    identity: Identity,
    method: str,
    path: str,
    status: int,
    token: str | None = None,
    json: Any = None,
) -> Any:
    headers = {"X-Auth-Token": token or identity.token("admin")}
    response = identity.client.request(method, f"{V3}{path}", headers=headers, json=json)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_project_crud(identity: Identity) -> None:
    admin = identity.token("admin")

    created = call(
        identity,
        "POST",
        "/projects",
        201,
        admin,
        {"project": {"name": "p1", "description": "first", "domain_id": "default"}},
    )
    project = created["project"]
    pid = project["id"]
    assert len(pid) == 32
    assert project["links"] == {"self": f"{BASE}/identity/v3/projects/{pid}"}
    assert project | {"links": None} == {
        "id": pid,
        "name": "p1",
        "domain_id": "default",
        "description": "first",
        "enabled": True,
        "parent_id": "default",
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": None,
    }

    assert call(identity, "GET", f"/projects/{pid}", 200, admin)["project"]["name"] == "p1"
    listed = call(identity, "GET", "/projects?name=p1", 200, admin)
    assert [p["id"] for p in listed["projects"]] == [pid]
    assert listed["links"]["self"] == f"{BASE}/identity/v3/projects"
    everything = call(identity, "GET", "/projects", 200, admin)["projects"]
    assert {p["name"] for p in everything} == {"admin", "demo", "p1"}

    patched = call(
        identity,
        "PATCH",
        f"/projects/{pid}",
        200,
        admin,
        {"project": {"name": "p2", "enabled": False}},
    )
    assert patched["project"]["name"] == "p2" and patched["project"]["enabled"] is False

    call(identity, "DELETE", f"/projects/{pid}", 204, admin)
    gone = call(identity, "GET", f"/projects/{pid}", 404, admin)
    assert gone == {
        "error": {"code": 404, "title": "Not Found", "message": f"Could not find project: {pid}."}
    }


def test_osc_project_lookup_by_name_falls_back_to_list(identity: Identity) -> None:
    admin = identity.token("admin")

    call(identity, "GET", "/projects/demo", 404, admin)
    found = call(identity, "GET", "/projects?name=demo", 200, admin)["projects"]

    assert [p["id"] for p in found] == [identity.boot.project_ids["demo"]]


def test_duplicate_names_conflict(identity: Identity) -> None:
    admin = identity.token("admin")

    for path, key in (("/projects", "project"), ("/users", "user"), ("/roles", "role")):
        body = call(
            identity,
            "POST",
            path,
            409,
            admin,
            {key: {"name": "demo" if key != "role" else "member"}},
        )
        assert body["error"]["code"] == 409


def test_user_crud_and_password_login(identity: Identity) -> None:
    admin = identity.token("admin")
    demo_project = identity.boot.project_ids["demo"]

    user = call(
        identity,
        "POST",
        "/users",
        201,
        admin,
        {
            "user": {
                "name": "u1",
                "password": "pw-u1",
                "default_project_id": demo_project,
                "email": "u1@example.org",
                "domain_id": "default",
            }
        },
    )["user"]
    uid = user["id"]
    assert user["email"] == "u1@example.org"
    assert user["default_project_id"] == demo_project
    assert "password" not in user
    assert user["links"] == {"self": f"{BASE}/identity/v3/users/{uid}"}

    assert call(identity, "GET", "/users?name=u1", 200, admin)["users"][0]["id"] == uid
    call(
        identity,
        "PATCH",
        f"/users/{uid}",
        200,
        admin,
        {"user": {"password": "pw-new", "enabled": True}},
    )
    bad = identity.client.post(f"{V3}/auth/tokens", json=password_body("u1", "pw-u1"))
    good = identity.client.post(f"{V3}/auth/tokens", json=password_body("u1", "pw-new"))
    assert (bad.status_code, good.status_code) == (401, 201)

    call(identity, "DELETE", f"/users/{uid}", 204, admin)
    call(identity, "GET", f"/users/{uid}", 404, admin)


def test_role_crud_grants_and_assignments(identity: Identity) -> None:
    admin = identity.token("admin")
    role = call(identity, "POST", "/roles", 201, admin, {"role": {"name": "auditor"}})["role"]
    rid = role["id"]
    assert role["links"] == {"self": f"{BASE}/identity/v3/roles/{rid}"}
    assert call(identity, "GET", "/roles?name=auditor", 200, admin)["roles"][0]["id"] == rid
    assert call(identity, "GET", f"/roles/{rid}", 200, admin)["role"]["name"] == "auditor"
    p, u = identity.boot.project_ids["demo"], identity.boot.user_ids["demo"]
    grant = f"/projects/{p}/users/{u}/roles/{rid}"

    call(identity, "HEAD", grant, 404, admin)
    call(identity, "PUT", grant, 204, admin)
    call(identity, "PUT", grant, 204, admin)
    call(identity, "HEAD", grant, 204, admin)
    names = [
        r["name"]
        for r in call(identity, "GET", f"/projects/{p}/users/{u}/roles", 200, admin)["roles"]
    ]
    assert names == ["auditor", "load-balancer_member", "member"]

    listed = call(
        identity,
        "GET",
        f"/role_assignments?user.id={u}&scope.project.id={p}&include_names",
        200,
        admin,
    )["role_assignments"]
    mine = next(a for a in listed if a["role"]["id"] == rid)
    assert mine == {
        "role": {"id": rid, "name": "auditor"},
        "user": {"id": u, "name": "demo", "domain": {"id": "default", "name": "Default"}},
        "scope": {
            "project": {"id": p, "name": "demo", "domain": {"id": "default", "name": "Default"}}
        },
        "links": {"assignment": f"{BASE}/identity/v3{grant}"},
    }

    call(identity, "DELETE", grant, 204, admin)
    call(identity, "DELETE", grant, 404, admin)
    call(identity, "DELETE", f"/roles/{rid}", 204, admin)
    call(identity, "GET", f"/roles/{rid}", 404, admin)


def test_domains_are_one_synthetic_default(identity: Identity) -> None:
    admin = identity.token("admin")

    listed = call(identity, "GET", "/domains?name=Default", 200, admin)["domains"]
    other = call(identity, "GET", "/domains?name=Other", 200, admin)["domains"]
    shown = call(identity, "GET", "/domains/default", 200, admin)["domain"]

    assert [d["id"] for d in listed] == ["default"] and other == []
    assert shown["name"] == "Default" and shown["enabled"] is True
    call(identity, "GET", "/domains/other", 404, admin)


def test_user_projects(identity: Identity) -> None:
    uid = identity.boot.user_ids["demo"]

    projects = call(identity, "GET", f"/users/{uid}/projects", 200, identity.token("demo"))[
        "projects"
    ]

    assert [p["name"] for p in projects] == ["demo"]


def test_non_admin_is_forbidden_in_keystone_shape(identity: Identity) -> None:
    demo = identity.token("demo")
    admin_project = identity.boot.project_ids["admin"]
    admin_user = identity.boot.user_ids["admin"]

    for method, path, body in (
        ("POST", "/projects", {"project": {"name": "x"}}),
        ("DELETE", f"/projects/{admin_project}", None),
        ("GET", f"/projects/{admin_project}", None),
        ("GET", "/users", None),
        ("POST", "/users", {"user": {"name": "x"}}),
        ("GET", f"/users/{admin_user}", None),
        ("GET", "/roles", None),
        ("POST", "/roles", {"role": {"name": "x"}}),
        ("GET", "/role_assignments", None),
        ("GET", f"/users/{admin_user}/projects", None),
    ):
        error = call(identity, method, path, 403, demo, body)["error"]
        assert error["code"] == 403 and error["title"] == "Forbidden"
        assert error["message"].startswith(
            "You are not authorized to perform the requested action: identity:"
        )


def test_non_admin_reads_itself_and_its_project(identity: Identity) -> None:
    demo = identity.token("demo")
    uid, pid = identity.boot.user_ids["demo"], identity.boot.project_ids["demo"]

    assert call(identity, "GET", f"/users/{uid}", 200, demo)["user"]["name"] == "demo"
    assert call(identity, "GET", f"/projects/{pid}", 200, demo)["project"]["name"] == "demo"
    listed = call(identity, "GET", "/projects", 200, demo)["projects"]
    assert [p["id"] for p in listed] == [pid]
    own = call(identity, "GET", f"/role_assignments?user.id={uid}", 200, demo)
    assert len(own["role_assignments"]) == 2


def test_no_token_is_401(identity: Identity) -> None:
    response = identity.client.get(f"{V3}/projects")

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_deleting_a_project_revokes_its_tokens(identity: Identity) -> None:
    admin = identity.token("admin")
    demo = identity.token("demo")
    headers = {"X-Auth-Token": demo, "X-Subject-Token": demo}
    assert identity.client.get(f"{V3}/auth/tokens", headers=headers).status_code == 200

    call(identity, "DELETE", f"/projects/{identity.boot.project_ids['demo']}", 204, admin)

    assert identity.client.get(f"{V3}/auth/tokens", headers=headers).status_code == 401
    with identity.services.sessions() as session:
        assert store.list_assignments(session, project_id=identity.boot.project_ids["demo"]) == []


def test_application_credential_api(identity: Identity) -> None:
    demo = identity.token("demo")
    uid = identity.boot.user_ids["demo"]
    base = f"/users/{uid}/application_credentials"

    created = call(
        identity,
        "POST",
        base,
        201,
        demo,
        {
            "application_credential": {
                "name": "ci",
                "roles": [{"name": "reader"}],
                "expires_at": "2026-12-01T00:00:00",
            }
        },
    )["application_credential"]
    assert created["project_id"] == identity.boot.project_ids["demo"]
    assert [r["name"] for r in created["roles"]] == ["reader"]
    assert created["expires_at"] == "2026-12-01T00:00:00.000000"
    secret = created.pop("secret")

    listed = call(identity, "GET", base, 200, demo)["application_credentials"]
    assert [c["id"] for c in listed] == [created["id"]] and "secret" not in listed[0]
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": created["id"], "secret": secret},
            }
        }
    }
    token = identity.client.post(f"{V3}/auth/tokens", json=body).json()["token"]
    assert [r["name"] for r in token["roles"]] == ["reader"]

    call(identity, "POST", base, 409, demo, {"application_credential": {"name": "ci"}})
    call(
        identity,
        "POST",
        base,
        403,
        demo,
        {"application_credential": {"name": "more", "roles": [{"name": "admin"}]}},
    )
    call(
        identity,
        "POST",
        f"/users/{identity.boot.user_ids['admin']}/application_credentials",
        403,
        demo,
        {"application_credential": {"name": "theft"}},
    )
    call(identity, "DELETE", f"{base}/{created['id']}", 204, demo)
    assert identity.client.post(f"{V3}/auth/tokens", json=body).status_code == 401


def test_application_credential_expires(identity: Identity) -> None:
    demo = identity.token("demo")
    uid = identity.boot.user_ids["demo"]
    created = call(
        identity,
        "POST",
        f"/users/{uid}/application_credentials",
        201,
        demo,
        {"application_credential": {"name": "short", "expires_at": "2026-11-22T14:30:00Z"}},
    )["application_credential"]
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": created["id"], "secret": created["secret"]},
            }
        }
    }

    token = identity.client.post(f"{V3}/auth/tokens", json=body).json()["token"]
    assert token["expires_at"] == "2026-11-22T14:30:00.000000Z"
    identity.clock.advance(1800)
    assert identity.client.post(f"{V3}/auth/tokens", json=body).status_code == 401
