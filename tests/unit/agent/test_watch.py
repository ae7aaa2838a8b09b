"""The HAProxy watcher with real processes (`sleep` standing in for an HAProxy master)."""

import selectors
import subprocess
import threading
from collections.abc import Iterator, Set

import pytest

from pier.agent.watch import HaproxyWatcher


@pytest.fixture
def process() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "60"])
    yield child
    child.kill()
    child.wait()


class Masters:
    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.asked: list[frozenset[str]] = []

    def __call__(self, skip: Set[str]) -> dict[str, int]:
        self.asked.append(frozenset(skip))
        return {a: pid for a, pid in self.pids.items() if a not in skip}


def test_an_exit_is_noticed_without_looking_again(process: subprocess.Popen[bytes]) -> None:
    masters, exited = Masters(), []
    masters.pids["a1"] = process.pid
    watcher = HaproxyWatcher(masters, exited.append, rescan_seconds=0.05)
    with selectors.DefaultSelector() as selector:
        watcher.check(selector)  # follows a1
        watcher.check(selector)  # a1 followed: not looked up again
        assert exited == []
        assert masters.asked == [frozenset(), frozenset({"a1"})]

        process.kill()
        process.wait()  # reaped, as the agent does with the masters it started
        watcher.check(selector)

    assert exited == ["a1"]


def test_a_zombie_counts_as_exited(process: subprocess.Popen[bytes]) -> None:
    """PID 1 of a container may never reap an adopted master: exit is what matters."""
    masters, exited = Masters(), []
    masters.pids["a1"] = process.pid
    watcher = HaproxyWatcher(masters, exited.append, rescan_seconds=0.05)
    with selectors.DefaultSelector() as selector:
        watcher.check(selector)
        process.kill()  # not waited for: a zombie until the fixture reaps it
        for _ in range(20):
            watcher.check(selector)
            if exited:
                break

    assert exited == ["a1"]


def test_a_pid_already_gone_is_reported(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    masters, exited = Masters(), []
    masters.pids["a1"] = process.pid
    with selectors.DefaultSelector() as selector:
        HaproxyWatcher(masters, exited.append, rescan_seconds=0.05).check(selector)

    assert exited == ["a1"]


def test_run_stops_when_asked(process: subprocess.Popen[bytes]) -> None:
    masters = Masters()
    masters.pids["a1"] = process.pid
    stop = threading.Event()
    thread = threading.Thread(
        target=HaproxyWatcher(masters, lambda _: None, rescan_seconds=0.05).run, args=(stop,)
    )
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
