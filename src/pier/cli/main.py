"""`pier` entry point: each subcommand lives in its own module and registers itself here.

`pier agent` imports only its own module: it is what a host (re)starts when an agent dies,
and the controller's modules (the API, SQLAlchemy) would add over a second before it listens.
"""

import argparse
import importlib
import sys
from collections.abc import Sequence

from pier.log import configure_logging

DESCRIPTION = "Pier: load-balancing-as-a-service that speaks the OpenStack Octavia v2 API."
MODULES = ("up", "db", "identity", "demo", "agent")
STANDALONE = frozenset({"agent"})  # commands whose module registers only themselves


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command, or only `command` when its module stands alone."""
    parser = argparse.ArgumentParser(prog="pier", description=DESCRIPTION)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    commands = parser.add_subparsers(dest="command", required=True)
    names = (command,) if command in STANDALONE else MODULES
    for name in names:
        importlib.import_module(f"pier.cli.{name}").register(commands)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if it comes before any other argument."""
    arguments = list(argv)
    while arguments:
        argument = arguments.pop(0)
        if argument == "--log-level":
            arguments = arguments[1:]
        elif not argument.startswith("-"):
            return argument
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(arguments))
    args = parser.parse_args(arguments)
    configure_logging(args.log_level)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
