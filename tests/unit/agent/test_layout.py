"""Amphora directories: valid names, the files HAProxy needs first, short socket paths."""

import os
from pathlib import Path

import pytest

from pier.agent.layout import (
    MAX_SOCKET_PATH,
    amphora_directory,
    ensure_files,
    is_valid_amphora_id,
    remove_alias,
)


@pytest.mark.parametrize("amphora_id", ["a", "3f1c0e2a-5b6d-4c7e-8f90-123456789abc", "amp_1.x"])
def test_ids_that_name_a_directory(amphora_id: str) -> None:
    assert is_valid_amphora_id(amphora_id)


@pytest.mark.parametrize("amphora_id", ["", ".", "..", "a..b", "a/b", ".hidden", "a b", "x" * 200])
def test_ids_that_do_not(amphora_id: str) -> None:
    assert not is_valid_amphora_id(amphora_id)


def test_a_short_state_dir_is_used_as_it_is(tmp_path: Path) -> None:
    directory = amphora_directory(Path("/var/lib/pier/agent"), "amphora-1")

    assert directory.path == directory.run_path == Path("/var/lib/pier/agent/amphorae/amphora-1")
    assert directory.stats_socket == directory.path / "stats.sock"


def test_ensure_files_writes_the_state_file_and_ping_script_once(tmp_path: Path) -> None:
    directory = amphora_directory(tmp_path, "amphora-1")
    ensure_files(directory)
    directory.server_state.write_text("1\n# dumped\n")

    ensure_files(directory)

    assert directory.server_state.read_text() == "1\n# dumped\n"
    script = directory.ping_script.read_text()
    assert script.startswith("#!/bin/sh") and '"$3"' in script
    assert os.access(directory.ping_script, os.X_OK)


def test_a_deep_state_dir_gets_a_short_private_alias(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    directory = amphora_directory(deep, "3f1c0e2a-5b6d-4c7e-8f90-123456789abc")
    assert len(str(directory.path / "master.sock")) > MAX_SOCKET_PATH

    ensure_files(directory)
    ensure_files(directory)

    assert len(str(directory.master_socket)) <= MAX_SOCKET_PATH
    assert directory.run_path.resolve() == directory.path.resolve()
    assert directory.run_path.parent.stat().st_mode & 0o777 == 0o700
    assert amphora_directory(deep, "3f1c0e2a-5b6d-4c7e-8f90-123456789abc") == directory
    remove_alias(directory)
    assert not directory.run_path.parent.exists()  # the last alias takes its directory along


def test_an_alias_directory_stays_while_another_amphora_uses_it(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    first, second = amphora_directory(deep, "amphora-1"), amphora_directory(deep, "amphora-2")
    ensure_files(first)
    ensure_files(second)

    remove_alias(first)

    assert second.run_path.resolve() == second.path.resolve()
    remove_alias(second)
    assert not second.run_path.parent.exists()
