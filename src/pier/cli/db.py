"""`pier db upgrade` (bring a database to the newest schema) and `pier db revision` (developers)."""

import argparse

from alembic import command

from pier.cli.options import add_common_options, settings_from_args
from pier.db.engine import make_engine
from pier.db.migrate import alembic_config, upgrade


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("db", help="database schema migrations")
    actions = parser.add_subparsers(dest="db_command", required=True)
    upgrade_parser = actions.add_parser("upgrade", help="migrate to the newest schema")
    add_common_options(upgrade_parser)
    upgrade_parser.set_defaults(handler=run_upgrade)
    revision = actions.add_parser("revision", help="autogenerate a migration from the tables")
    add_common_options(revision)
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(handler=run_revision)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(make_engine(settings.sqlalchemy_url))
    print(f"database at the newest schema: {make_engine(settings.sqlalchemy_url).url!r}")
    return 0


def run_revision(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    command.revision(
        alembic_config(settings.sqlalchemy_url), message=args.message, autogenerate=True
    )
    return 0
