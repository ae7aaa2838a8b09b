"""With heartbeat targets and a key, the agent reports each amphora over UDP, signed."""

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pier.wire.heartbeat import HeartbeatMessage, decode_heartbeat
from tests.integration.agent.agent_process import DEADLINE_S, AgentProcess
from tests.integration.agent.traffic import site

pytestmark = pytest.mark.integration

KEY = "heartbeat-test-key-do-not-log"


def test_heartbeats_report_the_amphora_listeners_and_members(
    start_agent: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    key_file = tmp_path / "heartbeat.key"
    key_file.write_text(KEY + "\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, site(2) as web:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(DEADLINE_S)
        agent = start_agent(
            "--heartbeat-target",
            f"127.0.0.1:{receiver.getsockname()[1]}",
            "--heartbeat-key-file",
            str(key_file),
            "--heartbeat-interval",
            "0.2",
        )
        with agent.client() as client:
            client.post("/amphorae", json={"amphora_id": "amphora-1", "loadbalancer_id": "lb-1"})
            client.put("/amphorae/amphora-1/config", content=web.config([web.member(0)]))

        message = next_with_listeners(receiver)

    assert message.amphora_id == "amphora-1"
    assert set(message.listeners) == {"listener-1"}
    assert set(message.pools["pool-1:listener-1"].members) == {"member-0"}
    assert KEY not in agent.log()


def next_with_listeners(receiver: socket.socket) -> HeartbeatMessage:
    """Heartbeats sent before the push have no listeners; wait for one that has."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        message = decode_heartbeat(receiver.recv(65536), KEY)
        if message.listeners:
            return message
    raise AssertionError(f"no heartbeat with listeners within {DEADLINE_S}s")
