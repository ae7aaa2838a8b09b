"""haproxy.cfg for one load balancer's amphora, as a pure function of its desired-state tree.

The shape follows Octavia's combined-listeners template (octavia-api.md §11): one `frontend`
per enabled listener, one `backend` per (enabled pool, listener routing to it). What differs
from Octavia is said where it happens. The version is the sha256 hex of the text, the digest
`pier.drivers.compute.base.config_version` computes, so it compares with what agents report.
"""

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from pier.amphora.haproxy_backend import backend_lines, uses_ping
from pier.amphora.haproxy_l7 import active_policies, policy_lines
from pier.amphora.haproxy_syntax import backend_name, endpoint, path
from pier.domain.enums import ListenerProtocol
from pier.domain.spec import ListenerSpec, LoadBalancerSpec, PoolSpec, without_leaving

FRONTEND_MODES = {
    ListenerProtocol.HTTP: "http",
    ListenerProtocol.HTTPS: "tcp",  # TLS passthrough
    ListenerProtocol.TCP: "tcp",
}
NOT_YET = {
    ListenerProtocol.TERMINATED_HTTPS: "TLS termination is not rendered yet",
    ListenerProtocol.PROMETHEUS: "the Prometheus exporter is not rendered yet",
    ListenerProtocol.SCTP: "no amphora on this platform balances SCTP",
}
# `[haproxy_amphora] default_connection_limit`: what an unlimited listener (-1) gets.
DEFAULT_CONNECTION_LIMIT = 50_000
# Octavia's HAPROXY_MAX_MAXCONN: the global maxconn when the sum is not below it.
MAX_MAXCONN = 1_000_000


@dataclass(frozen=True, slots=True)
class AmphoraPaths:
    """Where this amphora's files live on its host; the agent owns and creates them."""

    stats_socket: PurePosixPath
    server_state_file: PurePosixPath  # dumped by the agent before each reload
    ping_script: PurePosixPath  # external check for PING monitors: `<script> _ _ <addr> <port>`


@dataclass(frozen=True, slots=True)
class HaproxyLimits:
    """Host-dependent bounds. Each connection costs HAProxy about two file descriptors, so
    `max_connections` must fit the agent's RLIMIT_NOFILE or HAProxy refuses to start.
    """

    max_connections: int = MAX_MAXCONN
    # How long an old worker may serve its connections after a reload before they are cut.
    hard_stop_after_s: int = 600


DEFAULT_LIMITS = HaproxyLimits()


@dataclass(frozen=True, slots=True)
class RenderedConfig:
    text: str
    version: str  # sha256 hex of `text`
    # Objects left out for a limitation (not for admin state), as sentences for an ERROR reason.
    skipped: tuple[str, ...] = ()


def render_haproxy_config(
    spec: LoadBalancerSpec, *, paths: AmphoraPaths, limits: HaproxyLimits = DEFAULT_LIMITS
) -> RenderedConfig:
    """Render the tree as it will be after this pass (PENDING_DELETE objects are gone)."""
    tree = without_leaving(spec)
    frontends, notes, skipped = _frontends(tree)
    vips = _vips(tree)
    proxies = [
        line
        for listener, pools in frontends
        for line in ["", *_proxies(listener, pools, vips, paths)]
    ]
    lines = [
        f"# Pier amphora configuration for load balancer {tree.id}",
        *notes,
        *_global(frontends, paths, limits),
        "",
        *_defaults(),
        *proxies,
    ]
    text = "\n".join(lines) + "\n"
    return RenderedConfig(text, hashlib.sha256(text.encode()).hexdigest(), skipped)


Frontends = list[tuple[ListenerSpec, tuple[PoolSpec, ...]]]


def _frontends(tree: LoadBalancerSpec) -> tuple[Frontends, list[str], tuple[str, ...]]:
    """The listeners HAProxy serves, each with the pools it routes to; comments; skipped."""
    if not tree.admin_state_up:
        return [], ["# The load balancer is disabled: no proxies."], ()
    routable = {p.id: p for p in tree.pools if p.admin_state_up and not p.tls_enabled}
    frontends: Frontends = []
    notes: list[str] = []
    skipped = [
        f"Pool {p.id} has tls_enabled: re-encryption is not rendered yet, nothing routes to it."
        for p in tree.pools
        if p.admin_state_up and p.tls_enabled
    ]
    for listener in tree.listeners:
        if not listener.admin_state_up:
            continue
        if listener.protocol is ListenerProtocol.UDP:
            notes.append(f"# Listener {listener.id} (UDP) is served by nginx stream, not HAProxy.")
        elif listener.protocol not in FRONTEND_MODES:
            skipped.append(
                f"Listener {listener.id} ({listener.protocol}): {NOT_YET[listener.protocol]}."
            )
        elif tree.vip_address is None:
            skipped.append(f"Listener {listener.id}: the load balancer has no VIP address yet.")
        else:
            frontends.append((listener, _pools_of(listener, routable)))
    notes += [f"# Skipped: {sentence}" for sentence in skipped]
    return frontends, notes, tuple(skipped)


def _pools_of(listener: ListenerSpec, routable: dict[str, PoolSpec]) -> tuple[PoolSpec, ...]:
    wanted = {p.redirect_pool_id for p in active_policies(listener, routable)}
    wanted.add(listener.default_pool_id)
    return tuple(pool for pool_id, pool in routable.items() if pool_id in wanted)


def _vips(tree: LoadBalancerSpec) -> tuple[str, ...]:
    extra = (vip.ip_address for vip in tree.additional_vips if vip.ip_address)
    return tuple(address for address in (tree.vip_address, *extra) if address)


def connection_limit(listener: ListenerSpec) -> int:
    """A listener's maxconn: -1 (and 0, which Octavia's template reads as unset) is unlimited."""
    return listener.connection_limit if listener.connection_limit > 0 else DEFAULT_CONNECTION_LIMIT


def global_maxconn(listeners: list[ListenerSpec], cap: int) -> int:
    """The sum of the listeners' limits; the cap when that is 0 (no listener) or not below it."""
    total = sum(connection_limit(listener) for listener in listeners)
    return total if 0 < total < cap else cap


def _global(frontends: Frontends, paths: AmphoraPaths, limits: HaproxyLimits) -> list[str]:
    maxconn = global_maxconn([listener for listener, _ in frontends], limits.max_connections)
    socket = path(str(paths.stats_socket))
    lines = [
        "global",
        # The agent runs `haproxy -Ws -S <master socket>`: no `daemon`, no `user` (not root).
        # `expose-fd listeners` lets a reloaded worker take over the listening sockets.
        f"    stats socket {socket} mode 600 level admin expose-fd listeners",
        f"    server-state-file {path(str(paths.server_state_file))}",
        f"    maxconn {maxconn}",
        f"    hard-stop-after {limits.hard_stop_after_s}s",
    ]
    if any(uses_ping(pool) for _, pools in frontends for pool in pools):
        lines += ["    external-check", "    insecure-fork-wanted"]
    return lines


def _defaults() -> list[str]:
    # No splice options (Octavia has them): pipes cost file descriptors, which this host lacks.
    return [
        "defaults",
        "    retries 3",
        "    option redispatch",
        "    timeout connect 5000",
        "    timeout client 50000",
        "    timeout server 50000",
    ]


def _proxies(
    listener: ListenerSpec, pools: tuple[PoolSpec, ...], vips: tuple[str, ...], paths: AmphoraPaths
) -> list[str]:
    mode = FRONTEND_MODES[listener.protocol]
    lines = _frontend(listener, {p.id for p in pools}, vips, mode)
    for pool in pools:
        lines += [
            "",
            *backend_lines(
                pool,
                listener,
                frontend_mode=mode,
                connection_limit=connection_limit(listener),
                ping_script=str(paths.ping_script),
            ),
        ]
    return lines


def _frontend(
    listener: ListenerSpec, pool_ids: set[str], vips: tuple[str, ...], mode: str
) -> list[str]:
    policies = active_policies(listener, pool_ids)
    body = [
        f"maxconn {connection_limit(listener)}",
        *(f"bind {endpoint(vip, listener.protocol_port)}" for vip in vips),
        f"mode {mode}",
    ]
    if mode == "http":
        # On reload the old worker keeps idle keep-alive connections and answers their next
        # request with `Connection: close` instead of closing them under a client that may be
        # sending: with serialized reloads, no request is lost (dataplane.md). Here, not in
        # `defaults`: HAProxy warns about it on every TCP frontend.
        body.append("option idle-close-on-response")
    if listener.allowed_cidrs:
        sources = " ".join(sorted(listener.allowed_cidrs))
        body += [
            "# allowed_cidrs: Octavia writes security group rules on the VIP port; Pier's",
            "# amphorae have no security groups, so HAProxy refuses other sources itself.",
            f"tcp-request connection reject if !{{ src {sources} }}",
        ]
    body += policy_lines(listener, policies)
    default_pool_id = listener.default_pool_id
    if default_pool_id is not None and default_pool_id in pool_ids:
        body.append(f"default_backend {backend_name(default_pool_id, listener.id)}")
    body.append(f"timeout client {listener.timeout_client_data}")
    if listener.timeout_tcp_inspect:
        body.append(f"tcp-request inspect-delay {listener.timeout_tcp_inspect}")
    return [f"frontend {listener.id}", *(f"    {line}" for line in body)]
