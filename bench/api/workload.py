"""The three measurements, written once against the Octavia v2 API.

Both targets run in noauth style: the project comes from X-Project-Id and is
repeated as project_id in the LB create body (Octavia's noauth needs it there).
Each measurement uses its own project so its objects never show up in
another measurement's lists, whatever else the server holds.

Every loop here is bounded by a request count and by a deadline.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

LBAAS = "/v2.0/lbaas"
ACTIVE = "ACTIVE"
ERROR = "ERROR"

JSON = dict[str, Any]

# Set from the signal handlers in run.py: load threads and waits stop at their next step
# instead of running out their budgets while the main thread wants to tear down.
STOP = threading.Event()


class BenchError(RuntimeError):
    """A request failed or an object did not reach ACTIVE in time."""


@dataclass(frozen=True)
class Target:
    """Where one server under test lives."""

    name: str
    base_url: str


@dataclass(frozen=True)
class Poll:
    """How to wait for provisioning_status.

    Polling starts fast and backs off to `interval`, so a server that goes
    ACTIVE in milliseconds is not charged a whole poll interval. The pause
    is also at least `duty` times the last poll's own latency, so the poller
    occupies at most ~1/(1+duty) of one server process: a slow server is not
    slowed further by the GETs that watch it (on 2 cores that matters).
    """

    interval: float = 0.05
    first: float = 0.005
    duty: float = 4.0
    timeout: float = 120.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 1.5, self.interval)

    def pause(self, delay: float, last_poll_seconds: float) -> None:
        time.sleep(max(delay, self.duty * last_poll_seconds))


@contextmanager
def client(target: Target, project: str) -> Iterator[httpx.Client]:
    """An httpx client for one project; keep-alive where the server allows it."""
    headers = {"X-Project-Id": project, "Accept": "application/json"}
    with httpx.Client(base_url=target.base_url, headers=headers, timeout=60.0) as http:
        yield http


def call(http: httpx.Client, method: str, path: str, body: JSON | None = None) -> JSON:
    """One API call; any non-2xx status is a benchmark failure, not a data point."""
    resp = http.request(method, path, json=body)
    if resp.status_code >= 300:
        raise BenchError(f"{method} {path} -> {resp.status_code}: {resp.text[:300]}")
    if not resp.content:
        return {}
    data: JSON = resp.json()
    return data


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 500 samples is a real sample)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# ------------------------------------------------------------------- bodies


def lb_body(project: str, subnet: str, name: str) -> JSON:
    return {"loadbalancer": {"name": name, "vip_subnet_id": subnet, "project_id": project}}


# Children carry no project_id: they inherit the LB's, and Octavia rejects the
# attribute inside a graph POST.
def member_body(subnet: str, address: str) -> JSON:
    return {"address": address, "protocol_port": 8080, "subnet_id": subnet}


def healthmonitor_body() -> JSON:
    return {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "url_path": "/"}


def graph_body(project: str, subnet: str, name: str) -> JSON:
    """LB + listener + pool + 2 members + health monitor in one document."""
    pool = {
        "name": f"{name}-pool",
        "protocol": "HTTP",
        "lb_algorithm": "ROUND_ROBIN",
        "members": [member_body(subnet, "192.0.2.10"), member_body(subnet, "192.0.2.11")],
        "healthmonitor": healthmonitor_body(),
    }
    listener = {
        "name": f"{name}-listener",
        "protocol": "HTTP",
        "protocol_port": 80,
        "default_pool": pool,
    }
    body = lb_body(project, subnet, name)
    body["loadbalancer"]["listeners"] = [listener]
    return body


# ------------------------------------------------------------------ waiting


def lb_status(http: httpx.Client, lb_id: str) -> str:
    status: str = call(http, "GET", f"{LBAAS}/loadbalancers/{lb_id}")["loadbalancer"][
        "provisioning_status"
    ]
    return status


def wait_lb_active(http: httpx.Client, lb_id: str, poll: Poll) -> None:
    """Block until the LB is ACTIVE (again); ERROR or the deadline is a failure."""
    deadline = time.monotonic() + poll.timeout
    for delay in poll.delays():
        start = time.perf_counter()
        status = lb_status(http, lb_id)
        if status == ACTIVE:
            return
        if status == ERROR:
            raise BenchError(f"load balancer {lb_id} went to ERROR")
        if time.monotonic() > deadline or STOP.is_set():
            raise BenchError(f"load balancer {lb_id} still {status} (timeout or stop)")
        poll.pause(delay, time.perf_counter() - start)


def list_project_lbs(http: httpx.Client, project: str, **filters: str) -> list[JSON]:
    """LBs of one project (explicit filter: noauth callers are admins and see all)."""
    resp = http.get(f"{LBAAS}/loadbalancers", params={"project_id": project, **filters})
    if resp.status_code != 200:
        raise BenchError(f"list -> {resp.status_code}: {resp.text[:300]}")
    lbs: list[JSON] = resp.json()["loadbalancers"]
    return lbs


def wait_none_pending(http: httpx.Client, project: str, ids: set[str], poll: Poll) -> None:
    """Poll until no LB of ids is PENDING_CREATE.

    Asks the server for PENDING_CREATE only, so the answers shrink as LBs
    finish; the client re-checks the status in case a server ignores the filter.
    """
    deadline = time.monotonic() + poll.timeout
    for delay in poll.delays():
        start = time.perf_counter()
        pending = [
            lb
            for lb in list_project_lbs(http, project, provisioning_status="PENDING_CREATE")
            if lb["id"] in ids and lb["provisioning_status"] == "PENDING_CREATE"
        ]
        if not pending:
            return
        if time.monotonic() > deadline or STOP.is_set():
            raise BenchError(f"{len(pending)} of {len(ids)} LBs still pending (timeout or stop)")
        poll.pause(delay, time.perf_counter() - start)


class _Budget:
    """A thread-safe request counter with a deadline, shared by the load threads."""

    def __init__(self, requests: int, seconds: float) -> None:
        self._left = requests
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0 or time.monotonic() >= self._deadline or STOP.is_set():
                return False
            self._left -= 1
            return True


# ------------------------------------------------------- 2. creates to ACTIVE


@dataclass(frozen=True)
class CreateResult:
    """N creates: how fast they were accepted and how fast they all became ACTIVE."""

    count: int
    concurrency: int
    post_seconds: float
    active_seconds: float
    post_p50: float
    errors: int

    @property
    def active_per_second(self) -> float:
        return (self.count - self.errors) / self.active_seconds


def measure_creates(
    target: Target, project: str, count: int, concurrency: int, poll: Poll
) -> CreateResult:
    """POST count LBs from `concurrency` threads, then wait until every one is ACTIVE.

    The clock starts before the first POST and stops when a list shows no
    LB of ours pending, so it covers API admission, the queue/worker hop
    and the noop provisioning flow. Polling starts only after the last POST
    returned, so it does not compete with the POSTs.
    """
    subnet = str(uuid.uuid4())
    budget = _Budget(count, poll.timeout)

    def post_loop(_: int) -> list[tuple[str, float]]:
        done: list[tuple[str, float]] = []
        with client(target, project) as http:
            while budget.take():
                start = time.perf_counter()
                lb = call(
                    http,
                    "POST",
                    f"{LBAAS}/loadbalancers",
                    lb_body(project, subnet, f"bench-create-{len(done)}"),
                )
                done.append((lb["loadbalancer"]["id"], time.perf_counter() - start))
        return done

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        posted = [item for part in pool.map(post_loop, range(concurrency)) for item in part]
    t_posted = time.perf_counter()
    if len(posted) != count:
        raise BenchError(f"only {len(posted)} of {count} creates were sent before the deadline")
    ids = {lb_id for lb_id, _ in posted}
    with client(target, project) as http:
        wait_none_pending(http, project, ids, poll)
        t_active = time.perf_counter()
        lbs = [lb for lb in list_project_lbs(http, project) if lb["id"] in ids]
    errors = count - sum(1 for lb in lbs if lb["provisioning_status"] == ACTIVE)
    return CreateResult(
        count,
        concurrency,
        t_posted - t0,
        t_active - t0,
        statistics.median(lat for _, lat in posted),
        errors,
    )


# ------------------------------------------------------------ 1. list LBs


@dataclass(frozen=True)
class ListResult:
    """Throughput and latency of GET /loadbalancers at a fixed concurrency."""

    items: int
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _list_loop(target: Target, project: str, budget: _Budget) -> tuple[list[float], int]:
    """One client thread: GET the list until the shared request budget or deadline runs out."""
    latencies: list[float] = []
    errors = 0
    with client(target, project) as http:
        while budget.take():
            start = time.perf_counter()
            try:
                resp = http.get(f"{LBAAS}/loadbalancers", params={"project_id": project})
                ok = resp.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1
    return latencies, errors


def run_list_load(
    target: Target, project: str, concurrency: int, requests: int, seconds: float
) -> ListResult:
    """Closed-loop load: `concurrency` threads, each with one keep-alive connection."""
    budget = _Budget(requests, seconds)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        parts = list(pool.map(lambda _: _list_loop(target, project, budget), range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies = [lat for lats, _ in parts for lat in lats]
    errors = sum(err for _, err in parts)
    if not latencies:
        raise BenchError(f"no successful list request against {target.name}")
    return ListResult(
        0,
        concurrency,
        len(latencies),
        errors,
        elapsed,
        percentile(latencies, 50),
        percentile(latencies, 99),
    )


def measure_list(
    target: Target,
    project: str,
    concurrency: int,
    requests: int,
    seconds: float,
    warmup_requests: int,
) -> ListResult:
    """Check the project holds the expected LBs, warm up, then run the timed load."""
    with client(target, project) as http:
        items = len(list_project_lbs(http, project))
    run_list_load(target, project, concurrency, warmup_requests, seconds)
    result = run_list_load(target, project, concurrency, requests, seconds)
    return ListResult(
        items,
        result.concurrency,
        result.requests,
        result.errors,
        result.seconds,
        result.p50,
        result.p99,
    )


# ----------------------------------------------------------- 3. full tree


def tree_graph(target: Target, project: str, poll: Poll) -> float:
    """(a) One graph POST; seconds until the LB (and so the whole tree) is ACTIVE."""
    subnet = str(uuid.uuid4())
    with client(target, project) as http:
        start = time.perf_counter()
        lb = call(
            http,
            "POST",
            f"{LBAAS}/loadbalancers",
            graph_body(project, subnet, f"tree-{uuid.uuid4().hex[:8]}"),
        )["loadbalancer"]
        wait_lb_active(http, lb["id"], poll)
        elapsed = time.perf_counter() - start
        verify_tree(http, lb["id"])
    return elapsed


def create_and_wait(http: httpx.Client, lb_id: str, path: str, body: JSON, poll: Poll) -> str:
    """POST one child object, then wait until its LB is ACTIVE again; return the child id."""
    created = call(http, "POST", f"{LBAAS}/{path}", body)
    child_id: str = next(iter(created.values()))["id"]
    wait_lb_active(http, lb_id, poll)
    return child_id


def tree_steps(target: Target, project: str, poll: Poll) -> float:
    """(b) Six calls, each waiting for the LB to be ACTIVE again, as a CLI user must."""
    subnet = str(uuid.uuid4())
    name = f"steps-{uuid.uuid4().hex[:8]}"
    with client(target, project) as http:
        start = time.perf_counter()
        lb_id: str = call(http, "POST", f"{LBAAS}/loadbalancers", lb_body(project, subnet, name))[
            "loadbalancer"
        ]["id"]
        wait_lb_active(http, lb_id, poll)
        listener_id = create_and_wait(
            http,
            lb_id,
            "listeners",
            {
                "listener": {
                    "name": f"{name}-listener",
                    "protocol": "HTTP",
                    "protocol_port": 80,
                    "loadbalancer_id": lb_id,
                }
            },
            poll,
        )
        pool_id = create_and_wait(
            http,
            lb_id,
            "pools",
            {
                "pool": {
                    "name": f"{name}-pool",
                    "protocol": "HTTP",
                    "lb_algorithm": "ROUND_ROBIN",
                    "listener_id": listener_id,
                }
            },
            poll,
        )
        for address in ("192.0.2.10", "192.0.2.11"):
            create_and_wait(
                http,
                lb_id,
                f"pools/{pool_id}/members",
                {"member": member_body(subnet, address)},
                poll,
            )
        create_and_wait(
            http,
            lb_id,
            "healthmonitors",
            {"healthmonitor": dict(healthmonitor_body(), pool_id=pool_id)},
            poll,
        )
        elapsed = time.perf_counter() - start
        verify_tree(http, lb_id)
    return elapsed


def verify_tree(http: httpx.Client, lb_id: str) -> None:
    """Untimed sanity check: the status tree holds 1 listener, 1 pool, 2 members, 1 HM."""
    tree = call(http, "GET", f"{LBAAS}/loadbalancers/{lb_id}/status")["statuses"]["loadbalancer"]
    pools = [pool for listener in tree["listeners"] for pool in listener["pools"]]
    members = [m for pool in pools for m in pool["members"]]
    shape = (
        len(tree["listeners"]),
        len(pools),
        len(members),
        sum(1 for pool in pools if pool.get("health_monitor")),
    )
    if shape != (1, 1, 2, 1):
        raise BenchError(f"tree of {lb_id} has (listeners, pools, members, hms) = {shape}")
    states = [tree, *tree["listeners"], *pools, *members]
    if any(obj["provisioning_status"] != ACTIVE for obj in states):
        raise BenchError(f"tree of {lb_id} is ACTIVE at the top but not below: {tree}")


def warm_up(target: Target, project: str, poll: Poll) -> float:
    """Create one LB and wait for ACTIVE: proves the worker path works before timing."""
    with client(target, project) as http:
        start = time.perf_counter()
        lb = call(
            http,
            "POST",
            f"{LBAAS}/loadbalancers",
            lb_body(project, str(uuid.uuid4()), "bench-warmup"),
        )["loadbalancer"]
        wait_lb_active(http, lb["id"], poll)
        return time.perf_counter() - start
