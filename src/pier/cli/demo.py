"""`pier demo`: the walk-through every user tries first, run for real and narrated.

It starts `pier up` (its own data dir and free ports, so it never disturbs a `make run`), two
web servers on loopback that answer with their names, then drives Pier with the real
`openstack` CLI: load balancer, listener, pool, two members, traffic through the VIP, a health
monitor, a member that dies and comes back. Every command is shown as typed; every wait says
what it waits for. Whatever happens, everything it started is stopped at the end.
"""

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from pier.cli.processes import kill_processes_under

WEB_ADDRESSES = {"web1": "127.0.1.1", "web2": "127.0.1.2"}
WEB_PORT = 8080
REQUESTS = 10
# The walk-through's monitor. As in Octavia, a member goes ERROR after `max_retries_down`
# failed checks (default 3) `delay` seconds apart, and ONLINE after `max_retries` good ones.
DELAY, TIMEOUT, MAX_RETRIES, MAX_RETRIES_DOWN = 5, 10, 2, 3


class DemoFailed(RuntimeError):
    pass


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("demo", help="run the load-balancer walk-through for real")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(".work/demo"),
        help="where the demo's Pier keeps its data (wiped at start)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the demo prints what it sends
    demo = Demo(args.work_dir.resolve())
    try:
        demo.run()
    except (DemoFailed, subprocess.CalledProcessError, httpx.HTTPError) as exc:
        print(f"\nDEMO FAILED: {exc}", flush=True)
        print(f"Pier's log: {demo.work_dir / 'pier' / 'pier.log'}", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return 130
    print("\nThe walk-through worked end to end.", flush=True)
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    """The venv's own tools first: the CLI that Pier was tested with."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


class Demo:
    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.data_dir = work_dir / "pier"
        self.step = 0
        self.webs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ)

    # -- narration -------------------------------------------------------------------------

    def say(self, title: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {title}", flush=True)

    def openstack(self, *words: str, show: bool = True) -> str:
        print(f"  $ openstack {' '.join(words)}", flush=True)
        result = subprocess.run(
            [_bin("openstack"), *words],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise DemoFailed(f"openstack {' '.join(words)} failed:\n{result.stderr.strip()}")
        if show and result.stdout.strip():
            print("    " + result.stdout.strip().replace("\n", "\n    "), flush=True)
        return result.stdout

    def wait_for(
        self, what: str, check: Callable[[], bool], timeout: float, interval: float = 0.5
    ) -> float:
        print(f"  waiting until {what} ", end="", flush=True)
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if check():
                elapsed = time.monotonic() - start
                print(f" yes, after {elapsed:.1f} s", flush=True)
                return elapsed
            print(".", end="", flush=True)
            time.sleep(interval)
        print(" no", flush=True)
        raise DemoFailed(f"{what}: not within {timeout:.0f} s")

    # -- the walk-through ------------------------------------------------------------------

    def run(self) -> None:
        with ExitStack() as stack:
            stack.enter_context(self.pier())
            stack.callback(self.stop_webs)
            for name in WEB_ADDRESSES:
                self.start_web(name)
            stack.callback(self.delete_loadbalancer)
            self.walk_through()

    def walk_through(self) -> None:
        self.say("Create a load balancer on the public subnet")
        self.openstack(
            "loadbalancer", "create", "--name", "lb1", "--vip-subnet-id", "public-subnet",
            "--wait", "-c", "id", "-c", "vip_address", "-c", "provisioning_status",
        )  # fmt: skip
        vip = self.field("loadbalancer", "show", "lb1", name="vip_address")
        self.say("Add an HTTP listener on port 80")
        self.openstack(
            "loadbalancer", "listener", "create", "--name", "l1", "--protocol", "HTTP",
            "--protocol-port", "80", "--wait", "lb1", "-c", "id", "-c", "provisioning_status",
        )  # fmt: skip
        self.say("Add a round-robin pool")
        self.openstack(
            "loadbalancer", "pool", "create", "--name", "p1", "--lb-algorithm", "ROUND_ROBIN",
            "--listener", "l1", "--protocol", "HTTP", "--wait", "-c", "id",
            "-c", "provisioning_status",
        )  # fmt: skip
        self.say("Add web1 and web2 as members")
        for name, address in WEB_ADDRESSES.items():
            self.openstack(
                "loadbalancer", "member", "create", "--name", name, "--address", address,
                "--protocol-port", str(WEB_PORT), "--wait", "p1", "-c", "id", "-c", "address",
            )  # fmt: skip
        self.say(f"Send {REQUESTS} requests to the VIP http://{vip}/")
        answers = self.requests(vip)
        if set(answers) != set(WEB_ADDRESSES) or _repeats(answers):
            raise DemoFailed(f"expected web1 and web2 to alternate, got {answers}")
        print("  web1 and web2 alternate.", flush=True)
        self.say(f"Add an HTTP health monitor (delay {DELAY} s, max retries {MAX_RETRIES})")
        self.openstack(
            "loadbalancer", "healthmonitor", "create", "--delay", str(DELAY), "--timeout",
            str(TIMEOUT), "--max-retries", str(MAX_RETRIES), "--type", "HTTP", "--url-path",
            "/", "--wait", "p1", "-c", "id", "-c", "provisioning_status",
        )  # fmt: skip
        self.wait_for(
            "both members are ONLINE", lambda: self.member_statuses() == _all("ONLINE"), 60
        )
        self.say("Stop web2")
        self.stop_web("web2")
        stopped = time.monotonic()
        answers = self.requests(vip)
        if set(answers) != {"web1"}:
            raise DemoFailed(f"expected only web1 to answer, got {answers}")
        print("  only web1 answers; no request failed.", flush=True)
        self.wait_for(
            "`loadbalancer status show lb1` reports web2 in ERROR",
            lambda: self.member_statuses().get("web2") == "ERROR",
            DELAY * MAX_RETRIES_DOWN + 30,
        )
        print(f"  web2 reported ERROR {time.monotonic() - stopped:.1f} s after it stopped "
              f"(HAProxy: {MAX_RETRIES_DOWN} failed checks {DELAY} s apart, then one heartbeat)",
              flush=True)  # fmt: skip
        self.show_status()
        self.say("Start web2 again")
        self.start_web("web2")
        self.wait_for("web2 is ONLINE again", lambda: self.member_statuses() == _all("ONLINE"), 60)
        answers = self.requests(vip)
        if set(answers) != set(WEB_ADDRESSES):
            raise DemoFailed(f"expected web1 and web2 to answer again, got {answers}")
        print("  web1 and web2 answer again.", flush=True)
        self.say("Statistics of the load balancer")
        self.openstack("loadbalancer", "stats", "show", "lb1")

    def requests(self, vip: str) -> list[str]:
        answers = []
        with httpx.Client(timeout=10.0) as client:
            for _ in range(REQUESTS):
                # A new connection per request, like `curl` in a loop.
                answers.append(
                    client.get(f"http://{vip}/", headers={"Connection": "close"}).text.strip()
                )
        print("  " + " ".join(answers), flush=True)
        return answers

    def field(self, *words: str, name: str) -> str:
        value: str = json.loads(self.openstack(*words, "-f", "json", show=False))[name]
        return value

    def status_tree(self) -> dict[str, object]:
        tree: dict[str, object] = json.loads(
            subprocess.run(
                [_bin("openstack"), "loadbalancer", "status", "show", "lb1"],
                env=self.env, capture_output=True, text=True, check=True, timeout=60,
            ).stdout
        )  # fmt: skip
        return tree

    def member_statuses(self) -> dict[str, str]:
        tree = self.status_tree()
        lb = tree["loadbalancer"]
        if not isinstance(lb, dict):
            raise DemoFailed(f"unexpected status tree: {tree}")
        return {
            member["name"]: member["operating_status"]
            for listener in lb.get("listeners", [])
            for pool in listener.get("pools", [])
            for member in pool.get("members", [])
        }

    def show_status(self) -> None:
        print("  $ openstack loadbalancer status show lb1   (members)", flush=True)
        for name, status in sorted(self.member_statuses().items()):
            print(f"    {name}: {status}", flush=True)

    def delete_loadbalancer(self) -> None:
        self.say("Clean up: delete the load balancer and everything in it")
        try:
            self.openstack("loadbalancer", "delete", "--cascade", "--wait", "lb1")
        except DemoFailed as exc:
            print(f"  (clean-up: {exc})", flush=True)

    # -- processes -------------------------------------------------------------------------

    @contextmanager
    def pier(self) -> Iterator[None]:
        self.say("Start Pier (pier up)")
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        port = _free_port()
        command = [
            _bin("pier"), "up", "--data-dir", str(self.data_dir), "--port", str(port),
            "--agent-port", str(_free_port()), "--health-port", "0",
            "--heartbeat-interval", "1",
        ]  # fmt: skip
        print("  $ pier " + " ".join(command[1:]), flush=True)
        log = (self.data_dir / "pier.log").open("wb")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            self.wait_for(f"Pier answers at {url}", lambda: _answers(url, process), 60, 0.2)
            self.env.update(
                OS_CLIENT_CONFIG_FILE=str(self.data_dir / "clouds.yaml"), OS_CLOUD="pier-demo"
            )
            print(f"  export OS_CLIENT_CONFIG_FILE={self.env['OS_CLIENT_CONFIG_FILE']}")
            print("  export OS_CLOUD=pier-demo", flush=True)
            yield
        finally:
            _stop(process)
            log.close()
            # Amphorae outlive `pier up` by design; the demo's must not outlive the demo.
            kill_processes_under(self.data_dir)

    def start_web(self, name: str) -> None:
        address = WEB_ADDRESSES[name]
        print(f"  starting {name} on {address}:{WEB_PORT}", flush=True)
        self.webs[name] = subprocess.Popen(
            [sys.executable, "-m", "pier.cli.demo_web", name, address, str(WEB_PORT)],
            start_new_session=True,
        )
        self.wait_for(f"{name} answers", lambda: _answers(f"http://{address}:{WEB_PORT}/"), 15)

    def stop_web(self, name: str) -> None:
        print(f"  stopping {name}", flush=True)
        _stop(self.webs.pop(name))

    def stop_webs(self) -> None:
        for name in list(self.webs):
            _stop(self.webs.pop(name))


def _answers(url: str, process: subprocess.Popen[bytes] | None = None) -> bool:
    if process is not None and process.poll() is not None:
        raise DemoFailed(f"the process serving {url} exited with {process.returncode}")
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _repeats(answers: Sequence[str]) -> bool:
    return any(a == b for a, b in zip(answers, answers[1:], strict=False))


def _all(status: str) -> dict[str, str]:
    return dict.fromkeys(WEB_ADDRESSES, status)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
