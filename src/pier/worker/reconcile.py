"""One idempotent pass over one load balancer: lease -> load + observe -> plan -> apply -> record.

Create, update, delete, failover and crash recovery all come through here; the pass reads the
database for what is wanted and the drivers for what is, and closes the gap. Failures are typed
(controller-runtime's terminal vs requeue): `PermanentDriverError`, an inconsistent tree, or too
many attempts record ERROR with a reason; anything else keeps PENDING_* and asks for a retry
with exponential backoff. Nothing here raises for one load balancer's trouble.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from pier.amphora.haproxy_config import HaproxyLimits
from pier.db.engine import SessionFactory, transaction
from pier.db.snapshot import load_spec
from pier.db.tables.lbaas import Amphora
from pier.db.tables.worker import (
    lease_owner,
    lease_owners,
    release_lease,
    release_leases_of,
    take_lease,
)
from pier.domain.enums import AmphoraRole, AmphoraStatus
from pier.domain.errors import PermanentDriverError, TransientDriverError
from pier.domain.rules import check_consistent
from pier.domain.spec import LoadBalancerSpec
from pier.drivers.compute.base import Compute, ComputeState
from pier.drivers.network.base import Network
from pier.worker import resync
from pier.worker.actions import ActionContext, apply
from pier.worker.owner import ProcessIdentity, is_dead, this_process
from pier.worker.plan import (
    AMPHORA_LIMITS,
    Action,
    ObservedAmphora,
    ObservedLoadBalancer,
    describe,
    plan,
)
from pier.worker.record import is_stale, load_tree, record_converged, record_failed

logger = logging.getLogger(__name__)


class OutcomeKind(StrEnum):
    CONVERGED = "converged"  # recorded ACTIVE / DELETED (or there was nothing to do)
    FAILED = "failed"  # recorded ERROR with a reason
    RETRY = "retry"  # still PENDING_*: a transient failure, or a write landed mid-pass
    BUSY = "busy"  # another worker holds the lease; it will finish the job
    MISSING = "missing"  # no such load balancer


@dataclass(frozen=True, slots=True)
class Outcome:
    loadbalancer_id: str
    kind: OutcomeKind
    actions: tuple[Action, ...] = ()
    reason: str | None = None
    # Seconds until the id should be reconciled again; None means do not requeue.
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class PassLog:
    """Every log line of a pass carries `loadbalancer_id` and `reconcile_id`."""

    loadbalancer_id: str
    reconcile_id: str

    def _extra(self, amphora_id: str | None) -> dict[str, str | None]:
        return {
            "loadbalancer_id": self.loadbalancer_id,
            "reconcile_id": self.reconcile_id,
            "amphora_id": amphora_id,
        }

    def log(self, level: int, message: str, *args: object, amphora_id: str | None = None) -> None:
        logger.log(level, message, *args, extra=self._extra(amphora_id))

    def exception(self, message: str, *args: object) -> None:
        logger.exception(message, *args, extra=self._extra(None))


class Reconciler:
    def __init__(
        self,
        sessions: SessionFactory,
        compute: Compute,
        network: Network,
        clock: Callable[[], datetime],
        *,
        max_attempts: int = 5,
        owner: str | None = None,
        lease_ttl: timedelta = timedelta(minutes=2),
        backoff_base_seconds: float = 1.0,
        backoff_cap_seconds: float = 60.0,
        limits: HaproxyLimits = AMPHORA_LIMITS,
    ) -> None:
        self.sessions = sessions
        self.compute = compute
        self.network = network
        self.clock = clock
        self.max_attempts = max_attempts
        self.identity: ProcessIdentity = this_process()
        self.owner = owner or self.identity.owner()
        self.lease_ttl = lease_ttl
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        self.limits = limits
        # Failed attempts per load balancer since its last recorded outcome (this process only).
        self._attempts: dict[str, int] = {}

    def reconcile(self, loadbalancer_id: str) -> Outcome:
        log = PassLog(loadbalancer_id, uuid.uuid4().hex[:12])
        if not self._lease(loadbalancer_id) and not (
            self._release_if_dead(loadbalancer_id) and self._lease(loadbalancer_id)
        ):
            log.log(logging.INFO, "another worker holds the lease")
            return Outcome(loadbalancer_id, OutcomeKind.BUSY, retry_after=self.backoff_base_seconds)
        try:
            return self._reconcile_leased(loadbalancer_id, log)
        finally:
            with transaction(self.sessions) as session:
                release_lease(session, loadbalancer_id, self.owner)

    def find_pending(self) -> list[str]:
        with transaction(self.sessions, write=False) as session:
            return resync.find_pending(session)

    def delete_orphan_amphorae(self) -> int:
        return resync.delete_orphan_amphorae(self.sessions, self.compute, self.network, self.clock)

    def release_dead_leases(self) -> int:
        """Leases of workers on this host whose process is gone (killed mid-pass): without
        this their load balancers would wait out the lease TTL before anyone resumes them.
        Run at start and at each resync (another worker of this host may have died).
        """
        with transaction(self.sessions) as session:
            dead = [owner for owner in lease_owners(session) if self._is_dead(owner)]
            released = release_leases_of(session, dead)
        if released:
            logger.warning(
                "released the leases of dead workers",
                extra={"owners": dead, "leases": released},
            )
        return released

    def _release_if_dead(self, loadbalancer_id: str) -> bool:
        """Drop this load balancer's lease if its holder is a dead worker of this host; True
        when it was (the caller takes it then).
        """
        with transaction(self.sessions) as session:
            holder = lease_owner(session, loadbalancer_id)
            if holder is None or not self._is_dead(holder):
                return False
            release_leases_of(session, [holder])
        logger.warning(
            "released the leases of a dead worker",
            extra={"owners": [holder], "loadbalancer_id": loadbalancer_id},
        )
        return True

    def _is_dead(self, owner: str) -> bool:
        return owner != self.owner and is_dead(owner, self.identity)

    def delete_stray_instances(self) -> int:
        return resync.delete_stray_instances(self.sessions, self.compute)

    def _lease(self, loadbalancer_id: str) -> bool:
        with transaction(self.sessions) as session:
            return take_lease(session, loadbalancer_id, self.owner, self.clock(), self.lease_ttl)

    def _reconcile_leased(self, loadbalancer_id: str, log: PassLog) -> Outcome:
        try:
            with transaction(self.sessions, write=False) as session:
                spec = load_spec(session, loadbalancer_id)
        except ValueError as error:  # a row holds a value no enum knows: retrying cannot help
            return self._fail(loadbalancer_id, f"Unreadable configuration: {error}", log)
        if spec is None:
            self._attempts.pop(loadbalancer_id, None)
            log.log(logging.INFO, "no such load balancer")
            return Outcome(loadbalancer_id, OutcomeKind.MISSING)
        problems = check_consistent(spec)
        if problems:
            return self._fail(loadbalancer_id, " ".join(problems), log)
        try:
            actions = self._converge(spec, log)
        except PermanentDriverError as error:
            return self._fail(loadbalancer_id, error.message, log)
        except Exception as error:
            # Transient errors, timeouts and anything unexpected from a driver: retry later.
            log.exception("pass interrupted, will retry")
            return self._retry(loadbalancer_id, _reason(error), log)
        return self._record(spec, actions, log)

    def _converge(self, spec: LoadBalancerSpec, log: PassLog) -> tuple[Action, ...]:
        actions = plan(spec, self._observe(spec.id), self.limits)
        context = ActionContext(spec, self.sessions, self.compute, self.network, self.clock)
        for action in actions:
            if not self._lease(spec.id):
                raise TransientDriverError("the reconcile lease expired and was taken over")
            log.log(logging.INFO, "%s", describe(action), amphora_id=_amphora_of(action))
            apply(action, context)
        return tuple(actions)

    def _observe(self, loadbalancer_id: str) -> ObservedLoadBalancer:
        query = (
            select(Amphora.id, Amphora.role, Amphora.status, Amphora.compute_id)
            .where(Amphora.loadbalancer_id == loadbalancer_id)
            .where(Amphora.status != AmphoraStatus.DELETED.value)
            .order_by(Amphora.created_at, Amphora.id)
        )
        with transaction(self.sessions, write=False) as session:
            rows = session.execute(query).all()
        return ObservedLoadBalancer(tuple(self._observe_amphora(*row) for row in rows))

    def _observe_amphora(
        self, amphora_id: str, role: str | None, status: str, compute_id: str | None
    ) -> ObservedAmphora:
        state, version = ComputeState.MISSING, None
        if compute_id is not None:
            state = self.compute.get_status(compute_id)
            if state is ComputeState.RUNNING:
                version = self.compute.get_config_version(compute_id)
        return ObservedAmphora(
            id=amphora_id,
            role=AmphoraRole(role) if role else None,
            status=AmphoraStatus(status),
            compute_id=compute_id,
            compute_state=state,
            config_version=version,
        )

    def _record(self, spec: LoadBalancerSpec, actions: tuple[Action, ...], log: PassLog) -> Outcome:
        with transaction(self.sessions) as session:
            tree = load_tree(session, spec.id)
            stale = tree is not None and is_stale(tree, spec)
            if tree is not None and not stale:
                record_converged(session, tree, spec, self.clock())
        if stale:
            log.log(logging.INFO, "the tree changed during the pass; reconciling again")
            return Outcome(spec.id, OutcomeKind.RETRY, actions, retry_after=0.0)
        self._attempts.pop(spec.id, None)
        log.log(logging.INFO, "converged after %d actions", len(actions))
        return Outcome(spec.id, OutcomeKind.CONVERGED, actions)

    def _retry(self, loadbalancer_id: str, reason: str, log: PassLog) -> Outcome:
        attempt = self._attempts.get(loadbalancer_id, 0) + 1
        if attempt >= self.max_attempts:
            return self._fail(loadbalancer_id, f"{reason} (gave up after {attempt} attempts)", log)
        self._attempts[loadbalancer_id] = attempt
        delay = min(self.backoff_base_seconds * 2 ** (attempt - 1), self.backoff_cap_seconds)
        log.log(logging.WARNING, "attempt %d failed: %s; retry in %.1fs", attempt, reason, delay)
        return Outcome(loadbalancer_id, OutcomeKind.RETRY, reason=reason, retry_after=delay)

    def _fail(self, loadbalancer_id: str, reason: str, log: PassLog) -> Outcome:
        self._attempts.pop(loadbalancer_id, None)
        with transaction(self.sessions) as session:
            tree = load_tree(session, loadbalancer_id)
            if tree is not None:
                record_failed(session, tree, reason, self.clock())
        log.log(logging.ERROR, "recorded ERROR: %s", reason)
        return Outcome(loadbalancer_id, OutcomeKind.FAILED, reason=reason)


def _reason(error: Exception) -> str:
    """Driver errors carry sentences for users; anything else is named by its type."""
    message, kind = str(error), type(error).__name__
    if isinstance(error, TransientDriverError):
        return message or kind
    return f"{kind}: {message}" if message else kind


def _amphora_of(action: Action) -> str | None:
    return getattr(action, "amphora_id", None)
