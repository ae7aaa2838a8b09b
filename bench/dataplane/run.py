"""Pier's data plane vs. a hand-written HAProxy vs. no proxy, on the same backends.

Two nginx backends (one worker each, a fixed `200 webN`) on 127.0.2.1 and 127.0.2.2, and three
paths to them, measured with wrk in interleaved repetitions (the path order rotates):
  direct        wrk -> web1
  hand-written  wrk -> HAProxy with a minimal config written by hand -> web1, web2
  pier          wrk -> the VIP of a Pier load balancer created through the API -> web1, web2
once with keep-alive and once with a new connection per request (`Connection: close`).
Prints req/s, p50/p99 latency and the proxy's CPU per request for each path, and the medians
of the per-repetition ratios Pier/hand-written and Pier/direct (goal: Pier >= 0.97 x
hand-written).

Then: time from the POST of a full tree (LB + listener + pool + 2 members + HTTP monitor) to
the first 200 proxied through its VIP, over --creates creates, each deleted (cascade) after.
Goal: median <= 0.3 s.

    .venv/bin/python bench/dataplane/run.py [--reps 3] [--seconds 5] [--creates 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import backends
import httpx
import pierbench
import wrk
from pierbench import BenchError, BenchTimeout, Pier, median, percentile

PATHS = ("direct", "hand-written", "pier")
MODES = ("keep-alive", "close")


@dataclass
class Sample:
    rep: int
    mode: str
    path: str
    rps: float
    requests: int
    p50: float | None
    p99: float | None
    proxy_cpu_us_per_request: float | None
    non_2xx: int
    socket_errors: int


@dataclass
class CreateSample:
    post_seconds: float  # until the POST was answered
    first_200_seconds: float  # from before the POST to the first 200 through the VIP
    active_seen_seconds: float  # when the API was seen ACTIVE (polled only after the 200)
    delete_to_refused_seconds: float | None  # DELETE (cascade) until the VIP refuses


@dataclass
class Results:
    setup: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    creates: list[CreateSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (with -t1)")
    parser.add_argument("--creates", type=int, default=10, help="creates timed to first 200")
    parser.add_argument("--vip-port", type=int, default=8080, help="the listener's port")
    parser.add_argument("--skip", choices=["throughput", "creates"], action="append", default=[])
    parser.add_argument("--pier-bin", type=Path, default=pierbench.REPO / ".venv/bin/pier")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="configs, logs and Pier's data dir (default: a new /tmp/bdp-*, kept); keep the "
        "path short: HAProxy's master socket lives under it",
    )
    parser.add_argument("--max-minutes", type=float, default=15.0, help="hard cap on the run")
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    return parser.parse_args(argv)


# ------------------------------------------------------------------ throughput


def pier_lb(pier: Pier, web: list[backends.Endpoint], port: int) -> tuple[str, str]:
    """The load balancer under test: same tree as the density benchmark, both backends."""
    subnet = pier.public_subnet()
    body = pierbench.tree_body(subnet, "bench-dp", [(w.address, w.port) for w in web], port)
    lb = pier.call("POST", f"{pierbench.LBAAS}/loadbalancers", body)["loadbalancer"]
    pier.wait_lb(lb["id"], "ACTIVE", 60.0)
    pierbench.wait_http_200(lb["vip_address"], port, 30.0)
    return lb["id"], lb["vip_address"]


def check_round_robin(address: str, port: int, names: set[str]) -> None:
    """A few requests through a proxy must reach both backends (same config, same spread)."""
    seen = set()
    with httpx.Client(timeout=5.0) as http:
        for _ in range(8):
            resp = http.get(f"http://{address}:{port}/")
            if resp.status_code != 200:
                raise BenchError(f"{address}:{port} -> {resp.status_code}")
            seen.add(resp.text.strip())
    if seen != names:
        raise BenchError(f"{address}:{port} reached {sorted(seen)}, expected {sorted(names)}")


def measure_throughput(
    args: argparse.Namespace,
    urls: dict[str, str],
    proxy_pids: dict[str, Any],
    results: Results,
) -> None:
    # Warm-up, not reported: first connections, page faults, CPU frequency.
    for path in PATHS:
        wrk.run(urls[path], 1.0, args.connections)
    for rep in range(args.reps):
        for mode in MODES:
            order = PATHS[rep % 3 :] + PATHS[: rep % 3]
            for path in order:
                if pierbench.STOP.is_set():
                    return
                pids = proxy_pids[path]() if path in proxy_pids else []
                before = pierbench.cpu_seconds(pids)
                res = wrk.run(urls[path], args.seconds, args.connections, close=mode == "close")
                spent = pierbench.cpu_delta(before, pierbench.cpu_seconds(pids))
                cpu = spent / res.requests * 1e6 if pids and res.requests else None
                sample = Sample(
                    rep,
                    mode,
                    path,
                    res.rps,
                    res.requests,
                    res.p50,
                    res.p99,
                    cpu,
                    res.non_2xx,
                    res.socket_errors,
                )
                results.samples.append(sample)
                print(
                    f"  rep {rep + 1} {mode:<10} {path:<13} {res.rps:>10.0f} req/s"
                    f"  p50 {_ms(res.p50)} p99 {_ms(res.p99)} ms"
                    f"  proxy CPU {_fmt(cpu, '{:.1f}')} us/req"
                    f"  errors {res.non_2xx + res.socket_errors}",
                    flush=True,
                )


# ------------------------------------------------------------------ create to first 200


def measure_creates(
    args: argparse.Namespace, pier: Pier, web: list[backends.Endpoint], results: Results
) -> None:
    subnet = pier.public_subnet()
    members = [(w.address, w.port) for w in web]
    for i in range(args.creates):
        if pierbench.STOP.is_set():
            return
        body = pierbench.tree_body(subnet, f"bench-create-{i}", members, args.vip_port)
        start = time.monotonic()
        lb = pier.call("POST", f"{pierbench.LBAAS}/loadbalancers", body)["loadbalancer"]
        posted = time.monotonic() - start
        pierbench.wait_http_200(lb["vip_address"], args.vip_port, 30.0)
        first = time.monotonic() - start
        pier.wait_lb(lb["id"], "ACTIVE", 60.0)
        active = time.monotonic() - start
        deleted = time.monotonic()
        pier.call("DELETE", f"{pierbench.LBAAS}/loadbalancers/{lb['id']}", cascade="true")
        refused = None
        while time.monotonic() - deleted < 30.0:
            if pierbench.http_status(lb["vip_address"], args.vip_port, 0.05) is None:
                refused = time.monotonic() - deleted
                break
            time.sleep(0.005)
        pier.wait_lb(lb["id"], "DELETED", 60.0)
        results.creates.append(CreateSample(posted, first, active, refused))
        print(
            f"  create {i + 1}: POST answered {posted * 1e3:.0f} ms, first 200 after "
            f"{first * 1e3:.0f} ms, ACTIVE seen {active * 1e3:.0f} ms; delete -> VIP refused "
            f"{_fmt(refused and refused * 1e3, '{:.0f}')} ms",
            flush=True,
        )


# ------------------------------------------------------------------ report


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _ms(value: float | None) -> str:
    return _fmt(value and value * 1e3, "{:.2f}")


def ratios(samples: list[Sample], mode: str, num: str, den: str, key: str) -> list[float]:
    """Per-repetition ratios num/den of one figure, in one mode."""
    by = {(s.rep, s.path): getattr(s, key) for s in samples if s.mode == mode}
    reps = sorted({s.rep for s in samples})
    return [by[(r, num)] / by[(r, den)] for r in reps if by.get((r, num)) and by.get((r, den))]


def render(args: argparse.Namespace, results: Results, load_start: str) -> str:
    out = [
        f"Pier data-plane benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{os.cpu_count()} cores shared by wrk, the proxies and the backends, "
        f"Python {platform.python_version()}",
        f"load average (1/5/15 min) at start {load_start}, at end {pierbench.load_average()}",
        *results.setup,
        "",
    ]
    if results.samples:
        out.append(
            f"wrk -t1 -c{args.connections} -d{args.seconds:g}s, {args.reps} interleaved "
            "repetitions; medians over repetitions"
        )
        out.append(
            f"{'mode':<11}{'path':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'proxy CPU us/req':>18}{'errors':>8}"
        )
        out.append("-" * 79)
        for mode in MODES:
            for path in PATHS:
                rows = [s for s in results.samples if s.mode == mode and s.path == path]
                if not rows:
                    continue
                cpu = [s.proxy_cpu_us_per_request for s in rows if s.proxy_cpu_us_per_request]
                out.append(
                    f"{mode:<11}{path:<14}{median([s.rps for s in rows]):>10.0f}"
                    f"{_ms(median([s.p50 for s in rows if s.p50 is not None])):>9}"
                    f"{_ms(median([s.p99 for s in rows if s.p99 is not None])):>9}"
                    f"{_fmt(median(cpu), '{:.1f}'):>18}"
                    f"{sum(s.non_2xx + s.socket_errors for s in rows):>8}"
                )
        out.append("")
        for mode in MODES:
            vs_hand = ratios(results.samples, mode, "pier", "hand-written", "rps")
            vs_direct = ratios(results.samples, mode, "pier", "direct", "rps")
            cpu = ratios(results.samples, mode, "pier", "hand-written", "proxy_cpu_us_per_request")
            goal = median(vs_hand)
            verdict = (
                ""
                if goal is None
                else ("  goal >= 0.97: met" if goal >= 0.97 else "  goal >= 0.97: NOT met")
            )
            out.append(
                f"{mode:<11} req/s Pier/hand-written {_fmt(goal, '{:.3f}')} "
                f"{[round(r, 3) for r in vs_hand]}{verdict}"
            )
            out.append(
                f"{'':<11} req/s Pier/direct       {_fmt(median(vs_direct), '{:.3f}')} "
                f"{[round(r, 3) for r in vs_direct]}"
            )
            out.append(
                f"{'':<11} proxy CPU/request Pier/hand-written {_fmt(median(cpu), '{:.3f}')} "
                f"{[round(r, 3) for r in cpu]}"
            )
        out.append("")
    if results.creates:
        first = [c.first_200_seconds for c in results.creates]
        posts = [c.post_seconds for c in results.creates]
        refused = [c.delete_to_refused_seconds for c in results.creates]
        gone = [r for r in refused if r is not None]
        med = median(first) or 0.0
        out += [
            f"full tree POST -> first 200 through the VIP, n={len(first)} "
            f"(probe every 5 ms, new connection each):",
            f"  median {med:.3f} s, p90 {percentile(first, 90):.3f} s, max {max(first):.3f} s"
            f"  goal <= 0.3 s median: {'met' if med <= 0.3 else 'NOT met'}",
            f"  POST answered: median {median(posts) or 0:.3f} s",
            f"  DELETE (cascade) -> VIP refuses: median "
            f"{_fmt(median(gone), '{:.3f}')} s ({len(refused) - len(gone)} never refused)",
            f"  samples s: {[round(v, 3) for v in first]}",
            "",
        ]
    out += [f"ERROR {err}" for err in results.errors]
    return "\n".join(out)


# ------------------------------------------------------------------ main


def run(args: argparse.Namespace, work: Path, results: Results) -> None:
    with contextlib.ExitStack() as stack:
        web = [
            stack.enter_context(backends.nginx_backend(work, "web1", "127.0.2.1")),
            stack.enter_context(backends.nginx_backend(work, "web2", "127.0.2.2")),
        ]
        hand = stack.enter_context(backends.handwritten_haproxy(work, "127.0.3.1", web))
        pier = stack.enter_context(pierbench.run_pier(work / "pier", args.pier_bin))
        results.setup += [
            pierbench.pier_version(),
            "pier: " + " ".join(pier.argv),
            pierbench.tool_version([backends.HAPROXY, "-v"]),
            pierbench.tool_version([backends.NGINX, "-v"]),
            pierbench.tool_version([wrk.WRK, "-v"]),
            f"backends: nginx web1 {web[0].url}, web2 {web[1].url} (1 worker each)",
            f"hand-written HAProxy: {hand.url} ({work / 'haproxy-handwritten/haproxy.cfg'})",
        ]
        lb_id, vip = pier_lb(pier, web, args.vip_port)
        amphora_cfg = next((pier.data_dir / "agent").glob("amphorae/*/haproxy.cfg"), None)
        results.setup.append(f"Pier LB {lb_id}: http://{vip}:{args.vip_port}/ ({amphora_cfg})")
        check_round_robin(hand.address, hand.port, {"web1", "web2"})
        check_round_robin(vip, args.vip_port, {"web1", "web2"})
        print("\n".join(results.setup), flush=True)
        if "throughput" not in args.skip:
            urls = {
                "direct": web[0].url,
                "hand-written": hand.url,
                "pier": f"http://{vip}:{args.vip_port}/",
            }
            hand_dir = work / "haproxy-handwritten"
            proxy_pids = {
                "hand-written": lambda: pierbench.haproxy_pids_under(hand_dir),
                "pier": pier.haproxy_pids,
            }
            print("throughput:", flush=True)
            measure_throughput(args, urls, proxy_pids, results)
        if "creates" not in args.skip:
            print("create -> first 200:", flush=True)
            measure_creates(args, pier, web, results)
        pier.check_alive()
        print("stopping ...", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bdp-"))
    work.mkdir(parents=True, exist_ok=True)
    results = Results()
    pierbench.install_signal_handlers(args.max_minutes * 60.0)
    started = time.monotonic()
    load_start = pierbench.load_average()
    status = 0
    try:
        run(args, work, results)
    except KeyboardInterrupt:
        status = 130
        results.errors.append("interrupted")
    except (BenchError, BenchTimeout, RuntimeError, OSError) as exc:
        status = 1
        results.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
    print()
    print(render(args, results, load_start))
    print(f"work dir (logs, configs): {work}")
    print(f"total wall time {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, **asdict(results)}, indent=2
            )
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
