"""Desired-state trees for the HAProxy golden files: small factories and one tree per scenario.

Ids are explicit and readable, so a golden file reads like the scenario that produced it.
`GOLDEN_PATHS` all live under `GOLDEN_ROOT`, which the `haproxy -c` test swaps for a
temporary directory holding those files.
"""

from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from pier.amphora import AmphoraPaths
from pier.domain.enums import (
    HealthMonitorType,
    HttpMethod,
    L7PolicyAction,
    L7RuleCompareType,
    L7RuleType,
    LbAlgorithm,
    ListenerProtocol,
    PoolProtocol,
    ProvisioningStatus,
    SessionPersistenceType,
    Topology,
)
from pier.domain.spec import (
    AdditionalVipSpec,
    HealthMonitorSpec,
    L7PolicySpec,
    L7RuleSpec,
    ListenerSpec,
    LoadBalancerSpec,
    MemberSpec,
    PoolSpec,
    SessionPersistenceSpec,
)

GOLDEN_ROOT = "/var/lib/pier/amphora"
GOLDEN_PATHS = AmphoraPaths(
    stats_socket=PurePosixPath(GOLDEN_ROOT, "haproxy.sock"),
    server_state_file=PurePosixPath(GOLDEN_ROOT, "servers-state"),
    ping_script=PurePosixPath(GOLDEN_ROOT, "ping-wrapper.sh"),
)
ACTIVE = ProvisioningStatus.ACTIVE
PENDING_DELETE = ProvisioningStatus.PENDING_DELETE
Proto = ListenerProtocol
Rule = L7RuleType
Compare = L7RuleCompareType
Action = L7PolicyAction


def loadbalancer(**overrides: Any) -> LoadBalancerSpec:
    values: dict[str, Any] = {
        "id": "lb-1",
        "project_id": "project-1",
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "topology": Topology.SINGLE,
        "vip_address": "203.0.113.10",
    }
    return LoadBalancerSpec(**(values | overrides))


def listener(
    id: str, protocol: ListenerProtocol = Proto.HTTP, port: int = 80, **overrides: Any
) -> ListenerSpec:
    values: dict[str, Any] = {
        "id": id,
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "protocol": protocol,
        "protocol_port": port,
    }
    return ListenerSpec(**(values | overrides))


def pool(
    id: str,
    protocol: PoolProtocol = PoolProtocol.HTTP,
    algorithm: LbAlgorithm = LbAlgorithm.ROUND_ROBIN,
    **overrides: Any,
) -> PoolSpec:
    values: dict[str, Any] = {
        "id": id,
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "protocol": protocol,
        "lb_algorithm": algorithm,
    }
    return PoolSpec(**(values | overrides))


def member(id: str, address: str, port: int = 8080, **overrides: Any) -> MemberSpec:
    values: dict[str, Any] = {
        "id": id,
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "address": address,
        "protocol_port": port,
    }
    return MemberSpec(**(values | overrides))


def two_members(prefix: str, port: int = 8080) -> tuple[MemberSpec, ...]:
    return (
        member(f"{prefix}-1", "192.0.2.11", port),
        member(f"{prefix}-2", "192.0.2.12", port),
    )


def healthmonitor(type: HealthMonitorType, **overrides: Any) -> HealthMonitorSpec:
    http = type in (HealthMonitorType.HTTP, HealthMonitorType.HTTPS)
    values: dict[str, Any] = {
        "id": f"hm-{type.lower()}",
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "type": type,
        "delay": 5,
        "timeout": 3,
        "max_retries": 2,
        "max_retries_down": 3,
    }
    if http:
        values |= {"http_method": HttpMethod.GET, "url_path": "/", "expected_codes": "200"}
    return HealthMonitorSpec(**(values | overrides))


def l7rule(
    id: str, type: L7RuleType, compare: L7RuleCompareType, value: str, **overrides: Any
) -> L7RuleSpec:
    values: dict[str, Any] = {
        "id": id,
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "type": type,
        "compare_type": compare,
        "value": value,
    }
    return L7RuleSpec(**(values | overrides))


def l7policy(
    id: str, action: L7PolicyAction, position: int, *rules: L7RuleSpec, **overrides: Any
) -> L7PolicySpec:
    values: dict[str, Any] = {
        "id": id,
        "provisioning_status": ACTIVE,
        "admin_state_up": True,
        "action": action,
        "position": position,
        "rules": rules,
    }
    if action in (Action.REDIRECT_TO_URL, Action.REDIRECT_PREFIX):
        values["redirect_http_code"] = 302
    return L7PolicySpec(**(values | overrides))


def single_listener(
    listener_protocol: ListenerProtocol,
    port: int,
    web: PoolSpec,
    **listener_overrides: Any,
) -> LoadBalancerSpec:
    """One listener whose default pool is `web`."""
    front = listener(
        "listener-1", listener_protocol, port, default_pool_id=web.id, **listener_overrides
    )
    return loadbalancer(listeners=(front,), pools=(web,))


def monitored(
    front: ListenerProtocol, port: int, pool_protocol: PoolProtocol, monitor: HealthMonitorSpec
) -> LoadBalancerSpec:
    """One listener on `port` to two members on the same port, checked by `monitor`."""
    web = pool("pool-1", pool_protocol, healthmonitor=monitor, members=two_members("member", port))
    return single_listener(front, port, web)


def http_round_robin() -> LoadBalancerSpec:
    return single_listener(Proto.HTTP, 80, pool("pool-1", members=two_members("member")))


def https_passthrough() -> LoadBalancerSpec:
    web = pool(
        "pool-1",
        PoolProtocol.HTTPS,
        LbAlgorithm.LEAST_CONNECTIONS,
        members=two_members("member", 443),
    )
    return single_listener(Proto.HTTPS, 443, web)


def tcp_listener_with_http_pool() -> LoadBalancerSpec:
    """Octavia allows it: HAProxy upgrades the TCP stream to HTTP in the backend."""
    return single_listener(Proto.TCP, 8080, pool("pool-1", members=two_members("member")))


def tcp_source_ip() -> LoadBalancerSpec:
    db = pool(
        "pool-1",
        PoolProtocol.TCP,
        LbAlgorithm.SOURCE_IP,
        session_persistence=SessionPersistenceSpec(SessionPersistenceType.SOURCE_IP),
        members=two_members("member", 3306),
    )
    return single_listener(Proto.TCP, 3306, db, timeout_tcp_inspect=500)


def source_ip_port() -> LoadBalancerSpec:
    """SOURCE_IP_PORT on an HTTP and a TCP listener (a hash of client address and port)."""
    web = pool(
        "pool-1", PoolProtocol.HTTP, LbAlgorithm.SOURCE_IP_PORT, members=two_members("web", 80)
    )
    db = pool(
        "pool-2", PoolProtocol.TCP, LbAlgorithm.SOURCE_IP_PORT, members=two_members("db", 3306)
    )
    return loadbalancer(
        listeners=(
            listener("listener-1", Proto.HTTP, 80, default_pool_id="pool-1"),
            listener("listener-2", Proto.TCP, 3306, default_pool_id="pool-2"),
        ),
        pools=(web, db),
    )


def http_cookie_persistence() -> LoadBalancerSpec:
    web = pool(
        "pool-1",
        session_persistence=SessionPersistenceSpec(SessionPersistenceType.HTTP_COOKIE),
        members=two_members("member"),
    )
    return single_listener(Proto.HTTP, 80, web)


def app_cookie_persistence() -> LoadBalancerSpec:
    web = pool(
        "pool-1",
        session_persistence=SessionPersistenceSpec(
            SessionPersistenceType.APP_COOKIE, cookie_name="JSESSIONID"
        ),
        members=two_members("member"),
    )
    return single_listener(Proto.HTTP, 80, web)


def cookie_persistence_in_tcp_mode() -> LoadBalancerSpec:
    """Cookies cannot be read in TCP mode: the lines are replaced by a comment."""
    http_cookie = pool(
        "pool-1",
        PoolProtocol.TCP,
        session_persistence=SessionPersistenceSpec(SessionPersistenceType.HTTP_COOKIE),
        members=two_members("member"),
    )
    app_cookie = pool(
        "pool-2",
        PoolProtocol.TCP,
        session_persistence=SessionPersistenceSpec(
            SessionPersistenceType.APP_COOKIE, cookie_name="sid"
        ),
        members=two_members("other"),
    )
    return loadbalancer(
        listeners=(
            listener("listener-1", Proto.TCP, 8001, default_pool_id="pool-1"),
            listener("listener-2", Proto.TCP, 8002, default_pool_id="pool-2"),
        ),
        pools=(http_cookie, app_cookie),
    )


def monitor_http() -> LoadBalancerSpec:
    monitor = healthmonitor(
        HealthMonitorType.HTTP,
        http_method=HttpMethod.HEAD,
        url_path="/health?full=1",
        expected_codes="200-204",
        http_version=1.1,
        domain_name="app.example.com",
    )
    return monitored(Proto.HTTP, 80, PoolProtocol.HTTP, monitor)


def monitor_https() -> LoadBalancerSpec:
    monitor = healthmonitor(HealthMonitorType.HTTPS, expected_codes="202, 200", http_version=1.0)
    return monitored(Proto.HTTPS, 443, PoolProtocol.HTTPS, monitor)


def monitor_tcp() -> LoadBalancerSpec:
    return monitored(Proto.TCP, 5432, PoolProtocol.TCP, healthmonitor(HealthMonitorType.TCP))


def monitor_tls_hello() -> LoadBalancerSpec:
    monitor = healthmonitor(HealthMonitorType.TLS_HELLO)
    return monitored(Proto.HTTPS, 443, PoolProtocol.HTTPS, monitor)


def monitor_ping() -> LoadBalancerSpec:
    # A delay of 0 passes the API; HAProxy needs at least 1s.
    monitor = healthmonitor(HealthMonitorType.PING, delay=0)
    return monitored(Proto.TCP, 5432, PoolProtocol.TCP, monitor)


def l7_every_rule_and_action() -> LoadBalancerSpec:
    """Every rule type and compare type, every action, invert, and what is left out."""
    policies = (
        l7policy(
            "policy-api",
            Action.REDIRECT_TO_POOL,
            1,
            l7rule("rule-api-path", Rule.PATH, Compare.STARTS_WITH, "/api"),
            l7rule("rule-api-host", Rule.HOST_NAME, Compare.ENDS_WITH, ".example.com"),
            redirect_pool_id="pool-api",
        ),
        l7policy(
            "policy-static",
            Action.REDIRECT_TO_POOL,
            2,
            l7rule("rule-static-type", Rule.FILE_TYPE, Compare.EQUAL_TO, ".png"),
            l7rule("rule-static-regex", Rule.FILE_TYPE, Compare.REGEX, r"\.(css|js)$"),
            l7rule("rule-static-off", Rule.PATH, Compare.CONTAINS, "never", admin_state_up=False),
            redirect_pool_id="pool-static",
        ),
        l7policy(
            "policy-reject",
            Action.REJECT,
            3,
            l7rule("rule-reject-path", Rule.PATH, Compare.REGEX, r"^/admin(/.*)?$"),
            l7rule(
                "rule-reject-header",
                Rule.HEADER,
                Compare.EQUAL_TO,
                "ops",
                key="X-Team",
                invert=True,
            ),
        ),
        l7policy(
            "policy-moved",
            Action.REDIRECT_TO_URL,
            4,
            l7rule("rule-moved-host", Rule.HOST_NAME, Compare.EQUAL_TO, "old.example.com"),
            redirect_url="https://new.example.com/#top",
            redirect_http_code=301,
        ),
        l7policy(
            "policy-prefix",
            Action.REDIRECT_PREFIX,
            5,
            l7rule("rule-prefix-cookie", Rule.COOKIE, Compare.CONTAINS, "beta", key="channel"),
            l7rule(
                "rule-prefix-spaces", Rule.HEADER, Compare.EQUAL_TO, '"two words"', key="X-Note"
            ),
            l7rule(
                "rule-prefix-quote", Rule.HEADER, Compare.STARTS_WITH, "it's#1", key="X-Odd'Name"
            ),
            redirect_prefix="https://beta.example.com",
            redirect_http_code=308,
        ),
        l7policy(
            "policy-client-cert",
            Action.REJECT,
            6,
            l7rule("rule-cert-used", Rule.SSL_CONN_HAS_CERT, Compare.EQUAL_TO, "true", invert=True),
            l7rule("rule-cert-verify", Rule.SSL_VERIFY_RESULT, Compare.EQUAL_TO, "0"),
            l7rule("rule-cert-dn", Rule.SSL_DN_FIELD, Compare.REGEX, "^ops-.*", key="CN"),
        ),
        l7policy(
            "policy-disabled",
            Action.REJECT,
            7,
            l7rule("rule-disabled-policy", Rule.PATH, Compare.EQUAL_TO, "/x"),
            admin_state_up=False,
        ),
        l7policy(
            "policy-no-enabled-rule",
            Action.REJECT,
            8,
            l7rule("rule-off", Rule.PATH, Compare.EQUAL_TO, "/y", admin_state_up=False),
        ),
        l7policy(
            "policy-to-disabled-pool",
            Action.REDIRECT_TO_POOL,
            9,
            l7rule("rule-to-disabled-pool", Rule.PATH, Compare.EQUAL_TO, "/old"),
            redirect_pool_id="pool-disabled",
        ),
    )
    front = listener("listener-1", default_pool_id="pool-default", l7policies=policies)
    return loadbalancer(
        listeners=(front,),
        pools=(
            pool("pool-default", members=(member("member-default", "192.0.2.10"),)),
            pool("pool-api", members=(member("member-api", "192.0.2.20"),)),
            pool("pool-static", members=(member("member-static", "192.0.2.30"),)),
            pool(
                "pool-disabled", admin_state_up=False, members=(member("member-old", "192.0.2.40"),)
            ),
        ),
    )


def allowed_cidrs_and_headers() -> LoadBalancerSpec:
    headers = (
        ("X-Forwarded-For", "true"),
        ("X-Forwarded-Port", "True"),
        ("X-Forwarded-Proto", "TRUE"),
        ("X-Real-IP", "true"),
    )
    web = listener(
        "listener-1",
        default_pool_id="pool-1",
        insert_headers=headers,
        allowed_cidrs=("198.51.100.0/24", "192.0.2.0/24", "2001:db8::/32"),
    )
    db = listener(
        "listener-2",
        Proto.TCP,
        5432,
        default_pool_id="pool-2",
        allowed_cidrs=("10.0.0.0/8",),
    )
    return loadbalancer(
        listeners=(web, db),
        pools=(
            pool("pool-1", members=two_members("member")),
            pool("pool-2", PoolProtocol.TCP, members=two_members("db", 5432)),
        ),
    )


def backup_and_weights_and_monitor_address() -> LoadBalancerSpec:
    members = (
        member("member-heavy", "192.0.2.11", weight=256),
        member("member-light", "192.0.2.12", weight=1, monitor_address="198.51.100.12"),
        member("member-drained", "192.0.2.13", weight=0, monitor_port=9000),
        member(
            "member-backup",
            "192.0.2.14",
            backup=True,
            monitor_address="198.51.100.14",
            monitor_port=9001,
        ),
    )
    web = pool(
        "pool-1",
        healthmonitor=healthmonitor(HealthMonitorType.HTTP, url_path="/healthz"),
        members=members,
    )
    return single_listener(Proto.HTTP, 80, web)


def proxy_protocols() -> LoadBalancerSpec:
    return loadbalancer(
        listeners=(
            listener(
                "listener-1",
                default_pool_id="pool-proxy",
                insert_headers=(("X-Forwarded-For", "true"), ("X-Forwarded-Proto", "true")),
            ),
            listener("listener-2", Proto.TCP, 8443, default_pool_id="pool-proxyv2"),
        ),
        pools=(
            pool("pool-proxy", PoolProtocol.PROXY, members=two_members("member")),
            pool(
                "pool-proxyv2",
                PoolProtocol.PROXYV2,
                LbAlgorithm.LEAST_CONNECTIONS,
                members=two_members("other", 8443),
            ),
        ),
    )


def admin_down_everywhere() -> LoadBalancerSpec:
    """Every object below an enabled load balancer disabled once."""
    policy = l7policy(
        "policy-1",
        Action.REDIRECT_TO_POOL,
        1,
        l7rule("rule-1", Rule.PATH, Compare.STARTS_WITH, "/a"),
        redirect_pool_id="pool-2",
    )
    return loadbalancer(
        listeners=(
            listener("listener-off", port=81, default_pool_id="pool-1", admin_state_up=False),
            listener("listener-1", default_pool_id="pool-1", l7policies=(policy,)),
            listener("listener-2", port=82, default_pool_id="pool-off"),
        ),
        pools=(
            pool(
                "pool-1",
                healthmonitor=healthmonitor(HealthMonitorType.HTTP, admin_state_up=False),
                members=(
                    member("member-on", "192.0.2.11"),
                    member("member-off", "192.0.2.12", admin_state_up=False),
                ),
            ),
            pool("pool-2", members=(member("member-2", "192.0.2.13"),), admin_state_up=True),
            pool("pool-off", admin_state_up=False, members=(member("member-3", "192.0.2.14"),)),
        ),
    )


def disabled_loadbalancer() -> LoadBalancerSpec:
    return replace(http_round_robin(), admin_state_up=False)


def empty_loadbalancer() -> LoadBalancerSpec:
    return loadbalancer()


def shared_pool_and_pending_delete() -> LoadBalancerSpec:
    """One pool behind two listeners (two backends); PENDING_DELETE objects are left out."""
    leaving = l7policy(
        "policy-leaving",
        Action.REJECT,
        1,
        l7rule("rule-leaving", Rule.PATH, Compare.EQUAL_TO, "/"),
        provisioning_status=PENDING_DELETE,
    )
    return loadbalancer(
        listeners=(
            listener("listener-1", default_pool_id="pool-1", l7policies=(leaving,)),
            listener("listener-2", port=8080, default_pool_id="pool-1", connection_limit=0),
            listener(
                "listener-leaving",
                port=81,
                default_pool_id="pool-1",
                provisioning_status=PENDING_DELETE,
            ),
        ),
        pools=(
            pool(
                "pool-1",
                members=(
                    member("member-1", "192.0.2.11"),
                    member("member-leaving", "192.0.2.12", provisioning_status=PENDING_DELETE),
                ),
                healthmonitor=healthmonitor(
                    HealthMonitorType.TCP, provisioning_status=PENDING_DELETE
                ),
            ),
        ),
    )


def connection_limits_and_timeouts() -> LoadBalancerSpec:
    return loadbalancer(
        listeners=(
            listener(
                "listener-1",
                default_pool_id="pool-1",
                connection_limit=100,
                timeout_client_data=1000,
                timeout_member_connect=200,
                timeout_member_data=3000,
            ),
            listener("listener-2", Proto.TCP, 9000, default_pool_id="pool-2", connection_limit=250),
        ),
        pools=(
            pool("pool-1", members=two_members("member")),
            pool("pool-2", PoolProtocol.TCP, members=two_members("other", 9000)),
        ),
    )


def ipv6_and_additional_vips() -> LoadBalancerSpec:
    web = pool(
        "pool-1",
        healthmonitor=healthmonitor(HealthMonitorType.TCP),
        members=(
            member("member-1", "2001:db8::11"),
            member("member-2", "2001:db8::12", monitor_address="2001:db8::99"),
        ),
    )
    front = listener("listener-1", default_pool_id="pool-1", allowed_cidrs=("2001:db8::/32",))
    return loadbalancer(
        vip_address="2001:db8::10",
        additional_vips=(
            AdditionalVipSpec(subnet_id="subnet-2", ip_address="203.0.113.20"),
            AdditionalVipSpec(subnet_id="subnet-3"),
        ),
        listeners=(front,),
        pools=(web,),
    )


def unsupported_listeners() -> LoadBalancerSpec:
    """What HAProxy does not serve here: UDP (nginx stream), and what later steps render."""
    return loadbalancer(
        listeners=(
            listener("listener-http", default_pool_id="pool-tls"),
            listener("listener-udp", Proto.UDP, 53, default_pool_id="pool-udp"),
            listener("listener-sctp", Proto.SCTP, 3868),
            listener(
                "listener-tls", Proto.TERMINATED_HTTPS, 443, default_tls_container_ref="cert-1"
            ),
            listener("listener-metrics", Proto.PROMETHEUS, 9100),
        ),
        pools=(
            pool("pool-tls", tls_enabled=True, members=two_members("member", 8443)),
            pool("pool-udp", PoolProtocol.UDP, members=two_members("dns", 53)),
        ),
    )


SCENARIOS: dict[str, Callable[[], LoadBalancerSpec]] = {
    builder.__name__: builder
    for builder in (
        http_round_robin,
        https_passthrough,
        tcp_source_ip,
        source_ip_port,
        tcp_listener_with_http_pool,
        http_cookie_persistence,
        app_cookie_persistence,
        cookie_persistence_in_tcp_mode,
        monitor_http,
        monitor_https,
        monitor_tcp,
        monitor_tls_hello,
        monitor_ping,
        l7_every_rule_and_action,
        allowed_cidrs_and_headers,
        backup_and_weights_and_monitor_address,
        proxy_protocols,
        admin_down_everywhere,
        disabled_loadbalancer,
        empty_loadbalancer,
        shared_pool_and_pending_delete,
        connection_limits_and_timeouts,
        ipv6_and_additional_vips,
        unsupported_listeners,
    )
}
