"""The /proc and file helpers behind UdpProxy, on this test's own processes and files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pier.agent.udp_nginx import (
    children_of,
    command_line,
    file_size,
    is_master_of,
    nginx_group,
    process_stat,
    read_from,
    read_pid,
    read_text,
    tail,
    write_atomically,
)


def test_write_atomically_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text("old\n" * 100)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["nginx.conf"]


def test_reading_missing_files_gives_empty_answers(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert read_text(missing) is None
    assert file_size(missing) == 0
    assert read_from(missing, 10) == ""
    assert tail(missing) == ""
    assert read_pid(tmp_path) is None


def test_read_from_and_tail_read_what_was_appended(tmp_path: Path) -> None:
    log = tmp_path / "error.log"
    log.write_text("before\n")
    offset = file_size(log)
    with log.open("a") as file:
        file.write("[emerg] after\n")
    assert read_from(log, offset) == "[emerg] after\n"
    assert tail(log, size=6) == "after\n"


@pytest.mark.parametrize(("content", "pid"), [("1234\n", 1234), ("", None), ("12a\n", None)])
def test_read_pid(tmp_path: Path, content: str, pid: int | None) -> None:
    (tmp_path / "nginx.pid").write_text(content)
    assert read_pid(tmp_path) == pid


def test_a_child_is_seen_with_its_parent_group_and_command_line() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        stat = process_stat(child.pid)
        assert stat is not None
        assert stat[1:] == (os.getpid(), os.getpgid(0))
        assert child.pid in children_of(os.getpid())
        assert command_line(child.pid).startswith(sys.executable)
        assert nginx_group(os.getpgid(0)) == []  # no nginx here
        assert not is_master_of(child.pid, Path("/"))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def test_an_exited_unreaped_child_counts_as_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, still a zombie
    try:
        assert process_stat(child.pid) is None
        assert child.pid not in children_of(os.getpid())
    finally:
        child.wait(timeout=10)


def test_a_pid_that_does_not_exist() -> None:
    assert process_stat(2**22 + 1) is None
    assert command_line(2**22 + 1) == ""
