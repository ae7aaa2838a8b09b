"""Operating status derivation: every row of octavia-api.md §9.4, and §9.3's liveness rule."""

from dataclasses import replace
from typing import Any

import pytest

from pier.domain.enums import OperatingStatus
from pier.health.status import (
    StatusChanges,
    StoredListener,
    StoredLoadBalancer,
    StoredMember,
    StoredPool,
    derive_statuses,
    refreshes_liveness,
)
from pier.wire.heartbeat import HeartbeatMessage, ListenerReport, PoolReport

LB, L1, L2, P1, P2, M1, M2 = "lb", "l1", "l2", "p1", "p2", "m1", "m2"


def stored(
    *,
    lb: dict[str, Any] | None = None,
    listeners: tuple[StoredListener, ...] | None = None,
    pools: tuple[StoredPool, ...] | None = None,
) -> StoredLoadBalancer:
    """An ACTIVE load balancer, one listener -> one pool with two members, all stored ONLINE."""
    return StoredLoadBalancer(
        **{
            "id": LB,
            "admin_state_up": True,
            "provisioning_status": "ACTIVE",
            "operating_status": "ONLINE",
            "listeners": (StoredListener(L1, True, "ONLINE"),) if listeners is None else listeners,
            "pools": (
                (
                    StoredPool(
                        P1, "ONLINE", (StoredMember(M1, "ONLINE"), StoredMember(M2, "ONLINE"))
                    ),
                )
                if pools is None
                else pools
            ),
            **(lb or {}),
        }
    )


def heartbeat(
    listeners: dict[str, str] | None = None,
    pools: dict[str, tuple[str, dict[str, str]]] | None = None,
) -> HeartbeatMessage:
    """Reported statuses; by default everything up (pool keys `<pool>:<listener>`)."""
    listeners = {L1: "OPEN"} if listeners is None else listeners
    pools = {f"{P1}:{L1}": ("UP", {M1: "UP", M2: "UP"})} if pools is None else pools
    return HeartbeatMessage(
        "amphora",
        1,
        listeners={lid: ListenerReport(status) for lid, status in listeners.items()},
        pools={key: PoolReport(status, members) for key, (status, members) in pools.items()},
    )


def up_with(**members: str) -> dict[str, tuple[str, dict[str, str]]]:
    return {f"{P1}:{L1}": ("UP", {M1: "UP", M2: "UP", **members})}


def all_offline() -> StoredLoadBalancer:
    """As the worker leaves a fresh tree: everything OFFLINE until heartbeats say more."""
    return stored(
        lb={"operating_status": "OFFLINE"},
        listeners=(StoredListener(L1, True, "OFFLINE"),),
        pools=(
            StoredPool(P1, "OFFLINE", (StoredMember(M1, "OFFLINE"), StoredMember(M2, "OFFLINE"))),
        ),
    )


def test_everything_up_brings_a_fresh_tree_online() -> None:
    changes = derive_statuses(all_offline(), heartbeat())

    assert changes == StatusChanges(
        loadbalancer=OperatingStatus.ONLINE,
        listeners={L1: OperatingStatus.ONLINE},
        pools={P1: OperatingStatus.ONLINE},
        members={M1: OperatingStatus.ONLINE, M2: OperatingStatus.ONLINE},
    )


def test_nothing_changed_means_nothing_to_write() -> None:
    changes = derive_statuses(stored(), heartbeat())

    assert changes.empty and changes == StatusChanges()


# Row: "LB admin_state_up false -> LB OFFLINE".
def test_a_disabled_loadbalancer_is_offline() -> None:
    changes = derive_statuses(stored(lb={"admin_state_up": False}), heartbeat({}, {}))

    assert changes.loadbalancer == "OFFLINE"


# Rows: "listener reported OPEN -> ONLINE", "FULL -> listener DEGRADED; LB DEGRADED (if ONLINE)".
@pytest.mark.parametrize(
    ("reported", "listener", "loadbalancer"),
    [("OPEN", "ONLINE", None), ("FULL", "DEGRADED", "DEGRADED")],
)
def test_listener_status(reported: str, listener: str, loadbalancer: str | None) -> None:
    base = stored(listeners=(StoredListener(L1, True, "OFFLINE"),))

    changes = derive_statuses(base, heartbeat({L1: reported}))

    assert changes.listeners == {L1: listener}
    assert changes.loadbalancer == loadbalancer


def test_a_full_listener_does_not_lift_a_disabled_loadbalancer_to_degraded() -> None:
    changes = derive_statuses(stored(lb={"admin_state_up": False}), heartbeat({L1: "FULL"}))

    assert changes.loadbalancer == "OFFLINE"


# Rows: "listener missing, enabled and LB ACTIVE -> ERROR"; "missing otherwise -> OFFLINE".
@pytest.mark.parametrize(
    ("listener_enabled", "lb_provisioning", "expected"),
    [
        (True, "ACTIVE", "ERROR"),
        (False, "ACTIVE", "OFFLINE"),
        (True, "PENDING_UPDATE", "OFFLINE"),
        (True, "ERROR", "OFFLINE"),
    ],
)
def test_a_missing_listener(listener_enabled: bool, lb_provisioning: str, expected: str) -> None:
    base = stored(
        lb={"provisioning_status": lb_provisioning},
        listeners=(StoredListener(L1, listener_enabled, "ONLINE"),),
    )

    changes = derive_statuses(base, heartbeat({}, {}))

    assert changes.listeners == {L1: expected}


def test_an_unknown_listener_status_changes_nothing_and_is_noted() -> None:
    changes = derive_statuses(stored(), heartbeat({L1: "STOP"}))

    assert changes.listeners == {}
    assert changes.unknown == (f"listener {L1} reported 'STOP'",)


def test_a_listener_haproxy_does_not_serve_is_left_alone() -> None:
    udp = StoredListener(L2, True, "OFFLINE", reported=False)

    changes = derive_statuses(
        stored(listeners=(StoredListener(L1, True, "ONLINE"), udp)), heartbeat()
    )

    assert L2 not in changes.listeners and changes.empty


def test_a_pool_haproxy_does_not_serve_is_left_alone_with_its_members() -> None:
    udp = StoredPool(P2, "ONLINE", (StoredMember(M2, "ONLINE"),), reported=False)
    base = stored(pools=(StoredPool(P1, "ONLINE"), udp))

    changes = derive_statuses(base, heartbeat(pools={f"{P1}:{L1}": ("UP", {})}))

    assert changes.empty


# Rows: "pool UP -> ONLINE"; "pool DOWN -> pool ERROR; LB ERROR".
@pytest.mark.parametrize(
    ("reported", "pool", "loadbalancer"), [("UP", "ONLINE", None), ("DOWN", "ERROR", "ERROR")]
)
def test_pool_status(reported: str, pool: str, loadbalancer: str | None) -> None:
    base = stored(pools=(StoredPool(P1, "OFFLINE"),))

    changes = derive_statuses(base, heartbeat(pools={f"{P1}:{L1}": (reported, {})}))

    assert changes.pools == {P1: pool}
    assert changes.loadbalancer == loadbalancer


# Row: "pool not reported by any listener -> OFFLINE" (its members are left as they are).
def test_a_pool_no_listener_reports_is_offline_and_its_members_untouched() -> None:
    changes = derive_statuses(stored(), heartbeat(pools={}))

    assert changes.pools == {P1: "OFFLINE"}
    assert changes.members == {} and changes.loadbalancer is None


def test_a_pool_behind_two_listeners_is_found_under_either_key() -> None:
    base = stored(pools=(StoredPool(P1, "OFFLINE"),))

    changes = derive_statuses(base, heartbeat(pools={f"{P1}:{L2}": ("UP", {})}))

    assert changes.pools == {P1: "ONLINE"}


# Rows: member UP…, DOWN…, DRAIN, MAINT, no check.
@pytest.mark.parametrize(
    ("reported", "member"),
    [
        ("UP", "ONLINE"),
        ("UP 1/3", "ONLINE"),
        ("DRAIN", "DRAINING"),
        ("MAINT", "OFFLINE"),
        ("no check", "NO_MONITOR"),
    ],
)
def test_member_status(reported: str, member: str) -> None:
    changes = derive_statuses(stored(), heartbeat(pools=up_with(m1=reported)))

    assert changes.members == ({M1: member} if member != "ONLINE" else {})
    assert changes.pools == {} and changes.loadbalancer is None


@pytest.mark.parametrize("reported", ["DOWN", "DOWN 2/3"])
def test_a_down_member_is_error_and_degrades_pool_and_loadbalancer(reported: str) -> None:
    changes = derive_statuses(stored(), heartbeat(pools=up_with(m1=reported)))

    assert changes.members == {M1: "ERROR"}
    assert changes.pools == {P1: "DEGRADED"}
    assert changes.loadbalancer == "DEGRADED"


def test_a_down_member_of_a_down_pool_leaves_the_pool_in_error() -> None:
    pools = {f"{P1}:{L1}": ("DOWN", {M1: "DOWN", M2: "DOWN"})}

    changes = derive_statuses(stored(), heartbeat(pools=pools))

    assert changes.pools == {P1: "ERROR"} and changes.loadbalancer == "ERROR"


def test_the_loadbalancer_only_worsens_a_full_listener_then_a_down_pool_is_error() -> None:
    base = stored(pools=(StoredPool(P1, "ONLINE"), StoredPool(P2, "ONLINE")))
    pools = {f"{P1}:{L1}": ("DOWN", {}), f"{P2}:{L1}": ("UP", {M1: "DOWN"})}

    changes = derive_statuses(base, heartbeat({L1: "FULL"}, pools))

    assert changes.loadbalancer == "ERROR"


def test_a_down_member_does_not_degrade_a_disabled_loadbalancer() -> None:
    base = stored(lb={"admin_state_up": False, "operating_status": "OFFLINE"})

    changes = derive_statuses(base, heartbeat(pools=up_with(m1="DOWN")))

    assert changes.pools == {P1: "DEGRADED"} and changes.loadbalancer is None


# Row: "member RESTARTING -> unchanged"; anything unknown is unchanged too, and noted.
@pytest.mark.parametrize(("reported", "noted"), [("RESTARTING", False), ("DRAIN 1/3", True)])
def test_member_statuses_left_unchanged(reported: str, noted: bool) -> None:
    base = stored(pools=(StoredPool(P1, "ONLINE", (StoredMember(M1, "ERROR"),)),))

    changes = derive_statuses(base, heartbeat(pools={f"{P1}:{L1}": ("UP", {M1: reported})}))

    assert changes.members == {}
    assert bool(changes.unknown) is noted


# Row: "member missing -> OFFLINE unless its stored status is NO_MONITOR".
@pytest.mark.parametrize(
    ("stored_status", "expected"), [("ONLINE", "OFFLINE"), ("NO_MONITOR", None)]
)
def test_a_member_missing_from_its_reported_pool(stored_status: str, expected: str | None) -> None:
    base = stored(pools=(StoredPool(P1, "ONLINE", (StoredMember(M1, stored_status),)),))

    changes = derive_statuses(base, heartbeat(pools={f"{P1}:{L1}": ("UP", {})}))

    assert changes.members == ({M1: expected} if expected else {})


def test_an_unknown_pool_status_leaves_the_pool_but_judges_its_members() -> None:
    changes = derive_statuses(
        stored(), heartbeat(pools={f"{P1}:{L1}": ("MAINT", {M1: "DOWN", M2: "UP"})})
    )

    assert changes.pools == {} and changes.members == {M1: "ERROR"}
    assert changes.loadbalancer is None  # a pool of unknown status is not ONLINE: no degrade
    assert changes.unknown == (f"pool {P1} reported 'MAINT'",)


def test_stored_statuses_compare_case_insensitively() -> None:
    base = stored(lb={"operating_status": "online"})

    assert derive_statuses(base, heartbeat()).loadbalancer is None


# §9.3: liveness only when the listener count matches, unless PENDING_* or disabled.
@pytest.mark.parametrize(
    ("lb", "reported", "refreshes"),
    [
        ({}, {L1: "OPEN"}, True),
        ({}, {}, False),
        ({}, {L1: "OPEN", L2: "OPEN"}, False),
        ({"provisioning_status": "PENDING_UPDATE"}, {}, True),
        ({"admin_state_up": False}, {}, True),
    ],
)
def test_liveness_needs_the_enabled_listener_count(
    lb: dict[str, Any], reported: dict[str, str], refreshes: bool
) -> None:
    assert refreshes_liveness(stored(lb=lb), heartbeat(reported)) is refreshes


def test_disabled_and_unreported_listeners_are_not_expected() -> None:
    listeners = (
        StoredListener(L1, True, "ONLINE"),
        StoredListener(L2, False, "OFFLINE"),
        StoredListener("udp", True, "OFFLINE", reported=False),
    )

    assert refreshes_liveness(stored(listeners=listeners), heartbeat())
    assert not refreshes_liveness(stored(listeners=listeners), heartbeat({}))


def test_a_loadbalancer_without_listeners_lives_on_an_empty_heartbeat() -> None:
    base = replace(stored(), listeners=(), pools=())

    assert refreshes_liveness(base, heartbeat({}, {}))
