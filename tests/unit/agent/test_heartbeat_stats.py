"""`show stat` -> heartbeat, on output captured from a real HAProxy 2.6.12.

test_heartbeat_show_stat.csv is HAProxy's answer for a Pier-rendered configuration with three
listeners, plus an Octavia-style Prometheus frontend: pool 1 (HTTP monitor) has a member UP,
one DOWN, one admin down (MAINT), one at weight 0, one whose backend was just stopped
("UP 1/3") and one set to drain at runtime while failing ("DRAIN 1/3"); pool 2 (no monitor)
has members at weight 1 and 0 and one admin down; pool 3's only member is dead (backend DOWN).
Listener 1 has one open session, a bad request, and traffic.
"""

from pathlib import Path

import pytest

from pier.agent.heartbeat import heartbeat_from_stats, member_status, parse_show_stat
from pier.wire.heartbeat import ListenerReport, ListenerStats, PoolReport

SHOW_STAT = (Path(__file__).parent / "test_heartbeat_show_stat.csv").read_text()
AMPHORA = "3c8d2e1a-5b7f-4c9d-8e0f-1a2b3c4d5e6f"
L1, L2, L3 = (
    f"4e1b5f2c-000{n}-4000-8000-00000000000{c}" for n, c in ((1, "a"), (2, "b"), (3, "c"))
)
P1, P2, P3 = (f"9a7c3d10-000{n}-4000-8000-0000000000a{n}" for n in (1, 2, 3))


def member(n: int) -> str:
    return f"c0ffee00-0000-4000-8000-{n:012d}"


def test_frontends_become_listeners_with_haproxys_status_and_counters() -> None:
    message, counters = heartbeat_from_stats(AMPHORA, 7, SHOW_STAT, {})

    assert (message.amphora_id, message.seq, message.version) == (AMPHORA, 7, 3)
    # First heartbeat: every delta is the whole counter; conns is the current sessions.
    assert message.listeners == {
        L1: ListenerReport("OPEN", ListenerStats(tx=1452, rx=548, conns=1, totconns=7, ereq=1)),
        L2: ListenerReport("OPEN", ListenerStats(tx=0, rx=0, conns=0, totconns=0, ereq=0)),
        L3: ListenerReport("OPEN", ListenerStats(tx=217, rx=102, conns=0, totconns=1, ereq=0)),
    }
    assert counters[L1] == {"bin": 548, "bout": 1452, "stot": 7, "ereq": 1}


def test_the_prometheus_exporter_is_never_reported() -> None:
    message, counters = heartbeat_from_stats(AMPHORA, 1, SHOW_STAT, {})

    assert not any("prometheus" in name for name in [*message.listeners, *counters])


def test_backends_become_pools_with_member_statuses_as_octavias_amphora_reports_them() -> None:
    message, _ = heartbeat_from_stats(AMPHORA, 1, SHOW_STAT, {})

    assert message.pools == {
        f"{P1}:{L1}": PoolReport(
            "UP",
            {
                member(1): "UP",
                member(2): "DOWN",
                member(3): "MAINT",
                member(4): "DRAIN",  # HAProxy says UP at weight 0
                member(5): "UP 1/3",
                member(6): "DRAIN 1/3",
            },
        ),
        f"{P2}:{L2}": PoolReport(
            "UP", {member(7): "no check", member(8): "no check", member(9): "MAINT"}
        ),
        f"{P3}:{L3}": PoolReport("DOWN", {member(10): "DOWN"}),
    }


def test_version_3_sends_deltas_against_the_last_counters() -> None:
    last = {L1: {"bin": 500, "bout": 1000, "stot": 5, "ereq": 1}}

    message, counters = heartbeat_from_stats(AMPHORA, 2, SHOW_STAT, last)

    assert message.listeners[L1].stats == ListenerStats(tx=452, rx=48, conns=1, totconns=2, ereq=0)
    assert counters[L1] == {"bin": 548, "bout": 1452, "stot": 7, "ereq": 1}


def test_a_counter_below_its_last_value_means_haproxy_restarted_and_counts_whole() -> None:
    last = {L1: {"bin": 10_000, "bout": 1000, "stot": 50, "ereq": 0}}

    message, _ = heartbeat_from_stats(AMPHORA, 2, SHOW_STAT, last)

    assert message.listeners[L1].stats == ListenerStats(tx=452, rx=548, conns=1, totconns=7, ereq=1)


def test_counters_of_listeners_gone_from_haproxy_are_forgotten() -> None:
    _, counters = heartbeat_from_stats(AMPHORA, 2, SHOW_STAT, {"gone": {"bin": 1}})

    assert set(counters) == {L1, L2, L3}


def test_without_stats_the_heartbeat_has_no_listeners_and_the_counters_are_kept() -> None:
    last = {L1: {"bin": 1, "bout": 2, "stot": 3, "ereq": 4}}

    message, counters = heartbeat_from_stats(AMPHORA, 9, None, last)

    assert (message.listeners, message.pools, message.seq) == ({}, {}, 9)
    assert counters == last


@pytest.mark.parametrize("text", ["", "Unknown command.\n", "pxname,svname\nx,FRONTEND\n"])
def test_anything_but_show_stat_output_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="show stat"):
        parse_show_stat(text)


def test_backends_not_named_pool_colon_listener_are_not_pools() -> None:
    text = "# pxname,svname,status,weight\ninternal,BACKEND,UP,1\ninternal,s1,UP,1\n"

    message, _ = heartbeat_from_stats(AMPHORA, 1, text, {})

    assert message.pools == {}


@pytest.mark.parametrize(
    ("status", "weight", "reported"),
    [
        ("UP", "0", "DRAIN"),
        ("UP", "1", "UP"),
        ("UP 1/3", "0", "UP 1/3"),  # Octavia only rewrites a settled UP
        ("no check", "0", "no check"),
        ("DRAIN", "1", "DRAIN"),
        ("MAINT", "0", "MAINT"),
    ],
)
def test_member_status(status: str, weight: str, reported: str) -> None:
    assert member_status({"status": status, "weight": weight}) == reported
