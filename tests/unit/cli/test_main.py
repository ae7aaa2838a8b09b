"""The entry point finds the subcommand before building the parser."""

import subprocess
import sys

import pytest

from pier.cli.main import _command, build_parser


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["agent", "--port", "1"], "agent"),
        (["--log-level", "DEBUG", "agent"], "agent"),
        (["--log-level=DEBUG", "up"], "up"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_is_the_first_positional_argument(argv: list[str], command: str) -> None:
    assert _command(argv) == command


def test_every_command_is_registered_without_a_command() -> None:
    help_text = build_parser().format_help()
    for name in ("up", "db", "identity", "clouds-yaml", "openrc", "demo", "agent"):
        assert name in help_text


def test_the_agent_starts_without_the_controllers_modules() -> None:
    script = (
        "import sys; from pier.cli.main import build_parser; "
        "build_parser('agent').parse_args(['agent', '--cert', 'c', '--key', 'k', '--ca', 'a']); "
        "print('sqlalchemy' in sys.modules, 'pier.api.app' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert output.split() == ["False", "False"]
