"""Pier vs. a real Octavia (from PyPI): the same Octavia v2 API workload, side by side.

Measures, per target, interleaved so both see the same machine conditions:
  1. GET the list of N load balancers at a fixed concurrency (req/s, p50, p99)
  2. N load balancer creates until all are ACTIVE (creates reaching ACTIVE per second)
  3. a full tree (LB + listener + pool + 2 members + HM) to ACTIVE, median over reps:
     (a) one graph POST, (b) six calls each waiting for the LB to be ACTIVE again
and prints absolute numbers with Pier/Octavia ratios. See README.md.

    .venv/bin/python bench/api/run.py --start
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pymysql
import servers
import workload
from workload import Poll, Target

TARGETS = ("pier", "octavia")


class BenchTimeout(Exception):
    """The whole run exceeded --max-minutes; raised from SIGALRM to force teardown."""


@dataclass
class Outcome:
    """Numbers (or the error) of one target across all measurements."""

    setup: list[str] = field(default_factory=list)
    warmup_seconds: float | None = None
    creates: workload.CreateResult | None = None
    listing: workload.ListResult | None = None
    graph: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_argument_group("targets")
    where.add_argument(
        "--start",
        action="store_true",
        help="launch every selected target that has no --*-url, tear down after",
    )
    where.add_argument(
        "--targets",
        default="pier,octavia",
        help="comma list of targets to measure (default pier,octavia)",
    )
    where.add_argument("--pier-url", default="", help="use an already running Pier")
    where.add_argument("--octavia-url", default="", help="use an already running Octavia")
    where.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="logs, configs, Pier data dir (default: a new /tmp/bench-api-*)",
    )
    where.add_argument("--pier-bin", type=Path, default=servers.REPO / ".venv/bin/pier")
    where.add_argument(
        "--pier-database",
        choices=["sqlite", "mariadb"],
        default="sqlite",
        help="Pier's store: its default SQLite, or MariaDB db pier_bench "
        "(same server as Octavia's)",
    )
    where.add_argument(
        "--octavia-venv",
        type=Path,
        default=Path(os.environ.get("OCTAVIA_VENV", "/work/bench-scratch/venv-octavia")),
    )
    where.add_argument(
        "--skip-setup",
        action="store_true",
        help="do not run octavia_setup.sh (venv must already exist)",
    )
    where.add_argument("--octavia-api-processes", type=int, default=2)
    where.add_argument("--octavia-worker-processes", type=int, default=1)
    load = parser.add_argument_group("workload")
    load.add_argument("--lbs", type=int, default=100, help="LBs to create, then list")
    load.add_argument("--create-concurrency", type=int, default=8)
    load.add_argument("--list-concurrency", type=int, default=16)
    load.add_argument("--list-requests", type=int, default=2000, help="cap per target")
    load.add_argument("--list-seconds", type=float, default=20.0, help="cap per target")
    load.add_argument("--tree-reps", type=int, default=5)
    load.add_argument(
        "--poll-interval",
        type=float,
        default=0.05,
        help="max seconds between status polls (starts at 5 ms, backs off)",
    )
    load.add_argument(
        "--active-timeout",
        type=float,
        default=180.0,
        help="max seconds to wait for ACTIVE (per wait)",
    )
    load.add_argument(
        "--max-minutes",
        type=float,
        default=10.0,
        help="hard cap on the whole run, setup and teardown included",
    )
    load.add_argument("--json", type=Path, default=None, help="also write results here")
    return parser.parse_args(argv)


# ------------------------------------------------------------------ signals


def install_signal_handlers(max_seconds: float) -> None:
    """Turn SIGTERM and the global deadline into exceptions so `finally` tears down."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        workload.STOP.set()
        raise KeyboardInterrupt

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        workload.STOP.set()
        raise BenchTimeout(f"run exceeded {max_seconds:.0f}s")

    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(max_seconds)))


# ------------------------------------------------------------------ servers


def pier_database_url(choice: str) -> str:
    """Empty for Pier's default SQLite; else a freshly recreated MariaDB database."""
    if choice == "sqlite":
        return ""
    servers.recreate_database("pier_bench")
    return "mysql+pymysql://root@127.0.0.1:3306/pier_bench"


def start_target(
    name: str, args: argparse.Namespace, work: Path, stack: contextlib.ExitStack
) -> servers.Server:
    """Launch one target under stack (so it is stopped on any exit path)."""
    if name == "pier":
        cfg = servers.PierConfig(args.pier_bin, pier_database_url(args.pier_database))
        return stack.enter_context(servers.run_pier(cfg, work / "pier"))
    if not args.skip_setup:
        servers.run_setup_script(args.octavia_venv)
    octavia = servers.OctaviaConfig(
        args.octavia_venv,
        api_processes=args.octavia_api_processes,
        worker_processes=args.octavia_worker_processes,
    )
    return stack.enter_context(servers.run_octavia(octavia, work / "octavia"))


def open_targets(
    args: argparse.Namespace, work: Path, stack: contextlib.ExitStack, outcomes: dict[str, Outcome]
) -> dict[str, Target]:
    """Attach to given URLs or start servers; a target that fails is reported, not fatal."""
    urls = {"pier": args.pier_url, "octavia": args.octavia_url}
    targets: dict[str, Target] = {}
    for name in outcomes:
        try:
            if urls[name]:
                outcomes[name].setup = [f"external server at {urls[name]}"]
                targets[name] = Target(name, urls[name].rstrip("/"))
                continue
            if not args.start:
                raise servers.ServerError(f"no --{name}-url and no --start")
            print(f"starting {name} ...", flush=True)
            server = start_target(name, args, work, stack)
            outcomes[name].setup = server.setup
            targets[name] = Target(name, server.base_url)
        except (
            servers.ServerError,
            subprocess.SubprocessError,
            OSError,
            pymysql.MySQLError,
        ) as exc:
            outcomes[name].errors.append(f"start: {exc}")
    return targets


# ------------------------------------------------------------- measurements


def guarded(outcome: Outcome, label: str, action: Callable[[], None]) -> bool:
    """Run one measurement; a failing target records the error and the run goes on."""
    try:
        action()
    except (workload.BenchError, httpx.HTTPError, KeyError, ValueError) as exc:
        outcome.errors.append(f"{label}: {type(exc).__name__}: {exc}")
        return False
    return True


def interleaved(targets: dict[str, Target], rep: int) -> list[Target]:
    """Alternate which target goes first, so neither always runs on a 'warmer' machine."""
    order = list(targets.values())
    return order if rep % 2 == 0 else order[::-1]


def run_all(
    targets: dict[str, Target], outcomes: dict[str, Outcome], args: argparse.Namespace
) -> None:
    """Warm-up, then measurements 2, 1 and 3 (2 creates the LBs that 1 lists)."""
    poll = Poll(interval=args.poll_interval, timeout=args.active_timeout)
    live = dict(targets)

    def each(label: str, rep: int, fn: Callable[[Target, Outcome], None]) -> None:
        for target in interleaved(live, rep):
            print(f"  {label}: {target.name}", flush=True)
            outcome = outcomes[target.name]
            if not guarded(outcome, label, lambda: fn(target, outcome)):  # noqa: B023
                live.pop(target.name, None)

    def warm(t: Target, o: Outcome) -> None:
        o.warmup_seconds = workload.warm_up(t, "bench-warmup", poll)

    def creates(t: Target, o: Outcome) -> None:
        o.creates = workload.measure_creates(
            t, "bench-lbs", args.lbs, args.create_concurrency, poll
        )

    def listing(t: Target, o: Outcome) -> None:
        o.listing = workload.measure_list(
            t,
            "bench-lbs",
            args.list_concurrency,
            args.list_requests,
            args.list_seconds,
            warmup_requests=2 * args.list_concurrency,
        )

    def graph(t: Target, o: Outcome) -> None:
        o.graph.append(workload.tree_graph(t, "bench-tree", poll))

    def steps(t: Target, o: Outcome) -> None:
        o.steps.append(workload.tree_steps(t, "bench-tree", poll))

    print("warm-up (one LB to ACTIVE per target)", flush=True)
    each("warm-up", 0, warm)
    print(f"2. {args.lbs} creates to ACTIVE at concurrency {args.create_concurrency}", flush=True)
    each("creates", 0, creates)
    print(f"1. list {args.lbs} LBs at concurrency {args.list_concurrency}", flush=True)
    each("list", 1, listing)
    print(f"3. full tree, {args.tree_reps} reps", flush=True)
    for rep in range(args.tree_reps):
        each(f"tree graph #{rep + 1}", rep, graph)
        each(f"tree steps #{rep + 1}", rep + 1, steps)


# ------------------------------------------------------------------- report


@dataclass(frozen=True)
class Row:
    """One line of the report: a metric, how to read it, and a getter per outcome."""

    label: str
    better: str  # "higher" or "lower"
    fmt: str
    get: Callable[[Outcome], float | None]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report_rows(args: argparse.Namespace) -> list[Row]:
    n, lc, cc, reps = args.lbs, args.list_concurrency, args.create_concurrency, args.tree_reps
    ms = 1000.0
    return [
        Row(
            f"1. list {n} LBs @{lc}: requests/s",
            "higher",
            "{:.1f}",
            lambda o: o.listing.rps if o.listing else None,
        ),
        Row(
            f"1. list {n} LBs @{lc}: p50 ms",
            "lower",
            "{:.1f}",
            lambda o: o.listing.p50 * ms if o.listing else None,
        ),
        Row(
            f"1. list {n} LBs @{lc}: p99 ms",
            "lower",
            "{:.1f}",
            lambda o: o.listing.p99 * ms if o.listing else None,
        ),
        Row(
            f"2. creates to ACTIVE/s (N={n} @{cc})",
            "higher",
            "{:.2f}",
            lambda o: o.creates.active_per_second if o.creates else None,
        ),
        Row(
            "2.   all ACTIVE after, s",
            "lower",
            "{:.2f}",
            lambda o: o.creates.active_seconds if o.creates else None,
        ),
        Row(
            "2.   all POSTs answered after, s",
            "lower",
            "{:.2f}",
            lambda o: o.creates.post_seconds if o.creates else None,
        ),
        Row(
            "2.   POST p50 ms",
            "lower",
            "{:.1f}",
            lambda o: o.creates.post_p50 * ms if o.creates else None,
        ),
        Row(
            f"3a. tree, graph POST, median s (n={reps})",
            "lower",
            "{:.3f}",
            lambda o: _median(o.graph),
        ),
        Row(
            f"3b. tree, 6 calls+waits, median s (n={reps})",
            "lower",
            "{:.3f}",
            lambda o: _median(o.steps),
        ),
    ]


def _cell(fmt: str, value: float | None) -> str:
    return "n/a" if value is None else fmt.format(value)


def render_table(rows: list[Row], outcomes: dict[str, Outcome]) -> str:
    """Fixed-width table: metric | pier | octavia | pier/octavia | better."""
    pier, octavia = outcomes.get("pier", Outcome()), outcomes.get("octavia", Outcome())
    lines = [f"{'metric':<46}{'pier':>10}{'octavia':>10}{'pier/oct':>10}  better", "-" * 84]
    for row in rows:
        p, o = row.get(pier), row.get(octavia)
        ratio = f"{p / o:.2f}x" if p is not None and o else "n/a"
        lines.append(
            f"{row.label:<46}{_cell(row.fmt, p):>10}{_cell(row.fmt, o):>10}"
            f"{ratio:>10}  {row.better}"
        )
    return "\n".join(lines)


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def render_report(
    args: argparse.Namespace, outcomes: dict[str, Outcome], work: Path, load_start: str
) -> str:
    """Header (machine, setups), the table, then per-target details and errors."""
    out = [
        f"Pier vs Octavia API benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{os.cpu_count()} cores, client Python {platform.python_version()} (httpx, threads), "
        f"client and servers share the machine",
        f"load average (1/5/15 min) at start {load_start}, at end {_load()}; "
        "other work on the host skews every number",
        f"work dir: {work}",
    ]
    for name, outcome in outcomes.items():
        out.append(f"{name}:")
        out.extend(f"    {line}" for line in outcome.setup)
    out += ["", render_table(report_rows(args), outcomes), ""]
    for name, outcome in outcomes.items():
        if outcome.listing:
            out.append(
                f"{name}: list saw {outcome.listing.items} LBs, "
                f"{outcome.listing.requests} requests in {outcome.listing.seconds:.1f}s, "
                f"{outcome.listing.errors} errors"
            )
        if outcome.creates and outcome.creates.errors:
            out.append(f"{name}: {outcome.creates.errors} creates ended in ERROR")
        if outcome.graph or outcome.steps:
            out.append(
                f"{name}: tree graph s {[round(v, 3) for v in outcome.graph]}, "
                f"steps s {[round(v, 3) for v in outcome.steps]}"
            )
        out.extend(f"{name}: ERROR {err}" for err in outcome.errors)
    return "\n".join(out)


def write_json(path: Path, args: argparse.Namespace, outcomes: dict[str, Outcome]) -> None:
    data: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "targets": {name: asdict(o) for name, o in outcomes.items()},
    }
    path.write_text(json.dumps(data, indent=2))


# --------------------------------------------------------------------- main


@contextlib.contextmanager
def teardown_notice() -> Iterator[None]:
    """Say why we stop before the ExitStack stops the servers."""
    try:
        yield
    except KeyboardInterrupt:
        print("\ninterrupted: stopping servers ...", file=sys.stderr, flush=True)
        raise
    except BenchTimeout as exc:
        print(f"\n{exc}: stopping servers ...", file=sys.stderr, flush=True)
        raise


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    if not names or any(n not in TARGETS for n in names):
        print(f"--targets must be a comma list of {TARGETS}", file=sys.stderr)
        return 2
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-api-"))
    work.mkdir(parents=True, exist_ok=True)
    outcomes = {name: Outcome() for name in names}
    install_signal_handlers(args.max_minutes * 60.0)
    started = time.monotonic()
    load_start = _load()
    status = 0
    try:
        with contextlib.ExitStack() as stack, teardown_notice():
            targets = open_targets(args, work, stack, outcomes)
            if targets:
                run_all(targets, outcomes, args)
            print("stopping servers ...", flush=True)
    except KeyboardInterrupt:
        status = 130
    except BenchTimeout as exc:
        status = 1
        for outcome in outcomes.values():
            outcome.errors.append(str(exc))
    finally:
        signal.alarm(0)
    print()
    print(render_report(args, outcomes, work, load_start))
    print(f"\ntotal wall time {time.monotonic() - started:.0f}s")
    if args.json:
        write_json(args.json, args, outcomes)
    if status:
        return status
    return 0 if all(not o.errors for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
