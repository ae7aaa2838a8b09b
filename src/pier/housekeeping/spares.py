"""A pool of spare amphorae (off by default, as in Octavia): instances made ahead of need, so
a create claims a warm one (`pier.worker.actions`) instead of waiting for compute.

A spare is an amphora row with status READY and no load balancer, whose instance exists. The
pool is filled the crash-safe way creates are made: the row first (BOOTING, no load balancer),
then the instance named after it, then READY; a fill that died midway is finished by the next
run. Spares beyond the wanted size are marked PENDING_DELETE, which the worker's resync deletes
like any amphora without a load balancer.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select, update

from pier.db.base import new_id
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora
from pier.domain.enums import AmphoraRole, AmphoraStatus
from pier.drivers.compute.base import AmphoraRequest, Compute

log = logging.getLogger(__name__)

READY = AmphoraStatus.READY.value
BOOTING = AmphoraStatus.BOOTING.value


class SparePool:
    def __init__(
        self,
        sessions: SessionFactory,
        compute: Compute,
        clock: Callable[[], datetime],
        size: int,
    ) -> None:
        self._sessions = sessions
        self._compute = compute
        self._clock = clock
        self._size = size

    def run_once(self) -> int:
        """Bring the pool to its size; returns how many spares were made."""
        with transaction(self._sessions, write=False) as session:
            ready = list(session.scalars(self._spares(READY)))
            booting = list(session.scalars(self._spares(BOOTING)))
        for amphora_id in booting:  # fills a crash interrupted
            self._finish(amphora_id)
        have = len(ready) + len(booting)
        if have > self._size:
            self._retire(ready[: have - self._size])
            return 0
        for _ in range(self._size - have):
            self._finish(self._insert())
        return max(0, self._size - have)

    def _spares(self, status: str) -> Select[str]:
        return (
            select(Amphora.id)
            .where(Amphora.status == status)
            .where(Amphora.loadbalancer_id.is_(None))
            .order_by(Amphora.created_at, Amphora.id)
        )

    def _insert(self) -> str:
        amphora_id = new_id()
        with transaction(self._sessions) as session:
            session.add(Amphora(id=amphora_id, status=BOOTING, created_at=self._clock()))
        return amphora_id

    def _finish(self, amphora_id: str) -> None:
        instance = self._compute.find_amphora(amphora_id) or self._compute.create_amphora(
            AmphoraRequest(amphora_id=amphora_id, loadbalancer_id="", role=AmphoraRole.STANDALONE)
        )
        now = self._clock()
        with transaction(self._sessions) as session:
            session.execute(
                update(Amphora)
                .where(Amphora.id == amphora_id, Amphora.status == BOOTING)
                .where(Amphora.loadbalancer_id.is_(None))
                .values(
                    status=READY,
                    compute_id=instance.compute_id,
                    lb_network_ip=instance.lb_network_ip,
                    cert_expiration=instance.cert_expiration,
                    updated_at=now,
                )
            )
        log.info("spare amphora ready", extra={"amphora_id": amphora_id})

    def _retire(self, amphora_ids: list[str]) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(Amphora)
                .where(Amphora.id.in_(amphora_ids), Amphora.status == READY)
                .where(Amphora.loadbalancer_id.is_(None))
                .values(status=AmphoraStatus.PENDING_DELETE.value, updated_at=self._clock())
            )
        log.info("surplus spare amphorae retired", extra={"amphorae": amphora_ids})
