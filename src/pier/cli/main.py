"""`pier` entry point: each subcommand lives in its own module and registers itself here."""

import argparse
import logging
import sys
from collections.abc import Sequence

from pier.cli import db, identity, up


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pier", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (up, db, identity):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
