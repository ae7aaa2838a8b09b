"""The openstack.cloud Ansible collection builds and re-applies an LB tree against `pier up`.

Ansible 14 needs Python >= 3.12, so it gets its own venv (`.work/venv-ansible`, built once from
`ansible/requirements.txt` under a file lock and reused while the pins match); see
shared/spec/clients.md §5.
"""

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import openstack.config
import pytest
from openstack.connection import Connection

from tests.support.processes import REPO, PierProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

HERE = Path(__file__).parent / "ansible"
REQUIREMENTS = HERE / "requirements.txt"
PLAYBOOK = HERE / "lb-tree.yml"
VENV = REPO / ".work" / "venv-ansible"
# Written last, after pip succeeded: a venv without it (or with other pins) is rebuilt.
MARKER = VENV / "pier-requirements.txt"
RECAP = re.compile(r"^localhost\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


def find_python312() -> str | None:
    """An interpreter that really runs and is >= 3.12 (a pyenv shim may exist but refuse)."""
    candidates = [
        os.environ.get("PIER_ANSIBLE_PYTHON"),
        shutil.which("python3.12"),
        *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def run_checked(command: list[str], timeout: float) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def venv_is_current(wanted: str) -> bool:
    if not MARKER.is_file() or MARKER.read_text() != wanted:
        return False
    probe = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", "import ansible, openstack"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0 and (VENV / "bin" / "ansible-playbook").is_file()


def ensure_ansible_venv(python: str) -> Path:
    """Build `.work/venv-ansible` unless a matching one exists; parallel runs wait on the lock."""
    wanted = REQUIREMENTS.read_text()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / "venv-ansible.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not venv_is_current(wanted):
            shutil.rmtree(VENV, ignore_errors=True)
            run_checked([python, "-m", "venv", str(VENV)], timeout=120)
            pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            run_checked([*pip, "-r", str(REQUIREMENTS)], timeout=780)
            MARKER.write_text(wanted)
    return VENV


@pytest.fixture(scope="module")
def ansible_venv() -> Path:
    python = find_python312()
    if python is None:
        pytest.skip("ansible 14 needs Python >= 3.12 and no python3.12 runs here")
    return ensure_ansible_venv(python)


def run_playbook(venv: Path, pier: PierProcess, home: Path) -> dict[str, int]:
    """Run lb-tree.yml against `pier-demo` and return the PLAY RECAP counts for localhost."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OS_", "ANSIBLE_", "PYTHON"))
    }
    env.update(
        OS_CLIENT_CONFIG_FILE=str(pier.clouds_yaml),
        ANSIBLE_PYTHON_INTERPRETER=str(venv / "bin" / "python"),
        # A private home keeps any galaxy-installed collection in ~/.ansible out of the way,
        # so the openstack.cloud bundled in the `ansible` package is the one used.
        ANSIBLE_HOME=str(home),
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
    )
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [str(venv / "bin" / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    match = RECAP.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise AssertionError(
            f"ansible-playbook failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
            f"--- pier log ---\n{pier.log()[-4000:]}"
        )
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match["counts"])}


def connect(pier: PierProcess, cloud: str) -> Connection:
    config = openstack.config.OpenStackConfig(
        config_files=[str(pier.clouds_yaml)], load_envvars=False
    )
    return Connection(config=config.get_one(cloud))


def test_playbook_builds_the_tree_then_changes_nothing(
    ansible_venv: Path, pier: PierProcess, tmp_path: Path
) -> None:
    first = run_playbook(ansible_venv, pier, tmp_path / "ansible-home")
    assert (first["changed"], first["failed"], first["unreachable"]) == (5, 0, 0)
    second = run_playbook(ansible_venv, pier, tmp_path / "ansible-home")
    assert (second["ok"], second["changed"], second["failed"]) == (5, 0, 0)

    conn = connect(pier, "pier-demo")
    lb = conn.load_balancer.find_load_balancer("ansible-lb", ignore_missing=False)
    assert lb.provisioning_status == "ACTIVE"
    assert lb.vip_subnet_id == conn.network.find_subnet("public-subnet", ignore_missing=False).id
    listener = conn.load_balancer.find_listener("ansible-listener", ignore_missing=False)
    pool = conn.load_balancer.find_pool("ansible-pool", ignore_missing=False)
    monitor = conn.load_balancer.find_health_monitor("ansible-hm", ignore_missing=False)
    assert lb.listeners == [{"id": listener.id}]
    assert lb.pools == [{"id": pool.id}]
    assert listener.default_pool_id == pool.id
    assert pool.health_monitor_id == monitor.id
    members = list(conn.load_balancer.members(pool))
    assert [(m.name, m.address, m.protocol_port) for m in members] == [
        ("ansible-member", "127.0.0.31", 80)
    ]
    assert (monitor.type, monitor.delay, monitor.timeout, monitor.max_retries) == ("HTTP", 5, 3, 2)
    for resource in (listener, pool, monitor, *members):
        assert resource.provisioning_status == "ACTIVE"
