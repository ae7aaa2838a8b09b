"""The walk-through on `pier up --network-driver bridge` (root): the members are web servers in
namespaces of their own on a subnet an admin made through the network API (a bridge on this
host); the load balancer's VIP is on `public-subnet` (another bridge), its HAProxy in a
namespace of its own. Round robin from the host, a health monitor that takes a dead member
out, and everything gone after the deletes. Names and addresses are random per run, in
198.18.0.0/15 only; the test removes what it made even when it fails.
"""

import ipaddress
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pier.drivers.network.bridge import bridge_name
from pier.drivers.network.linux import NAT_TABLE, links
from pier.wire.netns import amphora_namespace
from tests.support.lbaas import Api, answers, wait_for
from tests.support.processes import PierProcess, pier_up

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bridges and namespaces need root")

SERVER = """
import http.server, sys
name = sys.argv[1].encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name) + 1))
        self.end_headers()
        self.wfile.write(name + b"\\n")
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[2], 80), Handler).serve_forever()
"""


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=10)


@dataclass
class Web:
    """A web server in a namespace of its own, on a veth into a Pier bridge."""

    name: str
    namespace: str
    host_end: str
    address: str
    process: subprocess.Popen[bytes] | None = None

    def plug(self, bridge: str, prefix: int, gateway: str, *, serve: bool = True) -> None:
        ip("netns", "add", self.namespace)
        ip("link", "add", self.host_end, "type", "veth", "peer", "name", "eth0", "netns",
           self.namespace)  # fmt: skip
        ip("link", "set", self.host_end, "master", bridge)
        ip("link", "set", self.host_end, "up")
        ip("-n", self.namespace, "addr", "add", f"{self.address}/{prefix}", "dev", "eth0")
        ip("-n", self.namespace, "link", "set", "eth0", "up")
        ip("-n", self.namespace, "link", "set", "lo", "up")
        ip("-n", self.namespace, "route", "add", "default", "via", gateway)
        if serve:
            self.start()

    def fetch(self, address: str) -> str | None:
        """`GET /` from inside this namespace: the answering server's name, None if none."""
        result = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.namespace,
                "curl",
                "-s",
                "-m",
                "2",
                f"http://{address}/",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return result.stdout.strip() or None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.namespace,
                sys.executable,
                "-c",
                SERVER,
                self.name,
                self.address,
            ]  # fmt: skip
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        subprocess.run(["ip", "link", "del", self.host_end], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True, check=False)


@dataclass
class Made:
    webs: list[Web] = field(default_factory=list)
    bridges: set[str] = field(default_factory=set)
    namespaces: set[str] = field(default_factory=set)


@pytest.fixture
def made() -> Iterator[Made]:
    things = Made()
    yield things
    for web in things.webs:
        web.remove()
    for namespace in things.namespaces:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
    for bridge in things.bridges:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
    subprocess.run(["nft", "delete", "table", "ip", NAT_TABLE], capture_output=True, check=False)


@pytest.fixture
def pier(tmp_path: Path, made: Made) -> Iterator[PierProcess]:
    public = f"198.19.{secrets.randbelow(250) + 1}.0/24"
    options = ["--auth", "noauth", "--network-driver", "bridge", "--bridge-public-cidr", public,
               "--heartbeat-interval", "1"]  # fmt: skip
    with pier_up(tmp_path / "pier", *options) as process:
        yield process


def get(vip: str) -> str:
    return httpx.get(f"http://{vip}/", timeout=5).text.strip()


def tenant_network(
    api: Api, made: Made, name: str, cidr: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A network and its subnet, made by the admin through the network API."""
    network = api.call("POST", "/network/v2.0/networks", {"network": {"name": name}})["network"]
    made.bridges.add(bridge_name(network["id"]))
    body = {"network_id": network["id"], "cidr": cidr, "ip_version": 4, "name": f"{name}-subnet"}
    subnet = api.call("POST", "/network/v2.0/subnets", {"subnet": body})["subnet"]
    return network, subnet


def test_walkthrough_with_members_in_namespaces(pier: PierProcess, made: Made) -> None:
    api = Api(pier)
    public = api.call("GET", "/network/v2.0/networks?name=public")["networks"][0]
    made.bridges.add(bridge_name(public["id"]))
    third = secrets.randbelow(250) + 1
    network, subnet = tenant_network(api, made, "members", f"198.18.{third}.0/24")
    bridge = bridge_name(network["id"])
    wait_for(lambda: bridge in links(), 10, "the members' bridge")

    suffix = secrets.token_hex(3)
    for number in (1, 2):
        web = Web(f"web{number}", f"pier-test-web{number}-{suffix}", f"ptw{number}{suffix}",
                  f"198.18.{third}.{10 + number}")  # fmt: skip
        made.webs.append(web)
        web.plug(bridge, 24, subnet["gateway_ip"])

    vip_network, vip_subnet = tenant_network(api, made, "vips", f"198.18.{third + 1}.0/24")
    lb = api.call(
        "POST",
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"name": "lb1", "vip_subnet_id": vip_subnet["id"]}},
    )["loadbalancer"]
    api.wait_active(lb["id"])
    [amphora] = api.amphorae(lb["id"])
    made.namespaces.add(amphora_namespace(amphora["id"]))
    assert Path(f"/run/netns/{amphora_namespace(amphora['id'])}").exists()
    listener = api.call(
        "POST",
        "/v2/lbaas/listeners",
        {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}},
    )["listener"]
    api.wait_active(lb["id"])
    pool = api.call(
        "POST",
        "/v2/lbaas/pools",
        {
            "pool": {
                "listener_id": listener["id"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
            }
        },  # fmt: skip
    )["pool"]
    api.wait_active(lb["id"])
    for web in made.webs:
        api.call(
            "POST",
            f"/v2/lbaas/pools/{pool['id']}/members",
            {
                "member": {"address": web.address, "protocol_port": 80, "subnet_id": subnet["id"]}
            },  # fmt: skip
        )
        api.wait_active(lb["id"])

    vip = lb["vip_address"]
    wait_for(lambda: answers(vip, 80), 10, "traffic through the VIP")
    names = [get(vip) for _ in range(10)]
    assert sorted(set(names)) == ["web1", "web2"]
    assert all(a != b for a, b in zip(names, names[1:], strict=False)), names

    # A floating IP in front, reached from a client in a namespace of its own on `public`.
    public_subnet = api.call("GET", f"/network/v2.0/subnets/{api.subnet_id()}")["subnet"]
    client_address = str(ipaddress.ip_network(public_subnet["cidr"])[250])
    client = Web("client", f"pier-test-client-{suffix}", f"ptc{suffix}", client_address)
    made.webs.append(client)
    client.plug(bridge_name(public["id"]), 24, public_subnet["gateway_ip"], serve=False)
    fip = api.call(
        "POST", "/network/v2.0/floatingips", {"floatingip": {"floating_network_id": public["id"]}}
    )["floatingip"]
    api.call(
        "PUT",
        f"/network/v2.0/floatingips/{fip['id']}",
        {"floatingip": {"port_id": lb["vip_port_id"]}},
    )
    address = fip["floating_ip_address"]
    wait_for(lambda: client.fetch(address) is not None, 10, "the floating IP from the client")
    seen = [client.fetch(address) for _ in range(6)]
    assert sorted(set(seen)) == ["web1", "web2"], seen  # type: ignore[type-var]
    assert get(address) in ("web1", "web2")  # and from the host

    api.call("PUT", f"/network/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    wait_for(lambda: client.fetch(address) is None, 10, "the floating IP unset")
    api.call("DELETE", f"/network/v2.0/floatingips/{fip['id']}")

    api.call(
        "POST",
        "/v2/lbaas/healthmonitors",
        {
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "HTTP",
                "delay": 1,
                "timeout": 1,
                "max_retries": 1,
                "url_path": "/",
            }
        },  # fmt: skip
    )
    api.wait_active(lb["id"])
    made.webs[1].stop()
    wait_for(lambda: {get(vip) for _ in range(4)} == {"web1"}, 15, "web2 out")
    wait_for(lambda: _member_status(api, lb["id"], made.webs[1].address) == "ERROR", 20,
             "web2 ERROR in status show")  # fmt: skip

    api.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    wait_for(
        lambda: not Path(f"/run/netns/{amphora_namespace(amphora['id'])}").exists(),
        30,
        "the amphora's namespace gone",
    )
    for web in made.webs:
        web.remove()
    for gone_subnet, gone_network in ((subnet, network), (vip_subnet, vip_network)):
        api.call("DELETE", f"/network/v2.0/subnets/{gone_subnet['id']}")
        api.call("DELETE", f"/network/v2.0/networks/{gone_network['id']}")
    wait_for(lambda: bridge not in links(), 10, "the members' bridge gone")
    wait_for(lambda: bridge_name(vip_network["id"]) not in links(), 10, "the VIP bridge gone")


def _member_status(api: Api, lb_id: str, address: str) -> str | None:
    tree: dict[str, Any] = api.call("GET", f"/v2/lbaas/loadbalancers/{lb_id}/status")
    for listener in tree["statuses"]["loadbalancer"]["listeners"]:
        for pool in listener["pools"]:
            for member in pool["members"]:
                if member["address"] == address:
                    return str(member["operating_status"])
    return None
