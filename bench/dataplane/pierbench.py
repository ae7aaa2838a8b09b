"""What the data-plane and density benchmarks share: processes, `pier up`, the API, /proc.

Everything here is bounded: every wait has a deadline, every process started is stopped by
the context manager that started it, and `pier up`'s amphorae (HAProxy processes the agent
started in their own sessions, which outlive `pier up` by design) are killed by command line
after `pier up` has stopped: they all take their files from the data dir.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from pier.cli.processes import kill_processes_under as kill_all_under
from pier.cli.processes import processes_under

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOOPBACK = "127.0.0.1"
LBAAS = "/v2/lbaas"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

JSON = dict[str, Any]

# Set by the signal handlers: waits stop at their next step so the teardown runs promptly.
STOP = threading.Event()


class BenchError(RuntimeError):
    """A request failed, an object did not reach ACTIVE in time, or a process died."""


class BenchTimeout(Exception):
    """The whole run exceeded --max-minutes (raised from SIGALRM to force the teardown)."""


def install_signal_handlers(max_seconds: float) -> None:
    """SIGINT/SIGTERM and the global deadline become exceptions, so `finally` tears down."""

    def on_term(signum: int, frame: object) -> None:
        STOP.set()
        raise KeyboardInterrupt

    def on_alarm(signum: int, frame: object) -> None:
        STOP.set()
        raise BenchTimeout(f"run exceeded {max_seconds:.0f}s (--max-minutes)")

    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(max_seconds)))


# ------------------------------------------------------------------ small helpers


def free_port(address: str = LOOPBACK) -> int:
    """A free TCP port on `address` (racy, but fine on one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a real sample)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def pier_version() -> str:
    """Pier's package version and the tree's commit (read-only git), for the report."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    commit = head or "no commit yet"
    return f"pier {metadata.version('pier')} (git {commit}{', src/ modified' if dirty else ''})"


def tool_version(argv: list[str]) -> str:
    """First line a tool prints about its version (haproxy -v, nginx -v, wrk -v)."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{argv[0]}: {exc}"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else argv[0]


# ------------------------------------------------------------------ processes


class ManagedProcess:
    """A child in its own process group, its output captured to a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 15.0, first: signal.Signals = signal.SIGTERM) -> None:
        """`first` (SIGTERM) to our process group, SIGTERM then SIGKILL if it lingers."""
        for sig in dict.fromkeys((first, signal.SIGTERM)):
            if not self.alive():
                break
            self._signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        if self.alive():
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        self._signal(signal.SIGKILL)
        self._log_file.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def kill_processes_under(directory: Path, timeout: float = 10.0) -> list[str]:
    """SIGTERM, then SIGKILL, every process under `directory`; returns what was there."""
    first = [f"{pid} {' '.join(cmdline(pid))[:160]}" for pid in processes_under(directory)]
    kill_all_under(directory, timeout)
    return first


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_haproxy(pid: int) -> bool:
    argv = cmdline(pid)
    return bool(argv) and Path(argv[0]).name == "haproxy"


def haproxy_pids_under(directory: Path) -> list[int]:
    """Running HAProxy processes (masters and workers, not `haproxy -c`) under directory."""
    return [
        pid for pid in processes_under(directory) if is_haproxy(pid) and "-c" not in cmdline(pid)
    ]


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process (all its threads), in clock ticks; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        ticks = cpu_ticks(pid)
        if ticks is not None:
            out[pid] = ticks / CLK_TCK
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float], new: bool = False) -> float:
    """CPU seconds spent between two snapshots by processes present in both; with `new`,
    also all of the CPU time of processes that only the second snapshot has (started in
    between). Processes that started and ended in between are not seen.
    """
    spent = sum(after[pid] - before[pid] for pid in before.keys() & after.keys())
    if new:
        spent += sum(after[pid] for pid in after.keys() - before.keys())
    return spent


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(PSS, RSS) in KiB from /proc/<pid>/smaps_rollup; None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
            values[parts[0]] = int(parts[1])
    return values.get("Pss:", 0), values.get("Rss:", 0)


def open_fds(pid: int) -> int | None:
    try:
        return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return None


def threads(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def nofile_limit(pid: int) -> str:
    """`soft/hard` of a process's RLIMIT_NOFILE, from /proc/<pid>/limits."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return f"{soft}/{hard}"
    except OSError:
        pass
    return "?"


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


# ------------------------------------------------------------------ pier up


@dataclass
class Pier:
    """A running `pier up` (noauth, local compute, loopback network) and its API client."""

    base_url: str
    data_dir: Path
    process: ManagedProcess
    argv: list[str]
    project: str = "bench"
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = {"X-Project-Id": self.project, "Accept": "application/json"}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0)

    # -- processes

    def agent_pid(self) -> int | None:
        for pid in processes_under(self.data_dir):
            argv = cmdline(pid)
            if "agent" in argv and not is_haproxy(pid) and pid != self.process.pid:
                return pid
        return None

    def haproxy_pids(self) -> list[int]:
        return haproxy_pids_under(self.data_dir)

    def check_alive(self) -> None:
        if not self.process.alive():
            raise BenchError(
                f"pier up exited with {self.process.proc.returncode} "
                f"(log {self.process.log}):\n{self.process.tail()}"
            )

    # -- API

    def call(self, method: str, path: str, body: JSON | None = None, **params: Any) -> JSON:
        """One API call; any non-2xx status is a benchmark failure, not a data point."""
        resp = self.http.request(method, path, json=body, params=params or None)
        if resp.status_code >= 300:
            raise BenchError(f"{method} {path} -> {resp.status_code}: {resp.text[:400]}")
        if not resp.content:
            return {}
        data: JSON = resp.json()
        return data

    def public_subnet(self) -> str:
        subnets = self.call("GET", "/network/v2.0/subnets", name="public-subnet")["subnets"]
        if not subnets:
            raise BenchError("no subnet named public-subnet")
        subnet_id: str = subnets[0]["id"]
        return subnet_id

    def list_lbs(self, **filters: str) -> list[JSON]:
        """Every LB of the project matching filters, following the pagination links."""
        params: dict[str, str] = {"project_id": self.project, **filters}
        path = f"{LBAAS}/loadbalancers"
        out: list[JSON] = []
        for _ in range(10_000):
            page = self.call("GET", path, **params)
            out += page["loadbalancers"]
            nxt = [
                link["href"]
                for link in page.get("loadbalancers_links", [])
                if link.get("rel") == "next"
            ]
            if not nxt:
                return out
            url = httpx.URL(nxt[0])
            path, params = url.path, dict(url.params)
        raise BenchError("pagination did not end")

    def lb(self, lb_id: str) -> JSON | None:
        resp = self.http.get(f"{LBAAS}/loadbalancers/{lb_id}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise BenchError(f"GET loadbalancer {lb_id} -> {resp.status_code}: {resp.text[:300]}")
        lb: JSON = resp.json()["loadbalancer"]
        return lb

    def wait_lb(self, lb_id: str, want: str, timeout: float) -> float:
        """Poll one LB until its provisioning_status is `want` (or it is gone, for DELETED).
        ERROR or the deadline is a failure. Returns seconds waited.
        """
        start = time.monotonic()
        delay = 0.005
        while True:
            lb = self.lb(lb_id)
            status = "DELETED" if lb is None else lb["provisioning_status"]
            if status == want:
                return time.monotonic() - start
            if status == "ERROR":
                raise BenchError(f"load balancer {lb_id} went to ERROR; {self.log_hint()}")
            if time.monotonic() - start > timeout or STOP.is_set():
                raise BenchError(f"load balancer {lb_id} still {status} after {timeout:.0f}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def log_hint(self) -> str:
        return f"see {self.data_dir / 'pier.log'} and {self.data_dir / 'agent.log'}"


def tree_body(
    subnet: str, name: str, members: list[tuple[str, int]], port: int, monitor: bool = True
) -> JSON:
    """One LB + HTTP listener + ROUND_ROBIN pool + members (+ HTTP monitor, delay 5) as one
    graph POST (the single-call create).
    """
    pool: JSON = {
        "name": f"{name}-pool",
        "protocol": "HTTP",
        "lb_algorithm": "ROUND_ROBIN",
        "members": [
            {"address": address, "protocol_port": member_port} for address, member_port in members
        ],
    }
    if monitor:
        pool["healthmonitor"] = {
            "type": "HTTP",
            "delay": 5,
            "timeout": 3,
            "max_retries": 3,
            "url_path": "/",
        }
    listener = {
        "name": f"{name}-listener",
        "protocol": "HTTP",
        "protocol_port": port,
        "default_pool": pool,
    }
    return {"loadbalancer": {"name": name, "vip_subnet_id": subnet, "listeners": [listener]}}


def wait_ready(url: str, proc: ManagedProcess, timeout: float) -> None:
    """Poll url until it answers 200; fail fast if the process has exited."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited early (log {proc.log}):\n{proc.tail()}")
        try:
            resp = httpx.get(url, headers={"X-Project-Id": "bench-ready"}, timeout=5.0)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise BenchError(f"{url} not ready after {timeout:.0f}s ({last})")


@contextlib.contextmanager
def run_pier(
    data_dir: Path, pier_bin: Path, extra: list[str] | None = None, project: str = "bench"
) -> Iterator[Pier]:
    """`pier up --auth noauth` on free ports with a fresh data dir (default compute and
    network drivers: the local agent and loopback VIPs). On exit: stop `pier up` (its agent
    with it), then kill whatever still runs from the data dir (the amphorae's HAProxy).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        str(pier_bin),
        "up",
        "--auth",
        "noauth",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--agent-port",
        str(free_port()),
        "--health-port",
        "0",
        *(extra or []),
    ]
    proc = ManagedProcess("pier up", argv, data_dir / "pier.log", cwd=REPO)
    pier = Pier(f"http://{LOOPBACK}:{port}", data_dir, proc, argv, project)
    try:
        wait_ready(f"{pier.base_url}{LBAAS}/loadbalancers", proc, 90.0)
        yield pier
    finally:
        pier.http.close()
        # SIGINT, as Ctrl-C: on SIGTERM `pier up` exits without stopping its agent (uvicorn
        # re-raises the signal after its shutdown, so `pier up`'s own cleanup never runs).
        proc.stop(first=signal.SIGINT)
        left = kill_processes_under(data_dir)
        if left:
            print(f"killed {len(left)} process(es) left under {data_dir}:", flush=True)
            print("\n".join(f"  {line}" for line in left), flush=True)


# ------------------------------------------------------------------ probing a VIP


def http_status(address: str, port: int, timeout: float) -> int | None:
    """Status code of one `GET /` on a new connection; None when refused or timed out."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def wait_http_200(address: str, port: int, timeout: float, every: float = 0.005) -> float:
    """Poll address:port every `every` s (each probe at most 50 ms) until a 200; seconds."""
    start = time.monotonic()
    while True:
        if http_status(address, port, 0.05) == 200:
            return time.monotonic() - start
        if time.monotonic() - start > timeout or STOP.is_set():
            raise BenchError(f"http://{address}:{port}/ gave no 200 within {timeout:.0f}s")
        time.sleep(every)
