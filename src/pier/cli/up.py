"""`pier up`: every service in one process on the embedded default (SQLite, in-process queue)."""

import argparse
import logging
import threading
from datetime import UTC, datetime

import uvicorn

from pier.api.app import build_app
from pier.api.auth import build_authenticator
from pier.api.identity.bootstrap import ensure_identity_bootstrap
from pier.api.network.bootstrap import ensure_public_network
from pier.api.services import Services
from pier.cli.options import add_common_options, settings_from_args
from pier.db.engine import make_engine, make_session_factory
from pier.db.migrate import upgrade
from pier.drivers.registry import build_compute, build_network
from pier.queue.memory import MemoryQueue
from pier.settings import AuthMode, Settings
from pier.worker.runner import Worker

log = logging.getLogger(__name__)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("up", help="run Pier all-in-one (API, identity, network, worker)")
    add_common_options(parser)
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
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    ensure_identity_bootstrap(sessions, settings)
    ensure_public_network(sessions, settings)
    queue = MemoryQueue()
    services = Services(
        settings=settings,
        sessions=sessions,
        queue=queue,
        authenticator=build_authenticator(settings, sessions, _clock),
        clock=_clock,
    )
    stop = threading.Event()
    worker = Worker(
        sessions=sessions,
        queue=queue,
        compute=build_compute(settings),
        network=build_network(settings, sessions),
        settings=settings,
        clock=_clock,
    )
    worker_thread = threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True)
    worker_thread.start()
    print(how_to_connect(settings), flush=True)
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
        worker_thread.join(timeout=10)
    return 0
