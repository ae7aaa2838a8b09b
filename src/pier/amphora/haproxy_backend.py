"""One backend: a pool as one listener uses it, named `<pool_id>:<listener_id>` as in Octavia.

Mapping per octavia-api.md §11: algorithm, session persistence, the health monitor, the
listener's insert_headers and member timeouts, then one `server` line per member.
"""

import re

from pier.amphora.haproxy_syntax import address, backend_name, endpoint, fetch, path, word
from pier.amphora.haproxy_tls_hello import tls_hello_check_lines
from pier.domain.enums import (
    HealthMonitorType,
    HttpMethod,
    LbAlgorithm,
    ListenerProtocol,
    PoolProtocol,
    SessionPersistenceType,
)
from pier.domain.spec import HealthMonitorSpec, ListenerSpec, MemberSpec, PoolSpec

ALGORITHMS = {
    LbAlgorithm.ROUND_ROBIN: "roundrobin",
    LbAlgorithm.LEAST_CONNECTIONS: "leastconn",
    LbAlgorithm.SOURCE_IP: "source",
}
POOL_MODES = {PoolProtocol.HTTP: "http", PoolProtocol.HTTPS: "tcp", PoolProtocol.TCP: "tcp"}
SEND_PROXY = {PoolProtocol.PROXY: "send-proxy", PoolProtocol.PROXYV2: "send-proxy-v2"}
HTTP_MONITORS = frozenset({HealthMonitorType.HTTP, HealthMonitorType.HTTPS})
# `[haproxy_amphora] haproxy_stick_size`.
STICK_TABLE_SIZE = "10k"
DEFAULT_EXPECTED_CODES = "200"
EXTERNAL_CHECK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def backend_lines(
    pool: PoolSpec,
    listener: ListenerSpec,
    *,
    frontend_mode: str,
    connection_limit: int,
    ping_script: str,
) -> list[str]:
    mode = POOL_MODES.get(pool.protocol, frontend_mode)  # PROXY pools take the listener's mode
    monitor = _active_monitor(pool)
    body = [
        f"mode {mode}",
        *(["http-reuse safe"] if mode == "http" else []),
        *_balance(pool.lb_algorithm),
        *_persistence(pool, mode),
        *([] if monitor is None else _monitor(monitor, ping_script)),
        *_insert_headers(pool, listener),
        f"fullconn {connection_limit}",
        "option allbackups",
        f"timeout connect {listener.timeout_member_connect}",
        f"timeout server {listener.timeout_member_data}",
        *(_server(member, pool, monitor, mode) for member in pool.members),
    ]
    return [f"backend {backend_name(pool.id, listener.id)}", *(f"    {line}" for line in body)]


def _balance(algorithm: LbAlgorithm) -> list[str]:
    """SOURCE_IP_PORT hashes the client address and port together. `concat` takes only
    variables, so the port is copied into one first (HAProxy 2.6's `balance hash`).
    """
    if algorithm == LbAlgorithm.SOURCE_IP_PORT:
        return [
            "tcp-request content set-var(txn.pier_src_port) src_port",
            "balance hash src,concat(:,txn.pier_src_port)",
        ]
    return [f"balance {ALGORITHMS.get(algorithm, 'roundrobin')}"]


def _active_monitor(pool: PoolSpec) -> HealthMonitorSpec | None:
    """The pool's monitor if it checks: a disabled monitor adds no `check` at all."""
    monitor = pool.healthmonitor
    return monitor if monitor is not None and monitor.admin_state_up else None


def uses_ping(pool: PoolSpec) -> bool:
    """Whether this pool's checks fork the ping script (global `external-check` needed)."""
    monitor = _active_monitor(pool)
    return monitor is not None and monitor.type is HealthMonitorType.PING


def _persistence(pool: PoolSpec, mode: str) -> list[str]:
    persistence = pool.session_persistence
    if persistence is None:
        return []
    if persistence.type is SessionPersistenceType.SOURCE_IP:
        return [f"stick-table type ipv6 size {STICK_TABLE_SIZE}", "stick on src"]
    if mode != "http":
        return [f"# session persistence {persistence.type} needs HTTP: not applied in TCP mode"]
    if persistence.type is SessionPersistenceType.HTTP_COOKIE:
        return ["cookie SRV insert indirect nocache"]
    if not persistence.cookie_name:
        return ["# session persistence APP_COOKIE has no cookie_name: not applied"]
    return [
        f"stick-table type string len 64 size {STICK_TABLE_SIZE}",
        f"stick store-response {fetch('res.cook', persistence.cookie_name)}",
        f"stick match {fetch('req.cook', persistence.cookie_name)}",
    ]


def _monitor(monitor: HealthMonitorSpec, ping_script: str) -> list[str]:
    # Keeps the health of servers across reloads (the agent dumps the state before each one).
    lines = ["load-server-state-from-file global", f"timeout check {monitor.timeout}s"]
    if monitor.type in HTTP_MONITORS:
        lines += ["option httpchk", _http_check_send(monitor)]
        codes = "|".join(str(c) for c in expand_expected_codes(monitor.expected_codes))
        lines.append(f"http-check expect rstatus {word(codes)}")
    elif monitor.type is HealthMonitorType.PING:
        lines += [
            # As in Octavia: the script gets the server's address as its third argument, and
            # HAProxy never hands an external check the `addr`/`port` of monitor_address.
            "# PING checks ping each member's own address; monitor_address does not apply.",
            "option external-check",
            # HAProxy runs the script with an empty PATH unless told otherwise.
            f"external-check path {EXTERNAL_CHECK_PATH}",
            f"external-check command {path(ping_script)}",
        ]
    elif monitor.type is HealthMonitorType.TLS_HELLO:
        lines += tls_hello_check_lines()
    # TCP is a plain connect check.
    return lines


def _http_check_send(monitor: HealthMonitorSpec) -> str:
    method = monitor.http_method or HttpMethod.GET
    parts = [f"http-check send meth {method} uri {word(monitor.url_path or '/')}"]
    if monitor.http_version is not None:
        parts.append(f"ver HTTP/{monitor.http_version:.1f}")
    if monitor.domain_name and monitor.http_version is not None and monitor.http_version >= 1.1:
        parts.append(f"hdr Host {word(monitor.domain_name)}")
    return " ".join(parts)


def expand_expected_codes(codes: str | None) -> tuple[int, ...]:
    """The status codes an HTTP check accepts, ascending and unique.

    `200` -> 200; `200, 202` -> 200, 202; `200-204` -> 200 to 204. A reversed range
    (`204-200`) means the same codes; nothing at all means the API default, 200.
    """
    found: set[int] = set()
    for part in re.split(r"\s*,\s*", (codes or "").strip()):
        low, _, high = part.partition("-")
        if low.strip().isdigit():
            first, last = int(low), int(high) if high.strip().isdigit() else int(low)
            found.update(range(min(first, last), max(first, last) + 1))
    return tuple(sorted(found)) or (int(DEFAULT_EXPECTED_CODES),)


def _insert_headers(pool: PoolSpec, listener: ListenerSpec) -> list[str]:
    wanted = {name for name, value in listener.insert_headers if value.lower() == "true"}
    lines = []
    # A PROXY pool carries the client address in the PROXY header instead.
    if pool.protocol is PoolProtocol.HTTP:
        if "X-Forwarded-For" in wanted:
            lines.append("option forwardfor")
        if "X-Forwarded-Port" in wanted:
            lines.append("http-request set-header X-Forwarded-Port %[dst_port]")
    if "X-Forwarded-Proto" in wanted and listener.protocol is ListenerProtocol.HTTP:
        lines.append("http-request set-header X-Forwarded-Proto http")
    return lines


def _server(
    member: MemberSpec, pool: PoolSpec, monitor: HealthMonitorSpec | None, mode: str
) -> str:
    options = [f"weight {member.weight}"]
    if monitor is not None:
        options.append(_check(member, monitor))
    persistence = pool.session_persistence
    if (
        persistence is not None
        and persistence.type is SessionPersistenceType.HTTP_COOKIE
        and mode == "http"
    ):
        options.append(f"cookie {member.id}")
    if pool.protocol in SEND_PROXY:
        options.append(SEND_PROXY[pool.protocol])
    if member.backup:
        options.append("backup")
    if not member.admin_state_up:
        options.append("disabled")
    return (
        f"server {member.id} {endpoint(member.address, member.protocol_port)} {' '.join(options)}"
    )


def _check(member: MemberSpec, monitor: HealthMonitorSpec) -> str:
    check = ["check"]
    if monitor.type is HealthMonitorType.HTTPS:
        check.append("check-ssl verify none")
    # HAProxy rejects `inter 0s`; the API accepts a delay of 0, which cannot mean "never".
    check.append(f"inter {max(monitor.delay, 1)}s fall {monitor.max_retries_down}")
    check.append(f"rise {monitor.max_retries}")
    if member.monitor_address:
        check.append(f"addr {address(member.monitor_address)}")
    if member.monitor_port:
        check.append(f"port {member.monitor_port}")
    return " ".join(check)
