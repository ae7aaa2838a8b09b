"""Notice the moment an amphora's HAProxy master exits, so the health manager hears it in the
next heartbeat, sent at once, rather than up to an interval (or a `heartbeat_timeout`) later.

Each running master is followed through a pidfd (Linux 5.3+), which becomes readable when the
process exits: no polling of /proc while all is well, whatever the number of amphorae. The
pid of a master stays the same across reloads (it re-executes itself), so a pidfd firing
means it stopped: killed, crashed, or stopped by the agent itself (a delete). The watcher does
not judge which; it calls `on_exit`, and the heartbeat says what the configuration needs that
no longer runs. Where pidfds are not available, it falls back to looking at every master each
rescan.
"""

import logging
import os
import selectors
import threading
from collections.abc import Callable, Mapping, Set

log = logging.getLogger(__name__)

RESCAN_S = 1.0  # how soon a master started since the last look is followed


class HaproxyWatcher:
    def __init__(
        self,
        masters: Callable[[Set[str]], Mapping[str, int]],
        on_exit: Callable[[str], None],
        *,
        rescan_seconds: float = RESCAN_S,
    ) -> None:
        """`masters(skip)` maps amphora id -> master pid for the amphorae not in `skip`
        (`AmphoraManager.haproxy_masters`).
        """
        self._masters = masters
        self._on_exit = on_exit
        self._rescan = rescan_seconds
        self._followed: dict[str, tuple[int, int]] = {}  # amphora id -> (pid, pidfd)
        self._use_pidfd = hasattr(os, "pidfd_open")

    def run(self, stop: threading.Event) -> None:
        with selectors.DefaultSelector() as selector:
            try:
                while not stop.is_set():
                    try:
                        self.check(selector)
                    except Exception:
                        log.exception("HAProxy watch round failed")
                        stop.wait(self._rescan)
            finally:
                for _, fd in self._followed.values():
                    if fd >= 0:
                        os.close(fd)
                self._followed.clear()

    def check(self, selector: selectors.BaseSelector) -> None:
        """Follow new masters, then wait up to one rescan for any followed one to exit."""
        if not self._use_pidfd:
            self._poll_without_pidfd()
            return
        for amphora_id, pid in self._masters(self._followed.keys()).items():
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:  # gone between the look and now
                self._exited(amphora_id, pid)
                continue
            except OSError as error:  # no pidfd here (old kernel, seccomp): poll instead
                log.warning("pidfd unavailable, polling HAProxy", extra={"error": str(error)})
                self._use_pidfd = False
                return
            self._followed[amphora_id] = (pid, fd)
            selector.register(fd, selectors.EVENT_READ, amphora_id)
        for key, _ in selector.select(self._rescan):
            amphora_id = key.data
            selector.unregister(key.fd)
            os.close(key.fd)
            pid, _ = self._followed.pop(amphora_id)
            self._exited(amphora_id, pid)

    def _poll_without_pidfd(self) -> None:
        running = self._masters(frozenset())
        for amphora_id, (pid, _) in list(self._followed.items()):
            if running.get(amphora_id) != pid:
                del self._followed[amphora_id]
                self._exited(amphora_id, pid)
        self._followed.update({a: (pid, -1) for a, pid in running.items()})
        threading.Event().wait(self._rescan)

    def _exited(self, amphora_id: str, pid: int) -> None:
        log.info("HAProxy master exited", extra={"amphora_id": amphora_id, "pid": pid})
        self._on_exit(amphora_id)
