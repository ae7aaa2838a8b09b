"""Options shared by every subcommand that touches the data dir or the database."""

import argparse
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


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
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
