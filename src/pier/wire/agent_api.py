"""The agent's REST API (HTTPS with mutual TLS), as both sides see it.

Octavia's agent has one endpoint per file it installs (`/loadbalancer/<lb>/haproxy`, certificates,
VRRP, LVS). Pier's agent serves many amphorae on one host and applies a whole configuration
bundle at once, so it has one resource per amphora and one document per configuration:

    GET    /                                 {"api_version": "1.0"}
    GET    /1.0/info                         AgentInfo
    GET    /1.0/amphorae                     {"amphorae": [AmphoraState, ...]}
    POST   /1.0/amphorae                     CreateAmphora -> 201 (200 if it exists) AmphoraState
    GET    /1.0/amphorae/<amphora_id>        AmphoraState, 404 ErrorBody
    PUT    /1.0/amphorae/<amphora_id>/config AmphoraConfig text -> 200 ApplyResult,
                                             400 ErrorBody (rejected: the running one stays)
    DELETE /1.0/amphorae/<amphora_id>        200 {"message": "OK"} (also when missing)

Errors use Octavia's agent shape `{"message": ..., "details": ...}`.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TypedDict

API_VERSION = "1.0"
PREFIX = f"/{API_VERSION}"
DEFAULT_PORT = 9443

# HAProxy expands `${VAR}` inside double quotes. The controller renders every per-amphora path
# under this variable and the agent sets it to the amphora's directory when it runs HAProxy, so
# both amphorae of an ACTIVE_STANDBY pair get the same text (and the same version) from one
# rendering, wherever their hosts keep their files.
AMPHORA_DIR_ENV = "PIER_AMPHORA_DIR"
AMPHORA_DIR = "${" + AMPHORA_DIR_ENV + "}"
STATS_SOCKET = f"{AMPHORA_DIR}/stats.sock"
SERVER_STATE_FILE = f"{AMPHORA_DIR}/server-state"
PING_SCRIPT = f"{AMPHORA_DIR}/ping-check"


class ApplyKind(StrEnum):
    UNCHANGED = "unchanged"  # same version as running: nothing done
    RUNTIME = "runtime"  # only servers changed: applied through HAProxy's runtime API
    RELOAD = "reload"  # seamless master-worker reload
    START = "start"  # no process ran for this amphora: started
    STOP = "stop"  # the configuration has no proxies: processes stopped


class AmphoraRunState(StrEnum):
    RUNNING = "running"  # registered; its processes run (or there is nothing to run yet)
    ERROR = "error"  # a process that should run does not


@dataclass(frozen=True, slots=True)
class AmphoraConfig:
    """Everything one amphora runs. `haproxy` is None when no listener needs HAProxy (HAProxy
    refuses to start without a proxy); `udp` is the nginx stream configuration for UDP
    listeners, None when there are none.
    """

    loadbalancer_id: str
    haproxy: str | None
    udp: str | None = None

    def to_text(self) -> str:
        """Canonical JSON: the same bundle always gives the same bytes, hence the same version."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_text(cls, text: str) -> "AmphoraConfig":
        """Raises ValueError (json.JSONDecodeError is one) for anything but a bundle."""
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("the configuration must be a JSON object")
        lb_id, haproxy, udp = (document.get(k) for k in ("loadbalancer_id", "haproxy", "udp"))
        if not isinstance(lb_id, str) or not all(
            v is None or isinstance(v, str) for v in (haproxy, udp)
        ):
            raise ValueError("loadbalancer_id must be a string; haproxy and udp strings or null")
        return cls(loadbalancer_id=lb_id, haproxy=haproxy, udp=udp)


def version_of(text: str) -> str:
    """The version of a configuration document: sha256 hex of its UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


class CreateAmphora(TypedDict):
    amphora_id: str
    loadbalancer_id: str


class AmphoraState(TypedDict):
    amphora_id: str
    compute_id: str
    loadbalancer_id: str
    state: str  # AmphoraRunState
    version: str | None  # of the configuration running now; None before the first push
    last_error: str | None  # why the last push was refused or a process is down


class ApplyResult(TypedDict):
    version: str
    applied: str  # ApplyKind


class AgentInfo(TypedDict):
    hostname: str
    api_version: str
    haproxy_version: str
    amphorae: int


class ErrorBody(TypedDict):
    message: str
    details: str
