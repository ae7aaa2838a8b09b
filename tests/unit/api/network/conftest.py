"""Fixtures for the network API: the real app on a fresh SQLite database, plus helpers that
create networks and subnets as admin through HTTP.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pier.api.services import Services
from tests.support.app import api_client, as_project, make_services

ADMIN = as_project("admin-project", "admin")
ALICE = as_project("project-a")
BOB = as_project("project-b")
ALICE_READER = as_project("project-a", "reader")

BASE = "/network/v2.0"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as test_client:
        yield test_client


def create(
    client: TestClient, collection: str, body: dict[str, Any], headers: dict[str, str] = ADMIN
) -> dict[str, Any]:
    singular = {
        "networks": "network",
        "subnets": "subnet",
        "ports": "port",
        "floatingips": "floatingip",
        "security-groups": "security_group",
        "security-group-rules": "security_group_rule",
    }[collection]
    response = client.post(f"{BASE}/{collection}", json={singular: body}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()[singular]
    return result


def make_network(client: TestClient, **fields: Any) -> dict[str, Any]:
    return create(client, "networks", {"name": "net", **fields})


def make_subnet(
    client: TestClient, network_id: str, cidr: str = "10.0.0.0/24", **fields: Any
) -> dict[str, Any]:
    return create(
        client,
        "subnets",
        {"network_id": network_id, "cidr": cidr, "ip_version": 6 if ":" in cidr else 4, **fields},
    )


def neutron_error(response: Any) -> dict[str, str]:
    body: dict[str, dict[str, str]] = response.json()
    assert set(body) == {"NeutronError"}, body
    return body["NeutronError"]
