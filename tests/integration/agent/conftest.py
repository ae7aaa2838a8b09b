"""Fixtures for the agent's integration tests: real `pier agent` processes, real HAProxy."""

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.agent.agent_process import (
    AgentProcess,
    Certificates,
    kill_haproxies,
    make_certificates,
    remove_aliases,
)


@pytest.fixture(scope="session")
def agent_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("agent-certs"))


@pytest.fixture
def haproxy_installed() -> None:
    if shutil.which("haproxy") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed; CI must run the agent with it")
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")


@pytest.fixture
def start_agent(
    tmp_path: Path, agent_certificates: Certificates, haproxy_installed: None
) -> Iterator[Callable[[], AgentProcess]]:
    """Starts `pier agent` on one state dir; called again, a new agent on the same state dir
    (after a crash). Everything is stopped at teardown, HAProxy included; the agent's log is
    printed, which pytest shows when the test failed.
    """
    state_dir = tmp_path / "state"
    started: list[AgentProcess] = []

    def start() -> AgentProcess:
        agent = AgentProcess(agent_certificates, state_dir, tmp_path / "agent.log")
        started.append(agent)
        agent.start()
        return agent

    try:
        yield start
    finally:
        for agent in started:
            agent.stop()
        kill_haproxies(state_dir)
        remove_aliases(state_dir)
        if started:
            sys.stdout.write(started[-1].log())  # shown when the test failed
