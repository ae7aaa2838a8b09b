"""Pushing configurations to a real agent: traffic through HAProxy, refused configurations."""

import socket
from collections.abc import Callable

import pytest

from pier.wire.agent_api import version_of
from tests.integration.agent.agent_process import AgentProcess
from tests.integration.agent.traffic import Site, site

pytestmark = pytest.mark.integration

AMPHORA = {"amphora_id": "amphora-1", "loadbalancer_id": "lb-1"}
CONFIG = "/amphorae/amphora-1/config"


def alternates(names: list[str]) -> bool:
    return all(a != b for a, b in zip(names, names[1:], strict=False))


def started(start_agent: Callable[[], AgentProcess], web: Site) -> tuple[AgentProcess, str]:
    agent = start_agent()
    first = web.config([web.member(0), web.member(1)])
    with agent.client() as client:
        assert client.post("/amphorae", json=AMPHORA).status_code == 201
        assert client.put(CONFIG, content=first).json()["applied"] == "start"
    return agent, first


def test_traffic_alternates_between_two_members(start_agent: Callable[[], AgentProcess]) -> None:
    with site(2) as web:
        agent, first = started(start_agent, web)

        names = web.fetch(6)

        assert sorted(set(names)) == ["web0", "web1"]
        assert alternates(names)
        with agent.client() as client:
            state = client.get("/amphorae/amphora-1").json()
        assert (state["state"], state["version"]) == ("running", version_of(first))


def test_a_configuration_haproxy_rejects_leaves_the_old_one_serving(
    start_agent: Callable[[], AgentProcess],
) -> None:
    with site(2) as web:
        agent, first = started(start_agent, web)
        broken = web.config([web.member(0)]).replace("option allbackups", "option no-such-thing")

        with agent.client() as client:
            refused = client.put(CONFIG, content=broken)
            state = client.get("/amphorae/amphora-1").json()

        assert refused.status_code == 400
        assert refused.json()["message"] == "Invalid configuration"
        assert "no-such-thing" in refused.json()["details"]
        assert state["version"] == version_of(first)
        assert "no-such-thing" in state["last_error"]
        assert sorted(set(web.fetch(4))) == ["web0", "web1"]


def test_a_configuration_that_cannot_load_is_rolled_back(
    start_agent: Callable[[], AgentProcess],
) -> None:
    """`haproxy -c` accepts a listener on a port another process holds; the reload fails on
    the bind, and the agent goes back to the last good configuration.
    """
    with site(2) as web:
        agent, first = started(start_agent, web)
        with socket.socket() as squatter:
            squatter.bind((web.vip, 0))
            squatter.listen()
            taken = squatter.getsockname()[1]
            second = web.config([web.member(0), web.member(1)], extra_ports=(taken,))

            with agent.client() as client:
                refused = client.put(CONFIG, content=second)
                state = client.get("/amphorae/amphora-1").json()

        assert refused.status_code == 400, refused.text
        assert "last good" in refused.json()["message"]
        assert "cannot bind socket" in refused.json()["details"]
        assert (state["state"], state["version"]) == ("running", version_of(first))
        assert sorted(set(web.fetch(4))) == ["web0", "web1"]
        # And the agent still applies the next change.
        with agent.client() as client:
            after = client.put(CONFIG, content=web.config([web.member(0)]))
        assert after.json()["applied"] == "runtime"
        assert set(web.fetch(3)) == {"web0"}
