"""Automatic and on-demand failover with real processes: `pier up` with its agent, HAProxy
amphorae carrying traffic, heartbeats over UDP.

- an amphora whose HAProxy is killed is replaced (new amphora, same VIP) and traffic returns;
- the failover API replaces the amphora of a load balancer that works;
- when every heartbeat stops at once (the agent frozen), the circuit breaker holds: no
  failover, the amphorae show FAILOVER_STOPPED, and ALLOCATED again once heartbeats resume.
"""

import os
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pier.cli.processes import processes_under
from tests.support.backends import HttpBackend
from tests.support.lbaas import Api, answers, wait_for
from tests.support.processes import PierProcess, pier_up

TIMEOUT_S = 5  # --heartbeat-timeout


def haproxy_pids(pier: PierProcess, amphora_id: str) -> list[int]:
    """Master and workers: their command lines name the amphora's configuration file."""
    return processes_under(pier.data_dir / "agent" / "amphorae" / amphora_id)


def agent_pid(pier: PierProcess) -> int:
    for pid in processes_under(pier.data_dir / "agent"):
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"pier.cli.main" in arguments and b"agent" in arguments:
            return pid
    raise AssertionError("no agent process")


@pytest.fixture(scope="module")
def pier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PierProcess]:
    options = [
        "--auth",
        "noauth",
        "--heartbeat-interval",
        "1",
        "--heartbeat-timeout",
        str(TIMEOUT_S),
        "--health-check-interval",
        "0.5",
    ]
    with pier_up(tmp_path_factory.mktemp("failover"), *options) as process:
        yield process


@pytest.fixture(scope="module")
def api(pier: PierProcess) -> Api:
    return Api(pier)


@pytest.fixture(scope="module")
def backends() -> Iterator[list[HttpBackend]]:
    with ExitStack() as stack:
        servers = [HttpBackend(f"web{i}", f"127.0.3.{i}") for i in (1, 2)]
        for server in servers:
            server.start()
            stack.callback(server.stop)
        yield servers


def test_killed_haproxy_is_replaced_and_traffic_returns(
    pier: PierProcess, api: Api, backends: list[HttpBackend]
) -> None:
    lb_id, vip, port = api.create("killed", backends)
    wait_for(lambda: answers(vip, port), 10, "traffic through the VIP")
    [old] = api.amphorae(lb_id)
    pids = haproxy_pids(pier, old["id"])
    assert pids, "no HAProxy process for the amphora"

    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: answers(vip, port), 30, "traffic after the kill")

    api.wait_active(lb_id, 30)
    wait_for(lambda: [a["id"] for a in api.amphorae(lb_id)] != [old["id"]], 30, "replacement")
    [new] = api.amphorae(lb_id)
    assert new["status"] == "ALLOCATED"
    assert new["ha_ip"] == vip
    assert haproxy_pids(pier, new["id"])
    assert not haproxy_pids(pier, old["id"])
    assert "amphora failover started" in pier.log()


def test_failover_apis_replace_a_working_amphora(
    pier: PierProcess, api: Api, backends: list[HttpBackend]
) -> None:
    lb_id, vip, port = api.create("on-demand", backends)
    [old] = api.amphorae(lb_id)

    api.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}/failover")

    api.wait_active(lb_id, 30)
    [new] = api.amphorae(lb_id)
    assert new["id"] != old["id"]
    assert answers(vip, port)
    assert not haproxy_pids(pier, old["id"])

    api.call("PUT", f"/v2/octavia/amphorae/{new['id']}/failover")

    api.wait_active(lb_id, 30)
    [third] = api.amphorae(lb_id)
    assert third["id"] not in (old["id"], new["id"])
    assert answers(vip, port)


def test_breaker_holds_when_every_heartbeat_stops(
    pier: PierProcess, api: Api, backends: list[HttpBackend]
) -> None:
    created = [api.create(f"breaker-{i}", backends[:1]) for i in range(3)]
    # Every amphora of the host sends heartbeats (the earlier tests' too): wait until all are
    # known to the health manager, which shows as ONLINE load balancers.
    wait_for(
        lambda: all(api.loadbalancer(lb)["operating_status"] == "ONLINE" for lb, _, _ in created),
        30,
        "heartbeats from every amphora",
    )
    before = {lb: [a["id"] for a in api.amphorae(lb)] for lb, _, _ in created}
    agent = agent_pid(pier)

    os.kill(agent, signal.SIGSTOP)  # the agent is frozen; its HAProxy processes keep serving
    try:
        wait_for(
            lambda: all(
                a["status"] == "FAILOVER_STOPPED" for lb, _, _ in created for a in api.amphorae(lb)
            ),
            TIMEOUT_S + 15,
            "amphorae held by the breaker",
        )
        assert all(answers(vip, port) for _, vip, port in created)
        assert all(api.loadbalancer(lb)["provisioning_status"] == "ACTIVE" for lb in before)
    finally:
        os.kill(agent, signal.SIGCONT)

    wait_for(
        lambda: all(a["status"] == "ALLOCATED" for lb, _, _ in created for a in api.amphorae(lb)),
        20,
        "amphorae released once heartbeats resume",
    )
    assert {lb: [a["id"] for a in api.amphorae(lb)] for lb, _, _ in created} == before
    assert "failover circuit breaker open" in pier.log()
