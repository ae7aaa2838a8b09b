"""Start, probe and stop the two servers under test (Pier and a real Octavia).

Every process is started in its own session so teardown can signal exactly
the process group it created (and nothing else on this shared machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx
import pymysql

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A server under test could not be set up or did not become ready."""


@dataclass
class Server:
    """A running target: where to reach it and how it was set up (for the report)."""

    name: str
    base_url: str
    setup: list[str] = field(default_factory=list)


def free_port() -> int:
    """Ask the kernel for a free loopback port (racy, but fine on one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class ManagedProcess:
    """A child in its own process group, with its output captured to a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        """Last lines of the log, for error messages when the process dies early."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM our own process group, then SIGKILL it if it lingers."""
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Children (uWSGI workers, cotyledon workers) may outlive the leader briefly.
        self._signal(signal.SIGKILL)
        self._log_file.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def wait_http_ready(
    url: str, procs: list[ManagedProcess], timeout: float, headers: dict[str, str] | None = None
) -> None:
    """Poll url until it answers 200; fail fast if one of procs has exited."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise ServerError(f"{proc.name} exited early (log {proc.log}):\n{proc.tail()}")
        try:
            resp = httpx.get(url, headers=headers, timeout=5.0)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise ServerError(f"{url} not ready after {timeout:.0f}s ({last})")


# --------------------------------------------------------------------------- Pier


@dataclass(frozen=True)
class PierConfig:
    """How to start Pier: the exact `pier up` invocation the lead asked for."""

    pier_bin: Path
    database_url: str = ""
    start_timeout: float = 60.0


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


@contextlib.contextmanager
def run_pier(cfg: PierConfig, work: Path) -> Iterator[Server]:
    """Start `pier up` in noauth mode on a free port with a fresh data dir."""
    port = free_port()
    data_dir = work / "pier-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(cfg.pier_bin),
        "up",
        "--auth",
        "noauth",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--accept-any-subnet",
        # Octavia runs with its noop drivers here; these are Pier's.
        "--compute-driver",
        "fake",
        "--network-driver",
        "records",
        "--health-port",
        "0",
    ]
    if cfg.database_url:
        argv += ["--database-url", cfg.database_url]
    proc = ManagedProcess("pier up", argv, work / "pier.log", cwd=REPO)
    try:
        base = f"http://{LOOPBACK}:{port}"
        wait_http_ready(
            f"{base}/v2.0/lbaas/loadbalancers",
            [proc],
            cfg.start_timeout,
            headers={"X-Project-Id": "bench-ready"},
        )
        setup = [
            pier_version(),
            " ".join(argv),
            f"database: {cfg.database_url or 'SQLite in --data-dir'}",
            f"log: {proc.log}",
        ]
        yield Server("pier", base, setup)
    finally:
        proc.stop()


# ------------------------------------------------------------------------ Octavia


@dataclass(frozen=True)
class OctaviaConfig:
    """Knobs of the reference Octavia deployment (defaults: what a 2-core host gets)."""

    venv: Path
    db_name: str = "octavia_bench"
    db_url_base: str = "mysql+pymysql://root@127.0.0.1:3306"
    rabbit_url_base: str = "rabbit://guest:guest@127.0.0.1:5672"
    # devstack's API_WORKERS on a 2-core host = max(nproc/4, 2) = 2 uWSGI processes,
    # one thread each; kolla's default is min(nproc, 5) = 2 as well.
    api_processes: int = 2
    # [controller_worker] workers default (1), as shipped.
    worker_processes: int = 1
    # Loading the app takes ~10 s per uWSGI process idle, over a minute on a busy host.
    start_timeout: float = 240.0

    @property
    def ca_dir(self) -> Path:
        return self.venv / "bench-ca"


def octavia_version(venv: Path) -> str:
    """Exact installed Octavia release, read from the Octavia venv itself."""
    out = subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import importlib.metadata as m; print(m.version('octavia'), m.version('uwsgi'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    octavia, uwsgi = out.stdout.split()
    return f"octavia {octavia} (uWSGI {uwsgi})"


def run_setup_script(venv: Path) -> None:
    """Build the Octavia venv if missing or stale (fast no-op otherwise)."""
    env = dict(os.environ, OCTAVIA_VENV=str(venv))
    subprocess.run(["bash", str(HERE / "octavia_setup.sh")], check=True, env=env, timeout=900)


def recreate_database(db_name: str) -> None:
    """Drop and create the Octavia schema so every run starts from an empty DB."""
    conn = pymysql.connect(host=LOOPBACK, port=3306, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db_name}`")
            cur.execute(f"CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()


@contextlib.contextmanager
def rabbit_vhost() -> Iterator[str]:
    """A private RabbitMQ vhost for this run, deleted afterwards.

    oslo.messaging names the worker queue after the topic alone
    (octavia_provisioning_v2), so two Octavias on one broker would steal each
    other's casts, and a killed run would leave stale casts behind for the
    next worker. A per-run vhost avoids both. Falls back to "/" when
    rabbitmqctl is not usable (then do not run two benchmarks at once).
    """
    vhost = f"octavia_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    ctl = shutil.which("rabbitmqctl")
    created = False
    if ctl:
        made = subprocess.run([ctl, "add_vhost", vhost], capture_output=True, timeout=60)
        perms = subprocess.run(
            [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            capture_output=True,
            timeout=60,
        )
        created = made.returncode == 0 and perms.returncode == 0
    if not created:
        print("warning: rabbitmqctl unusable; Octavia uses the shared '/' vhost", file=sys.stderr)
    try:
        yield vhost if created else ""
    finally:
        if created and ctl:
            subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


def octavia_conf(cfg: OctaviaConfig, work: Path, port: int, vhost: str) -> str:
    """octavia.conf for a noauth API and a worker whose drivers are all noop.

    Option names come from octavia/common/config.py and
    octavia/certificates/common/local.py of the pinned release. The noop
    amphora flow still generates an amphora certificate (local cert
    generator -> needs a CA) and reads client_ca from disk.
    """
    ca = cfg.ca_dir
    return textwrap.dedent(f"""\
        [DEFAULT]
        transport_url = {cfg.rabbit_url_base}/{vhost}
        log_dir = {work}
        debug = False

        [api_settings]
        bind_host = {LOOPBACK}
        bind_port = {port}
        auth_strategy = noauth
        enabled_provider_drivers = amphora:The Octavia Amphora driver (noop backends)
        default_provider_driver = amphora

        [database]
        connection = {cfg.db_url_base}/{cfg.db_name}

        [controller_worker]
        workers = {cfg.worker_processes}
        amphora_driver = amphora_noop_driver
        compute_driver = compute_noop_driver
        network_driver = network_noop_driver
        image_driver = image_noop_driver
        volume_driver = volume_noop_driver
        loadbalancer_topology = SINGLE
        client_ca = {ca}/ca.pem

        [certificates]
        cert_generator = local_cert_generator
        ca_certificate = {ca}/ca.pem
        ca_private_key = {ca}/ca.key

        [haproxy_amphora]
        client_cert = {ca}/client.pem
        server_ca = {ca}/ca.pem

        [task_flow]
        jobboard_enabled = False
        """)


WSGI_SHIM = """\
# Generated by bench/api/servers.py: octavia.wsgi.api parses sys.argv (uWSGI's)
# as oslo.config arguments, so hand it the config file explicitly instead.
import os

from octavia.api import app

application = app.setup_app(argv=["octavia-api", "--config-file", os.environ["OCTAVIA_CONF"]])
"""


def uwsgi_argv(cfg: OctaviaConfig, port: int, shim: Path) -> list[str]:
    """uWSGI as devstack runs octavia-api (processes, 1 thread, lazy apps), minus Apache.

    "Connection: close" is devstack's setting too; without it clients reuse
    sockets that uWSGI's plain http-socket has already closed (ECONNRESET).
    """
    return [
        str(cfg.venv / "bin/uwsgi"),
        "--http-socket",
        f"{LOOPBACK}:{port}",
        "--wsgi-file",
        str(shim),
        "--virtualenv",
        str(cfg.venv),
        "--master",
        "--processes",
        str(cfg.api_processes),
        "--threads",
        "1",
        "--lazy-apps",
        "--enable-threads",
        "--thunder-lock",
        "--die-on-term",
        "--buffer-size",
        "65535",
        "--add-header",
        "Connection: close",
        "--need-app",
    ]


def prepare_octavia(cfg: OctaviaConfig, work: Path, port: int, vhost: str) -> Path:
    """Write config + WSGI shim, recreate the DB and migrate it; return the config path."""
    conf = work / "octavia.conf"
    conf.write_text(octavia_conf(cfg, work, port, vhost))
    (work / "octavia_wsgi.py").write_text(WSGI_SHIM)
    recreate_database(cfg.db_name)
    with (work / "db-manage.log").open("wb") as log:
        subprocess.run(
            [
                str(cfg.venv / "bin/octavia-db-manage"),
                "--config-file",
                str(conf),
                "upgrade",
                "head",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=300,
        )
    return conf


@contextlib.contextmanager
def run_octavia(cfg: OctaviaConfig, work: Path) -> Iterator[Server]:
    """Fresh DB + private vhost, then octavia-api under uWSGI and octavia-worker."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with rabbit_vhost() as vhost:
        conf = prepare_octavia(cfg, work, port, vhost)
        env = dict(os.environ, OCTAVIA_CONF=str(conf))
        procs: list[ManagedProcess] = []
        try:
            procs.append(
                ManagedProcess(
                    "octavia-worker",
                    [str(cfg.venv / "bin/octavia-worker"), "--config-file", str(conf)],
                    work / "worker.out",
                    env=env,
                )
            )
            procs.append(
                ManagedProcess(
                    "octavia-api (uWSGI)",
                    uwsgi_argv(cfg, port, work / "octavia_wsgi.py"),
                    work / "uwsgi.log",
                    env=env,
                )
            )
            base = f"http://{LOOPBACK}:{port}"
            wait_http_ready(
                f"{base}/v2.0/lbaas/loadbalancers",
                procs,
                cfg.start_timeout,
                headers={"X-Project-Id": "bench-ready"},
            )
            setup = [
                octavia_version(cfg.venv),
                f"octavia-api: uWSGI --http-socket, {cfg.api_processes} processes x 1 thread",
                f"octavia-worker: {cfg.worker_processes} worker process(es), "
                "amphora/compute/network/image noop drivers, jobboard off",
                f"MariaDB database {cfg.db_name}; RabbitMQ vhost {vhost or '/'}",
                f"config and logs: {work}",
            ]
            yield Server("octavia", base, setup)
        finally:
            for proc in reversed(procs):
                proc.stop()
