"""HAProxy in a network namespace (the `netns` amphorae of the bridge network): it binds the
VIP that only the namespace has, reaches a member through the namespace's link, and the agent
still drives it through its sockets (files) from the host's namespace: reload, runtime, stop.
Needs root; the namespace and veth are removed even when the test fails.
"""

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pier.agent.haproxy import HaproxyProcess, HaproxyTimeouts
from pier.agent.layout import amphora_directory, ensure_files, remove_alias
from pier.agent.runtime_plan import RuntimeCommand
from tests.support.backends import http_backend
from tests.unit.agent.configs import haproxy_text, members

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("haproxy") is None,
    reason="network namespaces need root, and HAProxy must be installed",
)

HOST_ADDRESS, NS_ADDRESS = "198.18.254.1", "198.18.254.2"


@dataclass(frozen=True)
class Namespace:
    name: str
    host_link: str


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=10)


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    """A namespace joined to the host by a veth: host 198.18.254.1/30, namespace .2/30."""
    suffix = secrets.token_hex(3)
    name, host_link, inner = f"pier-test-{suffix}", f"pt{suffix}h", f"pt{suffix}n"
    try:
        ip("netns", "add", name)
        ip("link", "add", host_link, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", name)
        ip("addr", "add", f"{HOST_ADDRESS}/30", "dev", host_link)
        ip("link", "set", host_link, "up")
        ip("-n", name, "addr", "add", f"{NS_ADDRESS}/30", "dev", inner)
        ip("-n", name, "link", "set", inner, "up")
        ip("-n", name, "link", "set", "lo", "up")
        yield Namespace(name, host_link)
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def test_haproxy_serves_a_vip_only_its_namespace_has(namespace: Namespace, tmp_path: Path) -> None:
    directory = amphora_directory(tmp_path / "state", "amp-netns")
    ensure_files(directory)
    haproxy = HaproxyProcess(
        directory, binary="haproxy", timeouts=HaproxyTimeouts(), namespace=namespace.name
    )
    with http_backend("web1", HOST_ADDRESS) as web1, http_backend("web2", HOST_ADDRESS) as web2:
        one = members(web1.port, address=HOST_ADDRESS)
        both = members(web1.port, web2.port, address=HOST_ADDRESS)
        directory.config.write_text(haproxy_text(one, vip=NS_ADDRESS, port=8080))
        haproxy.check(directory.config)
        try:
            haproxy.start()
            pid = haproxy.master_pid()
            assert pid is not None
            assert Path(f"/proc/{pid}/ns/net").resolve() != Path("/proc/self/ns/net").resolve()
            url = f"http://{NS_ADDRESS}:8080/"
            assert httpx.get(url, timeout=5).text.startswith("web1")

            # A reload through the master socket, from the host's namespace.
            directory.config.write_text(haproxy_text(both, vip=NS_ADDRESS, port=8080))
            haproxy.reload()
            assert haproxy.master_pid() == pid
            answers = {httpx.get(url, timeout=5).text.split()[0] for _ in range(6)}
            assert answers == {"web1", "web2"}

            # And the runtime API: drain web2.
            backend, server = _server_of(directory.config.read_text(), f"member-{web2.port}")
            haproxy.apply_runtime(
                [RuntimeCommand(f"set server {backend}/{server} weight 0", success="")]
            )
            assert {httpx.get(url, timeout=5).text.split()[0] for _ in range(6)} == {"web1"}
        finally:
            haproxy.stop()
            remove_alias(directory)
    assert not haproxy.running()


def _server_of(config: str, member_id: str) -> tuple[str, str]:
    """(backend, server) names of a member in a rendered configuration."""
    backend = ""
    for line in config.splitlines():
        words = line.split()
        if words[:1] == ["backend"]:
            backend = words[1]
        if words[:2] == ["server", member_id]:
            return backend, member_id
    raise AssertionError(f"{member_id} not in the configuration")
