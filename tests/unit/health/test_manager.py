"""HealthManager end to end in one process: a real UDP socket, a real database, threads."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from pier.db.engine import SessionFactory, make_session_factory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth, LoadBalancer
from pier.health.manager import HealthManager
from pier.settings import Settings
from pier.wire.heartbeat import HeartbeatMessage, encode_heartbeat
from tests.support.factories import make_loadbalancer

KEY = "insecure-test-heartbeat-key"


def now() -> datetime:
    return datetime.now(UTC)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, health_port=0, heartbeat_key=KEY)


@pytest.fixture
def amphora_id(sessions: SessionFactory) -> str:
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status="ACTIVE")
        amphora = Amphora(loadbalancer_id=lb.id, status="ALLOCATED")
        session.add(amphora)
        session.flush()
        return amphora.id


class Running:
    def __init__(self, manager: HealthManager) -> None:
        self.manager = manager
        self.port = manager.start()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=manager.run, args=(self.stop,))
        self.thread.start()

    def send(self, datagram: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram, ("127.0.0.1", self.port))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=20)
        self.manager.close()


@pytest.fixture
def running(sessions: SessionFactory, settings: Settings) -> Iterator[Running]:
    served = Running(HealthManager(sessions, settings, now, flush_interval=0.05))
    yield served
    served.close()
    assert not served.thread.is_alive()


def test_heartbeats_reach_the_database_and_forgeries_do_not(
    running: Running, sessions: SessionFactory, amphora_id: str
) -> None:
    running.send(encode_heartbeat(HeartbeatMessage(amphora_id, 1), "forged-key"))
    running.send(encode_heartbeat(HeartbeatMessage(amphora_id, 2), KEY))
    running.send(encode_heartbeat(HeartbeatMessage("stranger", 1), KEY))

    wait_for(lambda: running.manager.counters["written"] == 1, "the heartbeat to be written")
    wait_for(lambda: running.manager.counters["unknown_amphora"] == 1, "the stranger")

    counters = running.manager.counters
    assert (counters["forged"], counters["accepted"]) == (1, 2)
    with transaction(sessions, write=False) as session:
        assert session.get(AmphoraHealth, amphora_id) is not None
        lb_status = session.get(LoadBalancer, session.get(Amphora, amphora_id).loadbalancer_id)  # type: ignore[union-attr]
        assert lb_status is not None and lb_status.operating_status == "ONLINE"


def test_the_configured_port_and_an_existing_key_file_are_used(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    (tmp_path / "heartbeat.key").write_text("from-the-file\n")
    (tmp_path / "heartbeat.key").chmod(0o600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    manager = HealthManager(sessions, Settings(data_dir=tmp_path, health_port=port), now)
    try:
        assert manager.start() == port == manager.port
        assert manager.receiver.handle(encode_heartbeat(HeartbeatMessage("a", 1), "from-the-file"))
    finally:
        manager.close()


def test_a_flush_that_fails_keeps_its_heartbeats_for_the_next(
    settings: Settings, tmp_path: Path
) -> None:
    # A database whose file cannot be opened: every transaction fails.
    broken = make_session_factory(create_engine(f"sqlite:///{tmp_path}/missing/dir/pier.db"))
    manager = HealthManager(broken, settings, now)
    try:
        manager.receiver.handle(encode_heartbeat(HeartbeatMessage("a", 1), KEY))

        manager.flush()

        assert list(manager.receiver.take()) == ["a"]
        assert manager.counters["flushes"] == 1
    finally:
        manager.close()
