"""The server-state dump carries health across a reload; weights and admin state come from
the configuration about to load.
"""

from pier.agent.server_state import align_server_state
from tests.unit.agent.configs import haproxy_text, members

HEADER = (
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port\n"
)


def server(name: str, op_state: int, admin: int, uweight: int, iweight: int) -> str:
    return (
        f"3 pool-1:listener-1 1 {name} 127.0.0.1 {op_state} {admin} {uweight} {iweight} "
        "12 6 3 4 6 0 0 0 - 8001 - 0 0 - - 0"
    )


def test_weights_and_admin_state_follow_the_new_configuration() -> None:
    # member-8001 was reweighted at runtime (5, configured 1); member-8002 forced down.
    dump = HEADER + "\n".join(
        [server("member-8001", 2, 0, 5, 1), server("member-8002", 0, 1, 1, 1)]
    )
    config = haproxy_text((*members(8001, weight=1), *members(8002, admin_state_up=False)))

    aligned = align_server_state(dump, config).splitlines()

    assert aligned[:2] == HEADER.splitlines()
    assert aligned[2] == server("member-8001", 2, 0, 1, 1)
    assert aligned[3] == server("member-8002", 0, 5, 1, 1)


def test_health_and_unknown_servers_pass_unchanged() -> None:
    dump = HEADER + server("gone", 0, 1, 9, 9) + "\n" + server("member-8001", 0, 0, 1, 1)

    aligned = align_server_state(dump, haproxy_text(members(8001, weight=3)))

    assert aligned.splitlines()[2] == server("gone", 0, 1, 9, 9)
    # Stopped (op state 0) stays stopped: the health is what the file is for.
    assert aligned.splitlines()[3] == server("member-8001", 0, 0, 3, 3)


def test_an_empty_dump_stays_empty() -> None:
    assert align_server_state("1\n", haproxy_text(members(8001))) == "1\n"
