"""The `# pier-` records of the UDP configuration: round trips, refusals and `down` marks."""

import pytest

from pier.domain.enums import HealthMonitorType
from pier.wire.udp_checks import (
    MemberRef,
    MemberState,
    UdpCheck,
    UdpListener,
    endpoint,
    find_marked_down,
    format_check_line,
    format_codes,
    format_listener_line,
    format_member_comment,
    mark_down,
    parse_codes,
    parse_endpoint,
    parse_udp_records,
    pool_key,
)

KEY = pool_key("pool-1", "listener-1")
ONE = MemberRef(KEY, "member-1")
TWO = MemberRef(KEY, "member-2")
UDP = UdpCheck(HealthMonitorType.UDP_CONNECT, "127.0.1.1", 53, delay=5, timeout=3, rise=2, fall=3)
HTTP = UdpCheck(
    HealthMonitorType.HTTP,
    "2001:db8::9",
    8080,
    delay=2,
    timeout=1,
    rise=1,
    fall=1,
    http_method="HEAD",
    url_path="/health check?full=1&x=%",
    expected_codes=(200, 201, 202, 301),
    domain_name="app.example.com",
)


def server(ref: MemberRef, params: str, state: MemberState = MemberState.ENABLED) -> str:
    return f"        server 127.0.1.1:53 {params};  {format_member_comment(ref, state)}"


def config(*lines: str) -> str:
    return "\n".join(["stream {", "    upstream u {", *lines, "    }", "}"]) + "\n"


def test_pool_key_is_octavias_heartbeat_key() -> None:
    assert KEY == "pool-1:listener-1"


@pytest.mark.parametrize(
    ("address", "port", "text"),
    [("127.0.1.1", 53, "127.0.1.1:53"), ("2001:db8::1", 5353, "[2001:db8::1]:5353")],
)
def test_endpoints_round_trip(address: str, port: int, text: str) -> None:
    assert endpoint(address, port) == text
    assert parse_endpoint(text) == (address, port)


@pytest.mark.parametrize("text", ["127.0.1.1", "127.0.1.1:0", "127.0.1.1:65536", "host:53", ":53"])
def test_bad_endpoints_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text)


def test_codes_are_written_as_ranges_and_read_back() -> None:
    assert format_codes([301, 200, 202, 201, 200]) == "200-202,301"
    assert parse_codes("200-202,301") == (200, 201, 202, 301)


@pytest.mark.parametrize("text", ["", "abc", "99", "600", "204-200"])
def test_bad_codes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_codes(text)


@pytest.mark.parametrize(
    "check", [UDP, HTTP, UdpCheck(HealthMonitorType.TCP, "127.0.1.2", 22, 1, 1, 1, 1)]
)
def test_a_check_line_reads_back_as_the_check_it_was_written_from(check: UdpCheck) -> None:
    text = config(f"        {format_check_line(ONE, check)}", server(ONE, "weight=1"))
    (member,) = parse_udp_records(text).members
    assert member.check == check


def test_a_check_line_is_one_line_of_words() -> None:
    line = format_check_line(ONE, HTTP)
    assert "\n" not in line
    assert line == (
        "# pier-check pool-1:listener-1 member-1 [2001:db8::9]:8080 type=HTTP delay=2 timeout=1"
        " rise=1 fall=1 method=HEAD path=/health%20check%3Ffull%3D1%26x%3D%25"
        " codes=200-202,301 host=app.example.com"
    )


def test_records_give_listeners_and_members_in_file_order() -> None:
    text = "\n".join(
        [
            config(
                f"        {format_check_line(TWO, UDP)}",
                server(TWO, "weight=2"),
                server(ONE, "weight=1 down", MemberState.DISABLED),
            ),
            f"    {format_listener_line('listener-1', KEY)}",
        ]
    )
    records = parse_udp_records(text)
    assert records.listeners == (UdpListener("listener-1", KEY),)
    assert [(m.ref, m.state, m.check) for m in records.members] == [
        (TWO, MemberState.ENABLED, UDP),
        (ONE, MemberState.DISABLED, None),
    ]
    assert (records.members[0].address, records.members[0].port) == ("127.0.1.1", 53)


def test_lines_that_are_not_records_are_ignored() -> None:
    text = config("        # a comment", "        server 127.0.1.9:53 weight=1;", "hash $x;")
    assert parse_udp_records(text).members == ()


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["        # pier-member pool-1:listener-1 member-1 enabled"], "not a pier record"),
        ([server(ONE, "weight=1", MemberState.ENABLED).replace("enabled", "gone")], "gone"),
        ([server(ONE, "weight=1"), server(ONE, "weight=1")], "twice"),
        ([f"        {format_check_line(ONE, UDP)}"], "no such checked member"),
        (
            [f"        {format_check_line(ONE, UDP)}", server(ONE, "down", MemberState.DISABLED)],
            "no such checked member",
        ),
        (
            [f"        {format_check_line(ONE, UDP)}"] * 2 + [server(ONE, "weight=1")],
            "checked twice",
        ),
        ([f"        {format_check_line(ONE, UDP)} extra", server(ONE, "weight=1")], "name=value"),
        ([f"        {format_check_line(ONE, UDP)} x=1", server(ONE, "weight=1")], "unknown"),
        (
            [f"        {format_check_line(ONE, UDP).replace('UDP-CONNECT', 'SCTP')}"],
            "not supported",
        ),
        (
            [f"        {format_check_line(ONE, UDP).replace('delay=5', 'delay=0')}"],
            "at least 1",
        ),
        ([f"        {format_check_line(ONE, UDP).replace(' rise=2', '')}"], "invalid literal"),
    ],
)
def test_a_broken_record_is_refused_with_its_line(lines: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=r"^line \d+: .*" + problem):
        parse_udp_records(config(*lines))


def test_mark_down_adds_down_to_the_named_members_only() -> None:
    text = config(server(ONE, "weight=1 max_conns=10"), server(TWO, "weight=2"))
    served = mark_down(text, {ONE})
    assert served == text.replace("weight=1 max_conns=10;", "weight=1 max_conns=10 down;")
    assert find_marked_down(served) == {ONE}
    assert mark_down(served, {ONE}) == served  # idempotent
    assert mark_down(served, set()) == served  # it only adds: the pushed text is the base


def test_mark_down_keeps_line_endings_and_a_missing_final_newline() -> None:
    text = server(ONE, "weight=1") + "\r\n" + server(TWO, "weight=1")
    served = mark_down(text, {ONE, TWO})
    assert served.count("down;") == 2
    assert served.count("\r\n") == 1
    assert not served.endswith("\n")


def test_members_down_for_admin_reasons_are_not_reported_as_failed_checks() -> None:
    text = config(
        server(ONE, "weight=1 down", MemberState.DISABLED),
        server(TWO, "down", MemberState.DRAINED),
    )
    assert find_marked_down(mark_down(text, {ONE, TWO})) == set()
