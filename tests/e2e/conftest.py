"""One `pier up` per module, driven by the real `openstack` CLI and openstacksdk."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import PierProcess, pier_up

OPENSTACK = str(Path(sys.executable).parent / "openstack")


class Cli:
    """`openstack --os-cloud <cloud> ...` with the clouds.yaml that `pier up` wrote."""

    def __init__(self, pier: PierProcess, cloud: str) -> None:
        self.pier, self.cloud = pier, cloud

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(self.pier.clouds_yaml)}
        for key in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
            env.pop(key)
        result = subprocess.run(
            [OPENSTACK, "--os-cloud", self.cloud, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"openstack {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stderr}\n--- pier log ---\n{self.pier.log()[-4000:]}"
            )
        return result

    def json(self, *args: str) -> Any:
        output = self.run(*args, "-f", "json").stdout
        return json.loads(output) if output.strip() else None


@pytest.fixture(scope="module")
def pier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PierProcess]:
    # Heartbeats every second, so statuses and statistics show up while the test waits.
    with pier_up(tmp_path_factory.mktemp("pier"), "--heartbeat-interval", "1") as process:
        yield process


@pytest.fixture(scope="module")
def demo(pier: PierProcess) -> Cli:
    return Cli(pier, "pier-demo")


@pytest.fixture(scope="module")
def admin(pier: PierProcess) -> Cli:
    return Cli(pier, "pier-admin")
