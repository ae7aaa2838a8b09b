"""Run wrk for a bounded time and parse what it prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

WRK = shutil.which("wrk") or "/usr/bin/wrk"

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50: float | None  # seconds
    p99: float | None
    non_2xx: int
    socket_errors: int
    output: str


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkResult:
    """Parse wrk 4.x output (with --latency)."""
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not done or not rps:
        raise ValueError(f"unexpected wrk output:\n{output}")
    pct = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_duration(done.group(2)),
        rps=float(rps.group(1)),
        p50=_duration(pct["50"]) if "50" in pct else None,
        p99=_duration(pct["99"]) if "99" in pct else None,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        output=output,
    )


def run(
    url: str, seconds: float, connections: int, threads: int = 1, close: bool = False
) -> WrkResult:
    """wrk -t<threads> -c<connections> -d<seconds> --latency [-H 'Connection: close'] url."""
    argv = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "2s",
        "--latency",
    ]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"wrk exited with {out.returncode}: {out.stderr.strip()}")
    return parse(out.stdout)
