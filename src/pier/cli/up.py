"""`pier up`: every service in one process on the embedded default (SQLite, in-process queue)."""

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import uvicorn

from pier.api.app import build_app
from pier.api.auth import build_authenticator
from pier.api.identity.bootstrap import ensure_identity_bootstrap
from pier.api.network.bootstrap import ensure_public_network
from pier.api.services import Services
from pier.cli.options import add_common_options, add_dataplane_options, settings_from_args
from pier.db.engine import SessionFactory, make_engine, make_session_factory, transaction
from pier.db.migrate import upgrade
from pier.drivers.compute.base import Compute
from pier.drivers.compute.local import LocalCompute
from pier.drivers.compute.local_agent import LocalAgent
from pier.drivers.network.bridge import BridgeNetwork
from pier.drivers.registry import build_compute, build_network
from pier.health.keys import key_file
from pier.health.manager import HealthManager
from pier.housekeeping.certs import CertificateRotation
from pier.housekeeping.purge import purge_deleted
from pier.housekeeping.runner import Housekeeping, Job
from pier.housekeeping.spares import SparePool
from pier.queue.memory import MemoryQueue
from pier.settings import AuthMode, Settings
from pier.worker.runner import Worker

log = logging.getLogger(__name__)

# How soon a network or subnet made or deleted through the API has its bridge made or removed.
BRIDGE_SYNC_INTERVAL_S = 2.0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "up", help="run Pier all-in-one (API, identity, network, worker, health, agent)"
    )
    add_common_options(parser)
    add_dataplane_options(parser)
    parser.set_defaults(handler=run)


def _clock() -> datetime:
    return datetime.now(UTC)


def how_to_connect(settings: Settings) -> str:
    clouds = (settings.data_dir / "clouds.yaml").resolve()
    cloud = {AuthMode.NOAUTH: "pier-noauth", AuthMode.TOKEN: "pier-token"}.get(
        settings.auth, "pier-demo"
    )
    return "\n".join(
        [
            f"Pier is up at {settings.base_url}",
            "Point the openstack CLI at it:",
            f"  export OS_CLIENT_CONFIG_FILE={clouds}",
            f"  export OS_CLOUD={cloud}      # pier-admin for the admin user",
            "  openstack loadbalancer list",
            f"(`pier clouds-yaml --data-dir {settings.data_dir}` and `pier openrc --user demo "
            f"--data-dir {settings.data_dir}` print the credentials again)",
        ]
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.network_driver == "bridge" and os.geteuid() != 0:
        raise SystemExit(
            "pier up: --network-driver bridge makes bridges and namespaces: run as root"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    ensure_identity_bootstrap(sessions, settings)
    ensure_public_network(sessions, settings)
    queue = MemoryQueue()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    health = HealthManager(sessions, settings, _clock, queue=queue)
    health_port = health.start()
    threads.append(_thread("health", health.run, stop))
    agent = None
    if settings.compute_driver == "local":
        agent = LocalAgent(
            settings,
            heartbeat_port=health_port,
            heartbeat_key_file=key_file(settings),
            clock=_clock,
        )
        agent.start()
        threads.append(_thread("agent-supervisor", agent.supervise, stop))
    services = Services(
        settings=settings,
        sessions=sessions,
        queue=queue,
        authenticator=build_authenticator(settings, sessions, _clock),
        clock=_clock,
    )
    compute = build_compute(settings, None if agent is None else agent.endpoint)
    network = build_network(settings, sessions)
    if isinstance(network, BridgeNetwork):
        network.sync()  # the bridges exist before the first amphora is plugged
    worker = Worker(
        sessions=sessions,
        queue=queue,
        compute=compute,
        network=network,
        settings=settings,
        clock=_clock,
    )
    threads.append(_thread("worker", worker.run, stop))
    jobs = _housekeeping_jobs(settings, sessions, agent, compute)
    if isinstance(network, BridgeNetwork):
        jobs.append(Job("bridges", BRIDGE_SYNC_INTERVAL_S, network.sync))
    housekeeping = Housekeeping(jobs)
    threads.append(_thread("housekeeping", housekeeping.run, stop))
    print(how_to_connect(settings), flush=True)
    # uvicorn re-raises a SIGTERM it caught once it has shut down; with the default handler
    # the process would die there, before the finally below stops the agent and the threads.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(
            build_app(services),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        health.close()
        if agent is not None:
            # HAProxy keeps serving: the next `pier up` starts an agent that adopts it.
            agent.stop()
    return 0


def _housekeeping_jobs(
    settings: Settings, sessions: SessionFactory, agent: LocalAgent | None, compute: Compute
) -> list[Job]:
    def purge() -> None:
        with transaction(sessions) as session:
            purge_deleted(
                session,
                _clock(),
                loadbalancer_age=timedelta(seconds=settings.loadbalancer_expiry_age_seconds),
                amphora_age=timedelta(seconds=settings.amphora_expiry_age_seconds),
            )

    jobs = [Job("purge", settings.cleanup_interval_seconds, purge)]
    if settings.spare_amphora_pool_size > 0:
        spares = SparePool(sessions, compute, _clock, settings.spare_amphora_pool_size)
        jobs.append(Job("spares", settings.spare_check_interval_seconds, spares.run_once))
    if agent is not None and isinstance(compute, LocalCompute):
        rotation = CertificateRotation(agent, compute, sessions, _clock)
        jobs.append(Job("certificates", settings.cert_check_interval_seconds, rotation.run_once))
    return jobs


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _thread(
    name: str, target: Callable[[threading.Event], None], stop: threading.Event
) -> threading.Thread:
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread
