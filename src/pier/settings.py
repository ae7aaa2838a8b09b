"""One typed Settings object, built once by the CLI and passed in explicitly."""

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class AuthMode(StrEnum):
    KEYSTONE = "keystone"  # the embedded Keystone v3 subset (default)
    NOAUTH = "noauth"  # Octavia's noauth: project from X-Project-Id, everyone admin
    TOKEN = "token"  # noqa: S105 - a mode name; one static token that maps to a project and roles
    EXTERNAL = "external"  # tokens checked against an external Keystone


class PolicyRoles(StrEnum):
    """Which role vocabulary the default policy honours (shared/spec/octavia-api.md §5.1)."""

    # Octavia's in-code defaults with `enforce_new_defaults = False`: reader/member/admin
    # or the deprecated load-balancer_* roles.
    BOTH = "both"
    # Octavia's etc/policy/octavia-advanced-rbac-policy.yaml: load-balancer_* roles (and admin);
    # what the octavia-tempest-plugin's `RBAC_test_type = advanced` expects.
    ADVANCED = "advanced"
    # `enforce_new_defaults = True`: reader/member/admin only (`keystone_default_roles`).
    KEYSTONE_DEFAULT_ROLES = "keystone_default_roles"


@dataclass(frozen=True, slots=True)
class QuotaDefaults:
    loadbalancer: int = -1
    listener: int = -1
    pool: int = -1
    healthmonitor: int = -1
    member: int = -1
    l7policy: int = -1
    l7rule: int = -1


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 9876
    data_dir: Path = Path(".pier")
    # SQLAlchemy URL; empty means SQLite in data_dir.
    database_url: str = ""
    auth: AuthMode = AuthMode.KEYSTONE
    policy_roles: PolicyRoles = PolicyRoles.BOTH
    region: str = "RegionOne"
    # Public base URL clients are given (catalog, clouds.yaml); empty = http://host:port.
    public_url: str = ""
    token_lifetime_seconds: int = 3600
    static_token: str = ""
    static_token_project: str = "admin"  # noqa: S105 - a project name
    static_token_roles: tuple[str, ...] = ("admin",)
    noauth_default_project: str = "default"
    external_keystone_url: str = ""
    pagination_max_limit: int | None = 1000
    quota_defaults: QuotaDefaults = field(default_factory=QuotaDefaults)
    default_provider: str = "amphora"
    reserved_ips: tuple[str, ...] = ("169.254.169.254",)
    allow_ping_health_monitors: bool = True
    # Octavia's `udp_connect_min_interval_health_monitor`; negative disables the check.
    udp_connect_min_interval_health_monitor: int = 3
    # Octavia's noop network driver accepts any subnet id (tempest's test_with_noop).
    accept_any_subnet: bool = False
    compute_driver: str = "fake"
    network_driver: str = "records"
    # `local` compute: the agent `pier up` starts on this host (HTTPS, mutual TLS).
    agent_host: str = "127.0.0.1"
    agent_port: int = 9443
    # `loopback` network: where `public-subnet` (and so the VIPs) live; all of 127.0.0.0/8
    # is local on Linux, so HAProxy binds these without root.
    loopback_vip_cidr: str = "127.77.0.0/16"
    # `bridge` network: `public-subnet`, a bridge on this host holding the gateway (.1).
    bridge_public_cidr: str = "198.18.0.0/24"
    # HAProxy's global maxconn per amphora; each connection costs it two file descriptors,
    # and the agent's RLIMIT_NOFILE bounds them (20000 on these hosts).
    haproxy_max_connections: int = 4000
    # Heartbeats (octavia-api.md §9): amphora agents -> the health manager over UDP.
    health_bind: str = "127.0.0.1"
    health_port: int = 5555
    heartbeat_interval_seconds: float = 10.0
    heartbeat_timeout_seconds: float = 60.0
    health_check_interval_seconds: float = 3.0
    # The failover circuit breaker (on by default, unlike Octavia's `failover_threshold`):
    # when more than this share of the amphorae that send heartbeats, and at least
    # `failover_breaker_min_amphorae` of them, go silent together, the cause is the
    # controller's side (its network, its host), and failing them over would only add load.
    # They are marked FAILOVER_STOPPED instead. 0 turns the breaker off.
    failover_breaker_share: float = 0.5
    failover_breaker_min_amphorae: int = 3
    # The HMAC key; empty means "read or create data_dir/heartbeat.key".
    heartbeat_key: str = ""
    # Housekeeping (octavia-api.md §10). Certificates of the agent and the controller: their
    # lifetime, how long before expiry they are renewed (Octavia's cert_expiry_buffer), and
    # how often that is looked at.
    cert_lifetime_seconds: float = 30 * 86400.0
    cert_renew_before_seconds: float = 14 * 86400.0
    cert_check_interval_seconds: float = 3600.0
    # Spare amphorae kept READY for creates to claim (0: none, as in Octavia).
    spare_amphora_pool_size: int = 0
    spare_check_interval_seconds: float = 5.0
    # DELETED rows are purged once this old, looked for every cleanup interval.
    cleanup_interval_seconds: float = 30.0
    loadbalancer_expiry_age_seconds: float = 7 * 86400.0
    amphora_expiry_age_seconds: float = 7 * 86400.0
    resync_interval_seconds: float = 30.0
    reconcile_max_attempts: int = 5

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pier.db').resolve()}"
