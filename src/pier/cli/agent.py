"""`pier agent`: the amphora agent of one host. It runs one HAProxy per amphora and serves the
agent API (`pier.wire.agent_api`) over HTTPS with mutual TLS; with heartbeat targets and a key
it also sends each amphora's heartbeat to the health managers.
"""

import argparse
import logging
import shutil
import threading
from pathlib import Path

from pier.agent.app import build_app
from pier.agent.heartbeat import HeartbeatSender
from pier.agent.manager import AmphoraManager
from pier.agent.server import serve
from pier.agent.watch import HaproxyWatcher
from pier.wire.agent_api import DEFAULT_PORT

log = logging.getLogger(__name__)

HEARTBEAT_STOP_TIMEOUT_S = 10.0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("agent", help="run the amphora agent of this host")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".pier/agent"),
        help="where amphorae keep their configurations and sockets (.pier/agent)",
    )
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"({DEFAULT_PORT})")
    parser.add_argument("--cert", type=Path, required=True, help="server certificate (PEM)")
    parser.add_argument("--key", type=Path, required=True, help="server private key (PEM)")
    parser.add_argument(
        "--ca", type=Path, required=True, help="CA whose client certificates are accepted"
    )
    parser.add_argument(
        "--haproxy",
        default=shutil.which("haproxy") or "/usr/sbin/haproxy",
        help="the HAProxy binary",
    )
    parser.add_argument(
        "--amphora-netns",
        action="store_true",
        help="run each amphora's HAProxy in a network namespace of its own, where the bridge "
        "network driver plugs its ports (needs root; UDP listeners are not supported there yet)",
    )
    parser.add_argument(
        "--heartbeat-target",
        action="append",
        type=_host_port,
        default=[],
        metavar="HOST:PORT",
        help="a health manager to send heartbeats to (repeatable)",
    )
    parser.add_argument(
        "--heartbeat-key-file", type=Path, help="file holding the heartbeat HMAC key"
    )
    parser.add_argument(
        "--heartbeat-interval", type=float, default=10.0, help="seconds between heartbeats (10)"
    )
    parser.set_defaults(handler=run)


def _host_port(value: str) -> tuple[str, int]:
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    if args.heartbeat_target and args.heartbeat_key_file is None:
        raise SystemExit("pier agent: --heartbeat-target needs --heartbeat-key-file")
    manager = AmphoraManager(args.state_dir, haproxy_binary=args.haproxy, netns=args.amphora_netns)
    manager.adopt()
    stop = threading.Event()
    heartbeats = _start_heartbeats(args, manager, stop) if args.heartbeat_target else None
    log.info(
        "agent listening",
        extra={"bind": args.bind, "port": args.port, "state_dir": str(manager.state_dir)},
    )
    try:
        serve(
            build_app(manager),
            bind=args.bind,
            port=args.port,
            cert=args.cert,
            key=args.key,
            client_ca=args.ca,
        )
    finally:
        stop.set()
        if heartbeats is not None:
            heartbeats.join(timeout=HEARTBEAT_STOP_TIMEOUT_S)
        manager.release()
    return 0


def _start_heartbeats(
    args: argparse.Namespace, manager: AmphoraManager, stop: threading.Event
) -> threading.Thread:
    sender = HeartbeatSender(
        key=args.heartbeat_key_file.read_text().strip(),
        targets=args.heartbeat_target,
        interval=args.heartbeat_interval,
        source=manager.reporting,
        state_file=manager.state_dir / "heartbeat-state.json",
    )
    thread = threading.Thread(target=sender.run, args=(stop,), name="heartbeat", daemon=True)
    thread.start()
    # A dead HAProxy is reported in a heartbeat sent at once, not at the end of the interval.
    watcher = HaproxyWatcher(manager.haproxy_masters, lambda _amphora_id: sender.wake())
    threading.Thread(target=watcher.run, args=(stop,), name="haproxy-watch", daemon=True).start()
    return thread
