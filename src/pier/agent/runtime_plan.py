"""Which HAProxy runtime-API commands turn the running configuration into a new one, or None
when only a reload can: the pure half of the agent's no-reload fast path (dataplane.md).

The runtime API can add, remove, reweight and enable/disable servers of existing backends,
nothing else, so two texts qualify only when they are identical once the `server` lines of
their backends are taken out, and each server present in both differs at most in its weight
and its `disabled` flag. HAProxy itself may still refuse a command (a dynamic server in a
backend balanced by a map-based hash, an option `add server` does not take); the caller then
reloads instead.
"""

from collections.abc import Iterator
from dataclasses import dataclass

# Words that would need HAProxy's quoting rules to split; a line holding one is never planned.
_UNSPLITTABLE = frozenset("\"'\\#$")


@dataclass(frozen=True, slots=True)
class ServerLine:
    """One `server <name> <address> <options...>` line of a backend."""

    backend: str
    name: str
    address: str
    options: tuple[str, ...]

    @property
    def key(self) -> str:
        """How the runtime API names the server."""
        return f"{self.backend}/{self.name}"

    @property
    def weight(self) -> int:
        return int(_value_of(self.options, "weight") or 1)

    @property
    def disabled(self) -> bool:
        return "disabled" in self.options

    @property
    def fixed_options(self) -> tuple[str, ...]:
        """The options the runtime API cannot change on an existing server."""
        return _without(self.options, "disabled", weight=True)


@dataclass(frozen=True, slots=True)
class RuntimeCommand:
    """One line for the stats socket. It worked when HAProxy answers `success` (most commands
    answer nothing); with `retry_until_idle`, a refusal is retried for a while: `del server`
    is refused as long as connections to the server remain, idle ones included, and a client
    session that stays open keeps its server connection. A command that is not `required`
    may stay undone: the caller tries it again later (a reload makes it moot).
    """

    line: str
    success: str = ""
    retry_until_idle: bool = False
    required: bool = True


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    skeleton: tuple[str, ...]  # every line but the backends' server lines
    servers: dict[str, ServerLine]  # by `backend/server`


def parse_servers(text: str) -> ParsedConfig | None:
    """Split a configuration into its backends' servers and everything else; None when a
    server line uses quoting or variables, which this plain split would get wrong.
    """
    skeleton: list[str] = []
    servers: dict[str, ServerLine] = {}
    for backend, line in _lines_with_backend(text):
        words = line.split()
        if backend is None or not words or words[0] != "server":
            skeleton.append(line)
            continue
        if len(words) < 3 or _UNSPLITTABLE.intersection(line):
            return None
        weight = _value_of(tuple(words[3:]), "weight")
        if weight is not None and not weight.isdigit():
            return None
        server = ServerLine(backend, words[1], words[2], tuple(words[3:]))
        if server.key in servers:
            return None  # HAProxy refuses duplicates; nothing sensible to plan
        servers[server.key] = server
    return ParsedConfig(tuple(skeleton), servers)


def plan_runtime_changes(old: str, new: str) -> list[RuntimeCommand] | None:
    """The commands, in order: additions first (capacity before removals), then changes, then
    removals. An empty list means the texts differ in nothing HAProxy runs (never both equal
    and needing work). None means a reload is needed.
    """
    before, after = parse_servers(old), parse_servers(new)
    if before is None or after is None or before.skeleton != after.skeleton:
        return None
    added = [s for key, s in after.servers.items() if key not in before.servers]
    removed = [s for key, s in before.servers.items() if key not in after.servers]
    changes: list[RuntimeCommand] = []
    for key, server in after.servers.items():
        current = before.servers.get(key)
        if current is None:
            continue
        if (current.address, current.fixed_options) != (server.address, server.fixed_options):
            return None
        changes += _modify(current, server)
    return [
        *(command for server in added for command in _add(server)),
        *changes,
        *(command for server in removed for command in _remove(server)),
    ]


def _add(server: ServerLine) -> list[RuntimeCommand]:
    """A dynamic server starts in maintenance with its checks off: both are turned on here
    (checks even for a disabled server, so that enabling it later finds them running).
    """
    options = " ".join(_without(server.options, "disabled"))
    commands = [
        RuntimeCommand(
            f"add server {server.key} {server.address} {options}".rstrip(),
            success="New server registered.",
        )
    ]
    if "check" in server.options:
        commands.append(RuntimeCommand(f"enable health {server.key}"))
    if not server.disabled:
        commands.append(RuntimeCommand(f"enable server {server.key}"))
    return commands


def _modify(current: ServerLine, server: ServerLine) -> list[RuntimeCommand]:
    """Weight 0 is HAProxy's drain (no new connections, existing ones finish), exactly as a
    reload of `weight 0` behaves; `state drain` would stick across later weight changes.
    """
    commands = []
    if current.weight != server.weight:
        commands.append(RuntimeCommand(f"set server {server.key} weight {server.weight}"))
    if current.disabled != server.disabled:
        state = "maint" if server.disabled else "ready"
        commands.append(RuntimeCommand(f"set server {server.key} state {state}"))
    return commands


def _remove(server: ServerLine) -> list[RuntimeCommand]:
    """In maintenance the server takes no new request; deleting it only frees its slot, so a
    server whose connections linger may stay there until a later push or reload.
    """
    return [
        RuntimeCommand(f"set server {server.key} state maint"),
        RuntimeCommand(
            f"del server {server.key}",
            success="Server deleted.",
            retry_until_idle=True,
            required=False,
        ),
    ]


def _lines_with_backend(text: str) -> Iterator[tuple[str | None, str]]:
    """Each line with the backend it belongs to (None outside backends). A section starts
    at any line that begins in the first column and is not a comment.
    """
    backend: str | None = None
    for line in text.splitlines():
        if line[:1] not in ("", " ", "\t", "#"):
            words = line.split()
            backend = words[1] if words[0] == "backend" and len(words) > 1 else None
        yield backend, line


def _value_of(options: tuple[str, ...], keyword: str) -> str | None:
    for index, option in enumerate(options[:-1]):
        if option == keyword:
            return options[index + 1]
    return None


def _without(options: tuple[str, ...], *flags: str, weight: bool = False) -> tuple[str, ...]:
    kept: list[str] = []
    skip_next = False
    for option in options:
        if skip_next:
            skip_next = False
        elif weight and option == "weight":
            skip_next = True
        elif option not in flags:
            kept.append(option)
    return tuple(kept)
