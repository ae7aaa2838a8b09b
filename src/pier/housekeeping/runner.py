"""Run housekeeping jobs, each at its own interval, in one thread of `pier up`.

A job that fails is logged and runs again at its next interval; nothing a job does is urgent
enough to retry sooner, and nothing it leaves half done is lost (each works from the database).
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], object]


class Housekeeping:
    def __init__(
        self, jobs: Sequence[Job], *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._jobs = list(jobs)
        self._monotonic = monotonic
        self._due = {job.name: monotonic() for job in self._jobs}  # every job runs at start
        self.runs: dict[str, int] = dict.fromkeys(self._due, 0)
        self.failures: dict[str, int] = dict.fromkeys(self._due, 0)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_due()
            stop.wait(self._wait())

    def run_due(self) -> None:
        for job in self._jobs:
            if self._monotonic() < self._due[job.name]:
                continue
            try:
                job.run()
            except Exception:
                self.failures[job.name] += 1
                log.exception("housekeeping job failed", extra={"job": job.name})
            self.runs[job.name] += 1
            self._due[job.name] = self._monotonic() + job.interval_seconds

    def _wait(self) -> float:
        soonest = min(self._due.values(), default=self._monotonic() + IDLE_WAIT_S)
        return max(0.0, min(IDLE_WAIT_S, soonest - self._monotonic()))
