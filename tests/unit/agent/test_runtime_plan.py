"""Old config, new config -> the runtime-API commands, or None when only a reload will do."""

from dataclasses import replace

from pier.agent.runtime_plan import RuntimeCommand, parse_servers, plan_runtime_changes
from pier.domain.enums import HealthMonitorType, LbAlgorithm
from tests.unit.agent.configs import haproxy_text, members

BACKEND = "pool-1:listener-1"


def lines(commands: list[RuntimeCommand] | None) -> list[str] | None:
    return None if commands is None else [command.line for command in commands]


def test_the_same_text_needs_nothing() -> None:
    text = haproxy_text(members(8001, 8002))
    assert plan_runtime_changes(text, text) == []


def test_an_added_member_is_added_then_enabled() -> None:
    old = haproxy_text(members(8001))
    new = haproxy_text(members(8001, 8002))

    commands = plan_runtime_changes(old, new)

    assert lines(commands) == [
        f"add server {BACKEND}/member-8002 127.0.0.1:8002 weight 1",
        f"enable server {BACKEND}/member-8002",
    ]
    assert commands is not None and commands[0].success == "New server registered."


def test_an_added_checked_member_gets_its_checks_enabled() -> None:
    old = haproxy_text(members(8001), monitor=HealthMonitorType.TCP)
    new = haproxy_text(members(8001, 8002), monitor=HealthMonitorType.TCP)

    assert lines(plan_runtime_changes(old, new)) == [
        f"add server {BACKEND}/member-8002 127.0.0.1:8002 weight 1 check inter 1s fall 3 rise 2",
        f"enable health {BACKEND}/member-8002",
        f"enable server {BACKEND}/member-8002",
    ]


def test_an_added_disabled_member_stays_in_maintenance() -> None:
    old = haproxy_text(members(8001))
    new = haproxy_text((*members(8001), *members(8002, admin_state_up=False)))

    assert lines(plan_runtime_changes(old, new)) == [
        f"add server {BACKEND}/member-8002 127.0.0.1:8002 weight 1"
    ]


def test_a_removed_member_goes_to_maintenance_then_is_deleted_when_idle() -> None:
    old = haproxy_text(members(8001, 8002))
    new = haproxy_text(members(8001))

    commands = plan_runtime_changes(old, new)

    assert lines(commands) == [
        f"set server {BACKEND}/member-8002 state maint",
        f"del server {BACKEND}/member-8002",
    ]
    assert commands is not None
    deletion = commands[1]
    assert (deletion.success, deletion.retry_until_idle, deletion.required) == (
        "Server deleted.",
        True,
        False,
    )


def test_weights_change_in_place_and_zero_drains() -> None:
    old = haproxy_text(members(8001, 8002))
    new = haproxy_text((*members(8001, weight=7), *members(8002, weight=0)))

    assert lines(plan_runtime_changes(old, new)) == [
        f"set server {BACKEND}/member-8001 weight 7",
        f"set server {BACKEND}/member-8002 weight 0",
    ]


def test_admin_state_maps_to_maint_and_ready() -> None:
    up = haproxy_text(members(8001))
    down = haproxy_text(members(8001, admin_state_up=False))

    assert lines(plan_runtime_changes(up, down)) == [
        f"set server {BACKEND}/member-8001 state maint"
    ]
    assert lines(plan_runtime_changes(down, up)) == [
        f"set server {BACKEND}/member-8001 state ready"
    ]


def test_additions_come_before_changes_and_removals() -> None:
    old = haproxy_text(members(8001, 8002))
    new = haproxy_text((*members(8001, weight=2), *members(8003)))

    assert lines(plan_runtime_changes(old, new)) == [
        f"add server {BACKEND}/member-8003 127.0.0.1:8003 weight 1",
        f"enable server {BACKEND}/member-8003",
        f"set server {BACKEND}/member-8001 weight 2",
        f"set server {BACKEND}/member-8002 state maint",
        f"del server {BACKEND}/member-8002",
    ]


def test_servers_of_every_listener_backend_are_planned() -> None:
    old = haproxy_text(members(8001), extra_ports=(8081,))
    new = haproxy_text(members(8001, weight=3), extra_ports=(8081,))

    assert lines(plan_runtime_changes(old, new)) == [
        f"set server {BACKEND}/member-8001 weight 3",
        "set server pool-1:listener-2/member-8001 weight 3",
    ]


def test_anything_but_servers_needs_a_reload() -> None:
    base = haproxy_text(members(8001))
    assert plan_runtime_changes(base, haproxy_text(members(8001), timeout_client=1000)) is None
    assert plan_runtime_changes(base, haproxy_text(members(8001), extra_ports=(8081,))) is None
    monitored = haproxy_text(members(8001), monitor=HealthMonitorType.HTTP)
    assert plan_runtime_changes(base, monitored) is None
    source = haproxy_text(members(8001), algorithm=LbAlgorithm.SOURCE_IP)
    assert plan_runtime_changes(base, source) is None


def test_a_member_whose_address_or_options_change_needs_a_reload() -> None:
    base = haproxy_text(members(8001))
    (moved,) = members(8001, address="127.0.0.2")
    assert plan_runtime_changes(base, haproxy_text((moved,))) is None
    backup = haproxy_text((replace(members(8001)[0], backup=True),))
    assert plan_runtime_changes(base, backup) is None


def test_lines_with_quotes_or_variables_are_never_planned() -> None:
    base = haproxy_text(members(8001))
    quoted = base.replace("weight 1", "weight 1 '# odd'")
    assert parse_servers(quoted) is None
    assert plan_runtime_changes(base, quoted) is None
    assert plan_runtime_changes(base, base.replace("weight 1", "weight x")) is None


def test_parse_servers_keys_by_backend_and_name() -> None:
    parsed = parse_servers(haproxy_text(members(8001, weight=4)))

    assert parsed is not None
    server = parsed.servers[f"{BACKEND}/member-8001"]
    assert (server.address, server.weight, server.disabled) == ("127.0.0.1:8001", 4, False)
    assert not any(line.strip().startswith("server ") for line in parsed.skeleton)
