"""How many load balancers one host holds: memory, idle CPU and limits at 100, 500, 1,000 LBs.

One `pier up` (local agent, loopback VIPs). Each stage tops the project up to the next count
with single-call creates (LB + HTTP listener + pool + 2 members + HTTP monitor, delay 5),
--concurrency at a time, and waits until none is PENDING_CREATE. Then, per stage:
  * the time to create the stage and how many LBs ended ACTIVE / ERROR,
  * that the HAProxy processes are there (master + worker per LB) and a sample of VIPs
    answers 200,
  * memory: the sum of PSS (/proc/<pid>/smaps_rollup) of all HAProxy processes under the data
    dir, per LB; PSS and RSS of the agent and of `pier up`,
  * idle CPU over --idle-seconds: utime+stime deltas (/proc/<pid>/stat) of the HAProxy
    processes, the agent and `pier up`, as % of one core and per LB; the two nginx members
    (which answer the health checks) separately,
  * file descriptors and tasks against the limits (RLIMIT_NOFILE, pid_max).
At the end every LB is deleted (cascade) and no HAProxy process may be left.
Goal: 1,000 LBs fit on this 24 GB host.

    .venv/bin/python bench/density/run.py [--counts 100,500,1000] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dataplane"))

import backends  # noqa: E402
import pierbench  # noqa: E402
from pierbench import BenchError, BenchTimeout, Pier  # noqa: E402

LBAAS = pierbench.LBAAS


@dataclass
class Stage:
    count: int  # LBs the project should hold after this stage
    created: int = 0  # POSTs accepted in this stage
    create_seconds: float | None = None  # first POST -> none PENDING_CREATE
    post_seconds: float | None = None  # first POST -> last POST answered
    active: int = 0  # LBs ACTIVE in the project after the stage
    error: int = 0  # LBs in ERROR
    haproxy_processes: int = 0
    vips_probed: int = 0
    vips_ok: int = 0
    haproxy_pss_mib: float = 0.0
    haproxy_rss_mib: float = 0.0
    agent_pss_mib: float = 0.0
    agent_rss_mib: float = 0.0
    pier_pss_mib: float = 0.0
    pier_rss_mib: float = 0.0
    nginx_pss_mib: float = 0.0
    mem_available_gib: float = 0.0
    idle_seconds: float = 0.0
    idle_cpu: dict[str, float] = field(default_factory=dict)  # CPU s over the window
    create_cpu: dict[str, float] = field(default_factory=dict)  # CPU s during creation
    agent_fds: int | None = None
    agent_nofile: str = ""
    pier_fds: int | None = None
    haproxy_nofile: str = ""
    haproxy_max_fds: int = 0
    tasks: int = 0
    load: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Results:
    setup: list[str] = field(default_factory=list)
    baseline: Stage | None = None
    stages: list[Stage] = field(default_factory=list)
    delete_seconds: float | None = None
    deleted: int = 0
    haproxy_left_after_delete: int | None = None
    errors: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="100,500,1000", help="LB totals, one stage each")
    parser.add_argument(
        "--quick", action="store_true", help="sanity run: --counts 20, 10 s idle window"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="creates in flight")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle CPU window")
    parser.add_argument(
        "--settle-seconds", type=float, default=5.0, help="pause before measuring a stage"
    )
    parser.add_argument("--probe", type=int, default=20, help="VIPs probed for a 200 per stage")
    parser.add_argument("--vip-port", type=int, default=8080, help="the listeners' port")
    parser.add_argument(
        "--stage-timeout", type=float, default=900.0, help="max seconds to create one stage"
    )
    parser.add_argument("--pier-bin", type=Path, default=pierbench.REPO / ".venv/bin/pier")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="configs, logs and Pier's data dir (default: a new /tmp/bdn-*, kept)",
    )
    parser.add_argument("--max-minutes", type=float, default=30.0, help="hard cap on the run")
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.counts = "20"
        args.idle_seconds = min(args.idle_seconds, 10.0)
        args.probe = min(args.probe, 5)
    return args


# ------------------------------------------------------------------ creating


RETRIES = 3


def create_batch(
    pier: Pier,
    subnet: str,
    members: list[tuple[str, int]],
    names: list[str],
    port: int,
    concurrency: int,
) -> tuple[set[str], list[str]]:
    """POST one tree per name, `concurrency` at a time; returns (ids, errors). A POST that
    fails with a 5xx or a broken connection is retried (up to RETRIES attempts) unless an LB
    of that name exists by then; every failure is returned, retried or not, for the report.
    """
    ids: set[str] = set()
    errors: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def post(http: httpx.Client, name: str) -> tuple[str | None, str | None, bool]:
        """(id, error, retryable)"""
        body = pierbench.tree_body(subnet, name, members, port)
        try:
            resp = http.post(f"{LBAAS}/loadbalancers", json=body)
        except httpx.HTTPError as exc:
            return None, f"POST {name}: {exc!r}", True
        if resp.status_code == 201:
            return resp.json()["loadbalancer"]["id"], None, False
        error = f"POST {name} -> {resp.status_code}: {resp.text[:300]}"
        return None, error, resp.status_code >= 500

    def one(name: str) -> None:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = httpx.Client(
                base_url=pier.base_url, headers=dict(pier.http.headers), timeout=120.0
            )
        for attempt in range(1, RETRIES + 1):
            if pierbench.STOP.is_set():
                return
            if attempt > 1:
                existing = [lb["id"] for lb in pier.list_lbs(name=name) if lb["name"] == name]
                if existing:
                    with lock:
                        ids.add(existing[0])
                    return
            lb_id, error, retryable = post(http, name)
            with lock:
                if lb_id:
                    ids.add(lb_id)
                    return
                errors.append(f"attempt {attempt}: {error}")
            if not retryable:
                return

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, names))
    return ids, errors


def wait_none_pending(pier: Pier, timeout: float) -> None:
    """Poll the project's PENDING_* LBs (a list that shrinks) until there are none. The gap
    starts at 50 ms, grows to 1 s, and is at least 4x the last poll's latency.
    """
    start = time.monotonic()
    delay = 0.05
    while True:
        t0 = time.monotonic()
        pending = [
            lb
            for status in ("PENDING_CREATE", "PENDING_UPDATE")
            for lb in pier.list_lbs(provisioning_status=status)
        ]
        took = time.monotonic() - t0
        if not pending:
            return
        pier.check_alive()
        if time.monotonic() - start > timeout or pierbench.STOP.is_set():
            raise BenchError(f"{len(pending)} LBs still pending after {timeout:.0f}s")
        time.sleep(max(delay, 4 * took))
        delay = min(delay * 1.5, 1.0)


def probe_vips(lbs: list[dict[str, Any]], port: int, n: int) -> tuple[int, int]:
    sample = random.sample(lbs, min(n, len(lbs)))
    ok = sum(1 for lb in sample if pierbench.http_status(lb["vip_address"], port, 2.0) == 200)
    return len(sample), ok


# ------------------------------------------------------------------ measuring


def tracked(pier: Pier) -> dict[str, list[int]]:
    """The processes whose CPU and memory count, by role."""
    agent = pier.agent_pid()
    return {
        "haproxy": pier.haproxy_pids(),
        "agent": [agent] if agent else [],
        "pier up": [pier.process.pid],
    }


def nginx_pids(web: list[backends.Endpoint]) -> list[int]:
    """The members' nginx masters and their workers (whose command line names no path)."""
    return [pid for w in web for master in w.pids for pid in (master, *pierbench.children(master))]


def memory(stage: Stage, procs: dict[str, list[int]], nginx: list[int]) -> None:
    def total(pids: list[int]) -> tuple[float, float]:
        pss = rss = 0
        for pid in pids:
            mem = pierbench.memory_kib(pid)
            if mem:
                pss += mem[0]
                rss += mem[1]
        return pss / 1024, rss / 1024

    stage.haproxy_pss_mib, stage.haproxy_rss_mib = total(procs["haproxy"])
    stage.agent_pss_mib, stage.agent_rss_mib = total(procs["agent"])
    stage.pier_pss_mib, stage.pier_rss_mib = total(procs["pier up"])
    stage.nginx_pss_mib = total(nginx)[0]
    stage.mem_available_gib = pierbench.mem_available_kib() / 1024 / 1024


def limits(stage: Stage, procs: dict[str, list[int]]) -> None:
    if procs["agent"]:
        stage.agent_fds = pierbench.open_fds(procs["agent"][0])
        stage.agent_nofile = pierbench.nofile_limit(procs["agent"][0])
    stage.pier_fds = pierbench.open_fds(procs["pier up"][0])
    if procs["haproxy"]:
        stage.haproxy_nofile = pierbench.nofile_limit(procs["haproxy"][0])
        stage.haproxy_max_fds = max((pierbench.open_fds(pid) or 0) for pid in procs["haproxy"])
    stage.tasks = sum(pierbench.threads(pid) for pids in procs.values() for pid in pids)


def idle_cpu(stage: Stage, procs: dict[str, list[int]], nginx: list[int], seconds: float) -> None:
    groups = {**procs, "nginx members": nginx}
    before = {role: pierbench.cpu_seconds(pids) for role, pids in groups.items()}
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end and not pierbench.STOP.is_set():
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    after = {role: pierbench.cpu_seconds(pids) for role, pids in groups.items()}
    stage.idle_seconds = time.monotonic() - start
    stage.idle_cpu = {role: pierbench.cpu_delta(before[role], after[role]) for role in groups}


def cpu_snapshot(pier: Pier) -> dict[str, dict[int, float]]:
    agent = pier.agent_pid()
    return {
        "haproxy": pierbench.cpu_seconds(pier.haproxy_pids()),
        "agent": pierbench.cpu_seconds([agent] if agent else []),
        "pier up": pierbench.cpu_seconds([pier.process.pid]),
    }


def log_problems(pier: Pier, limit: int = 8) -> list[str]:
    """The last ERROR/WARNING/Traceback lines of pier.log and agent.log, for the report."""
    out = []
    for name in ("pier.log", "agent.log"):
        try:
            lines = (pier.data_dir / name).read_text(errors="replace").splitlines()
        except OSError:
            continue
        bad = [line for line in lines if re.search(r" (ERROR|WARNING|CRITICAL) |Traceback", line)]
        out += [f"{name}: {line[:300]}" for line in bad[-limit:]]
    return out


def run_stage(
    args: argparse.Namespace,
    pier: Pier,
    web: list[backends.Endpoint],
    work: Path,
    count: int,
    have: int,
    subnet: str,
) -> Stage:
    stage = Stage(count)
    names = [f"dn-{i:05d}" for i in range(have, count)]
    members = [(w.address, w.port) for w in web]
    cpu_before = cpu_snapshot(pier)
    start = time.monotonic()
    ids, errors = create_batch(pier, subnet, members, names, args.vip_port, args.concurrency)
    stage.post_seconds = time.monotonic() - start
    stage.created = len(ids)
    stage.notes += errors[:5]
    if errors:
        stage.notes.append(
            f"{len(errors)} POST attempts failed; {len(names) - len(ids)} LBs not created "
            f"after {RETRIES} attempts; {pier.log_hint()}"
        )
    wait_none_pending(pier, args.stage_timeout)
    stage.create_seconds = time.monotonic() - start
    cpu_after = cpu_snapshot(pier)
    stage.create_cpu = {
        role: pierbench.cpu_delta(cpu_before[role], cpu_after[role], new=True)
        for role in cpu_before
    }
    lbs = pier.list_lbs()
    stage.active = sum(1 for lb in lbs if lb["provisioning_status"] == "ACTIVE")
    stage.error = sum(1 for lb in lbs if lb["provisioning_status"] == "ERROR")
    if stage.error:
        stage.notes += log_problems(pier)
    print(
        f"  {count} LBs: {len(names)} created in {stage.create_seconds:.1f}s "
        f"(POSTs done after {stage.post_seconds:.1f}s), {stage.active} ACTIVE, "
        f"{stage.error} ERROR",
        flush=True,
    )
    time.sleep(args.settle_seconds)
    stage.vips_probed, stage.vips_ok = probe_vips(
        [lb for lb in lbs if lb["provisioning_status"] == "ACTIVE"], args.vip_port, args.probe
    )
    procs = tracked(pier)
    nginx = nginx_pids(web)
    stage.haproxy_processes = len(procs["haproxy"])
    memory(stage, procs, nginx)
    limits(stage, procs)
    idle_cpu(stage, procs, nginx, args.idle_seconds)
    stage.load = pierbench.load_average()
    print(f"  {render_stage(stage)}", flush=True)
    return stage


def delete_all(pier: Pier, concurrency: int, results: Results, timeout: float = 600.0) -> None:
    lbs = pier.list_lbs()
    start = time.monotonic()
    errors: list[str] = []
    local = threading.local()

    def one(lb_id: str) -> None:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = httpx.Client(
                base_url=pier.base_url, headers=dict(pier.http.headers), timeout=120.0
            )
        resp = http.delete(f"{LBAAS}/loadbalancers/{lb_id}", params={"cascade": "true"})
        if resp.status_code not in (202, 204, 404):
            errors.append(f"DELETE {lb_id} -> {resp.status_code}: {resp.text[:200]}")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, [lb["id"] for lb in lbs]))
    results.deleted = len(lbs) - len(errors)
    results.errors += errors[:5]
    left: list[Any] = lbs
    haproxy: list[int] = []
    while time.monotonic() - start < timeout and not pierbench.STOP.is_set():
        left = pier.list_lbs()
        haproxy = pier.haproxy_pids()
        if not left and not haproxy:
            break
        time.sleep(0.5)
    results.delete_seconds = time.monotonic() - start
    results.haproxy_left_after_delete = len(haproxy)
    if left:
        results.errors.append(
            f"{len(left)} LBs still listed {timeout:.0f}s after DELETE cascade: "
            + ", ".join(sorted({lb["provisioning_status"] for lb in left}))
        )
    if haproxy:
        results.errors.append(f"{len(haproxy)} HAProxy processes left after every LB was deleted")


# ------------------------------------------------------------------ report


def _pct(cpu_s: float, seconds: float) -> float:
    return cpu_s / seconds * 100 if seconds else 0.0


def render_stage(stage: Stage) -> str:
    n = max(stage.active, 1)
    idle = stage.idle_seconds or 1.0
    proxy = stage.idle_cpu.get("haproxy", 0.0)
    total = proxy + stage.idle_cpu.get("agent", 0.0) + stage.idle_cpu.get("pier up", 0.0)
    return (
        f"haproxy PSS {stage.haproxy_pss_mib / n:.2f} MiB/LB ({stage.haproxy_processes} "
        f"processes); idle CPU {_pct(total, idle):.1f}% of a core "
        f"({total / idle / n * 1e3:.3f} ms/s per LB)"
    )


def render(args: argparse.Namespace, results: Results, load_start: str) -> str:
    out = [
        f"Pier density benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, {os.cpu_count()} "
        f"cores, {pierbench.mem_total_gib():.1f} GiB RAM, Python {platform.python_version()}",
        f"load average (1/5/15 min) at start {load_start}, at end {pierbench.load_average()}",
        *results.setup,
        "",
    ]
    rows: list[tuple[str, ...]] = []
    stages = ([results.baseline] if results.baseline else []) + results.stages

    def row(label: str, cell: Any) -> None:
        rows.append((label, *(cell(s) for s in stages)))

    def per_lb(value: float, s: Stage) -> str:
        return f"{value / s.active:.2f}" if s.active else "-"

    def cpu(role: str, s: Stage) -> float | None:
        if not s.idle_seconds:
            return None  # the baseline has no idle window
        return _pct(s.idle_cpu.get(role, 0.0), s.idle_seconds)

    def pier_cpu(s: Stage) -> float | None:
        parts = [cpu(role, s) for role in ("haproxy", "agent", "pier up")]
        return None if None in parts else sum(p for p in parts if p is not None)

    row("load balancers (ACTIVE)", lambda s: f"{s.active}")
    row("  ERROR", lambda s: f"{s.error}")
    row("created in this stage", lambda s: f"{s.created}")
    row("  time to all ACTIVE, s", lambda s: _f(s.create_seconds, "{:.1f}"))
    row(
        "  creates/s",
        lambda s: _f(
            s.created / s.create_seconds if s.create_seconds and s.created else None, "{:.1f}"
        ),
    )
    row(
        "  CPU s during creation (haproxy/agent/pier)",
        lambda s: (
            "/".join(f"{s.create_cpu.get(r, 0):.0f}" for r in ("haproxy", "agent", "pier up"))
            if s.create_cpu
            else "-"
        ),
    )
    row("VIPs answering 200 / probed", lambda s: f"{s.vips_ok}/{s.vips_probed}")
    row("haproxy processes", lambda s: f"{s.haproxy_processes}")
    row("haproxy PSS total, MiB", lambda s: f"{s.haproxy_pss_mib:.0f}")
    row("haproxy PSS per LB, MiB", lambda s: per_lb(s.haproxy_pss_mib, s))
    row("haproxy RSS per LB, MiB", lambda s: per_lb(s.haproxy_rss_mib, s))
    row("agent PSS / RSS, MiB", lambda s: f"{s.agent_pss_mib:.0f} / {s.agent_rss_mib:.0f}")
    row("pier up PSS / RSS, MiB", lambda s: f"{s.pier_pss_mib:.0f} / {s.pier_rss_mib:.0f}")
    row(
        "all Pier PSS per LB, MiB",
        lambda s: per_lb(s.haproxy_pss_mib + s.agent_pss_mib + s.pier_pss_mib, s),
    )
    row("host MemAvailable, GiB", lambda s: f"{s.mem_available_gib:.1f}")
    row(f"idle CPU % of a core (over {args.idle_seconds:g} s):", lambda s: "")
    row("  haproxy (all)", lambda s: _f(cpu("haproxy", s), "{:.1f}"))
    row("  agent", lambda s: _f(cpu("agent", s), "{:.1f}"))
    row("  pier up", lambda s: _f(cpu("pier up", s), "{:.1f}"))
    row("  total Pier", lambda s: _f(pier_cpu(s), "{:.1f}"))
    row(
        "  per LB, ms CPU per s",
        lambda s: _f(
            (pier_cpu(s) or 0) * 10 / s.active if s.idle_seconds and s.active else None, "{:.3f}"
        ),
    )
    row("  nginx members (health checks)", lambda s: _f(cpu("nginx members", s), "{:.1f}"))
    row("agent fds (soft/hard limit)", lambda s: f"{s.agent_fds} ({s.agent_nofile})")
    row("pier up fds", lambda s: f"{s.pier_fds}")
    row(
        "haproxy max fds (limit)",
        lambda s: f"{s.haproxy_max_fds} ({s.haproxy_nofile})" if s.haproxy_nofile else "-",
    )
    row("tasks (threads) of all these", lambda s: f"{s.tasks}")
    row("load average after stage", lambda s: s.load)
    width = max(len(r[0]) for r in rows) + 2
    header = ("stage", *(("idle" if s is results.baseline else f"{s.count}") for s in stages))
    out.append(f"{header[0]:<{width}}" + "".join(f"{h:>20}" for h in header[1:]))
    out.append("-" * (width + 20 * len(stages)))
    out += [f"{r[0]:<{width}}" + "".join(f"{c:>20}" for c in r[1:]) for r in rows]
    out.append("")
    for s in stages:
        out += [f"stage {s.count}: {note}" for note in s.notes]
    if results.delete_seconds is not None:
        out.append(
            f"delete all (cascade, {args.concurrency} at a time): {results.deleted} LBs gone in "
            f"{results.delete_seconds:.1f}s; HAProxy processes left: "
            f"{results.haproxy_left_after_delete}"
        )
    out += [f"ERROR {err}" for err in results.errors]
    return "\n".join(out)


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


# ------------------------------------------------------------------ main


def run(args: argparse.Namespace, work: Path, results: Results, deadline: float) -> None:
    counts = sorted({int(c) for c in args.counts.split(",") if c.strip()})
    with contextlib.ExitStack() as stack:
        web = [
            stack.enter_context(backends.nginx_backend(work, "web1", "127.0.2.1")),
            stack.enter_context(backends.nginx_backend(work, "web2", "127.0.2.2")),
        ]
        pier = stack.enter_context(pierbench.run_pier(work / "pier", args.pier_bin))
        results.setup += [
            pierbench.pier_version(),
            "pier: " + " ".join(pier.argv),
            pierbench.tool_version([backends.HAPROXY, "-v"]),
            f"members: nginx {web[0].url} and {web[1].url} (every LB has both)",
            f"pid_max {Path('/proc/sys/kernel/pid_max').read_text().strip()}, "
            f"this process's RLIMIT_NOFILE {pierbench.nofile_limit(os.getpid())}",
        ]
        print("\n".join(results.setup), flush=True)
        subnet = pier.public_subnet()
        base = Stage(0)
        procs = tracked(pier)
        memory(base, procs, nginx_pids(web))
        limits(base, procs)
        base.load = pierbench.load_average()
        results.baseline = base
        have = 0
        last_rate = None
        try:
            for count in counts:
                if count <= have:
                    continue
                left = deadline - time.monotonic()
                needed = (count - have) / last_rate + args.idle_seconds + 60 if last_rate else 0
                if needed > left:
                    results.errors.append(
                        f"stopped before {count}: that stage needs ~{needed:.0f}s at the last "
                        f"stage's rate, {left:.0f}s left of --max-minutes"
                    )
                    break
                print(f"stage {count}:", flush=True)
                stage = run_stage(args, pier, web, work, count, have, subnet)
                results.stages.append(stage)
                have = stage.active + stage.error
                if stage.create_seconds and stage.created:
                    last_rate = stage.created / stage.create_seconds
                if stage.error or stage.active < count:
                    results.errors.append(
                        f"stage {count}: only {stage.active} ACTIVE ({stage.error} ERROR); "
                        f"{pier.log_hint()}"
                    )
                    break
        finally:
            if not pierbench.STOP.is_set():
                print("deleting all ...", flush=True)
                delete_all(pier, args.concurrency, results)
        pier.check_alive()
        print("stopping ...", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bdn-"))
    work.mkdir(parents=True, exist_ok=True)
    results = Results()
    pierbench.install_signal_handlers(args.max_minutes * 60.0)
    started = time.monotonic()
    load_start = pierbench.load_average()
    status = 0
    try:
        run(args, work, results, started + args.max_minutes * 60.0 - 120.0)
    except KeyboardInterrupt:
        status = 130
        results.errors.append("interrupted")
    except (BenchError, BenchTimeout, RuntimeError, OSError, httpx.HTTPError) as exc:
        status = 1
        results.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
    left = pierbench.processes_under(work)
    if left:
        results.errors.append(f"{len(left)} processes still under {work} after teardown")
    print()
    print(render(args, results, load_start))
    print(f"work dir (logs, configs): {work}")
    print(f"total wall time {time.monotonic() - started:.0f}s")
    if args.json:
        data = {"args": {k: str(v) for k, v in vars(args).items()}, **asdict(results)}
        args.json.write_text(json.dumps(data, indent=2))
    if status:
        return status
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
