"""Everything one amphora runs, rendered from the desired-state tree: the document the worker
pushes and the agent applies (`pier.wire.agent_api.AmphoraConfig`).

HAProxy's paths are written under `${PIER_AMPHORA_DIR}`, which the agent sets per amphora, and
nginx's are relative to the prefix the agent runs it with, so both amphorae of a pair get the
same text from one rendering and report the same version.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

from pier.amphora.haproxy_config import AmphoraPaths, HaproxyLimits, render_haproxy_config
from pier.amphora.nginx_config import render_udp_config
from pier.domain.spec import LoadBalancerSpec
from pier.wire.agent_api import (
    PING_SCRIPT,
    SERVER_STATE_FILE,
    STATS_SOCKET,
    AmphoraConfig,
    version_of,
)

AGENT_PATHS = AmphoraPaths(
    stats_socket=PurePosixPath(STATS_SOCKET),
    server_state_file=PurePosixPath(SERVER_STATE_FILE),
    ping_script=PurePosixPath(PING_SCRIPT),
)


@dataclass(frozen=True, slots=True)
class RenderedBundle:
    text: str  # AmphoraConfig.to_text()
    version: str  # sha256 hex of `text`, what the agent reports back
    skipped: tuple[str, ...] = ()


def render_amphora_config(spec: LoadBalancerSpec, limits: HaproxyLimits) -> RenderedBundle:
    haproxy = render_haproxy_config(spec, paths=AGENT_PATHS, limits=limits)
    bundle = AmphoraConfig(
        loadbalancer_id=spec.id,
        # HAProxy refuses to start without a proxy: with no frontend, nothing runs.
        haproxy=haproxy.text if _has_frontend(haproxy.text) else None,
        # HAProxy 2.6 cannot balance UDP and this kernel has no IPVS: nginx stream serves it.
        udp=render_udp_config(spec),
    )
    text = bundle.to_text()
    return RenderedBundle(text, version_of(text), haproxy.skipped)


def _has_frontend(text: str) -> bool:
    return any(line.startswith("frontend ") for line in text.splitlines())
