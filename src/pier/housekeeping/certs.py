"""Renew the agent's server certificate and the controller's client certificate before they
expire, and show the agent's expiry on its amphorae (`cert_expiration` in the amphora API).

`pier up`'s agent serves one certificate for all its amphorae, so renewal is per agent: issue
what is due (`LocalAgent.renew_certificates`, `cert_renew_before` ahead of expiry), restart the
agent to serve the new certificate (its HAProxy processes keep serving; the new agent adopts
them, within a second), and give the controller's client the new files. Requests caught by
the restart fail as transient and are retried by the worker.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, update

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora
from pier.domain.enums import AmphoraStatus
from pier.drivers.compute.local import LocalCompute
from pier.drivers.compute.local_agent import LocalAgent

log = logging.getLogger(__name__)


class CertificateRotation:
    def __init__(
        self,
        agent: LocalAgent,
        compute: LocalCompute,
        sessions: SessionFactory,
        clock: Callable[[], datetime],
    ) -> None:
        self._agent = agent
        self._compute = compute
        self._sessions = sessions
        self._clock = clock

    def run_once(self) -> bool:
        """True when certificates were renewed."""
        renewed = self._agent.renew_certificates()
        if renewed:
            self._agent.restart()
            self._compute.reload_certificates()
            log.info(
                "agent and controller certificates renewed",
                extra={"not_after": [when.isoformat() for when in self._agent.expirations or ()]},
            )
        self._record_expiration()
        return renewed

    def _record_expiration(self) -> None:
        if self._agent.expirations is None:
            return
        expiry = self._agent.expirations[0]
        with transaction(self._sessions) as session:
            session.execute(
                update(Amphora)
                .where(Amphora.status != AmphoraStatus.DELETED.value)
                .where(Amphora.compute_id.is_not(None))
                .where(or_(Amphora.cert_expiration.is_(None), Amphora.cert_expiration != expiry))
                .values(cert_expiration=expiry)
            )
