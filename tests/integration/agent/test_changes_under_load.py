"""100 member changes and 10 listener changes while clients keep sending: not one request
fails. Member changes go through the runtime API, listener changes through a reload.
"""

import random
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.integration.agent.agent_process import AgentProcess, wait_until
from tests.integration.agent.traffic import Site, site
from tests.support.backends import free_port_on

pytestmark = pytest.mark.integration

MEMBER_CHANGES, LISTENER_CHANGES = 100, 10


class Load(threading.Thread):
    """Requests in a loop, alternately on one keep-alive connection and on a new connection
    each, until stopped; bounded by a count and a time anyway.
    """

    def __init__(self, url: str, max_requests: int = 200_000, max_seconds: float = 180) -> None:
        super().__init__(name="load", daemon=True)
        self.url = url
        self.max_requests = max_requests
        self.deadline = time.monotonic() + max_seconds
        self.stopping = threading.Event()
        self.sent = 0
        self.failures: list[str] = []

    def run(self) -> None:
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        with (
            httpx.Client(timeout=30) as keep_alive,
            httpx.Client(timeout=30, limits=no_reuse) as fresh,
        ):
            while (
                not self.stopping.is_set()
                and self.sent < self.max_requests
                and time.monotonic() < self.deadline
            ):
                client = keep_alive if self.sent % 2 else fresh
                try:
                    response = client.get(self.url)
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text[:100]}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                self.sent += 1


class Plan:
    """The desired members (backend index -> weight) and listener shape, changed one step at a
    time. At least two members always have a weight, so something always serves. A member
    added again on a backend is a new member, with a new id, as in the API.
    """

    def __init__(self, web: Site) -> None:
        self.web = web
        self.weights = {0: 1, 1: 1}
        self.generations = {0: 0, 1: 0}
        self.timeout_client = 50000
        self.extra_ports: tuple[int, ...] = ()
        self.random = random.Random(7)

    def config(self) -> str:
        members = [
            self.web.member(i, self.generations[i], weight=w)
            for i, w in sorted(self.weights.items())
        ]
        return self.web.config(
            members, timeout_client=self.timeout_client, extra_ports=self.extra_ports
        )

    def change_members(self, step: int) -> None:
        missing = [i for i in range(len(self.web.backends)) if i not in self.weights]
        serving = [i for i, w in self.weights.items() if w > 0]
        if step % 4 == 0 and missing:
            self.weights[missing[0]] = 1
            self.generations[missing[0]] = step
        elif step % 4 == 2 and len(self.weights) > 2 and len(serving) > 2:
            del self.weights[self.random.choice(serving)]
        else:
            index = self.random.choice(sorted(self.weights))
            choices = [w for w in range(6) if w != self.weights[index]]
            if len(serving) <= 2 and index in serving:
                choices.remove(0)  # weight 0 drains: keep two members serving
            self.weights[index] = self.random.choice(choices)

    def change_listener(self, step: int) -> None:
        if step % 2:
            self.timeout_client = 90000 if self.timeout_client == 50000 else 50000
        else:
            self.extra_ports = () if self.extra_ports else (free_port_on(self.web.vip),)


def test_no_request_fails_while_members_and_listeners_change(
    agent: AgentProcess, amphora_id: str
) -> None:
    config = f"/amphorae/{amphora_id}/config"
    with site(4) as web, agent.client() as client:
        plan = Plan(web)
        body = {"amphora_id": amphora_id, "loadbalancer_id": "lb-1"}
        assert client.post("/amphorae", json=body).status_code == 201
        assert client.put(config, content=plan.config()).json()["applied"] == "start"
        load = Load(web.url)
        load.start()
        applied: Counter[str] = Counter()
        try:
            wait_until(lambda: load.sent > 20 or None, "the load running")
            for step in range(MEMBER_CHANGES + LISTENER_CHANGES):
                if step % 11 == 10:
                    plan.change_listener(step // 11)
                else:
                    plan.change_members(step)
                response = client.put(config, content=plan.config())
                assert response.status_code == 200, response.text
                applied[response.json()["applied"]] += 1
        finally:
            load.stopping.set()
            load.join(timeout=60)

        assert not load.is_alive()
        assert load.failures == []
        assert load.sent > MEMBER_CHANGES
        assert applied == {"runtime": MEMBER_CHANGES, "reload": LISTENER_CHANGES}
        serving = {f"web{i}" for i, w in plan.weights.items() if w > 0}
        assert set(web.fetch(12)) <= serving
