"""Cross-object rules a spec must satisfy before its config is rendered and pushed.

The API enforces these on every write; the worker checks them again on the whole tree (like
go-control-plane's `Snapshot.Consistent()`), so a tree that is inconsistent for any reason
(a bug, a manual DB edit) lands in ERROR with a readable reason instead of reaching HAProxy.
Objects in PENDING_DELETE are leaving the tree and are not checked.
"""

from collections.abc import Iterator

from pier.domain.enums import (
    LISTENER_POOL_PROTOCOLS,
    TCP_PORT_FAMILY,
    L7PolicyAction,
    ListenerProtocol,
    ProvisioningStatus,
)
from pier.domain.spec import L7PolicySpec, ListenerSpec, LoadBalancerSpec, PoolSpec


def check_consistent(spec: LoadBalancerSpec) -> list[str]:
    """Every problem found, as sentences a user can read; an empty list means consistent."""
    return [
        *_listener_ports(spec),
        *_listener_pools(spec),
        *_l7policies(spec),
        *_members(spec),
    ]


def _live(status: ProvisioningStatus) -> bool:
    return status is not ProvisioningStatus.PENDING_DELETE


def _live_listeners(spec: LoadBalancerSpec) -> Iterator[ListenerSpec]:
    return (listener for listener in spec.listeners if _live(listener.provisioning_status))


def _port_family(protocol: ListenerProtocol) -> str:
    return "TCP" if protocol in TCP_PORT_FAMILY else protocol.value


def _listener_ports(spec: LoadBalancerSpec) -> Iterator[str]:
    seen: dict[tuple[str, int], str] = {}
    for listener in _live_listeners(spec):
        key = (_port_family(listener.protocol), listener.protocol_port)
        if key in seen:
            yield f"Listeners {seen[key]} and {listener.id} both use {key[0]} port {key[1]}."
        else:
            seen[key] = listener.id


def _check_pool_ref(
    spec: LoadBalancerSpec, listener: ListenerSpec, pool_id: str, what: str
) -> Iterator[str]:
    pool = spec.pool(pool_id)
    if pool is None:
        yield f"{what} {pool_id} of listener {listener.id} is not a pool of this load balancer."
    elif pool.protocol not in LISTENER_POOL_PROTOCOLS[listener.protocol]:
        yield (
            f"The pool protocol '{pool.protocol}' of pool {pool.id} is invalid while the "
            f"listener protocol is '{listener.protocol}' (listener {listener.id})."
        )


def _listener_pools(spec: LoadBalancerSpec) -> Iterator[str]:
    for listener in _live_listeners(spec):
        if listener.default_pool_id is not None:
            yield from _check_pool_ref(spec, listener, listener.default_pool_id, "Default pool")


def _l7policy_problems(
    spec: LoadBalancerSpec, listener: ListenerSpec, policy: L7PolicySpec
) -> Iterator[str]:
    if policy.action is L7PolicyAction.REDIRECT_TO_POOL:
        if policy.redirect_pool_id is None:
            yield f"L7 policy {policy.id} redirects to a pool but names none."
        else:
            yield from _check_pool_ref(spec, listener, policy.redirect_pool_id, "Redirect pool")
    elif policy.action is L7PolicyAction.REDIRECT_TO_URL and not policy.redirect_url:
        yield f"L7 policy {policy.id} redirects to a URL but has no redirect_url."
    elif policy.action is L7PolicyAction.REDIRECT_PREFIX and not policy.redirect_prefix:
        yield f"L7 policy {policy.id} redirects to a prefix but has no redirect_prefix."


def _l7policies(spec: LoadBalancerSpec) -> Iterator[str]:
    for listener in _live_listeners(spec):
        for policy in listener.l7policies:
            if _live(policy.provisioning_status):
                yield from _l7policy_problems(spec, listener, policy)


def _pool_members(pool: PoolSpec) -> Iterator[str]:
    seen: set[tuple[str, int]] = set()
    for member in pool.members:
        if not _live(member.provisioning_status):
            continue
        key = (member.address, member.protocol_port)
        if key in seen:
            yield f"Pool {pool.id} has more than one member at {key[0]} port {key[1]}."
        seen.add(key)


def _members(spec: LoadBalancerSpec) -> Iterator[str]:
    for pool in spec.pools:
        if _live(pool.provisioning_status):
            yield from _pool_members(pool)
