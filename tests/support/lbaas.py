"""A small Octavia API client for tests against `pier up --auth noauth`: build a load balancer
with traffic behind it, wait for statuses, check the VIP answers.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.backends import HttpBackend, free_port_on
from tests.support.processes import PierProcess

HEADERS = {"X-Project-Id": "lbaas-tests"}


@dataclass
class Api:
    pier: PierProcess

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(
            method, self.pier.url + path, json=body, headers=HEADERS, timeout=30
        )
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def loadbalancer(self, lb_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v2/lbaas/loadbalancers/{lb_id}")["loadbalancer"]  # type: ignore[no-any-return]

    def amphorae(self, lb_id: str) -> list[dict[str, Any]]:
        found = self.call("GET", f"/v2/octavia/amphorae?loadbalancer_id={lb_id}")["amphorae"]
        return [a for a in found if a["status"] != "DELETED"]

    def wait_active(self, lb_id: str, timeout: float = 60) -> None:
        wait_for(lambda: self.loadbalancer(lb_id)["provisioning_status"] == "ACTIVE", timeout)

    def subnet_id(self) -> str:
        subnets = self.call("GET", "/network/v2.0/subnets?name=public-subnet")["subnets"]
        return str(subnets[0]["id"])

    def create(self, name: str, members: list[HttpBackend]) -> tuple[str, str, int]:
        """A load balancer with an HTTP listener and a pool of `members`: (id, VIP, port)."""
        lb = self.call(
            "POST",
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"name": name, "vip_subnet_id": self.subnet_id()}},
        )["loadbalancer"]
        self.wait_active(lb["id"])
        port = free_port_on(lb["vip_address"])
        listener = self.call(
            "POST",
            "/v2/lbaas/listeners",
            {
                "listener": {
                    "loadbalancer_id": lb["id"],
                    "protocol": "HTTP",
                    "protocol_port": port,
                }
            },
        )["listener"]
        self.wait_active(lb["id"])
        pool = self.call(
            "POST",
            "/v2/lbaas/pools",
            {
                "pool": {
                    "listener_id": listener["id"],
                    "protocol": "HTTP",
                    "lb_algorithm": "ROUND_ROBIN",
                }
            },
        )["pool"]
        self.wait_active(lb["id"])
        for backend in members:
            self.call(
                "POST",
                f"/v2/lbaas/pools/{pool['id']}/members",
                {"member": {"address": backend.address, "protocol_port": backend.port}},
            )
            self.wait_active(lb["id"])
        return lb["id"], lb["vip_address"], port


def wait_for(condition: Callable[[], bool], timeout: float, what: str = "condition") -> float:
    """Seconds it took; fails the test after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout}s")


def answers(vip: str, port: int) -> bool:
    try:
        return httpx.get(f"http://{vip}:{port}/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
