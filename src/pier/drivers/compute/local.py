"""The `local` compute driver: amphorae are HAProxy processes run by the agent on this host.

The driver is the controller's client of the agent API (`pier.wire.agent_api`) over HTTPS
with mutual TLS: it presents the controller's certificate from Pier's CA and accepts only an
agent whose certificate that CA issued. Any host with an agent works the same way; `local`
only means that `pier up` starts that agent itself (`pier.drivers.compute.local_agent`).

Error mapping, so the reconcile loop retries what can get better and records what cannot:
an unreachable or overloaded agent is transient; a configuration the agent refuses (HAProxy
rejects it) is permanent, and its reason, HAProxy's own words, reaches the user.
"""

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from pier.domain.errors import PermanentDriverError, TransientDriverError
from pier.drivers.compute.base import AmphoraRequest, ComputeInstance, ComputeState
from pier.wire.agent_api import PREFIX, AmphoraRunState, AmphoraState, ApplyResult

# A push validates with `haproxy -c` and may wait for a reload: allow it time.
TIMEOUT = httpx.Timeout(10.0, read=60.0)
# The reason recorded on the load balancer keeps HAProxy's first lines, not pages of them.
MAX_REASON = 600


@dataclass(frozen=True, slots=True)
class AgentEndpoint:
    url: str  # https://host:port
    host_address: str  # what amphorae on this agent report as lb_network_ip
    ca: Path
    cert: Path
    key: Path
    # The agent's server certificate, when the controller issued it (`pier up`'s own agent):
    # its expiry is what the amphora API shows as `cert_expiration`.
    server_cert: Path | None = None


class LocalCompute:
    def __init__(self, endpoint: AgentEndpoint, transport: httpx.BaseTransport | None = None):
        self._endpoint = endpoint
        self._transport = transport
        self._client = self._new_client()

    def _new_client(self) -> httpx.Client:
        endpoint = self._endpoint
        context = ssl.create_default_context(cafile=str(endpoint.ca))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(endpoint.cert), str(endpoint.key))
        return httpx.Client(
            base_url=endpoint.url + PREFIX,
            verify=context,
            timeout=TIMEOUT,
            transport=self._transport,
            headers={"User-Agent": "Pier controller"},
        )

    def reload_certificates(self) -> None:
        """Use the certificate files as they are now (renewed): new requests present the new
        client certificate. A request in flight on the old client may fail; the worker
        retries it as any transient error.
        """
        old, self._client = self._client, self._new_client()
        old.close()

    def server_cert_expiration(self) -> datetime | None:
        path = self._endpoint.server_cert
        if path is None:
            return None
        try:
            return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self._client.close()

    def find_amphora(self, amphora_id: str) -> ComputeInstance | None:
        state = self._state(amphora_id)
        return None if state is None else self._instance(state)

    def create_amphora(self, request: AmphoraRequest) -> ComputeInstance:
        body = {"amphora_id": request.amphora_id, "loadbalancer_id": request.loadbalancer_id}
        response = self._call("POST", "/amphorae", json=body)
        if response.status_code not in (200, 201):
            raise _error(response, f"creating amphora {request.amphora_id}")
        state: AmphoraState = response.json()
        return self._instance(state)

    def delete_amphora(self, compute_id: str) -> None:
        state = self._by_compute_id(compute_id)
        if state is None:
            return
        response = self._call("DELETE", f"/amphorae/{state['amphora_id']}")
        if response.status_code not in (200, 204, 404):
            raise _error(response, f"deleting amphora {compute_id}")

    def get_status(self, compute_id: str) -> ComputeState:
        state = self._by_compute_id(compute_id)
        if state is None:
            return ComputeState.MISSING
        if state["state"] == AmphoraRunState.ERROR:
            return ComputeState.ERROR
        return ComputeState.RUNNING

    def push_config(self, compute_id: str, config_text: str) -> str:
        state = self._by_compute_id(compute_id)
        if state is None:
            raise TransientDriverError(f"amphora instance {compute_id} is not on its agent")
        response = self._call(
            "PUT",
            f"/amphorae/{state['amphora_id']}/config",
            content=config_text.encode(),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 400:
            details = _json(response).get("details") or response.text
            raise PermanentDriverError(
                f"The amphora refused the configuration: {str(details)[:MAX_REASON]}"
            )
        if response.status_code != 200:
            raise _error(response, f"configuring amphora {compute_id}")
        result: ApplyResult = response.json()
        return result["version"]

    def get_config_version(self, compute_id: str) -> str | None:
        state = self._by_compute_id(compute_id)
        return None if state is None else state["version"]

    def inventory(self) -> dict[str, str]:
        response = self._call("GET", "/amphorae")
        if response.status_code != 200:
            raise _error(response, "listing amphorae")
        amphorae: list[AmphoraState] = response.json()["amphorae"]
        return {a["amphora_id"]: a["compute_id"] for a in amphorae}

    def _by_compute_id(self, compute_id: str) -> AmphoraState | None:
        """The agent's routes are keyed by amphora id; its compute ids may be the same."""
        state = self._state(compute_id)
        if state is not None and state["compute_id"] == compute_id:
            return state
        response = self._call("GET", "/amphorae")
        if response.status_code != 200:
            raise _error(response, "listing amphorae")
        amphorae: list[AmphoraState] = response.json()["amphorae"]
        return next((a for a in amphorae if a["compute_id"] == compute_id), None)

    def _state(self, amphora_id: str) -> AmphoraState | None:
        response = self._call("GET", f"/amphorae/{amphora_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _error(response, f"reading amphora {amphora_id}")
        state: AmphoraState = response.json()
        return state

    def _instance(self, state: AmphoraState) -> ComputeInstance:
        return ComputeInstance(
            compute_id=state["compute_id"],
            lb_network_ip=self._endpoint.host_address,
            cert_expiration=self.server_cert_expiration(),
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientDriverError(
                f"The amphora agent at {self._endpoint.url} is unreachable: {exc}"
            ) from exc


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _error(response: httpx.Response, doing: str) -> TransientDriverError:
    """Anything unexpected from the agent is retried; the reason says what it answered."""
    body = _json(response)
    detail = body.get("details") or body.get("message") or response.text[:200]
    return TransientDriverError(
        f"The amphora agent answered {response.status_code} while {doing}: {detail}"
    )
