"""Crash safety: `kill -9` of `pier up` (and of its agent) at random points of create, update,
delete and failover; after each restart every object must settle (ACTIVE, ERROR or gone)
within 30 s, with no duplicate or stray amphora and no stray HAProxy process.

The schedule comes from a fixed seed, so a failure repeats: PIER_CRASH_SEED and
PIER_CRASH_ROUNDS change it (e.g. 200 rounds for a long run by hand).
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pier.cli.processes import kill_processes_under, processes_under
from tests.support.backends import HttpBackend
from tests.support.processes import BIN, free_port, vip_cidr, wait_healthy

SEED = int(os.environ.get("PIER_CRASH_SEED", "20261123"))
ROUNDS = int(os.environ.get("PIER_CRASH_ROUNDS", "10"))
SETTLE_S = 30.0
HEADERS = {"X-Project-Id": "crash-tests"}
OPERATIONS = ("create", "create", "update", "member", "delete", "failover")
KILLS = ("pier", "pier", "pier+agent", "agent")


@dataclass
class Pier:
    """One `pier up` on a fixed data dir and fixed ports, killed and started again."""

    data_dir: Path
    options: list[str]
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    log_number: int = 0
    settle_times: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log_number += 1
        with (self.data_dir / f"pier-{self.log_number}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "pier"), "up", "--data-dir", str(self.data_dir), *self.options],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(self.url, self.process, self.data_dir / f"pier-{self.log_number}.log")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill_agent(self) -> None:
        for pid in agents(self.data_dir):
            os.kill(pid, signal.SIGKILL)

    def log(self) -> str:
        path = self.data_dir / f"pier-{self.log_number}.log"
        return path.read_text(errors="replace")[-6000:]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, self.url + path, json=body, headers=HEADERS, timeout=30)
        return response.json() if response.content and response.status_code < 300 else None


def agents(data_dir: Path) -> list[int]:
    found = []
    for pid in processes_under(data_dir / "agent"):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pier.cli.main" in arguments and b"agent" in arguments:
            found.append(pid)
    return found


def haproxy_masters(data_dir: Path) -> dict[str, int]:
    """Amphora id -> pid of each live HAProxy master (`-W`) under the data dir."""
    masters = {}
    for pid in processes_under(data_dir / "agent" / "amphorae"):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X") or b"-W" not in arguments or b"-f" not in arguments:
            continue
        config = Path(arguments[arguments.index(b"-f") + 1].decode())
        masters[config.parent.name] = pid
    return masters


@pytest.fixture
def pier(tmp_path: Path) -> Iterator[Pier]:
    port = free_port()
    options = [
        "--auth",
        "noauth",
        "--port",
        str(port),
        "--agent-port",
        str(free_port()),
        "--health-port",
        "0",
        "--heartbeat-interval",
        "1",
        "--loopback-vip-cidr",
        vip_cidr(),
    ]
    running = Pier(tmp_path, options, url=f"http://127.0.0.1:{port}")
    try:
        running.start()
        yield running
    finally:
        running.kill()
        kill_processes_under(tmp_path)


@pytest.fixture
def backend() -> Iterator[HttpBackend]:
    web = HttpBackend("web", "127.0.4.1")
    web.start()
    yield web
    web.stop()


def test_every_object_settles_after_random_kills(pier: Pier, backend: HttpBackend) -> None:
    rng = random.Random(SEED)
    subnet = pier.call("GET", "/network/v2.0/subnets?name=public-subnet")["subnets"][0]["id"]
    history: list[str] = []
    for round_number in range(ROUNDS):
        operation = _operate(pier, rng, subnet, backend, round_number)
        # Most passes take 0.1-0.5 s: kill inside one more often than after it.
        time.sleep(rng.uniform(0.0, 0.6))
        kill = rng.choice(KILLS)
        history.append(f"{operation} / kill {kill}")
        started = time.monotonic()  # the 30 s include starting again
        if kill in ("agent", "pier+agent"):
            pier.kill_agent()
        if kill in ("pier", "pier+agent"):
            pier.kill()
            pier.start()
        problems = _settled(pier)
        while problems and time.monotonic() - started < SETTLE_S:
            time.sleep(0.5)
            problems = _settled(pier)
        assert not problems, (
            f"round {round_number} ({history[-1]}), seed {SEED}: not settled after "
            f"{SETTLE_S}s: {problems}\nhistory: {history}\n{pier.log()}"
        )
        pier.settle_times.append(time.monotonic() - started)
    times = sorted(pier.settle_times)
    sys.stdout.write(
        f"settled after each of {ROUNDS} kills: median {times[len(times) // 2]:.1f}s, "
        f"max {times[-1]:.1f}s\n"
    )


def _operate(pier: Pier, rng: random.Random, subnet: str, backend: HttpBackend, number: int) -> str:
    lbs = pier.call("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]
    active = [lb for lb in lbs if lb["provisioning_status"] == "ACTIVE"]
    operation = rng.choice(OPERATIONS) if active else "create"
    if operation == "create" or not active:
        pier.call(
            "POST",
            "/v2/lbaas/loadbalancers",
            {
                "loadbalancer": {
                    "name": f"crash-{number}",
                    "vip_subnet_id": subnet,
                    "listeners": [
                        {
                            "protocol": "HTTP",
                            "protocol_port": 8000 + number,
                            "default_pool": {
                                "protocol": "HTTP",
                                "lb_algorithm": "ROUND_ROBIN",
                                "members": [
                                    {"address": backend.address, "protocol_port": backend.port}
                                ],
                            },
                        }
                    ],
                }
            },
        )
        return "create"
    lb = rng.choice(active)
    if operation == "delete":
        pier.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    elif operation == "failover":
        pier.call("PUT", f"/v2/lbaas/loadbalancers/{lb['id']}/failover")
    else:
        pools = pier.call("GET", f"/v2/lbaas/pools?loadbalancer_id={lb['id']}")["pools"]
        if not pools:
            return f"{operation} (no pool)"
        pool = pools[0]["id"]
        if operation == "member":
            pier.call(
                "POST",
                f"/v2/lbaas/pools/{pool}/members",
                {"member": {"address": backend.address, "protocol_port": 9000 + number}},
            )
        else:
            pier.call(
                "PUT",
                f"/v2/lbaas/pools/{pool}",
                {"pool": {"lb_algorithm": rng.choice(["ROUND_ROBIN", "LEAST_CONNECTIONS"])}},
            )
    return operation


def _settled(pier: Pier) -> list[str]:
    """What is still wrong; empty when every object has settled and nothing is stray."""
    try:
        lbs = pier.call("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]
        amphorae = pier.call("GET", "/v2/octavia/amphorae")["amphorae"]
    except (httpx.HTTPError, TypeError) as error:
        return [f"API: {error}"]
    problems = []
    live = [a for a in amphorae if a["status"] != "DELETED"]
    by_lb: dict[str, list[dict[str, Any]]] = {}
    for amphora in live:
        by_lb.setdefault(amphora["loadbalancer_id"], []).append(amphora)
    for lb in lbs:
        status = lb["provisioning_status"]
        if status not in ("ACTIVE", "ERROR"):
            problems.append(f"LB {lb['id']} {status}")
            continue
        tree = pier.call("GET", f"/v2/lbaas/loadbalancers/{lb['id']}/status")
        for pending in _pending_children(tree):
            problems.append(f"LB {lb['id']}: {pending}")
        own = by_lb.pop(lb["id"], [])
        if status == "ACTIVE" and [a["status"] for a in own] != ["ALLOCATED"]:
            problems.append(f"ACTIVE LB {lb['id']} has amphorae {[a['status'] for a in own]}")
    for lb_id, left in by_lb.items():
        problems.append(f"amphorae {[a['id'] for a in left]} of LB {lb_id}, which is gone")
    wanted = {a["id"] for a in live}
    on_disk = {p.name for p in (pier.data_dir / "agent" / "amphorae").glob("*")}
    if on_disk - wanted:
        problems.append(f"agent amphorae without a row: {sorted(on_disk - wanted)}")
    masters = haproxy_masters(pier.data_dir)
    if set(masters) - wanted:
        problems.append(f"stray HAProxy processes: {sorted(set(masters) - wanted)}")
    serving = {a["id"] for a in live if a["status"] == "ALLOCATED"}
    if serving - set(masters):
        problems.append(f"amphorae without HAProxy: {sorted(serving - set(masters))}")
    return problems


def _pending_children(tree: dict[str, Any] | None) -> list[str]:
    if tree is None:
        return []
    found = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            status = node.get("provisioning_status")
            if isinstance(status, str) and status.startswith("PENDING_"):
                found.append(f"{path} {node.get('id')} {status}")
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(tree, "")
    return found
