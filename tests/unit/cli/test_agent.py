"""`pier agent` options."""

import argparse
from pathlib import Path

import pytest

from pier.cli.main import build_parser


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["agent", "--cert", "c", "--key", "k", "--ca", "a", *argv])


def test_defaults() -> None:
    args = parse()
    assert (args.bind, args.port, args.state_dir) == ("127.0.0.1", 9443, Path(".pier/agent"))
    assert args.heartbeat_target == []
    assert args.heartbeat_interval == 10.0


def test_heartbeat_targets_repeat_and_accept_ipv6() -> None:
    args = parse("--heartbeat-target", "127.0.0.1:5555", "--heartbeat-target", "[::1]:5556")
    assert args.heartbeat_target == [("127.0.0.1", 5555), ("::1", 5556)]


@pytest.mark.parametrize("target", ["localhost", ":5555", "host:port"])
def test_malformed_targets_are_refused(target: str) -> None:
    with pytest.raises(SystemExit):
        parse("--heartbeat-target", target)


def test_certificates_are_required() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["agent"])
