"""In-memory stand-ins for an amphora's HAProxy and nginx: they keep what they "run", and
fail on request, so tests check outcomes (what runs, what the agent reports).
"""

from collections.abc import Sequence
from pathlib import Path

from pier.agent.haproxy import HaproxyError
from pier.agent.layout import AmphoraDirectory
from pier.agent.runtime_plan import RuntimeCommand, parse_servers
from pier.agent.udp import UdpConfigError


class FakeHaproxy:
    def __init__(self, directory: AmphoraDirectory) -> None:
        self.directory = directory
        self.serving: str | None = None  # the configuration the worker runs
        self.runtime_lines: list[str] = []
        self.reloads = 0
        self.refuse_check = ""  # HAProxy's output when `haproxy -c` should fail
        self.fail_start = False
        self.failing_reloads = 0  # the next N reloads fail
        self.refuse_runtime = False
        self.busy: set[str] = set()  # `backend/server` keys whose deletion HAProxy refuses

    def check(self, config: Path) -> None:
        assert config.exists()
        if self.refuse_check:
            raise HaproxyError("Invalid configuration", self.refuse_check)

    def running(self) -> bool:
        return self.serving is not None

    def master_pid(self) -> int | None:
        """No process runs: nothing for a watcher to follow."""
        return None

    def start(self) -> None:
        if self.fail_start:
            raise HaproxyError("HAProxy did not start", "cannot bind socket")
        self.serving = self.directory.config.read_text()

    def reload(self) -> None:
        assert self.serving is not None
        self.reloads += 1
        if self.failing_reloads:
            self.failing_reloads -= 1
            raise HaproxyError("HAProxy could not load the configuration", "cannot bind socket")
        self.serving = self.directory.config.read_text()

    def apply_runtime(self, commands: Sequence[RuntimeCommand]) -> list[RuntimeCommand]:
        """Deletions of servers in `busy` are refused, as HAProxy does while they have
        connections.
        """
        if self.refuse_runtime:
            raise HaproxyError("HAProxy refused a runtime change", "not a dynamic backend")
        self.runtime_lines += [command.line for command in commands]
        return [c for c in commands if c.line.startswith("del ") and c.line[11:] in self.busy]

    def server_state(self) -> str | None:
        """A dump of what runs: every server up, at its configured weight."""
        parsed = parse_servers(self.serving or "")
        servers = [] if parsed is None else parsed.servers.values()
        return "1\n# be_id be_name srv_id srv_name ...\n" + "".join(
            f"3 {s.backend} 1 {s.name} 127.0.0.1 2 0 {s.weight} {s.weight} 5 0 0 0\n"
            for s in servers
        )

    def stop(self) -> None:
        self.serving = None


class FakeUdp:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.serving: str | None = None
        self.refuse = ""
        self.released = False

    def apply(self, conf: str | None) -> None:
        if conf is not None and self.refuse:
            raise UdpConfigError("nginx -t failed", self.refuse)
        self.serving = conf

    def stop(self) -> None:
        self.serving = None

    def release(self) -> None:
        self.released = True

    def running(self) -> bool:
        return self.serving is not None
