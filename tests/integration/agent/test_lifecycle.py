"""The agent's HAProxy outlives the agent; a new agent adopts it; DELETE leaves nothing."""

from collections.abc import Callable

import httpx
import pytest

from pier.agent.layout import amphora_directory
from pier.wire.agent_api import version_of
from tests.integration.agent.agent_process import AgentProcess, haproxy_pids
from tests.integration.agent.traffic import site

pytestmark = pytest.mark.integration

AMPHORA = {"amphora_id": "amphora-1", "loadbalancer_id": "lb-1"}
CONFIG = "/amphorae/amphora-1/config"


def test_haproxy_outlives_a_killed_agent_and_a_new_agent_adopts_it(
    start_agent: Callable[..., AgentProcess],
) -> None:
    with site(2) as web:
        agent = start_agent()
        first = web.config([web.member(0), web.member(1)])
        with agent.client() as client:
            client.post("/amphorae", json=AMPHORA)
            assert client.put(CONFIG, content=first).json()["applied"] == "start"
        masters = set(haproxy_pids(agent.state_dir))

        agent.kill()

        assert sorted(set(web.fetch(4))) == ["web0", "web1"]
        again = start_agent()
        with again.client() as client:
            state = client.get("/amphorae/amphora-1").json()
            same = client.put(CONFIG, content=first).json()
            changed = client.put(CONFIG, content=web.config([web.member(1)])).json()
        assert (state["state"], state["version"]) == ("running", version_of(first))
        assert same["applied"] == "unchanged"
        assert changed["applied"] == "runtime"
        assert set(web.fetch(3)) == {"web1"}
        assert masters <= set(haproxy_pids(agent.state_dir))  # the same processes serve


def test_delete_stops_haproxy_and_removes_everything(agent: AgentProcess, amphora_id: str) -> None:
    path = f"/amphorae/{amphora_id}"
    directory = amphora_directory(agent.state_dir, amphora_id).path
    with site(1) as web:
        with agent.client() as client:
            client.post("/amphorae", json={"amphora_id": amphora_id, "loadbalancer_id": "lb-1"})
            client.put(f"{path}/config", content=web.config([web.member(0)]))
            assert haproxy_pids(directory)

            deleted = client.delete(path)
            again = client.delete(path)
            missing = client.get(path)

        assert deleted.json() == again.json() == {"message": "OK"}
        assert missing.status_code == 404
        assert haproxy_pids(directory) == []
        assert not directory.exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(web.url, timeout=10)
