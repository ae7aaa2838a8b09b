"""Crash safety: `kill -9` of `pier up` (and of its agent) at random points of create, update,
delete and failover; after each restart every object must settle (ACTIVE, ERROR or gone)
within 30 s, with no duplicate or stray amphora and no stray HAProxy process, and every
ACTIVE load balancer must carry traffic.

The schedule comes from a fixed seed, so a failure repeats: PIER_CRASH_SEED and
PIER_CRASH_ROUNDS change it (e.g. 300 rounds for a long run by hand). The kill lands after a
random 0-1.5 s, mostly early: a reconcile pass takes 0.1-0.5 s, so most kills hit one.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pier.cli.processes import kill_processes_under, processes_under
from pier.domain.errors import DriverError
from pier.drivers.compute.local import AgentEndpoint, LocalCompute
from tests.support.backends import HttpBackend
from tests.support.processes import BIN, free_port, vip_cidr, wait_healthy

SEED = int(os.environ.get("PIER_CRASH_SEED", "20261123"))
ROUNDS = int(os.environ.get("PIER_CRASH_ROUNDS", "40"))
SETTLE_S = 30.0
HEADERS = {"X-Project-Id": "crash-tests"}
# Few enough amphorae for a 2-core machine; past it, deletes win over creates.
MAX_LOADBALANCERS = 5
KILLS = ("pier", "pier", "pier", "pier+agent", "agent", "pier twice", "pier starting")
BACKENDS = ("127.0.4.1", "127.0.4.2", "127.0.4.3")


@dataclass
class Pier:
    """One `pier up` on a fixed data dir and fixed ports, killed and started again."""

    data_dir: Path
    options: list[str]
    url: str
    agent_port: int
    process: subprocess.Popen[bytes] | None = None
    log_number: int = 0

    def start(self, wait: bool = True) -> None:
        self.log_number += 1
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "pier"), "up", "--data-dir", str(self.data_dir), *self.options],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            wait_healthy(self.url, self.process, self.log_path)

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"pier-{self.log_number}.log"

    def kill(self) -> None:
        """kill -9 of `pier up` and its process group (not the agent: a session of its own)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill_agent(self) -> None:
        for pid in agents(self.data_dir):
            os.kill(pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, self.url + path, json=body, headers=HEADERS, timeout=30)
        return response.json() if response.content and response.status_code < 300 else None

    def change(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """A request that must be accepted: a refused one would leave the loop testing
        nothing. 409 passes: the health manager may have just started a failover.
        """
        response = httpx.request(method, self.url + path, json=body, headers=HEADERS, timeout=30)
        assert response.is_success or response.status_code == 409, (
            f"{method} {path}: {response.status_code} {response.text[:300]}"
        )

    def agent_inventory(self) -> set[str]:
        """The amphora ids the agent runs, asked over mutual TLS as the controller does."""
        certs = self.data_dir / "certs"
        endpoint = AgentEndpoint(
            url=f"https://127.0.0.1:{self.agent_port}",
            host_address="127.0.0.1",
            ca=certs / "ca.pem",
            cert=certs / "controller.pem",
            key=certs / "controller.key",
        )
        compute = LocalCompute(endpoint)
        try:
            return set(compute.inventory())
        finally:
            compute.close()


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


def haproxy_masters(data_dir: Path) -> dict[str, list[int]]:
    """Amphora id -> pids of the live HAProxy masters (`-W`) running its configuration: the
    HAProxy processes whose parent does not run the same configuration (its workers do; after
    a reload the master's own arguments differ from theirs). Zombies do not count: PID 1 here
    may not reap the orphans of a killed agent.
    """
    configs = {pid: _haproxy_config(pid) for pid in processes_under(data_dir / "agent")}
    masters: dict[str, list[int]] = {}
    for pid, config in configs.items():
        if config is None:
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if stat[0] in ("Z", "X") or configs.get(int(stat[1])) == config:
            continue
        masters.setdefault(config.parent.name, []).append(pid)
    return masters


def _haproxy_config(pid: int) -> Path | None:
    """The configuration a live HAProxy master-worker process runs, None for anything else."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return None
    if state in ("Z", "X") or b"-W" not in arguments or b"-f" not in arguments:
        return None
    return Path(arguments[arguments.index(b"-f") + 1].decode())


@pytest.fixture
def pier(tmp_path: Path) -> Iterator[Pier]:
    port, agent_port = free_port(), free_port()
    options = [
        "--auth",
        "noauth",
        "--port",
        str(port),
        "--agent-port",
        str(agent_port),
        "--health-port",
        "0",
        "--heartbeat-interval",
        "1",
        "--loopback-vip-cidr",
        vip_cidr(),
    ]
    running = Pier(tmp_path, options, url=f"http://127.0.0.1:{port}", agent_port=agent_port)
    try:
        running.start()
        yield running
    finally:
        running.kill()
        kill_processes_under(tmp_path)


@pytest.fixture
def backends() -> Iterator[list[HttpBackend]]:
    webs = [HttpBackend(f"web{n}", address) for n, address in enumerate(BACKENDS, 1)]
    for web in webs:
        web.start()
    yield webs
    for web in webs:
        web.stop()


@dataclass
class Run:
    pier: Pier
    rng: random.Random
    subnet: str
    backends: list[HttpBackend]
    history: list[str] = field(default_factory=list)
    settle_times: list[float] = field(default_factory=list)
    next_port: int = 8000
    seen_active: set[str] = field(default_factory=set)  # load balancers that served


# A long run by hand (PIER_CRASH_ROUNDS) must not hit the suite's timeout; a round takes ~3 s.
@pytest.mark.timeout(120 + ROUNDS * 15)
def test_every_object_settles_after_random_kills(pier: Pier, backends: list[HttpBackend]) -> None:
    subnet = pier.call("GET", "/network/v2.0/subnets?name=public-subnet")["subnets"][0]["id"]
    run = Run(pier, random.Random(SEED), subnet, backends)
    for round_number in range(ROUNDS):
        operation = _operate(run)
        # Mostly early, sometimes late: kill inside a pass more often than after it.
        time.sleep(
            run.rng.uniform(0.0, 0.6) if run.rng.random() < 0.7 else run.rng.uniform(0.6, 1.5)
        )
        kill = run.rng.choice(KILLS)
        run.history.append(f"{round_number}: {operation} / kill {kill}")
        started = time.monotonic()  # the 30 s include starting again
        if kill in ("agent", "pier+agent"):
            pier.kill_agent()
        if kill not in ("agent", "pier starting"):
            pier.kill()
            pier.start()
        if kill == "pier twice":  # and again while it recovers
            time.sleep(run.rng.uniform(0.0, 1.5))
            pier.kill()
            pier.start()
        if kill == "pier starting":  # and again before it serves: stopping the old agent...
            pier.kill()
            pier.start(wait=False)
            time.sleep(run.rng.uniform(0.0, 2.5))
            pier.kill()
            pier.start()
        problems = _settled(pier)
        while problems and time.monotonic() - started < SETTLE_S:
            time.sleep(0.3)
            problems = _settled(pier)
        problems = problems or _traffic(pier)
        assert not problems, (
            f"round {round_number} ({run.history[-1]}), seed {SEED}: not settled after "
            f"{SETTLE_S}s: {problems}\nhistory: {run.history}\n{pier.log()}"
        )
        run.settle_times.append(time.monotonic() - started)
        run.history[-1] += f" / settled in {run.settle_times[-1]:.1f}s"
    # The loop tested something: load balancers were built, and changed, not only created.
    assert ROUNDS < 5 or len(run.seen_active) >= 2, run.history
    assert ROUNDS < 5 or sum(": create /" not in line for line in run.history) >= ROUNDS // 3
    times = sorted(run.settle_times)
    sys.stdout.write("\n".join(["", *run.history, ""]))
    sys.stdout.write(
        f"settled after each of {ROUNDS} kills (seed {SEED}): median "
        f"{times[len(times) // 2]:.1f}s, max {times[-1]:.1f}s\n"
    )


def _operate(run: Run) -> str:
    """Issue one random request that starts a reconcile; returns what it was."""
    pier, rng = run.pier, run.rng
    lbs = pier.call("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]
    active = [lb for lb in lbs if lb["provisioning_status"] == "ACTIVE"]
    run.seen_active.update(lb["id"] for lb in active)
    if len(lbs) >= MAX_LOADBALANCERS:
        lb = rng.choice(lbs)
        pier.change("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
        return "delete"
    if not active or rng.random() < 0.25:
        _create(run)
        return "create"
    lb = rng.choice(active)
    operations: dict[str, Callable[[Run, dict[str, Any]], str | None]] = {
        "delete": _delete,
        "failover": _failover,
        "haproxy kill": _haproxy_kill,
        "amphora failover": _amphora_failover,
        "listener add": _listener_add,
        "listener update": _listener_update,
        "pool update": _pool_update,
        "member add": _member_add,
        "member update": _member_update,
        "member remove": _member_remove,
    }
    name = rng.choice(sorted(operations))
    skipped = operations[name](run, lb)
    return name if skipped is None else f"{name} ({skipped})"


def _port(run: Run) -> int:
    run.next_port += 1
    return run.next_port


def _create(run: Run) -> None:
    backend = run.rng.choice(run.backends)
    run.pier.change(
        "POST",
        "/v2/lbaas/loadbalancers",
        {
            "loadbalancer": {
                "name": f"crash-{run.next_port}",
                "vip_subnet_id": run.subnet,
                "listeners": [
                    {
                        "protocol": "HTTP",
                        "protocol_port": _port(run),
                        "default_pool": {
                            "name": f"pool-{run.next_port}",
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


def _delete(run: Run, lb: dict[str, Any]) -> None:
    run.pier.change("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")


def _failover(run: Run, lb: dict[str, Any]) -> None:
    run.pier.change("PUT", f"/v2/lbaas/loadbalancers/{lb['id']}/failover")


def _amphora_failover(run: Run, lb: dict[str, Any]) -> str | None:
    amphorae = run.pier.call("GET", f"/v2/octavia/amphorae?loadbalancer_id={lb['id']}")
    live = [a for a in amphorae["amphorae"] if a["status"] == "ALLOCATED"]
    if not live:
        return "no amphora"
    run.pier.change("PUT", f"/v2/octavia/amphorae/{live[0]['id']}/failover")
    return None


def _haproxy_kill(run: Run, lb: dict[str, Any]) -> str | None:
    """kill -9 of the amphora's HAProxy master: the health manager fails it over."""
    amphorae = run.pier.call("GET", f"/v2/octavia/amphorae?loadbalancer_id={lb['id']}")
    live = [a["id"] for a in amphorae["amphorae"] if a["status"] == "ALLOCATED"]
    masters = haproxy_masters(run.pier.data_dir)
    pids = [pid for amphora in live for pid in masters.get(amphora, [])]
    if not pids:
        return "no HAProxy"
    os.kill(pids[0], signal.SIGKILL)
    return None


def _listener_add(run: Run, lb: dict[str, Any]) -> None:
    """A listener without a pool (a pool needs a second request, refused while this one is
    pending): HAProxy answers 503 on it, which the traffic check leaves aside.
    """
    body = {
        "listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": _port(run)}
    }
    run.pier.change("POST", "/v2/lbaas/listeners", body)


def _listener_update(run: Run, lb: dict[str, Any]) -> str | None:
    listeners = run.pier.call("GET", f"/v2/lbaas/listeners?loadbalancer_id={lb['id']}")
    if not listeners["listeners"]:
        return "no listener"
    listener = run.rng.choice(listeners["listeners"])
    body = {"listener": {"timeout_client_data": run.rng.randrange(10000, 60000)}}
    run.pier.change("PUT", f"/v2/lbaas/listeners/{listener['id']}", body)
    return None


def _pool_of(run: Run, lb: dict[str, Any]) -> str | None:
    pools = run.pier.call("GET", f"/v2/lbaas/pools?loadbalancer_id={lb['id']}")["pools"]
    return str(run.rng.choice(pools)["id"]) if pools else None


def _pool_update(run: Run, lb: dict[str, Any]) -> str | None:
    pool = _pool_of(run, lb)
    if pool is None:
        return "no pool"
    algorithm = run.rng.choice(["ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP"])
    run.pier.change("PUT", f"/v2/lbaas/pools/{pool}", {"pool": {"lb_algorithm": algorithm}})
    return None


def _members(run: Run, pool: str) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = run.pier.call("GET", f"/v2/lbaas/pools/{pool}/members")[
        "members"
    ]
    return members


def _member_add(run: Run, lb: dict[str, Any]) -> str | None:
    """A live backend not yet in the pool: every member answers, so traffic checks hold."""
    pool = _pool_of(run, lb)
    if pool is None:
        return "no pool"
    taken = {m["address"] for m in _members(run, pool)}
    free = [b for b in run.backends if b.address not in taken]
    if not free:
        return "every backend is a member"
    backend = run.rng.choice(free)
    body = {"member": {"address": backend.address, "protocol_port": backend.port}}
    run.pier.change("POST", f"/v2/lbaas/pools/{pool}/members", body)
    return None


def _member_update(run: Run, lb: dict[str, Any]) -> str | None:
    pool = _pool_of(run, lb)
    members = _members(run, pool) if pool else []
    if pool is None or not members:
        return "no member"
    member = run.rng.choice(members)
    body = {"member": {"weight": run.rng.randrange(1, 100)}}
    run.pier.change("PUT", f"/v2/lbaas/pools/{pool}/members/{member['id']}", body)
    return None


def _member_remove(run: Run, lb: dict[str, Any]) -> str | None:
    pool = _pool_of(run, lb)
    members = _members(run, pool) if pool else []
    if pool is None or len(members) < 2:
        return "fewer than two members"
    member = run.rng.choice(members)
    run.pier.change("DELETE", f"/v2/lbaas/pools/{pool}/members/{member['id']}")
    return None


def _settled(pier: Pier) -> list[str]:
    """What is still wrong; empty when every object has settled and nothing is stray."""
    try:
        lbs = pier.call("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]
        amphorae = pier.call("GET", "/v2/octavia/amphorae")["amphorae"]
        on_agent = pier.agent_inventory()
    except (httpx.HTTPError, TypeError, DriverError) as error:
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
        own = [a["status"] for a in by_lb.pop(lb["id"], [])]
        if status == "ACTIVE" and own != ["ALLOCATED"]:
            problems.append(f"ACTIVE LB {lb['id']} has amphorae {own}")
        if status == "ERROR" and len(own) > 1:
            problems.append(f"LB {lb['id']} in ERROR has amphorae {own}")
    for lb_id, left in by_lb.items():
        problems.append(f"amphorae {[a['id'] for a in left]} of LB {lb_id}, which is gone")
    wanted = {a["id"] for a in live}
    if on_agent != wanted:
        problems.append(
            f"agent runs {sorted(on_agent - wanted)} without a row, "
            f"lacks {sorted(wanted - on_agent)} that have one"
        )
    on_disk = {p.name for p in (pier.data_dir / "agent" / "amphorae").glob("*")}
    if on_disk != on_agent:
        problems.append(f"agent directories {sorted(on_disk)} are not its amphorae")
    masters = haproxy_masters(pier.data_dir)
    if set(masters) - wanted:
        problems.append(f"stray HAProxy processes: {sorted(set(masters) - wanted)}")
    doubles = {amphora: pids for amphora, pids in masters.items() if len(pids) > 1}
    if doubles:
        problems.append(f"more than one HAProxy master: {doubles}")
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


def _traffic(pier: Pier) -> list[str]:
    """Every listener of every ACTIVE load balancer answers through its VIP (every member is
    a live backend), asked a few times to ride out a reload.
    """
    problems = []
    for lb in pier.call("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]:
        if lb["provisioning_status"] != "ACTIVE":
            continue
        listeners = pier.call("GET", f"/v2/lbaas/listeners?loadbalancer_id={lb['id']}")
        for listener in listeners["listeners"]:
            if listener["default_pool_id"] is None:
                continue
            url = f"http://{lb['vip_address']}:{listener['protocol_port']}/"
            answer = ""
            for _ in range(3):
                try:
                    response = httpx.get(url, timeout=2.0)
                    answer = f"{response.status_code} {response.text[:40]}"
                    if response.status_code == 200 and response.text.startswith("web"):
                        break
                except httpx.HTTPError as error:
                    answer = repr(error)
                time.sleep(0.3)
            else:
                problems.append(f"LB {lb['id']} {url}: {answer}")
    return problems
