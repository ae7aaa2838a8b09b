"""Pushing configurations to a real agent: traffic through HAProxy, refused configurations,
health checks, and the server-state file across a reload.
"""

import csv
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pier.agent.cli_socket import send_command
from pier.agent.layout import amphora_directory
from pier.domain.enums import HealthMonitorType, LbAlgorithm
from pier.wire.agent_api import version_of
from tests.integration.agent.agent_process import AgentProcess, wait_until
from tests.integration.agent.traffic import site

pytestmark = pytest.mark.integration


class Amphora:
    """One amphora on the shared agent, through the controller's client."""

    def __init__(self, agent: AgentProcess, amphora_id: str, client: httpx.Client) -> None:
        self.client = client
        self.path = f"/amphorae/{amphora_id}"
        self.stats_socket = amphora_directory(agent.state_dir, amphora_id).stats_socket
        body = {"amphora_id": amphora_id, "loadbalancer_id": "lb-1"}
        assert client.post("/amphorae", json=body).status_code == 201

    def push(self, text: str) -> httpx.Response:
        return self.client.put(f"{self.path}/config", content=text)

    def applied(self, text: str) -> str:
        response = self.push(text)
        assert response.status_code == 200, response.text
        kind: str = response.json()["applied"]
        return kind

    def state(self) -> dict[str, Any]:
        document: dict[str, Any] = self.client.get(self.path).json()
        return document


@pytest.fixture
def amphora(agent: AgentProcess, amphora_id: str) -> Iterator[Amphora]:
    with agent.client() as client:
        yield Amphora(agent, amphora_id, client)


def alternates(names: list[str]) -> bool:
    return all(a != b for a, b in zip(names, names[1:], strict=False))


def test_traffic_alternates_between_two_members(amphora: Amphora) -> None:
    with site(2) as web:
        first = web.config([web.member(0), web.member(1)])
        assert amphora.applied(first) == "start"

        names = web.fetch(6)

        assert sorted(set(names)) == ["web0", "web1"]
        assert alternates(names)
        state = amphora.state()
        assert (state["state"], state["version"]) == ("running", version_of(first))


def test_a_configuration_haproxy_rejects_leaves_the_old_one_serving(amphora: Amphora) -> None:
    with site(2) as web:
        first = web.config([web.member(0), web.member(1)])
        amphora.applied(first)
        broken = web.config([web.member(0)]).replace("option allbackups", "option no-such-thing")

        refused = amphora.push(broken)
        state = amphora.state()

        assert refused.status_code == 400
        assert refused.json()["message"] == "Invalid configuration"
        assert "no-such-thing" in refused.json()["details"]
        assert state["version"] == version_of(first)
        assert "no-such-thing" in state["last_error"]
        assert sorted(set(web.fetch(4))) == ["web0", "web1"]


def test_a_configuration_that_cannot_load_is_rolled_back(amphora: Amphora) -> None:
    """`haproxy -c` accepts a listener on a port another process holds; the reload fails on
    the bind, and the agent goes back to the last good configuration.
    """
    with site(2) as web:
        first = web.config([web.member(0), web.member(1)])
        amphora.applied(first)
        with socket.socket() as squatter:
            squatter.bind((web.vip, 0))
            squatter.listen()
            taken = squatter.getsockname()[1]

            refused = amphora.push(web.config([web.member(0), web.member(1)], extra_ports=(taken,)))
            state = amphora.state()

        assert refused.status_code == 400, refused.text
        assert "last good" in refused.json()["message"]
        assert "cannot bind socket" in refused.json()["details"]
        assert (state["state"], state["version"]) == ("running", version_of(first))
        assert sorted(set(web.fetch(4))) == ["web0", "web1"]
        # And the agent still applies the next change.
        assert amphora.applied(web.config([web.member(0)])) == "runtime"
        assert set(web.fetch(3)) == {"web0"}


def test_ping_monitors_run_the_agents_ping_check(amphora: Amphora) -> None:
    """The PING check is the agent's `ping-check` script, run by HAProxy as an external check."""
    with site(1) as web:
        assert amphora.applied(web.config([web.member(0)], monitor=HealthMonitorType.PING)) == (
            "start"
        )

        def checked_up() -> bool | None:
            header, *rows = send_command(amphora.stats_socket, "show stat").strip().splitlines()
            table = csv.DictReader([header.removeprefix("# "), *rows])
            member = next(row for row in table if row["svname"] == "member-0")
            # PROCOK: an external check (the script) ran and exited 0.
            return True if (member["status"], member["check_status"]) == ("UP", "PROCOK") else None

        wait_until(checked_up, "member-0 UP by the ping check")
        assert web.fetch(1) == ["web0"]


def test_after_a_reload_the_file_wins_over_earlier_runtime_changes(amphora: Amphora) -> None:
    """HAProxy restores a server's runtime weight across a reload when its configured weight
    did not change; the agent's aligned server-state file keeps that from undoing a push.
    """
    with site(1) as web:
        monitored = {"monitor": HealthMonitorType.TCP}
        pushes = [
            web.config([web.member(0, weight=1)], **monitored),
            web.config([web.member(0, weight=5)], **monitored),
            web.config([web.member(0, weight=1)], timeout_client=40000, **monitored),
        ]

        applied = [amphora.applied(text) for text in pushes]

        (server,) = (
            send_command(amphora.stats_socket, "show servers state").strip().splitlines()[2:]
        )
        assert applied == ["start", "runtime", "reload"]
        assert server.split()[7:9] == ["1", "1"]  # srv_uweight, srv_iweight


def test_pools_hashed_by_source_take_member_changes_by_reload(amphora: Amphora) -> None:
    """HAProxy refuses dynamic servers and weights in a map-based hash (`balance source`):
    the runtime attempt is refused and the agent reloads instead.
    """
    source = {"algorithm": LbAlgorithm.SOURCE_IP}
    with site(2) as web:
        assert amphora.applied(web.config([web.member(0)], **source)) == "start"

        assert amphora.applied(web.config([web.member(0), web.member(1)], **source)) == "reload"
        assert amphora.applied(web.config([web.member(0, weight=3)], **source)) == "reload"
        assert web.fetch(2) == ["web0", "web0"]
