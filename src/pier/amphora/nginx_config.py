"""nginx stream configuration for a load balancer's UDP listeners, as a pure function of its tree.

Octavia serves UDP with keepalived and IPVS (octavia-api.md §11); this host has no IPVS and
HAProxy 2.6 cannot proxy UDP, but nginx's stream module can (dataplane.md). The mapping follows
Octavia's LVS template where nginx can express it and says where it cannot.

Paths: the text has no absolute path but the stream module's. The agent runs
`nginx -p <amphora dir>/ -c <file>`, and nginx resolves the relative `pid` and `error_log`
against that prefix (a stream-only configuration has no temp paths). So both amphorae of a pair
get the same text, hence the same version, with no placeholder to fill in, and the agent can
run `nginx -t` under another prefix without touching the running pid file.
"""

import ipaddress
import re
from dataclasses import dataclass, replace

from pier.amphora.haproxy_backend import expand_expected_codes
from pier.domain.enums import (
    HealthMonitorType,
    LbAlgorithm,
    ListenerProtocol,
    SessionPersistenceType,
)
from pier.domain.spec import (
    HealthMonitorSpec,
    ListenerSpec,
    LoadBalancerSpec,
    MemberSpec,
    PoolSpec,
    without_leaving,
)
from pier.wire.udp_checks import (
    CHECK_TYPES,
    ERROR_LOG,
    PID_FILE,
    MemberRef,
    MemberState,
    UdpCheck,
    endpoint,
    format_check_line,
    format_listener_line,
    format_member_comment,
    pool_key,
)

STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
# Each UDP session holds two connections (client side and member side).
WORKER_CONNECTIONS = 4096
# How long a worker replaced by a reload may finish its sessions; UDP clients simply start a
# new session with the next datagram, so old workers need not linger for long.
WORKER_SHUTDOWN_TIMEOUT_S = 10
# What an unset (0) listener timeout means: the API default.
DEFAULT_TIMEOUT_MS = 50_000
# Octavia's defaults when SOURCE_IP persistence leaves these unset.
DEFAULT_PERSISTENCE_TIMEOUT_S = 360
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class _Served:
    listener: ListenerSpec
    pool: PoolSpec


def render_udp_config(spec: LoadBalancerSpec) -> str | None:
    """The nginx configuration for the tree as it will be after this pass, or None when no
    UDP listener is served (the load balancer or every UDP listener disabled, or none has an
    enabled default pool with members): the agent then runs no nginx at all.

    Raises ValueError for an id or address that cannot be written safely (never from the API).
    """
    tree = without_leaving(spec)
    if not tree.admin_state_up or tree.vip_address is None:
        return None
    served, notes = _served(tree)
    if not served:
        return None
    vips = (tree.vip_address, *(v.ip_address for v in tree.additional_vips if v.ip_address))
    stream = [line for item in served for line in ["", *_listener_lines(item, vips)]]
    lines = [
        f"# Pier UDP configuration for load balancer {_name(tree.id)} (nginx stream).",
        "# Run as `nginx -p <amphora dir>/ -c <this file>`: relative paths are in that directory.",
        "# `# pier-` lines are for the agent (pier.wire.udp_checks).",
        *notes,
        f"load_module {STREAM_MODULE};",
        "worker_processes 1;",
        f"worker_shutdown_timeout {WORKER_SHUTDOWN_TIMEOUT_S}s;",
        f"pid {PID_FILE};",
        f"error_log {ERROR_LOG} warn;",
        "",
        "events {",
        f"    worker_connections {WORKER_CONNECTIONS};",
        "}",
        "",
        "stream {",
        *(f"    {line}" if line else "" for line in stream[1:]),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _served(tree: LoadBalancerSpec) -> tuple[list[_Served], list[str]]:
    """The UDP listeners nginx serves, each with its default pool; comments for the others."""
    served: list[_Served] = []
    notes: list[str] = []
    for listener in tree.listeners:
        if listener.protocol is not ListenerProtocol.UDP or not listener.admin_state_up:
            continue
        pool = None if listener.default_pool_id is None else tree.pool(listener.default_pool_id)
        name = _name(listener.id)
        # Octavia's LVS template renders no virtual server for these either.
        if pool is None:
            notes.append(f"# Listener {name} has no default pool: not served.")
        elif not pool.admin_state_up:
            notes.append(f"# Listener {name}: pool {_name(pool.id)} is disabled: not served.")
        elif not pool.members:
            notes.append(f"# Listener {name}: pool {_name(pool.id)} has no members: not served.")
        else:
            served.append(_Served(listener, pool))
    return served, notes


def _listener_lines(item: _Served, vips: tuple[str, ...]) -> list[str]:
    listener, pool = item.listener, item.pool
    upstream = f"{_name(pool.id)}_{_name(listener.id)}"
    key = pool_key(pool.id, listener.id)
    variables, balance = _balance(pool, upstream)
    monitor = _checking_monitor(pool)
    hashed = any(line.startswith("hash ") for line in balance)
    backups = not hashed and any(not m.backup for m in pool.members)
    servers = [
        line
        for member in pool.members
        for line in _member_lines(member, key, listener, monitor, backups=backups)
    ]
    if hashed and any(m.backup for m in pool.members):
        servers.insert(0, "# nginx hashing has no backup servers: backup members are balanced")
        servers.insert(1, "# like the others, as in Octavia's LVS template.")
    access = [
        f"allow {ipaddress.ip_network(c, strict=False)};" for c in sorted(listener.allowed_cidrs)
    ]
    # Octavia's LVS ignores the listener timeouts; nginx has one idle timeout for both sides.
    timeout = max(listener.timeout_client_data, listener.timeout_member_data) or DEFAULT_TIMEOUT_MS
    return [
        *variables,
        f"upstream {upstream} {{",
        *(f"    {line}" for line in [*balance, *_monitor_notes(pool), *servers]),
        "}",
        "",
        "server {",
        f"    {format_listener_line(_name(listener.id), key)}",
        *(f"    listen {endpoint(_address(vip), listener.protocol_port)} udp;" for vip in vips),
        *(f"    {line}" for line in ([*access, "deny all;"] if access else [])),
        f"    proxy_pass {upstream};",
        f"    proxy_timeout {timeout}ms;",
        "}",
    ]


def _balance(pool: PoolSpec, upstream: str) -> tuple[list[str], list[str]]:
    """(lines before the upstream, lines inside it) choosing a member for a new session.

    SOURCE_IP persistence overrides the algorithm, as in LVS where persistence applies to any
    scheduler: nginx's consistent hash pins a client for as long as the members stay the same,
    so persistence_timeout is always met (open-source nginx has no timed sticky table).
    """
    persistence = pool.session_persistence
    if persistence is not None and persistence.type is SessionPersistenceType.SOURCE_IP:
        variable = "$pier_client_" + re.sub(r"\W", "_", upstream)
        variables, client, notes = _client_key(persistence.persistence_granularity, variable)
        idle = persistence.persistence_timeout or DEFAULT_PERSISTENCE_TIMEOUT_S
        notes = [
            f"# SOURCE_IP persistence (LVS: {idle}s idle), instead of {pool.lb_algorithm}: a",
            "# consistent hash keeps each client on its member for as long as the members stay.",
            *notes,
        ]
        return variables, [*notes, f"hash {client} consistent;"]
    comments = []
    if persistence is not None:
        comments = [f"# session persistence {persistence.type} needs HTTP: not applied."]
    if pool.lb_algorithm is LbAlgorithm.SOURCE_IP:
        return [], [*comments, "hash $remote_addr consistent;"]
    if pool.lb_algorithm is LbAlgorithm.SOURCE_IP_PORT:
        return [], [*comments, "hash $remote_addr:$remote_port consistent;"]
    if pool.lb_algorithm is LbAlgorithm.LEAST_CONNECTIONS:
        return [], [*comments, "least_conn;"]
    return [], [*comments, "# ROUND_ROBIN: nginx's default, weighted round robin."]


def _client_key(granularity: str | None, variable: str) -> tuple[list[str], str, list[str]]:
    """(map lines, hash key, notes) for SOURCE_IP persistence at `granularity`, an IPv4 netmask
    (LVS `persistence_granularity`): clients of one network share a key. nginx cannot compute
    on addresses, so a map matches the masked octet's values by regular expression.
    """
    if granularity is None:
        return [], "$remote_addr", []
    try:
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{granularity}").prefixlen
    except ValueError:
        shown = re.sub(r"[^0-9A-Fa-f.:/]", "?", granularity)  # a comment must stay one line
        note = f"# persistence_granularity {shown} cannot be matched: whole addresses."
        return [], "$remote_addr", [note]
    if prefix == 32:
        return [], "$remote_addr", []
    full, bits = divmod(prefix, 8)
    head = ["(" + r"\.".join([r"\d+"] * full) + ")"] if full else []
    tail = [r"\d+"] * (4 - full - (1 if bits else 0))
    if bits == 0:
        entries = [("^" + r"\.".join(head + tail) + "$", "$1" if full else "0")]
    else:
        block = 2 ** (8 - bits)
        entries = []
        for start in range(0, 256, block):
            values = "(?:" + "|".join(str(v) for v in range(start, start + block)) + ")"
            pattern = "^" + r"\.".join([*head, values, *tail]) + "$"
            entries.append((pattern, f"$1.{start}" if full else str(start)))
    lines = [
        f"map $remote_addr {variable} {{",
        *(f'    "~{pattern}" {value};' for pattern, value in entries),
        "    default $remote_addr;",
        "}",
        "",
    ]
    return lines, variable, [f"# persistence_granularity {granularity}: clients of a /{prefix}."]


def _checking_monitor(pool: PoolSpec) -> HealthMonitorSpec | None:
    monitor = pool.healthmonitor
    if monitor is None or not monitor.admin_state_up or monitor.type not in CHECK_TYPES:
        return None
    return monitor


def _monitor_notes(pool: PoolSpec) -> list[str]:
    monitor = pool.healthmonitor
    if monitor is None or not monitor.admin_state_up or monitor.type in CHECK_TYPES:
        return []
    return [f"# {monitor.type} health monitor {_name(monitor.id)}: not checked on this platform."]


def _member_lines(
    member: MemberSpec,
    key: str,
    listener: ListenerSpec,
    monitor: HealthMonitorSpec | None,
    *,
    backups: bool,
) -> list[str]:
    ref = MemberRef(key, _name(member.id))
    if not member.admin_state_up:
        state = MemberState.DISABLED
    else:
        state = MemberState.DRAINED if member.weight == 0 else MemberState.ENABLED
    # nginx takes no weight 0: a drained member is `down`, which also ends no session.
    params = [f"weight={member.weight}"] if member.weight > 0 else []
    # LVS `uthreshold`: Octavia's per-member reading of the listener's connection limit.
    if listener.connection_limit > 0:
        params.append(f"max_conns={listener.connection_limit}")
    if member.backup and backups:
        params.append("backup")
    if state is not MemberState.ENABLED:
        params.append("down")
    server = f"server {endpoint(_address(member.address), member.protocol_port)}"
    lines = [f"{' '.join([server, *params])};  {format_member_comment(ref, state)}"]
    if monitor is not None and state is not MemberState.DISABLED:
        lines.insert(0, format_check_line(ref, _check(member, monitor)))
    return lines


def _check(member: MemberSpec, monitor: HealthMonitorSpec) -> UdpCheck:
    # The API accepts 0 for delay and timeout, which cannot mean "never" or "no wait".
    check = UdpCheck(
        type=monitor.type,
        address=_address(member.monitor_address or member.address),
        port=member.monitor_port or member.protocol_port,
        delay=max(monitor.delay, 1),
        timeout=max(monitor.timeout, 1),
        rise=monitor.max_retries,
        fall=monitor.max_retries_down,
    )
    if monitor.type is not HealthMonitorType.HTTP:
        return check
    return replace(
        check,
        http_method=str(monitor.http_method or "GET"),
        url_path=monitor.url_path or "/",
        expected_codes=expand_expected_codes(monitor.expected_codes),
        domain_name=monitor.domain_name,
    )


def _name(value: str) -> str:
    """An id as nginx names and the records carry it; ids are UUIDs, so this never fails."""
    if not _ID.fullmatch(value):
        raise ValueError(f"id {value!r} cannot be written into the nginx configuration")
    return value


def _address(value: str) -> str:
    return str(ipaddress.ip_address(value))
