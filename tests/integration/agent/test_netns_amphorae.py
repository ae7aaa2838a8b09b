"""`pier agent --amphora-netns`: each amphora's HAProxy in a namespace of its own, made on
create and removed on delete. The test plugs a veth into that namespace itself (the bridge
network driver's job in `pier up`). Needs root; everything is removed even on failure.
"""

import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pier.wire.netns import amphora_namespace
from tests.integration.agent.agent_process import AgentProcess, wait_until
from tests.support.backends import http_backend
from tests.unit.agent.configs import bundle, haproxy_text, members

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

HOST_ADDRESS, VIP = "198.18.253.1", "198.18.253.2"


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=10)


def _gone(link: str) -> bool:
    return subprocess.run(["ip", "link", "show", link], capture_output=True).returncode != 0


def test_each_amphora_serves_from_its_own_namespace(
    start_agent: Callable[..., AgentProcess],
) -> None:
    agent = start_agent("--amphora-netns")
    amphora_id = f"netns-{secrets.token_hex(4)}"
    namespace = amphora_namespace(amphora_id)
    host_link, inner = f"pa{secrets.token_hex(3)}h", "eth0"
    try:
        with agent.client() as client:
            body = {"amphora_id": amphora_id, "loadbalancer_id": "lb-1"}
            assert client.post("/amphorae", json=body).status_code == 201
            assert Path(f"/run/netns/{namespace}").exists()
            ip("link", "add", host_link, "type", "veth", "peer", "name", inner, "netns", namespace)
            ip("addr", "add", f"{HOST_ADDRESS}/30", "dev", host_link)
            ip("link", "set", host_link, "up")
            ip("-n", namespace, "addr", "add", f"{VIP}/30", "dev", inner)
            ip("-n", namespace, "link", "set", inner, "up")

            with http_backend("web1", HOST_ADDRESS) as web:
                text = haproxy_text(members(web.port, address=HOST_ADDRESS), vip=VIP, port=8080)
                response = client.put(f"/amphorae/{amphora_id}/config", content=bundle(text))
                assert response.status_code == 200, response.text
                assert httpx.get(f"http://{VIP}:8080/", timeout=5).text.startswith("web1")

            assert client.delete(f"/amphorae/{amphora_id}").status_code in (200, 204)
        assert not Path(f"/run/netns/{namespace}").exists()
        # The kernel tears a namespace down (and the veth's host end with it) asynchronously.
        wait_until(lambda: _gone(host_link) or None, "the veth's host end gone", 10)
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
