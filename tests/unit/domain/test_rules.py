import pytest

from pier.domain.enums import L7PolicyAction, ListenerProtocol, PoolProtocol, ProvisioningStatus
from pier.domain.rules import check_consistent
from pier.domain.spec import L7PolicySpec, LoadBalancerSpec
from tests.support.factories import lb_spec, listener_spec, member_spec, pool_spec


def policy(**overrides: object) -> L7PolicySpec:
    values: dict[str, object] = {
        "id": "policy-1",
        "provisioning_status": ProvisioningStatus.ACTIVE,
        "admin_state_up": True,
        "action": L7PolicyAction.REJECT,
        "position": 1,
    }
    return L7PolicySpec(**(values | overrides))  # type: ignore[arg-type]


def test_a_full_consistent_tree_has_no_problems() -> None:
    pool = pool_spec(members=(member_spec(), member_spec(address="192.0.2.11")))
    listener = listener_spec(
        default_pool_id=pool.id,
        l7policies=(policy(action=L7PolicyAction.REDIRECT_TO_POOL, redirect_pool_id=pool.id),),
    )
    assert check_consistent(lb_spec(listeners=(listener,), pools=(pool,))) == []


def test_default_pool_must_belong_to_the_load_balancer() -> None:
    spec = lb_spec(listeners=(listener_spec(id="l1", default_pool_id="elsewhere"),))
    assert check_consistent(spec) == [
        "Default pool elsewhere of listener l1 is not a pool of this load balancer."
    ]


def test_default_pool_protocol_must_suit_the_listener() -> None:
    pool = pool_spec(id="p1", protocol=PoolProtocol.TCP)
    spec = lb_spec(listeners=(listener_spec(id="l1", default_pool_id="p1"),), pools=(pool,))
    [problem] = check_consistent(spec)
    assert "pool protocol 'TCP'" in problem
    assert "listener protocol is 'HTTP'" in problem


@pytest.mark.parametrize(
    ("spec_policy", "expected"),
    [
        (policy(action=L7PolicyAction.REDIRECT_TO_POOL), "names none"),
        (policy(action=L7PolicyAction.REDIRECT_TO_POOL, redirect_pool_id="nope"), "not a pool"),
        (policy(action=L7PolicyAction.REDIRECT_TO_URL), "no redirect_url"),
        (policy(action=L7PolicyAction.REDIRECT_PREFIX), "no redirect_prefix"),
    ],
)
def test_l7_redirects_need_a_target(spec_policy: L7PolicySpec, expected: str) -> None:
    spec = lb_spec(listeners=(listener_spec(l7policies=(spec_policy,)),))
    [problem] = check_consistent(spec)
    assert expected in problem


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (ListenerProtocol.HTTP, ListenerProtocol.TCP, True),
        (ListenerProtocol.HTTPS, ListenerProtocol.TERMINATED_HTTPS, True),
        (ListenerProtocol.TCP, ListenerProtocol.UDP, False),
        (ListenerProtocol.UDP, ListenerProtocol.SCTP, False),
        (ListenerProtocol.UDP, ListenerProtocol.UDP, True),
    ],
)
def test_listener_ports_are_unique_per_port_family(
    first: ListenerProtocol, second: ListenerProtocol, clash: bool
) -> None:
    listeners = (
        listener_spec(protocol=first, protocol_port=443),
        listener_spec(protocol=second, protocol_port=443),
    )
    assert bool(check_consistent(lb_spec(listeners=listeners))) is clash


def test_duplicate_members_in_a_pool_are_reported() -> None:
    pool = pool_spec(id="p1", members=(member_spec(), member_spec()))
    assert check_consistent(lb_spec(pools=(pool,))) == [
        "Pool p1 has more than one member at 192.0.2.10 port 8080."
    ]


def test_objects_being_deleted_are_not_checked() -> None:
    leaving = ProvisioningStatus.PENDING_DELETE
    spec: LoadBalancerSpec = lb_spec(
        listeners=(
            listener_spec(protocol_port=80),
            listener_spec(protocol_port=80, provisioning_status=leaving, default_pool_id="x"),
        ),
        pools=(pool_spec(members=(member_spec(), member_spec(provisioning_status=leaving))),),
    )
    assert check_consistent(spec) == []
