"""Smallest valid LBaaS rows, with keyword overrides (mitmproxy's `tflow` style).

    lb = make_loadbalancer(session, topology="ACTIVE_STANDBY")
    pool = make_pool(session, lb, provisioning_status="ACTIVE")
    make_member(session, pool, address="192.0.2.7")

Each factory adds the row and flushes, so ids are usable at once. Defaults are what the API
writes on create (PENDING_CREATE / OFFLINE); pass statuses to build any other state.
"""

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

import pier.db.tables  # noqa: F401  (registers every table)
from pier.db.base import Base, new_id
from pier.db.engine import SessionFactory, make_engine, make_session_factory
from pier.db.tables.lbaas import (
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
)
from pier.domain.enums import (
    LbAlgorithm,
    ListenerProtocol,
    PoolProtocol,
    ProvisioningStatus,
    Topology,
)
from pier.domain.spec import ListenerSpec, LoadBalancerSpec, MemberSpec, PoolSpec

T = TypeVar("T", bound=Base)
_counter = itertools.count(1)


def make_sessions(tmp_path: Path) -> SessionFactory:
    """A fresh SQLite database file with every table, and its session factory."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pier.db'}")
    Base.metadata.create_all(engine)
    return make_session_factory(engine)


def _add(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def _tick() -> datetime:
    """Distinct, increasing creation times, so children keep the order they were made in."""
    return datetime(2025, 1, 1, tzinfo=UTC).replace(microsecond=next(_counter) % 1_000_000)


def make_loadbalancer(session: Session, **overrides: Any) -> LoadBalancer:
    values: dict[str, Any] = {
        "id": new_id(),
        "project_id": "project-1",
        "name": "lb",
        "vip_address": "10.0.0.10",
        "vip_subnet_id": "subnet-1",
        "vip_network_id": "network-1",
        "vip_port_id": new_id(),
        "topology": "SINGLE",
        "provisioning_status": "PENDING_CREATE",
        "operating_status": "OFFLINE",
        "created_at": _tick(),
    }
    return _add(session, LoadBalancer(**(values | overrides)))


def make_listener(session: Session, loadbalancer: LoadBalancer, **overrides: Any) -> Listener:
    values: dict[str, Any] = {
        "loadbalancer_id": loadbalancer.id,
        "project_id": loadbalancer.project_id,
        "protocol": "HTTP",
        "protocol_port": 80,
        "created_at": _tick(),
    }
    return _add(session, Listener(**(values | overrides)))


def make_pool(session: Session, loadbalancer: LoadBalancer, **overrides: Any) -> Pool:
    values: dict[str, Any] = {
        "loadbalancer_id": loadbalancer.id,
        "project_id": loadbalancer.project_id,
        "protocol": "HTTP",
        "lb_algorithm": "ROUND_ROBIN",
        "created_at": _tick(),
    }
    return _add(session, Pool(**(values | overrides)))


def make_member(session: Session, pool: Pool, **overrides: Any) -> Member:
    values: dict[str, Any] = {
        "pool_id": pool.id,
        "project_id": pool.project_id,
        "address": f"192.0.2.{next(_counter) % 250 + 1}",
        "protocol_port": 8080,
        "operating_status": "NO_MONITOR",
        "created_at": _tick(),
    }
    return _add(session, Member(**(values | overrides)))


def make_healthmonitor(session: Session, pool: Pool, **overrides: Any) -> HealthMonitor:
    values: dict[str, Any] = {
        "pool_id": pool.id,
        "project_id": pool.project_id,
        "type": "HTTP",
        "delay": 5,
        "timeout": 3,
        "max_retries": 3,
        "http_method": "GET",
        "url_path": "/",
        "expected_codes": "200",
        "created_at": _tick(),
    }
    return _add(session, HealthMonitor(**(values | overrides)))


def make_l7policy(session: Session, listener: Listener, **overrides: Any) -> L7Policy:
    values: dict[str, Any] = {
        "listener_id": listener.id,
        "project_id": listener.project_id,
        "action": "REJECT",
        "position": 1,
        "created_at": _tick(),
    }
    return _add(session, L7Policy(**(values | overrides)))


def make_l7rule(session: Session, l7policy: L7Policy, **overrides: Any) -> L7Rule:
    values: dict[str, Any] = {
        "l7policy_id": l7policy.id,
        "project_id": l7policy.project_id,
        "type": "PATH",
        "compare_type": "STARTS_WITH",
        "value": "/api",
        "created_at": _tick(),
    }
    return _add(session, L7Rule(**(values | overrides)))


# Pure spec builders for tests of domain rules, rendering and planning (no database).


def listener_spec(**overrides: Any) -> ListenerSpec:
    values: dict[str, Any] = {
        "id": f"listener-{next(_counter)}",
        "provisioning_status": ProvisioningStatus.ACTIVE,
        "admin_state_up": True,
        "protocol": ListenerProtocol.HTTP,
        "protocol_port": 80,
    }
    return ListenerSpec(**(values | overrides))


def pool_spec(**overrides: Any) -> PoolSpec:
    values: dict[str, Any] = {
        "id": f"pool-{next(_counter)}",
        "provisioning_status": ProvisioningStatus.ACTIVE,
        "admin_state_up": True,
        "protocol": PoolProtocol.HTTP,
        "lb_algorithm": LbAlgorithm.ROUND_ROBIN,
    }
    return PoolSpec(**(values | overrides))


def member_spec(**overrides: Any) -> MemberSpec:
    values: dict[str, Any] = {
        "id": f"member-{next(_counter)}",
        "provisioning_status": ProvisioningStatus.ACTIVE,
        "admin_state_up": True,
        "address": "192.0.2.10",
        "protocol_port": 8080,
    }
    return MemberSpec(**(values | overrides))


def lb_spec(**overrides: Any) -> LoadBalancerSpec:
    values: dict[str, Any] = {
        "id": "lb-1",
        "project_id": "project-1",
        "provisioning_status": ProvisioningStatus.PENDING_CREATE,
        "admin_state_up": True,
        "topology": Topology.SINGLE,
        "vip_address": "10.0.0.10",
        "vip_port_id": "port-1",
    }
    return LoadBalancerSpec(**(values | overrides))


class ManualClock:
    """A clock that moves only when told: `clock()` is now, `clock.advance(seconds=5)`."""

    def __init__(self, start: datetime = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
