"""Only the controller's certificate opens the agent: anything else fails the TLS handshake."""

import ssl

import httpx
import pytest

from tests.integration.agent.agent_process import AgentProcess

pytestmark = pytest.mark.integration


def test_only_a_client_certificate_from_the_ca_is_accepted(agent: AgentProcess) -> None:
    trusted = ssl.create_default_context(cafile=agent.certificates.ca)

    with agent.client() as controller:
        assert controller.get("/info").json()["api_version"] == "1.0"
    # In TLS 1.3 the client may finish its side of the handshake before the server checks
    # its certificate; the server's alert then arrives on the first read.
    with pytest.raises(httpx.TransportError):
        httpx.get(agent.url + "/", verify=trusted, timeout=30)
    with (
        agent.client(cert=agent.certificates.stranger) as stranger,
        pytest.raises(httpx.TransportError),
    ):
        stranger.get("/info")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{agent.port}/", timeout=30)
