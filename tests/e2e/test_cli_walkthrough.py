"""The walk-through with the unmodified `openstack` CLI against `pier up`, with real amphorae:
requests go through the VIP to real backends, and status and statistics come from heartbeats.
"""

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.conftest import Cli
from tests.support.backends import HttpBackend, http_backend

pytestmark = pytest.mark.e2e

WEB = {"web1": "127.0.0.11", "web2": "127.0.0.12"}


@pytest.fixture(scope="module")
def webs() -> Iterator[dict[str, HttpBackend]]:
    with http_backend("web1", WEB["web1"]) as web1, http_backend("web2", WEB["web2"]) as web2:
        yield {"web1": web1, "web2": web2}


def eventually(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll, for statuses that heartbeats carry: bounded, never a timed assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def answers(vip: str, count: int = 6) -> list[str]:
    """One connection per request, like `curl` in a loop (statistics count connections)."""
    with httpx.Client(timeout=10.0, headers={"Connection": "close"}) as client:
        return [client.get(f"http://{vip}/").text for _ in range(count)]


def member_statuses(cli: Cli) -> dict[str, str]:
    tree = json.loads(cli.run("loadbalancer", "status", "show", "lb1").stdout)["loadbalancer"]
    return {
        member["name"]: member["operating_status"]
        for listener in tree["listeners"]
        for pool in listener["pools"]
        for member in pool["members"]
    }


def test_full_tree_with_wait(demo: Cli, admin: Cli, webs: dict[str, HttpBackend]) -> None:
    lb = demo.json(
        "loadbalancer", "create", "--name", "lb1", "--vip-subnet-id", "public-subnet", "--wait"
    )
    assert lb["provisioning_status"] == "ACTIVE"
    assert lb["vip_address"]
    listener = demo.json(
        "loadbalancer",
        "listener",
        "create",
        "--name",
        "l1",
        "--protocol",
        "HTTP",
        "--protocol-port",
        "80",
        "--wait",
        "lb1",
    )
    assert listener["protocol_port"] == 80
    pool = demo.json(
        "loadbalancer",
        "pool",
        "create",
        "--name",
        "p1",
        "--lb-algorithm",
        "ROUND_ROBIN",
        "--listener",
        "l1",
        "--protocol",
        "HTTP",
        "--wait",
    )
    assert pool["lb_algorithm"] == "ROUND_ROBIN"
    for name, address in WEB.items():
        member = demo.json(
            "loadbalancer",
            "member",
            "create",
            "--name",
            name,
            "--address",
            address,
            "--protocol-port",
            str(webs[name].port),
            "--wait",
            "p1",
        )
        assert member["operating_status"] == "NO_MONITOR"
    vip = lb["vip_address"]
    replies = answers(vip)
    assert replies == ["web1", "web2"] * 3 or replies == ["web2", "web1"] * 3
    monitor = demo.json(
        "loadbalancer",
        "healthmonitor",
        "create",
        "--name",
        "hm1",
        "--delay",
        "5",
        "--timeout",
        "10",
        "--max-retries",
        "2",
        "--type",
        "HTTP",
        "--url-path",
        "/",
        "--wait",
        "p1",
    )
    assert monitor["type"] == "HTTP"
    eventually(lambda: set(member_statuses(demo).values()) == {"ONLINE"}, "members ONLINE")
    webs["web2"].stop()
    assert set(answers(vip)) == {"web1"}
    eventually(lambda: member_statuses(demo)["web2"] == "ERROR", "web2 in ERROR")
    webs["web2"].start()
    eventually(lambda: member_statuses(demo)["web2"] == "ONLINE", "web2 ONLINE again")

    # `status show` prints the statuses document as JSON itself (no -f option).
    status = json.loads(demo.run("loadbalancer", "status", "show", "lb1").stdout)
    tree = status["loadbalancer"]
    assert tree["provisioning_status"] == "ACTIVE"
    pools = tree["listeners"][0]["pools"]
    assert {m["address"] for m in pools[0]["members"]} == set(WEB.values())
    assert pools[0]["health_monitor"]["type"] == "HTTP"
    eventually(
        lambda: demo.json("loadbalancer", "stats", "show", "lb1")["total_connections"] >= 12,
        "the twelve requests counted in the load balancer's statistics",
    )

    # The admin sees the demo project's load balancer and its amphora.
    assert any(row["name"] == "lb1" for row in admin.json("loadbalancer", "list"))
    amphorae = admin.json("loadbalancer", "amphora", "list", "--loadbalancer", lb["id"])
    assert [row["role"] for row in amphorae] == ["STANDALONE"]


def test_set_unset_and_names(demo: Cli) -> None:
    demo.run("loadbalancer", "set", "--description", "front door", "--wait", "lb1")
    assert demo.json("loadbalancer", "show", "lb1")["description"] == "front door"
    demo.run("loadbalancer", "unset", "--description", "--wait", "lb1")
    assert demo.json("loadbalancer", "show", "lb1")["description"] == ""
    demo.run("loadbalancer", "listener", "set", "--connection-limit", "100", "--wait", "l1")
    assert demo.json("loadbalancer", "listener", "show", "l1")["connection_limit"] == 100
    demo.run("loadbalancer", "listener", "unset", "--connection-limit", "--wait", "l1")
    assert demo.json("loadbalancer", "listener", "show", "l1")["connection_limit"] == -1
    demo.run("loadbalancer", "pool", "set", "--lb-algorithm", "LEAST_CONNECTIONS", "--wait", "p1")
    assert demo.json("loadbalancer", "pool", "show", "p1")["lb_algorithm"] == "LEAST_CONNECTIONS"
    demo.run("loadbalancer", "member", "set", "--weight", "5", "--wait", "p1", "web2")
    assert demo.json("loadbalancer", "member", "show", "p1", "web2")["weight"] == 5
    demo.run("loadbalancer", "healthmonitor", "set", "--delay", "7", "--wait", "hm1")
    assert demo.json("loadbalancer", "healthmonitor", "show", "hm1")["delay"] == 7
    members = demo.json("loadbalancer", "member", "list", "p1")
    assert sorted(row["name"] for row in members) == ["web1", "web2"]


def test_l7_policy_and_rule(demo: Cli) -> None:
    demo.json(
        "loadbalancer",
        "pool",
        "create",
        "--name",
        "p2",
        "--lb-algorithm",
        "ROUND_ROBIN",
        "--loadbalancer",
        "lb1",
        "--protocol",
        "HTTP",
        "--wait",
    )
    policy = demo.json(
        "loadbalancer",
        "l7policy",
        "create",
        "--name",
        "api",
        "--action",
        "REDIRECT_TO_POOL",
        "--redirect-pool",
        "p2",
        "--wait",
        "l1",
    )
    assert policy["action"] == "REDIRECT_TO_POOL"
    rule = demo.json(
        "loadbalancer",
        "l7rule",
        "create",
        "--type",
        "PATH",
        "--compare-type",
        "STARTS_WITH",
        "--value",
        "/api",
        "--wait",
        "api",
    )
    assert rule["type"] == "PATH"
    assert len(demo.json("loadbalancer", "l7rule", "list", "api")) == 1


def test_quota_show_and_set(demo: Cli, admin: Cli) -> None:
    project = demo.json("loadbalancer", "show", "lb1")["project_id"]
    admin.run("loadbalancer", "quota", "set", "--loadbalancer", "7", project)
    assert admin.json("loadbalancer", "quota", "show", project)["load_balancer"] == 7
    assert demo.json("loadbalancer", "quota", "show", project)["load_balancer"] == 7
    refused = demo.run("loadbalancer", "quota", "set", "--loadbalancer", "70", project, check=False)
    assert refused.returncode != 0
    assert "Policy does not allow" in refused.stderr


def test_other_project_sees_nothing(pier: object, demo: Cli, admin: Cli) -> None:
    admin_lbs = admin.json(
        "loadbalancer", "create", "--name", "admin-lb", "--vip-subnet-id", "public-subnet", "--wait"
    )
    assert all(row["name"] != "admin-lb" for row in demo.json("loadbalancer", "list"))
    hidden = demo.run("loadbalancer", "show", admin_lbs["id"], check=False)
    assert hidden.returncode != 0
    admin.run("loadbalancer", "delete", "--wait", "admin-lb")


def test_delete_everything(demo: Cli) -> None:
    demo.run("loadbalancer", "l7policy", "delete", "--wait", "api")
    demo.run("loadbalancer", "healthmonitor", "delete", "--wait", "hm1")
    demo.run("loadbalancer", "member", "delete", "--wait", "p1", "web1")
    demo.run("loadbalancer", "delete", "--cascade", "--wait", "lb1")
    assert demo.json("loadbalancer", "list") == []
