from pathlib import Path

import pytest

from pier.db.engine import SessionFactory, transaction
from pier.db.snapshot import load_spec
from pier.domain.enums import (
    HealthMonitorType,
    HttpMethod,
    L7PolicyAction,
    L7RuleType,
    ListenerProtocol,
    ProvisioningStatus,
    SessionPersistenceType,
    Topology,
)
from pier.domain.spec import AdditionalVipSpec, SessionPersistenceSpec
from tests.support.factories import (
    make_healthmonitor,
    make_l7policy,
    make_l7rule,
    make_listener,
    make_loadbalancer,
    make_member,
    make_pool,
    make_sessions,
)


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_sessions(tmp_path)


def test_unknown_load_balancer_gives_none(sessions: SessionFactory) -> None:
    with transaction(sessions, write=False) as session:
        assert load_spec(session, "nope") is None


def test_rows_become_the_spec_tree(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        lb = make_loadbalancer(
            session,
            topology="ACTIVE_STANDBY",
            provisioning_status="PENDING_UPDATE",
            additional_vips=[{"subnet_id": "s2", "ip_address": "10.0.1.5"}],
        )
        pool = make_pool(
            session,
            lb,
            session_persistence={"type": "APP_COOKIE", "cookie_name": "sid"},
            tls_versions=["TLSv1.3"],
        )
        member = make_member(session, pool, weight=5, backup=True, monitor_port=9000)
        make_healthmonitor(session, pool, type="HTTPS", http_version=1.1, domain_name="x.test")
        listener = make_listener(
            session,
            lb,
            protocol="TERMINATED_HTTPS",
            protocol_port=443,
            default_pool_id=pool.id,
            insert_headers={"X-Forwarded-Proto": "true", "X-Forwarded-For": "true"},
            allowed_cidrs=["10.0.0.0/8"],
            timeout_client_data=1000,
            sni_container_refs=["ref-1"],
        )
        policy = make_l7policy(
            session, listener, action="REDIRECT_TO_POOL", redirect_pool_id=pool.id
        )
        make_l7rule(session, policy, type="HEADER", key="X-Env", value="blue", invert=True)
        lb_id = lb.id

    with transaction(sessions, write=False) as session:
        spec = load_spec(session, lb_id)

    assert spec is not None
    assert (spec.topology, spec.provisioning_status) == (
        Topology.ACTIVE_STANDBY, ProvisioningStatus.PENDING_UPDATE,
    )  # fmt: skip
    assert spec.additional_vips == (AdditionalVipSpec("s2", "10.0.1.5"),)
    [listener_spec] = spec.listeners
    assert listener_spec.protocol is ListenerProtocol.TERMINATED_HTTPS
    assert listener_spec.insert_headers == (
        ("X-Forwarded-For", "true"), ("X-Forwarded-Proto", "true"),
    )  # fmt: skip
    assert listener_spec.allowed_cidrs == ("10.0.0.0/8",)
    assert listener_spec.sni_container_refs == ("ref-1",)
    assert listener_spec.timeout_client_data == 1000
    [policy_spec] = listener_spec.l7policies
    assert (policy_spec.action, policy_spec.redirect_pool_id) == (
        L7PolicyAction.REDIRECT_TO_POOL, pool.id,
    )  # fmt: skip
    [rule] = policy_spec.rules
    assert (rule.type, rule.key, rule.value) == (L7RuleType.HEADER, "X-Env", "blue")
    assert rule.invert
    [pool_spec] = spec.pools
    assert pool_spec.session_persistence == SessionPersistenceSpec(
        SessionPersistenceType.APP_COOKIE, cookie_name="sid"
    )
    assert pool_spec.tls_versions == ("TLSv1.3",)
    [member_spec] = pool_spec.members
    assert (member_spec.id, member_spec.weight, member_spec.backup, member_spec.monitor_port) == (
        member.id, 5, True, 9000,
    )  # fmt: skip
    monitor = pool_spec.healthmonitor
    assert monitor is not None
    assert (monitor.type, monitor.http_method, monitor.http_version, monitor.domain_name) == (
        HealthMonitorType.HTTPS, HttpMethod.GET, 1.1, "x.test",
    )  # fmt: skip


def test_children_come_in_a_stable_order(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        lb = make_loadbalancer(session)
        listener = make_listener(session, lb)
        second = make_l7policy(session, listener, position=2)
        first = make_l7policy(session, listener, position=1)
        pool = make_pool(session, lb)
        members = [make_member(session, pool) for _ in range(3)]
        lb_id = lb.id

    with transaction(sessions, write=False) as session:
        spec = load_spec(session, lb_id)
        assert spec == load_spec(session, lb_id)

    assert spec is not None
    assert [p.id for p in spec.listeners[0].l7policies] == [first.id, second.id]
    assert [m.id for m in spec.pools[0].members] == [m.id for m in members]
    assert spec.pools[0].healthmonitor is None
    assert spec.pools[0].session_persistence is None
