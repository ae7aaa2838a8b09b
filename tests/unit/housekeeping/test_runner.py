"""Jobs run at start and then at their interval; a failing job does not stop the others."""

import threading

from pier.housekeeping.runner import Housekeeping, Job


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_job_runs_at_its_interval_and_failures_are_contained() -> None:
    clock, ran = Monotonic(), []

    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("the database is away")

    housekeeping = Housekeeping(
        [Job("often", 10, lambda: ran.append("often")), Job("broken", 30, broken)],
        monotonic=clock,
    )
    housekeeping.run_due()
    assert ran == ["often", "broken"]

    clock.now += 10
    housekeeping.run_due()
    assert ran == ["often", "broken", "often"]

    clock.now += 20
    housekeeping.run_due()
    assert ran[-2:] == ["often", "broken"]
    assert housekeeping.failures == {"often": 0, "broken": 2}


def test_run_stops_when_asked() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=Housekeeping([]).run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
