"""The `# pier-...` records in the nginx UDP configuration: written by the controller, read by
the agent, which checks members itself because open-source nginx has no active health checks.

Three kinds of line, each complete in itself so the file is parsed line by line:

    # pier-listener <listener_id> <pool_key>           (first line of a `server` block)
    # pier-check <pool_key> <member_id> <addr>:<port> type=UDP-CONNECT delay=5 timeout=3 ...
    server <addr>:<port> weight=1;  # pier-member <pool_key> <member_id> enabled|disabled|drained

`pool_key` is Octavia's heartbeat pool key, `<pool_id>:<listener_id>`. A check line goes on with
`rise=` and `fall=`; HTTP checks add `method=`, `path=` (percent-encoded), `codes=`
(`200-204,301`) and optionally `host=`. The agent marks a member DOWN by adding `down` to its
`server` line (`mark_down`); nothing else in the text changes.
"""

import ipaddress
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import quote, unquote

from pier.domain.enums import HealthMonitorType

# Files the configuration names, relative to the prefix the agent runs nginx with
# (`nginx -p <amphora dir>/`); the agent finds nginx by this pid file.
PID_FILE = "nginx.pid"
ERROR_LOG = "nginx-error.log"
# What the agent can check: Octavia's LVS checks for UDP pools, minus SCTP (no raw SCTP here).
CHECK_TYPES = frozenset(
    {HealthMonitorType.UDP_CONNECT, HealthMonitorType.TCP, HealthMonitorType.HTTP}
)

_LISTENER = re.compile(r"^\s*#\s*pier-listener\s+(?P<listener>\S+)\s+(?P<pool>\S+)\s*$")
_CHECK = re.compile(
    r"^\s*#\s*pier-check\s+(?P<pool>\S+)\s+(?P<member>\S+)\s+(?P<target>\S+)(?P<options>.*)$"
)
_SERVER = re.compile(
    r"^(?P<head>\s*server\s+(?P<endpoint>\S+)(?P<params>[^;#]*));"
    r"(?P<tail>\s*#\s*pier-member\s+(?P<pool>\S+)\s+(?P<member>\S+)\s+(?P<state>\S+)\s*)$"
)
_PIER_RECORD = re.compile(r"^\s*(?:server\s.*)?#\s*pier-")


class MemberState(StrEnum):
    """A member's admin state as rendered; the agent's checks only ever add DOWN to it."""

    ENABLED = "enabled"
    DISABLED = "disabled"  # admin_state_up false: `down`, reported MAINT, not checked
    DRAINED = "drained"  # weight 0: `down` (nginx has no weight 0), reported DRAIN, checked


class MemberRef(NamedTuple):
    pool_key: str
    member_id: str


@dataclass(frozen=True, slots=True)
class UdpCheck:
    """One member's health check; delay and timeout in seconds, rise/fall in checks."""

    type: HealthMonitorType
    address: str
    port: int
    delay: int
    timeout: int
    rise: int
    fall: int
    http_method: str = "GET"
    url_path: str = "/"
    expected_codes: tuple[int, ...] = (200,)
    domain_name: str | None = None


@dataclass(frozen=True, slots=True)
class UdpMember:
    ref: MemberRef
    address: str
    port: int
    state: MemberState
    check: UdpCheck | None = None


@dataclass(frozen=True, slots=True)
class UdpListener:
    listener_id: str
    pool_key: str


@dataclass(frozen=True, slots=True)
class UdpRecords:
    listeners: tuple[UdpListener, ...]
    members: tuple[UdpMember, ...]


def pool_key(pool_id: str, listener_id: str) -> str:
    """Octavia's key for a pool as one listener uses it (the HAProxy backend name)."""
    return f"{pool_id}:{listener_id}"


def endpoint(address: str, port: int) -> str:
    """`addr:port`, IPv6 in brackets, as nginx and these records write it."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def parse_endpoint(text: str) -> tuple[str, int]:
    """Raises ValueError unless `text` is an IP address and a port 1-65535."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    address = ipaddress.ip_address(host)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {text!r}")
    return str(address), int(port)


def format_listener_line(listener_id: str, key: str) -> str:
    return f"# pier-listener {listener_id} {key}"


def format_member_comment(ref: MemberRef, state: MemberState) -> str:
    """The comment ending a member's `server` line."""
    return f"# pier-member {ref.pool_key} {ref.member_id} {state}"


def format_check_line(ref: MemberRef, check: UdpCheck) -> str:
    options = [
        f"type={check.type}",
        f"delay={check.delay}",
        f"timeout={check.timeout}",
        f"rise={check.rise}",
        f"fall={check.fall}",
    ]
    if check.type is HealthMonitorType.HTTP:
        options += [
            f"method={check.http_method}",
            f"path={quote(check.url_path, safe='/')}",
            f"codes={format_codes(check.expected_codes)}",
        ]
        if check.domain_name:
            options.append(f"host={quote(check.domain_name, safe='')}")
    target = endpoint(check.address, check.port)
    return f"# pier-check {ref.pool_key} {ref.member_id} {target} {' '.join(options)}"


def format_codes(codes: Collection[int]) -> str:
    """Status codes as ascending ranges: (200, 201, 202, 301) -> `200-202,301`."""
    ranges: list[list[int]] = []
    for code in sorted(set(codes)):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def parse_codes(text: str) -> tuple[int, ...]:
    """The inverse of `format_codes`; raises ValueError on anything else."""
    codes: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not 100 <= first <= last <= 599:
            raise ValueError(f"bad status code range {part!r}")
        codes.update(range(first, last + 1))
    return tuple(sorted(codes))


def parse_udp_records(text: str) -> UdpRecords:
    """Every record in a rendered (or served) configuration, in file order.

    Raises ValueError, naming the line, for a `pier-` record that does not parse or a check
    that names no member of the file: the agent then refuses the whole configuration.
    """
    listeners: list[UdpListener] = []
    members: dict[MemberRef, UdpMember] = {}
    checks: dict[MemberRef, tuple[int, UdpCheck]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            _parse_line(number, line, listeners, members, checks)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}: {line.strip()!r}") from None
    for ref, (number, check) in checks.items():
        member = members.get(ref)
        if member is None or member.state is MemberState.DISABLED:
            raise ValueError(
                f"line {number}: no such checked member {ref.member_id} in {ref.pool_key}"
            )
        members[ref] = UdpMember(member.ref, member.address, member.port, member.state, check)
    return UdpRecords(tuple(listeners), tuple(members.values()))


def _parse_line(
    number: int,
    line: str,
    listeners: list[UdpListener],
    members: dict[MemberRef, UdpMember],
    checks: dict[MemberRef, tuple[int, UdpCheck]],
) -> None:
    if not _PIER_RECORD.match(line):
        return
    if found := _LISTENER.match(line):
        listeners.append(UdpListener(found["listener"], found["pool"]))
    elif found := _SERVER.match(line):
        ref = MemberRef(found["pool"], found["member"])
        if ref in members:
            raise ValueError("member listed twice")
        address, port = parse_endpoint(found["endpoint"])
        members[ref] = UdpMember(ref, address, port, MemberState(found["state"]))
    elif found := _CHECK.match(line):
        ref = MemberRef(found["pool"], found["member"])
        if ref in checks:
            raise ValueError("member checked twice")
        checks[ref] = (number, _parse_check(found["target"], found["options"]))
    else:
        raise ValueError("not a pier record")


def _parse_check(target: str, options_text: str) -> UdpCheck:
    address, port = parse_endpoint(target)
    options = dict(_options(options_text))
    check_type = HealthMonitorType(options.pop("type", ""))
    if check_type not in CHECK_TYPES:
        raise ValueError(f"{check_type} checks are not supported")
    delay, timeout, rise, fall = (
        int(options.pop(name, "")) for name in ("delay", "timeout", "rise", "fall")
    )
    if min(delay, timeout, rise, fall) < 1:
        raise ValueError("delay, timeout, rise and fall must be at least 1")
    check = UdpCheck(check_type, address, port, delay, timeout, rise, fall)
    if check_type is HealthMonitorType.HTTP:
        host = options.pop("host", None)
        check = replace(
            check,
            http_method=options.pop("method", "GET"),
            url_path=unquote(options.pop("path", "/")),
            expected_codes=parse_codes(options.pop("codes", "200")),
            domain_name=None if host is None else unquote(host),
        )
    if options:
        raise ValueError(f"unknown options {sorted(options)}")
    return check


def _options(text: str) -> Iterator[tuple[str, str]]:
    for word in text.split():
        name, equals, value = word.partition("=")
        if not equals:
            raise ValueError(f"option {word!r} is not name=value")
        yield name, value


def mark_down(text: str, down: Collection[MemberRef]) -> str:
    """The served configuration: `text` with `down` added to the `server` line of every member
    in `down` (members already `down`, disabled or drained, stay as they are).
    """
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        found = _SERVER.match(body)
        if (
            found
            and MemberRef(found["pool"], found["member"]) in down
            and "down" not in found["params"].split()
        ):
            line = f"{found['head']} down;{found['tail']}{line[len(body) :]}"
        lines.append(line)
    return "".join(lines)


def find_marked_down(text: str) -> frozenset[MemberRef]:
    """The enabled members a served configuration has marked `down`: those its checks failed."""
    return frozenset(
        MemberRef(found["pool"], found["member"])
        for line in text.splitlines()
        if (found := _SERVER.match(line))
        and found["state"] == MemberState.ENABLED
        and "down" in found["params"].split()
    )
