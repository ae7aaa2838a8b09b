"""Identity version discovery documents (clients.md §2.3, golden keystone30-GET-*.json)."""

from tests.unit.api.identity.conftest import BASE, Identity

V3 = {
    "id": "v3.14",
    "status": "stable",
    "updated": "2020-04-07T00:00:00Z",
    "links": [{"rel": "self", "href": f"{BASE}/identity/v3/"}],
    "media-types": [
        {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
    ],
}


def test_versioned_document_with_and_without_slash(identity: Identity) -> None:
    for path in ("/identity/v3", "/identity/v3/"):
        response = identity.client.get(path)
        assert response.status_code == 200
        assert response.json() == {"version": V3}


def test_unversioned_document_is_300_like_keystone(identity: Identity) -> None:
    for path in ("/identity/", "/identity"):
        response = identity.client.get(path)
        assert response.status_code == 300
        assert response.json() == {"versions": {"values": [V3]}}


def test_discovery_needs_no_token(identity: Identity) -> None:
    response = identity.client.get("/identity/v3", headers={"X-Auth-Token": "garbage"})

    assert response.status_code == 200
