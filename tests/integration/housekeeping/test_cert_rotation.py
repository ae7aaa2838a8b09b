"""Certificate rotation with a real agent over mutual TLS: certificates issued 20 days ago
with a 30-day lifetime are within the 14-day renewal window; the rotation job renews both,
restarts the agent (its HAProxy keeps serving), the agent presents the new certificate, the
controller still reaches it with its new client certificate, and the amphora rows show the
new expiry.
"""

import shutil
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from pier.cli.processes import kill_processes_under
from pier.db.engine import SessionFactory, make_session_factory, transaction
from pier.db.tables.lbaas import Amphora
from pier.drivers.compute.local import LocalCompute
from pier.drivers.compute.local_agent import LocalAgent
from pier.housekeeping.certs import CertificateRotation
from pier.settings import Settings
from tests.support.databases import engine_for_test
from tests.support.processes import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is needed")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def served_certificate(port: int, agent: LocalAgent) -> x509.Certificate:
    """The certificate the agent presents (the client side of the handshake is ours)."""
    context = ssl.create_default_context(cafile=str(agent.endpoint.ca))
    context.load_cert_chain(str(agent.endpoint.cert), str(agent.endpoint.key))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_session_factory(engine_for_test(tmp_path))


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "pier"
    directory.mkdir()
    yield directory
    kill_processes_under(directory)


def test_certificates_are_renewed_before_they_expire(
    data_dir: Path, sessions: SessionFactory
) -> None:
    real_now = datetime.now(UTC)
    clock = Clock(real_now - timedelta(days=20))
    port = free_port()
    settings = replace(Settings(), data_dir=data_dir, agent_port=port)
    agent = LocalAgent(settings, heartbeat_port=None, heartbeat_key_file=None, clock=clock)
    agent.start()
    try:
        compute = LocalCompute(agent.endpoint)
        first = served_certificate(port, agent)
        assert first.not_valid_after_utc < real_now + timedelta(days=11)
        with transaction(sessions) as session:
            session.add(Amphora(id="amp-1", status="ALLOCATED", compute_id="amp-1"))
        rotation = CertificateRotation(agent, compute, sessions, clock)

        clock.now = real_now  # 10 days before expiry: inside the 14-day window
        assert rotation.run_once() is True

        second = served_certificate(port, agent)
        assert second.serial_number != first.serial_number
        assert second.not_valid_after_utc > real_now + timedelta(days=26)
        assert compute.inventory() == {}  # the controller's new client certificate works
        with transaction(sessions, write=False) as session:
            row = session.get(Amphora, "amp-1")
            assert row is not None and row.cert_expiration == second.not_valid_after_utc

        assert rotation.run_once() is False  # nothing due now
        assert served_certificate(port, agent).serial_number == second.serial_number
        compute.close()
    finally:
        agent.stop()
