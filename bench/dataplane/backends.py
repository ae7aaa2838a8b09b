"""The reference processes: nginx backends and a hand-written HAProxy in front of them.

Each nginx has its own prefix dir (config, pid, logs, temp dirs) in the work dir and runs in
the foreground (`daemon off`) in its own process group, so stopping it never touches another
nginx on the host.
"""

from __future__ import annotations

import contextlib
import shutil
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pierbench import BenchError, ManagedProcess, free_port, http_status

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


@dataclass(frozen=True)
class Endpoint:
    name: str
    address: str
    port: int
    pids: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}/"


def nginx_conf(prefix: Path, name: str, address: str, port: int) -> str:
    """One worker, no access log, a fixed 200; keep-alive long enough that the benchmark's
    connections (and HAProxy's server-side ones) are not closed every 1,000 requests.
    """
    return textwrap.dedent(f"""\
        daemon off;
        master_process on;
        worker_processes 1;
        pid {prefix}/nginx.pid;
        error_log {prefix}/error.log warn;
        events {{
            worker_connections 4096;
        }}
        http {{
            access_log off;
            keepalive_requests 1000000;
            keepalive_timeout 65s;
            client_body_temp_path {prefix}/tmp/body;
            proxy_temp_path {prefix}/tmp/proxy;
            fastcgi_temp_path {prefix}/tmp/fastcgi;
            uwsgi_temp_path {prefix}/tmp/uwsgi;
            scgi_temp_path {prefix}/tmp/scgi;
            server {{
                listen {address}:{port} reuseport;
                default_type text/plain;
                location / {{
                    return 200 "{name}\\n";
                }}
            }}
        }}
        """)


def wait_serving(endpoint: Endpoint, procs: list[ManagedProcess], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise BenchError(f"{proc.name} exited (log {proc.log}):\n{proc.tail()}")
        if http_status(endpoint.address, endpoint.port, 0.5) == 200:
            return
        time.sleep(0.05)
    raise BenchError(f"{endpoint.name} at {endpoint.url} does not answer 200")


@contextlib.contextmanager
def nginx_backend(work: Path, name: str, address: str) -> Iterator[Endpoint]:
    prefix = work / name
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port(address)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, name, address, port))
    proc = ManagedProcess(
        f"nginx {name}", [NGINX, "-p", str(prefix), "-c", str(conf)], prefix / "stdout.log"
    )
    try:
        endpoint = Endpoint(name, address, port, (proc.pid,))
        wait_serving(endpoint, [proc])
        yield endpoint
    finally:
        proc.stop()


def handwritten_haproxy_conf(address: str, port: int, backends: list[Endpoint]) -> str:
    """What an operator would write by hand for the same job, nothing more: HTTP mode,
    roundrobin, the same two servers with the same HTTP check. Limits and timeouts are the
    ones Pier renders (global maxconn 4000, retries 3 + redispatch, 5 s connect, 50 s
    client/server), and no logging, as in Pier's rendering; threads are HAProxy's default
    (one per CPU) in both. Left out on purpose, because they are Pier's own choices and
    their cost, if any, is what the comparison should show: the admin stats socket, the
    server-state file, `option idle-close-on-response`, `fullconn`, `option allbackups`.
    """
    servers = "\n".join(
        f"    server {b.name} {b.address}:{b.port} check inter 5s fall 3 rise 3" for b in backends
    )
    return (
        textwrap.dedent(f"""\
        global
            maxconn 4000

        defaults
            mode http
            retries 3
            option redispatch
            timeout connect 5000
            timeout client 50000
            timeout server 50000

        frontend web
            bind {address}:{port}
            default_backend servers

        backend servers
            balance roundrobin
            option httpchk
            http-check send meth GET uri /
            http-check expect rstatus 200
        """)
        + servers
        + "\n"
    )


@contextlib.contextmanager
def handwritten_haproxy(work: Path, address: str, backends: list[Endpoint]) -> Iterator[Endpoint]:
    """The hand-written config under master-worker (`haproxy -W`, as the amphorae run)."""
    home = work / "haproxy-handwritten"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port(address)
    conf = home / "haproxy.cfg"
    conf.write_text(handwritten_haproxy_conf(address, port, backends))
    check = ManagedProcess("haproxy -c", [HAPROXY, "-c", "-f", str(conf)], home / "check.log")
    if check.proc.wait(timeout=30) != 0:
        raise BenchError(f"hand-written haproxy.cfg rejected:\n{check.tail()}")
    check.stop()
    proc = ManagedProcess("haproxy (hand-written)", [HAPROXY, "-W", "-f", str(conf)], home / "log")
    try:
        endpoint = Endpoint("hand-written", address, port, (proc.pid,))
        wait_serving(endpoint, [proc])
        yield endpoint
    finally:
        proc.stop()
