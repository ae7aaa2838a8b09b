"""Operating statuses from one heartbeat, exactly as Octavia's health manager derives them
(octavia-api.md §9.3, §9.4; Octavia's `UpdateHealthDb._update_health`). Pure.

Input: what the database holds for the amphora's load balancer (every listener, pool and
member with its admin state and stored operating status) and the amphora's latest heartbeat.
Output: only the statuses that change, so the writer writes nothing when nothing changed.

One Pier difference: listeners and pools no HAProxy proxy serves (`reported=False`: UDP,
which runs in nginx) cannot appear in a heartbeat. Octavia's amphora reports those through
LVS; Pier's agent does not yet, so their statuses are left as they are (a UDP pool is not
"OFFLINE" for want of a report) and such listeners are not counted as expected (counting
them would keep the amphora from ever looking alive).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from pier.domain.enums import OperatingStatus, ProvisioningStatus
from pier.wire.heartbeat import HeartbeatMessage, ListenerReport, PoolReport, pool_id_of

ONLINE, OFFLINE, DEGRADED, ERROR = (
    OperatingStatus.ONLINE,
    OperatingStatus.OFFLINE,
    OperatingStatus.DEGRADED,
    OperatingStatus.ERROR,
)


@dataclass(frozen=True, slots=True)
class StoredMember:
    id: str
    operating_status: str


@dataclass(frozen=True, slots=True)
class StoredPool:
    id: str
    operating_status: str
    members: tuple[StoredMember, ...] = ()
    reported: bool = True  # served by HAProxy, so heartbeats carry it


@dataclass(frozen=True, slots=True)
class StoredListener:
    id: str
    admin_state_up: bool
    operating_status: str
    reported: bool = True  # served by HAProxy, so heartbeats carry it


@dataclass(frozen=True, slots=True)
class StoredLoadBalancer:
    """The rows a heartbeat is judged against, in the database's order."""

    id: str
    admin_state_up: bool
    provisioning_status: str
    operating_status: str
    listeners: tuple[StoredListener, ...] = ()
    pools: tuple[StoredPool, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusChanges:
    """New operating statuses, only where they differ from the stored ones."""

    loadbalancer: OperatingStatus | None = None
    listeners: Mapping[str, OperatingStatus] = field(default_factory=dict)
    pools: Mapping[str, OperatingStatus] = field(default_factory=dict)
    members: Mapping[str, OperatingStatus] = field(default_factory=dict)
    # Reported statuses §9.4 does not know ("STOP", "MAINT (via x)"): left unchanged, logged.
    unknown: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.loadbalancer or self.listeners or self.pools or self.members)


def refreshes_liveness(loadbalancer: StoredLoadBalancer, message: HeartbeatMessage) -> bool:
    """§9.3: a heartbeat vouches for its amphora only when it reports as many listeners as
    are enabled, a check skipped while the load balancer is PENDING_* (listeners come and go)
    or disabled (its amphora runs no proxy). A partial report means a broken amphora.
    """
    if _is_pending(loadbalancer.provisioning_status) or not loadbalancer.admin_state_up:
        return True
    expected = sum(1 for lst in loadbalancer.listeners if lst.admin_state_up and lst.reported)
    return len(message.listeners) == expected


def _is_pending(status: str) -> bool:
    return status.startswith("PENDING_")


class _Derivation:
    """One pass over the tree; `lb` is the load balancer's status as it is worked out."""

    def __init__(self, loadbalancer: StoredLoadBalancer, message: HeartbeatMessage) -> None:
        self.stored = loadbalancer
        self.message = message
        # A heartbeat came, so the load balancer is healthy until proven otherwise.
        self.lb = ONLINE if loadbalancer.admin_state_up else OFFLINE
        self.listeners: dict[str, OperatingStatus] = {}
        self.pools: dict[str, OperatingStatus] = {}
        self.members: dict[str, OperatingStatus] = {}
        self.unknown: list[str] = []

    def listener(self, listener: StoredListener) -> None:
        report = self.message.listeners.get(listener.id)
        status = self._listener_status(listener, report)
        if status is not None and _differs(listener.operating_status, status):
            self.listeners[listener.id] = status

    def _listener_status(
        self, listener: StoredListener, report: ListenerReport | None
    ) -> OperatingStatus | None:
        if report is None:
            active = self.stored.provisioning_status == ProvisioningStatus.ACTIVE
            return ERROR if listener.admin_state_up and active else OFFLINE
        if report.status == "OPEN":  # HAProxy: sessions below maxconn
            return ONLINE
        if report.status == "FULL":
            if self.lb == ONLINE:
                self.lb = DEGRADED
            return DEGRADED
        self.unknown.append(f"listener {listener.id} reported {report.status!r}")
        return None

    def pool(self, pool: StoredPool, report: PoolReport | None) -> None:
        if report is None:  # no listener routes to it (or it is disabled): not in HAProxy
            if _differs(pool.operating_status, OFFLINE):
                self.pools[pool.id] = OFFLINE
            return
        status: OperatingStatus | None = None
        if report.status == "UP":  # HAProxy: some server works, or there are none
            status = ONLINE
        elif report.status == "DOWN":  # no server works
            status = ERROR
            self.lb = ERROR
        else:
            self.unknown.append(f"pool {pool.id} reported {report.status!r}")
        for member in pool.members:
            member_status, status = self._member_status(member, report, status)
            if member_status is not None and _differs(member.operating_status, member_status):
                self.members[member.id] = member_status
        if status is not None and _differs(pool.operating_status, status):
            self.pools[pool.id] = status

    def _member_status(
        self, member: StoredMember, report: PoolReport, pool: OperatingStatus | None
    ) -> tuple[OperatingStatus | None, OperatingStatus | None]:
        reported = report.members.get(member.id)
        if reported is None:
            # Not in the backend, e.g. created after the configuration HAProxy runs.
            keep = member.operating_status == OperatingStatus.NO_MONITOR
            return (None if keep else OFFLINE), pool
        if reported.startswith("UP"):  # "UP" or a transition such as "UP 1/3"
            return ONLINE, pool
        if reported.startswith("DOWN"):
            if pool == ONLINE:
                pool = DEGRADED
                if self.lb == ONLINE:
                    self.lb = DEGRADED
            return ERROR, pool
        known = {
            "DRAIN": OperatingStatus.DRAINING,
            "MAINT": OFFLINE,  # admin down: rendered `disabled`
            "no check": OperatingStatus.NO_MONITOR,
        }
        if reported in known:
            return known[reported], pool
        if reported != "RESTARTING":  # LVS restarting: wait for a settled status
            self.unknown.append(f"member {member.id} reported {reported!r}")
        return None, pool

    def changes(self) -> StatusChanges:
        lb = self.lb if _differs(self.stored.operating_status, self.lb) else None
        return StatusChanges(lb, self.listeners, self.pools, self.members, tuple(self.unknown))


def derive_statuses(loadbalancer: StoredLoadBalancer, message: HeartbeatMessage) -> StatusChanges:
    """§9.4, in Octavia's order: listeners, then pools (each with its members), then the load
    balancer, whose status only ever worsens on the way (ONLINE -> DEGRADED -> ERROR).
    """
    derivation = _Derivation(loadbalancer, message)
    for listener in loadbalancer.listeners:
        if listener.reported:
            derivation.listener(listener)
    # `<pool_id>:<listener_id>` -> pool id; a pool behind two listeners: the last one reported.
    reports = {pool_id_of(key): report for key, report in message.pools.items()}
    for pool in loadbalancer.pools:
        if pool.reported:
            derivation.pool(pool, reports.get(pool.id))
    return derivation.changes()


def _differs(stored: str, new: OperatingStatus) -> bool:
    return stored.upper() != new.value
