"""Health checks for members of UDP pools, which open-source nginx cannot check itself.

Semantics are Octavia's LVS checks (octavia-api.md §11): UDP-CONNECT sends a datagram and
counts an ICMP port unreachable (ECONNREFUSED on a connected socket) within `timeout` as a
failure, silence or a reply as a success, like `nc -uz`; TCP connects; HTTP expects a status.
A member starts UP (as nginx starts sending to it) and flips after `fall` consecutive failures
or `rise` consecutive successes, as in HAProxy.
"""

import http.client
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pier.domain.enums import HealthMonitorType
from pier.wire.udp_checks import MemberRef, MemberState, UdpCheck, UdpMember

LOG = logging.getLogger(__name__)

UP = "UP"
DOWN = "DOWN"
NO_CHECK = "no check"
MAINT = "MAINT"
DRAIN = "DRAIN"
# How often a waiting UDP probe looks whether the checker is stopping.
POLL_S = 0.1
MAX_PROBES_IN_FLIGHT = 8

Probe = Callable[[UdpCheck, threading.Event], bool]


@dataclass(frozen=True, slots=True)
class MemberHealth:
    up: bool = True
    streak: int = 0  # consecutive results that disagree with `up`


def observe(health: MemberHealth, ok: bool, check: UdpCheck) -> MemberHealth:
    """The health after one more check result: a flip needs `fall` failures in a row when UP,
    `rise` successes in a row when DOWN; one agreeing result resets the count.
    """
    if ok == health.up:
        return MemberHealth(health.up)
    streak = health.streak + 1
    if streak >= (check.fall if health.up else check.rise):
        return MemberHealth(not health.up)
    return MemberHealth(health.up, streak)


def member_status(member: UdpMember, *, marked_down: bool) -> str:
    """The heartbeat string for a member, in the precedence Octavia's LVS query uses:
    admin down, then failed checks, then weight 0, then checked or not.
    """
    if member.state is MemberState.DISABLED:
        return MAINT
    if member.check is not None and marked_down:
        return DOWN
    if member.state is MemberState.DRAINED:
        return DRAIN
    return UP if member.check is not None else NO_CHECK


def probe(check: UdpCheck, stopping: threading.Event) -> bool:
    """Run one check; True means the member passed it."""
    if check.type is HealthMonitorType.UDP_CONNECT:
        return probe_udp_connect(check.address, check.port, check.timeout, stopping)
    if check.type is HealthMonitorType.TCP:
        return probe_tcp(check.address, check.port, check.timeout)
    return probe_http(check)


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def probe_udp_connect(address: str, port: int, timeout: float, stopping: threading.Event) -> bool:
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((address, port))
            sock.send(b"X")  # what `nc -uz` sends
            deadline = time.monotonic() + timeout
            while (remaining := deadline - time.monotonic()) > 0 and not stopping.is_set():
                sock.settimeout(min(remaining, POLL_S))
                try:
                    sock.recv(4096)
                except TimeoutError:
                    continue
                return True  # the member answered
        except OSError:  # ECONNREFUSED from an ICMP port unreachable, or no route at all
            return False
    return True  # silence: a UDP service need not answer


def probe_tcp(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def probe_http(check: UdpCheck) -> bool:
    connection = http.client.HTTPConnection(check.address, check.port, timeout=check.timeout)
    try:
        headers = {"Host": check.domain_name} if check.domain_name else {}
        connection.request(check.http_method, check.url_path, headers=headers)
        return connection.getresponse().status in check.expected_codes
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class HealthChecker:
    """Checks every member that has a check, each `delay` seconds after its last result, on a
    few probe threads, and calls `on_result` after every result (cheap for the caller to
    compare and act on; the caller also retries what failed last time this way).
    """

    def __init__(
        self,
        members: Sequence[UdpMember],
        on_result: Callable[["HealthChecker"], None],
        *,
        initial: Mapping[MemberRef, MemberHealth] | None = None,
        probe: Probe = probe,
    ) -> None:
        self._checks = {m.ref: m.check for m in members if m.check is not None}
        self._health = {ref: (initial or {}).get(ref, MemberHealth()) for ref in self._checks}
        self._on_result = on_result
        self._probe = probe
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._results: queue.Queue[tuple[MemberRef, bool | None] | None] = queue.Queue()
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, min(MAX_PROBES_IN_FLIGHT, len(self._checks))),
            thread_name_prefix="pier-udp-probe",
        )
        self._thread = threading.Thread(target=self._run, name="pier-udp-health", daemon=True)

    @property
    def checks(self) -> Mapping[MemberRef, UdpCheck]:
        return self._checks

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop checking; returns once the scheduling thread ended (bounded by `timeout`).
        Probes under way end within their own timeout and are not waited for.
        """
        self._stopping.set()
        self._results.put(None)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def health(self) -> dict[MemberRef, MemberHealth]:
        with self._lock:
            return dict(self._health)

    def down(self) -> frozenset[MemberRef]:
        with self._lock:
            return frozenset(ref for ref, health in self._health.items() if not health.up)

    def _run(self) -> None:
        due = dict.fromkeys(self._checks, time.monotonic())  # first checks at once
        in_flight: set[MemberRef] = set()
        while not self._stopping.is_set():
            now = time.monotonic()
            for ref, at in due.items():
                if at <= now and ref not in in_flight:
                    in_flight.add(ref)
                    self._executor.submit(self._check, ref)
            waiting = [at for ref, at in due.items() if ref not in in_flight]
            try:
                item = self._results.get(timeout=max(0.0, min(waiting) - now) if waiting else None)
            except queue.Empty:
                continue
            if item is None:
                return
            ref, ok = item
            in_flight.discard(ref)
            due[ref] = time.monotonic() + self._checks[ref].delay
            if ok is not None:
                self._record(ref, ok)
            self._on_result(self)

    def _check(self, ref: MemberRef) -> None:
        try:
            ok: bool | None = self._probe(self._checks[ref], self._stopping)
        except Exception:  # noqa: BLE001 - a probe bug must not end this member's checks
            LOG.exception("UDP health probe failed", extra={"member_id": ref.member_id})
            ok = None
        self._results.put((ref, ok))

    def _record(self, ref: MemberRef, ok: bool) -> None:
        with self._lock:
            before = self._health[ref]
            after = self._health[ref] = observe(before, ok, self._checks[ref])
        if after.up != before.up:
            LOG.info(
                "UDP member health changed",
                extra={
                    "pool": ref.pool_key,
                    "member_id": ref.member_id,
                    "status": UP if after.up else DOWN,
                },
            )
