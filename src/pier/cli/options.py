"""Options shared by every subcommand that touches the data dir or the database."""

import argparse
from dataclasses import replace
from pathlib import Path

from pier.settings import AuthMode, PolicyRoles, Settings


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".pier"),
        help="where the SQLite database, clouds.yaml and openrc live (.pier)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="SQLAlchemy URL (postgresql+psycopg://..., mysql+pymysql://...); "
        "default: SQLite in the data dir",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9876)
    parser.add_argument(
        "--auth", choices=[mode.value for mode in AuthMode], default=AuthMode.KEYSTONE.value
    )
    parser.add_argument(
        "--policy-roles",
        choices=[roles.value for roles in PolicyRoles],
        default=PolicyRoles.BOTH.value,
        help="role vocabulary of the default policy: both (Octavia's defaults with "
        "enforce_new_defaults=False), advanced (load-balancer_* roles only) or "
        "keystone_default_roles (reader/member/admin only)",
    )
    parser.add_argument(
        "--public-url", default="", help="base URL given to clients (default http://HOST:PORT)"
    )
    parser.add_argument("--static-token", default="", help="the token accepted with --auth token")
    parser.add_argument(
        "--external-keystone-url",
        default="",
        help="Keystone v3 URL whose tokens are accepted with --auth external",
    )
    parser.add_argument(
        "--accept-any-subnet",
        action="store_true",
        help="accept unknown subnet/network ids as Octavia's noop network "
        "driver does (for tempest's test_with_noop)",
    )


def add_dataplane_options(parser: argparse.ArgumentParser) -> None:
    """Where amphorae run and how they report: what `pier up` needs beyond the API."""
    defaults = Settings()
    parser.add_argument(
        "--compute-driver",
        choices=["local", "fake"],
        default="local",
        help="local: amphorae are HAProxy processes run by an agent on this host (default); "
        "fake: amphorae exist only in memory and carry no traffic (API tests)",
    )
    parser.add_argument(
        "--network-driver",
        choices=["loopback", "bridge", "records"],
        default="loopback",
        help="loopback: VIPs in --loopback-vip-cidr, bound on this host (default); "
        "bridge: networks as Linux bridges, each amphora in a namespace (root); "
        "records: ports are bookkeeping only (with --compute-driver fake)",
    )
    parser.add_argument("--bridge-public-cidr", default=defaults.bridge_public_cidr)
    parser.add_argument("--loopback-vip-cidr", default=defaults.loopback_vip_cidr)
    parser.add_argument("--agent-port", type=int, default=defaults.agent_port)
    parser.add_argument(
        "--health-port",
        type=int,
        default=defaults.health_port,
        help="UDP port of the health manager (heartbeats); 0 picks a free one",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        default=defaults.heartbeat_interval_seconds,
        help="seconds between an amphora's heartbeats",
    )
    parser.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=defaults.heartbeat_timeout_seconds,
        help="seconds without a heartbeat after which an amphora is failed over",
    )
    parser.add_argument(
        "--health-check-interval",
        type=float,
        default=defaults.health_check_interval_seconds,
        help="seconds between two looks for silent amphorae",
    )
    parser.add_argument(
        "--failover-breaker-share",
        type=float,
        default=defaults.failover_breaker_share,
        help="no automatic failover while more than this share of the amphorae are silent "
        "at once (a controller or network problem); 0 turns the breaker off",
    )
    parser.add_argument(
        "--failover-breaker-min",
        type=int,
        default=defaults.failover_breaker_min_amphorae,
        help="the breaker trips only when at least this many amphorae are silent",
    )
    parser.add_argument(
        "--spare-amphorae",
        type=int,
        default=defaults.spare_amphora_pool_size,
        help="amphorae kept ready for new load balancers to claim (0, the default: none)",
    )
    parser.add_argument(
        "--haproxy-max-connections", type=int, default=defaults.haproxy_max_connections
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        auth=AuthMode(args.auth),
        policy_roles=PolicyRoles(args.policy_roles),
        public_url=args.public_url,
        static_token=args.static_token,
        external_keystone_url=args.external_keystone_url,
        accept_any_subnet=args.accept_any_subnet,
    )
    if not hasattr(args, "compute_driver"):  # a command without add_dataplane_options
        return settings
    return replace(
        settings,
        compute_driver=args.compute_driver,
        network_driver=args.network_driver,
        loopback_vip_cidr=args.loopback_vip_cidr,
        bridge_public_cidr=args.bridge_public_cidr,
        agent_port=args.agent_port,
        health_port=args.health_port,
        heartbeat_interval_seconds=args.heartbeat_interval,
        heartbeat_timeout_seconds=args.heartbeat_timeout,
        health_check_interval_seconds=args.health_check_interval,
        failover_breaker_share=args.failover_breaker_share,
        failover_breaker_min_amphorae=args.failover_breaker_min,
        spare_amphora_pool_size=args.spare_amphorae,
        haproxy_max_connections=args.haproxy_max_connections,
    )
