"""Configurations for agent tests, rendered by the real renderer from small specs, so the
agent is tested against the text the controller actually sends.
"""

from pathlib import PurePosixPath
from typing import Any

from pier.amphora.haproxy_config import AmphoraPaths, HaproxyLimits, render_haproxy_config
from pier.domain.enums import HealthMonitorType, LbAlgorithm
from pier.domain.spec import ListenerSpec, MemberSpec
from pier.wire.agent_api import PING_SCRIPT, SERVER_STATE_FILE, STATS_SOCKET, AmphoraConfig
from tests.unit.amphora.specs import healthmonitor, listener, loadbalancer, member, pool

PATHS = AmphoraPaths(
    stats_socket=PurePosixPath(STATS_SOCKET),
    server_state_file=PurePosixPath(SERVER_STATE_FILE),
    ping_script=PurePosixPath(PING_SCRIPT),
)
LIMITS = HaproxyLimits(max_connections=4000)
VIP = "127.0.0.1"


def members(*ports: int, address: str = "127.0.0.1", **overrides: Any) -> tuple[MemberSpec, ...]:
    """Members named after their port (`member-8001`), so the same port is the same member."""
    return tuple(member(f"member-{port}", address, port, **overrides) for port in ports)


def haproxy_text(
    pool_members: tuple[MemberSpec, ...],
    *,
    vip: str = VIP,
    port: int = 8080,
    timeout_client: int = 50000,
    extra_ports: tuple[int, ...] = (),
    algorithm: LbAlgorithm = LbAlgorithm.ROUND_ROBIN,
    monitor: HealthMonitorType | None = None,
) -> str:
    """One HTTP listener on `vip:port` (and one more per `extra_ports`) to one pool."""
    monitors = {} if monitor is None else {"healthmonitor": healthmonitor(monitor, delay=1)}
    web = pool("pool-1", algorithm=algorithm, members=pool_members, **monitors)
    listeners: list[ListenerSpec] = [
        listener(
            f"listener-{number}",
            port=listener_port,
            default_pool_id="pool-1",
            timeout_client_data=timeout_client,
        )
        for number, listener_port in enumerate((port, *extra_ports), start=1)
    ]
    spec = loadbalancer(vip_address=vip, listeners=tuple(listeners), pools=(web,))
    return render_haproxy_config(spec, paths=PATHS, limits=LIMITS).text


def bundle(haproxy: str | None, udp: str | None = None, loadbalancer_id: str = "lb-1") -> str:
    return AmphoraConfig(loadbalancer_id=loadbalancer_id, haproxy=haproxy, udp=udp).to_text()
