"""The controller's agent client against an in-memory agent (httpx MockTransport)."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pier.domain.enums import AmphoraRole
from pier.domain.errors import PermanentDriverError, TransientDriverError
from pier.drivers.certs.local import LocalCertificateAuthority
from pier.drivers.compute.base import AmphoraRequest, ComputeState
from pier.drivers.compute.local import AgentEndpoint, LocalCompute
from pier.wire.agent_api import AmphoraState, version_of


class MemoryAgent:
    """Just enough of the agent API; compute ids differ from amphora ids on purpose."""

    def __init__(self) -> None:
        self.amphorae: dict[str, AmphoraState] = {}
        self.reject_with: str | None = None
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path.removeprefix("/1.0")
        parts = path.strip("/").split("/")
        if request.method == "POST" and path == "/amphorae":
            body = json.loads(request.content)
            state = self.amphorae.setdefault(
                body["amphora_id"],
                AmphoraState(
                    amphora_id=body["amphora_id"],
                    compute_id=f"compute-{body['amphora_id']}",
                    loadbalancer_id=body["loadbalancer_id"],
                    state="running",
                    version=None,
                    last_error=None,
                ),
            )
            return httpx.Response(201, json=state)
        if request.method == "GET" and path == "/amphorae":
            return httpx.Response(200, json={"amphorae": list(self.amphorae.values())})
        state_or_none = self.amphorae.get(parts[1])
        if state_or_none is None:
            return httpx.Response(404, json={"message": "Amphora Not Found", "details": path})
        if request.method == "GET":
            return httpx.Response(200, json=state_or_none)
        if request.method == "DELETE":
            del self.amphorae[parts[1]]
            return httpx.Response(200, json={"message": "OK"})
        if self.reject_with is not None:
            details = self.reject_with
            return httpx.Response(
                400, json={"message": "Invalid configuration", "details": details}
            )
        state_or_none["version"] = version_of(request.content.decode())
        return httpx.Response(200, json={"version": state_or_none["version"], "applied": "start"})


@pytest.fixture
def agent() -> MemoryAgent:
    return MemoryAgent()


@pytest.fixture
def compute(tmp_path: Path, agent: MemoryAgent) -> LocalCompute:
    ca = LocalCertificateAuthority(tmp_path, lambda: datetime.now(UTC))
    ca.ensure()
    client = ca.ensure_pair(
        "controller",
        server=False,
        sans=["pier-controller"],
        lifetime=timedelta(days=1),
        renew_before=timedelta(hours=1),
    )
    endpoint = AgentEndpoint(
        "https://127.0.0.1:9443", "127.0.0.1", ca.cert_path, client.cert, client.key
    )
    return LocalCompute(endpoint, transport=httpx.MockTransport(agent))


REQUEST = AmphoraRequest("amp-1", "lb-1", AmphoraRole.STANDALONE, "127.77.0.5")


def test_create_find_push_and_delete_by_compute_id(
    compute: LocalCompute, agent: MemoryAgent
) -> None:
    assert compute.find_amphora("amp-1") is None
    instance = compute.create_amphora(REQUEST)
    assert (instance.compute_id, instance.lb_network_ip) == ("compute-amp-1", "127.0.0.1")
    assert compute.find_amphora("amp-1") == instance
    assert compute.get_config_version(instance.compute_id) is None
    version = compute.push_config(instance.compute_id, '{"x":1}')
    assert version == version_of('{"x":1}') == compute.get_config_version(instance.compute_id)
    assert compute.get_status(instance.compute_id) is ComputeState.RUNNING
    agent.amphorae["amp-1"]["state"] = "error"
    assert compute.get_status(instance.compute_id) is ComputeState.ERROR
    compute.delete_amphora(instance.compute_id)
    compute.delete_amphora(instance.compute_id)  # idempotent
    assert agent.amphorae == {}
    assert compute.get_status(instance.compute_id) is ComputeState.MISSING


def test_a_rejected_configuration_is_permanent_with_haproxys_words(
    compute: LocalCompute, agent: MemoryAgent
) -> None:
    instance = compute.create_amphora(REQUEST)
    agent.reject_with = "[ALERT] parsing [haproxy.cfg:12] : unknown keyword 'bogus'"
    with pytest.raises(PermanentDriverError, match="unknown keyword 'bogus'"):
        compute.push_config(instance.compute_id, "{}")


def test_an_unreachable_agent_is_transient(compute: LocalCompute, agent: MemoryAgent) -> None:
    agent.down = True
    with pytest.raises(TransientDriverError, match="unreachable"):
        compute.find_amphora("amp-1")
