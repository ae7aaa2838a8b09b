"""Fixtures for the agent's integration tests: real `pier agent` processes, real HAProxy.

Most tests share one agent (`agent` + `amphora_id`: an amphora of their own on it, deleted
afterwards); tests that crash or configure an agent start their own (`start_agent`).
"""

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.agent.agent_process import (
    AgentProcess,
    Certificates,
    kill_processes,
    make_certificates,
    remove_aliases,
)


@pytest.fixture(scope="session")
def agent_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("agent-certs"))


@pytest.fixture(scope="session")
def haproxy_installed() -> None:
    if shutil.which("haproxy") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed; CI must run the agent with it")
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")


@pytest.fixture
def start_agent(
    tmp_path: Path, agent_certificates: Certificates, haproxy_installed: None
) -> Iterator[Callable[..., AgentProcess]]:
    """Starts `pier agent` on one state dir, with extra options if given; called again, a new
    agent on the same state dir (after a crash). Everything is stopped at teardown, HAProxy
    included; the agent's log is printed, which pytest shows when the test failed.
    """
    state_dir = tmp_path / "state"
    started: list[AgentProcess] = []

    def start(*extra: str) -> AgentProcess:
        agent = AgentProcess(agent_certificates, state_dir, tmp_path / "agent.log", *extra)
        started.append(agent)
        agent.start()
        return agent

    try:
        yield start
    finally:
        _stop(started, state_dir)
        if started:
            sys.stdout.write(started[-1].log())  # shown when the test failed


@pytest.fixture(scope="session")
def agent(
    tmp_path_factory: pytest.TempPathFactory,
    agent_certificates: Certificates,
    haproxy_installed: None,
) -> Iterator[AgentProcess]:
    directory = tmp_path_factory.mktemp("shared-agent")
    shared = AgentProcess(agent_certificates, directory / "state", directory / "agent.log")
    try:
        shared.start()
        yield shared
    finally:
        _stop([shared], shared.state_dir)


@pytest.fixture
def amphora_id(agent: AgentProcess) -> Iterator[str]:
    """An amphora id of this test's own on the shared agent, deleted after the test."""
    amphora_id = f"amphora-{uuid.uuid4().hex[:12]}"
    try:
        yield amphora_id
    finally:
        with agent.client() as client:
            client.delete(f"/amphorae/{amphora_id}")
        # Shown when the test failed: what the agent said about this amphora.
        sys.stdout.write(
            "".join(line for line in agent.log().splitlines(True) if amphora_id in line)
        )


def _stop(agents: list[AgentProcess], state_dir: Path) -> None:
    for started in agents:
        started.stop()
    kill_processes(state_dir)
    remove_aliases(state_dir)
