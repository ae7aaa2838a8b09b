"""The real `openstack` CLI against the identity service served by uvicorn on loopback,
using the clouds.yaml bootstrap wrote (generic `password` plugin: discovery, then token).
"""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pier.api.app import build_app
from pier.api.auth import build_authenticator
from pier.api.identity.bootstrap import ensure_identity_bootstrap
from pier.settings import Settings
from tests.support.app import make_services
from tests.unit.api.identity.serving import bound_socket, serve

OPENSTACK = Path(sys.executable).parent / "openstack"


def openstack(clouds: Path, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    result = subprocess.run(
        [str(OPENSTACK), "--os-cloud", "pier-admin", *args, "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not OPENSTACK.exists(), reason="python-openstackclient not installed")
def test_openstack_token_issue_and_project_list(tmp_path: Path) -> None:
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    services = make_services(tmp_path, Settings(public_url=url))
    services = replace(
        services,
        authenticator=build_authenticator(services.settings, services.sessions, services.clock),
    )
    boot = ensure_identity_bootstrap(services.sessions, services.settings)
    clouds = tmp_path / "clouds.yaml"

    with serve(build_app(services), sock):
        token = openstack(clouds, "token", "issue")
        projects = openstack(clouds, "project", "list")

    assert token["project_id"] == boot.project_ids["admin"]
    assert token["user_id"] == boot.user_ids["admin"]
    assert len(token["id"]) >= 43
    assert {p["Name"]: p["ID"] for p in projects} == {
        "admin": boot.project_ids["admin"],
        "demo": boot.project_ids["demo"],
    }
