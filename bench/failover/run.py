"""What a client sees when a load balancer's HAProxy, or the agent running it, is killed.

One `pier up` (local agent, loopback VIPs, heartbeats every second), two nginx members, one
LB (HTTP listener, ROUND_ROBIN pool, both members, HTTP monitor). A client thread sends a
steady stream of requests through the VIP, each on a new connection (so every request shows
whether something listens right now), and records when each ended and how.

  A. `kill -9` the LB's HAProxy (master and workers). Measured: the outage, from the kill to
     the first successful request after which every request succeeded; the requests that
     failed; when the API showed the LB busy and then ACTIVE again with a new amphora.
     Goal: outage <= 2 s with heartbeat_interval 1 s.
  B. `kill -9` the agent. HAProxy should keep serving (no request lost), `pier up` should
     start a new agent that adopts the amphora, and nothing should fail over (same amphora
     id, same HAProxy pids, the LB ACTIVE throughout). Whatever happens is reported.

Each scenario runs --reps times; everything is bounded by --limit per repetition and
--max-minutes in all; every process under the work dir is stopped at the end, also on errors.

    .venv/bin/python bench/failover/run.py [--reps 5] [--limit 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pier.cli.processes import processes_under

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dataplane"))

import backends  # noqa: E402
import pierbench  # noqa: E402
from pierbench import BenchError, BenchTimeout, Pier  # noqa: E402

AMPHORAE = "/v2/octavia/amphorae"
OK = "ok"
GOAL_S = 2.0
MAX_REQUESTS = 100_000  # per repetition: 5 ms apart, that is over 8 minutes
REQUEST = b"GET / HTTP/1.1\r\nHost: failover\r\nConnection: close\r\n\r\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each scenario")
    parser.add_argument(
        "--scenarios", default="haproxy,agent", help="which to run: haproxy, agent or both"
    )
    parser.add_argument("--heartbeat-interval", type=float, default=1.0)
    parser.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=6.0,
        help="silence before a failover (passed to `pier up` when it has the option); a "
        "restarted agent's first heartbeat comes 2-4 s after the old one's last",
    )
    parser.add_argument(
        "--health-check-interval",
        type=float,
        default=1.0,
        help="how often the health manager looks for silent amphorae (if `pier up` has it)",
    )
    parser.add_argument(
        "--spare-amphorae",
        type=int,
        default=1,
        help="spare pool size (passed when `pier up` has the option; 0 for none): the "
        "replacement claims a warm amphora",
    )
    parser.add_argument("--interval", type=float, default=0.005, help="s between requests")
    parser.add_argument("--request-timeout", type=float, default=0.5, help="s per request")
    parser.add_argument("--before", type=float, default=1.0, help="s of load before a kill")
    parser.add_argument(
        "--limit", type=float, default=30.0, help="max s after a kill to wait for recovery"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="s of load kept after recovery (failures there still count)",
    )
    parser.add_argument(
        "--agent-window", type=float, default=10.0, help="s of load after killing the agent"
    )
    parser.add_argument("--vip-port", type=int, default=8080)
    parser.add_argument("--pier-bin", type=Path, default=pierbench.REPO / ".venv/bin/pier")
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="default: a new /tmp/bfo-*, kept for logs"
    )
    parser.add_argument("--max-minutes", type=float, default=15.0, help="hard cap on the run")
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    return parser.parse_args(argv)


# ------------------------------------------------------------------ the client


def request(address: str, port: int, timeout: float) -> str:
    """One `GET /` on a new connection: "ok" for a 200, otherwise why not ("refused",
    "reset", "timeout", "http 503", ...), so that failures the kill did not cause show.
    (pierbench.http_status answers only the status, hence this small twin.)
    """
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(REQUEST)
            head = sock.recv(64)
    except ConnectionRefusedError:
        return "refused"
    except ConnectionResetError:
        return "reset"
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return type(exc).__name__
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return "closed" if not head else "not http"
    return OK if parts[1] == b"200" else f"http {parts[1].decode(errors='replace')}"


@dataclass(frozen=True, slots=True)
class Sample:
    end: float  # time.monotonic() when the request finished
    outcome: str  # "ok" or why it failed


class Load:
    """A thread sending one request every `interval` s (never two at once, never a burst to
    catch up) until stopped or MAX_REQUESTS were sent.
    """

    def __init__(self, address: str, port: int, interval: float, timeout: float) -> None:
        self.address, self.port = address, port
        self.interval, self.timeout = interval, timeout
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set() and len(self.samples) < MAX_REQUESTS:
            outcome = request(self.address, self.port, self.timeout)
            self.samples.append(Sample(time.monotonic(), outcome))
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def ok_since(self, since: float) -> bool:
        """Every request that ended after `since` succeeded (and there was one)."""
        recent = [s for s in self.samples[-2000:] if s.end >= since]
        return bool(recent) and all(s.outcome == OK for s in recent)

    @contextmanager
    def running(self) -> Iterator[Load]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=5)


# ------------------------------------------------------------------ one repetition


@dataclass
class Rep:
    scenario: str
    killed: list[int] = field(default_factory=list)  # pids sent SIGKILL
    amphora_before: str = ""
    amphora_after: str = ""  # the LB's amphora when the repetition ended
    haproxy_before: list[int] = field(default_factory=list)
    haproxy_after: list[int] = field(default_factory=list)
    requests: int = 0
    failed_before_kill: int = 0  # not caused by the kill: noise to report
    failed: int = 0  # failed requests that ended after the kill
    reasons: dict[str, int] = field(default_factory=dict)
    outage_s: float | None = None  # None: not restored within --limit
    max_gap_s: float = 0.0  # longest time between two requests ending (client stalls)
    lb_busy_s: float | None = None  # kill -> the API first showed the LB not ACTIVE
    lb_active_new_s: float | None = None  # kill -> ACTIVE with another amphora
    lb_statuses: list[str] = field(default_factory=list)  # as seen, in order, deduplicated
    agent_back_s: float | None = None  # kill -> a new agent process exists
    agent_adopted_s: float | None = None  # kill -> agent.log says it adopted the amphora
    failover_reason: str = ""  # from pier.log, if a failover started
    agent_pids: str = ""
    load_after: str = ""


def amphora_ids(pier: Pier, lb_id: str) -> list[str]:
    """The LB's amphorae that are not being deleted, from the admin amphora API."""
    amps = pier.call("GET", AMPHORAE, loadbalancer_id=lb_id)["amphorae"]
    return sorted(a["id"] for a in amps if a["status"] not in ("PENDING_DELETE", "DELETED"))


def haproxy_of(pier: Pier, amphora_id: str) -> list[int]:
    """HAProxy master and workers of one amphora: their command line names its directory."""
    marker = f"/amphorae/{amphora_id}/"
    return sorted(
        pid for pid in pier.haproxy_pids() if any(marker in a for a in pierbench.cmdline(pid))
    )


def kill(pids: list[int]) -> list[int]:
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def measure(
    pier: Pier,
    lb_id: str,
    vip: tuple[str, int],
    args: argparse.Namespace,
    rep: Rep,
    do_kill: Callable[[], list[int]],
    done: Callable[[Rep, Load, float, float], bool],
    window: float,
) -> None:
    """Load for --before s, kill, then poll the API and /proc every 0.1 s until `done` says
    so or `window` s have passed; fill in `rep` from what the client and the polls saw.
    """
    rep.amphora_before = ",".join(amphora_ids(pier, lb_id))
    rep.haproxy_before = haproxy_of(pier, rep.amphora_before)
    agent_before = pier.agent_pid()
    with Load(*vip, args.interval, args.request_timeout).running() as load:
        time.sleep(args.before)
        killed_at, killed_wall = time.monotonic(), time.time()
        rep.killed = do_kill()
        while (now := time.monotonic()) - killed_at < window and not pierbench.STOP.is_set():
            lb = pier.lb(lb_id)
            status = "DELETED" if lb is None else lb["provisioning_status"]
            if not rep.lb_statuses or rep.lb_statuses[-1] != status:
                rep.lb_statuses.append(status)
            if status != "ACTIVE" and rep.lb_busy_s is None:
                rep.lb_busy_s = now - killed_at
            amps = ",".join(amphora_ids(pier, lb_id)) if lb else ""
            if (
                status == "ACTIVE"
                and amps
                and amps != rep.amphora_before
                and rep.lb_active_new_s is None
            ):
                rep.lb_active_new_s = now - killed_at
            agent = pier.agent_pid()
            if rep.agent_back_s is None and agent and agent != agent_before:
                rep.agent_back_s = now - killed_at
            if done(rep, load, killed_at, now):
                break
            time.sleep(0.1)
    rep.amphora_after = ",".join(amphora_ids(pier, lb_id))
    rep.haproxy_after = haproxy_of(pier, rep.amphora_after) if rep.amphora_after else []
    rep.agent_pids = f"{agent_before} -> {pier.agent_pid()}"
    adopted = logged_after(pier.data_dir / "agent.log", "amphora adopted", killed_wall)
    rep.agent_adopted_s = adopted[0][0] if adopted else None
    failovers = logged_after(pier.data_dir / "pier.log", "failover started", killed_wall)
    rep.failover_reason = "; ".join(
        f"{line.partition('reason=')[2] or line} (+{at:.2f} s)" for at, line in failovers
    )
    judge(rep, load.samples, killed_at)
    rep.load_after = pierbench.load_average()


def logged_after(log: Path, needle: str, since: float) -> list[tuple[float, str]]:
    """(seconds after `since`, line) of the log lines naming `needle` logged after `since`
    (a wall-clock time): what the agent and the health manager did, by their own clocks.
    """
    found = []
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        if needle not in line:
            continue
        try:
            # logging's asctime is local time
            at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
        except ValueError:
            continue
        if at >= since:
            found.append((at - since, line))
    return found


def judge(rep: Rep, samples: list[Sample], killed_at: float) -> None:
    """The outage: kill -> the end of the first successful request after the last failure.
    A request that ended before the kill and failed was not the kill's doing: counted apart.
    """
    rep.requests = len(samples)
    after = [s for s in samples if s.end >= killed_at]
    rep.failed_before_kill = sum(1 for s in samples if s.end < killed_at and s.outcome != OK)
    failures = [i for i, s in enumerate(after) if s.outcome != OK]
    rep.failed = len(failures)
    rep.reasons = dict(Counter(after[i].outcome for i in failures))
    ends = [s.end for s in samples]
    rep.max_gap_s = max((b - a for a, b in zip(ends, ends[1:], strict=False)), default=0.0)
    if not failures:
        rep.outage_s = 0.0
    elif failures[-1] + 1 < len(after):
        rep.outage_s = after[failures[-1] + 1].end - killed_at
    else:
        rep.outage_s = None


# ------------------------------------------------------------------ scenarios


@dataclass
class Results:
    setup: list[str] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def create_lb(pier: Pier, members: list[tuple[str, int]], port: int, name: str) -> str:
    body = pierbench.tree_body(pier.public_subnet(), name, members, port)
    lb_id: str = pier.call("POST", f"{pierbench.LBAAS}/loadbalancers", body)["loadbalancer"]["id"]
    pier.wait_lb(lb_id, "ACTIVE", 60.0)
    return lb_id


def serving(pier: Pier, lb_id: str, port: int, timeout: float) -> tuple[str, int] | None:
    """The LB's VIP once it is ACTIVE and answers 200, or None if not within `timeout`."""
    try:
        pier.wait_lb(lb_id, "ACTIVE", timeout)
        lb = pier.lb(lb_id)
        if lb is None:
            return None
        pierbench.wait_http_200(lb["vip_address"], port, timeout)
    except BenchError:
        return None
    return lb["vip_address"], port


class Target:
    """The load balancer under test. A repetition that left it broken (no recovery in the
    limit: the right result for code without failover) must not spoil the next one, so
    then it is deleted and a fresh one is built.
    """

    def __init__(self, pier: Pier, members: list[tuple[str, int]], port: int) -> None:
        self.pier, self.members, self.port = pier, members, port
        self.built = 0
        self.lb_id = ""

    def ready(self, notes: list[str]) -> tuple[str, int]:
        if self.lb_id and (vip := serving(self.pier, self.lb_id, self.port, 15.0)):
            return vip
        if self.lb_id:
            notes.append(f"LB {self.lb_id[:8]} not serving after its repetition: rebuilt")
            self.pier.call(
                "DELETE", f"{pierbench.LBAAS}/loadbalancers/{self.lb_id}", cascade="true"
            )
            self.pier.wait_lb(self.lb_id, "DELETED", 60.0)
        self.built += 1
        self.lb_id = create_lb(self.pier, self.members, self.port, f"fo-{self.built}")
        vip = serving(self.pier, self.lb_id, self.port, 30.0)
        if vip is None:
            raise BenchError(f"new LB {self.lb_id} does not serve; {self.pier.log_hint()}")
        return vip


def kill_haproxy(pier: Pier, lb_id: str, vip: tuple[str, int], args: argparse.Namespace) -> Rep:
    """Scenario A. Done once the LB is ACTIVE on a new amphora and every request of the
    last --settle s succeeded, or after --limit s.
    """
    rep = Rep("haproxy")

    def do_kill() -> list[int]:
        pids = haproxy_of(pier, rep.amphora_before)
        if not pids:
            raise BenchError(f"no HAProxy process found for amphora {rep.amphora_before}")
        return kill(pids)

    def done(rep: Rep, load: Load, killed_at: float, now: float) -> bool:
        recovered = rep.lb_active_new_s is not None
        return recovered and now - killed_at >= args.settle and load.ok_since(now - args.settle)

    measure(pier, lb_id, vip, args, rep, do_kill, done, args.limit)
    return rep


def kill_agent(pier: Pier, lb_id: str, vip: tuple[str, int], args: argparse.Namespace) -> Rep:
    """Scenario B: a fixed window, longer than the heartbeat timeout, so that a failover
    started by the agent's silence would be seen.
    """
    rep = Rep("agent")

    def do_kill() -> list[int]:
        agent = pier.agent_pid()
        if agent is None:
            raise BenchError("no agent process found")
        return kill([agent])

    measure(pier, lb_id, vip, args, rep, do_kill, lambda *_: False, agent_window(args))
    return rep


def agent_window(args: argparse.Namespace) -> float:
    return max(float(args.agent_window), float(args.heartbeat_timeout) + 5.0)


# ------------------------------------------------------------------ report


def _f(value: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def _short(ids: str) -> str:
    return ",".join(i[:8] for i in ids.split(",")) if ids else "-"


def _reasons(rep: Rep) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(rep.reasons.items())) or "-"


def render(args: argparse.Namespace, results: Results, load_start: str) -> str:
    out = [
        f"Pier failover benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, {os.cpu_count()} cores",
        f"load average (1/5/15 min) at start {load_start}, at end {pierbench.load_average()}",
        *results.setup,
        f"client: one GET per new connection every {args.interval * 1000:g} ms "
        f"(timeout {args.request_timeout:g} s), {args.before:g} s before each kill",
        "",
    ]
    table_a = [r for r in results.reps if r.scenario == "haproxy"]
    table_b = [r for r in results.reps if r.scenario == "agent"]
    if table_a:
        out.append(f"A. kill -9 the LB's HAProxy (master + workers); limit {args.limit:g} s")
        head = (
            f"{'rep':>3} {'amphora':>8} {'-> now':>8} {'outage s':>9} {'failed':>6} "
            f"{'requests':>8} {'LB busy s':>9} {'ACTIVE new s':>12} {'gap s':>6}  reasons"
        )
        out += [head, "-" * len(head)]
        for i, r in enumerate(table_a, 1):
            outage = _f(r.outage_s) if r.outage_s is not None else "> limit"
            out.append(
                f"{i:>3} {_short(r.amphora_before):>8} {_short(r.amphora_after):>8} "
                f"{outage:>9} {r.failed:>6} {r.requests:>8} {_f(r.lb_busy_s):>9} "
                f"{_f(r.lb_active_new_s):>12} {r.max_gap_s:>6.3f}  {_reasons(r)}"
            )
        out += failover_reasons(table_a)
        out += summary_a(table_a, args)
        out.append("")
    if table_b:
        out.append(f"B. kill -9 the agent; load for {agent_window(args):g} s after the kill")
        head = (
            f"{'rep':>3} {'failed':>6} {'requests':>8} {'agent back s':>12} {'adopted s':>9} "
            f"{'same amphora':>12} {'same haproxy':>12} {'gap s':>6}  LB statuses / reasons"
        )
        out += [head, "-" * len(head)]
        for i, r in enumerate(table_b, 1):
            same_amp = r.amphora_after == r.amphora_before
            same_proc = r.haproxy_after == r.haproxy_before and bool(r.haproxy_after)
            out.append(
                f"{i:>3} {r.failed:>6} {r.requests:>8} {_f(r.agent_back_s):>12} "
                f"{_f(r.agent_adopted_s):>9} {'yes' if same_amp else 'NO':>12} "
                f"{'yes' if same_proc else 'NO':>12} "
                f"{r.max_gap_s:>6.3f}  {' > '.join(r.lb_statuses)} / {_reasons(r)}"
            )
        out += failover_reasons(table_b)
        failed = sum(r.failed for r in table_b)
        failovers = sum(1 for r in table_b if r.amphora_after != r.amphora_before)
        out.append(
            f"requests failed in all: {failed}; failovers: {failovers} of {len(table_b)}; "
            f"agent back in every repetition: "
            f"{'yes' if all(r.agent_back_s is not None for r in table_b) else 'NO'}"
        )
        out.append("")
    noise = sum(r.failed_before_kill for r in results.reps)
    out.append(f"requests failed before a kill (not caused by it): {noise}")
    out += [f"note: {n}" for n in results.notes]
    out += [f"ERROR {e}" for e in results.errors]
    return "\n".join(out)


def failover_reasons(reps: list[Rep]) -> list[str]:
    """Why each failover started, in the health manager's words (pier.log)."""
    return [
        f"  rep {i} failover: {r.failover_reason}"
        for i, r in enumerate(reps, 1)
        if r.failover_reason
    ]


def summary_a(reps: list[Rep], args: argparse.Namespace) -> list[str]:
    outages = [r.outage_s for r in reps if r.outage_s is not None]
    actives = [r.lb_active_new_s for r in reps if r.lb_active_new_s is not None]
    failed = [float(r.failed) for r in reps]
    restored = len(outages) == len(reps)
    lines = [
        f"median / max: outage {_f(pierbench.median(outages))} / {_f(max(outages, default=None))}"
        f" s, failed {_f(pierbench.median(failed), '{:.0f}')} / {max(failed):.0f}, "
        f"ACTIVE with a new amphora {_f(pierbench.median(actives))} / "
        f"{_f(max(actives, default=None))} s"
    ]
    if not restored:
        lines.append(
            f"{len(reps) - len(outages)} of {len(reps)} repetitions: traffic not restored "
            f"within the time limit ({args.limit:g} s)"
        )
    if len(actives) < len(reps):
        lines.append(
            f"{len(reps) - len(actives)} of {len(reps)} repetitions: the LB never became ACTIVE "
            f"with a new amphora within {args.limit:g} s"
        )
    worst = max(outages) if restored and outages else None
    met = worst is not None and worst <= GOAL_S
    lines.append(
        f"goal: every outage <= {GOAL_S:g} s with heartbeat_interval "
        f"{args.heartbeat_interval:g} s -> {'MET' if met else 'NOT MET'} (worst {_f(worst)} s)"
    )
    return lines


# ------------------------------------------------------------------ main


def pier_options(args: argparse.Namespace) -> list[str]:
    """`pier up` flags: the heartbeat interval, plus the failover knobs this Pier has."""
    help_text = subprocess.run(
        [str(args.pier_bin), "up", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    extra = ["--heartbeat-interval", f"{args.heartbeat_interval:g}"]
    for flag, value in (
        ("--heartbeat-timeout", args.heartbeat_timeout),
        ("--health-check-interval", args.health_check_interval),
        ("--spare-amphorae", args.spare_amphorae),
    ):
        if flag in help_text:
            extra += [flag, f"{value:g}"]
    # A VIP range of its own: HAProxy binds with SO_REUSEPORT, so another Pier on this host
    # with the same VIP and port would share the traffic and hide the outage.
    extra += [
        "--loopback-vip-cidr",
        f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.0/24",
    ]
    return extra


def run(args: argparse.Namespace, work: Path, results: Results, deadline: float) -> None:
    scenarios = {"haproxy": kill_haproxy, "agent": kill_agent}
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    with ExitStack() as stack:
        web = [
            stack.enter_context(backends.nginx_backend(work, "web1", "127.0.2.1")),
            stack.enter_context(backends.nginx_backend(work, "web2", "127.0.2.2")),
        ]
        pier = stack.enter_context(
            pierbench.run_pier(work / "pier", args.pier_bin, pier_options(args))
        )
        results.setup += [
            pierbench.pier_version(),
            "pier: " + " ".join(pier.argv),
            pierbench.tool_version([backends.HAPROXY, "-v"]),
            f"members: nginx {web[0].url} and {web[1].url}",
        ]
        if os.environ.get("PYTHONPATH"):  # another tree's src/ runs instead of this one's
            results.setup.append(f"PYTHONPATH={os.environ['PYTHONPATH']}")
        print("\n".join(results.setup), flush=True)
        target = Target(pier, [(w.address, w.port) for w in web], args.vip_port)
        for name in chosen:
            for i in range(args.reps):
                if time.monotonic() + args.limit + 60 > deadline:
                    results.errors.append(f"stopped before {name} #{i + 1}: --max-minutes")
                    return
                vip = target.ready(results.notes)
                rep = scenarios[name](pier, target.lb_id, vip, args)
                results.reps.append(rep)
                print(
                    f"{name} #{i + 1}: outage {_f(rep.outage_s)} s, {rep.failed} failed "
                    f"({_reasons(rep)}), LB {' > '.join(rep.lb_statuses)}, amphora "
                    f"{_short(rep.amphora_before)} -> {_short(rep.amphora_after)}, agent "
                    f"{rep.agent_pids}",
                    flush=True,
                )
                pier.check_alive()
        if target.built > 1:
            results.notes.append(f"{target.built} LBs built in all")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bfo-"))
    work.mkdir(parents=True, exist_ok=True)
    results = Results()
    pierbench.install_signal_handlers(args.max_minutes * 60.0)
    started = time.monotonic()
    load_start = pierbench.load_average()
    status = 0
    try:
        run(args, work, results, started + args.max_minutes * 60.0 - 30.0)
    except KeyboardInterrupt:
        status = 130
        results.errors.append("interrupted")
    except (BenchError, BenchTimeout, RuntimeError, OSError, httpx.HTTPError) as exc:
        status = 1
        results.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
    left = processes_under(work)
    if left:
        results.errors.append(f"{len(left)} processes still under {work} after teardown")
    print()
    print(render(args, results, load_start))
    print(f"work dir (logs, configs): {work}")
    print(f"total wall time {time.monotonic() - started:.0f}s")
    if args.json:
        data = {"args": {k: str(v) for k, v in vars(args).items()}, **asdict(results)}
        args.json.write_text(json.dumps(data, indent=2))
    return status or (1 if results.errors else 0)


if __name__ == "__main__":
    sys.exit(main())
