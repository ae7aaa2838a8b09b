"""Members, configurations and requests for the agent's traffic tests."""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from pier.domain.spec import MemberSpec
from tests.integration.agent.agent_process import loopback_network
from tests.support.backends import HttpBackend, free_port_on, http_backend
from tests.unit.agent.configs import bundle, haproxy_text
from tests.unit.amphora.specs import member


class Site:
    """A VIP address and port, and HTTP backends on addresses of their own next to it."""

    def __init__(self, backends: Sequence[HttpBackend], vip: str) -> None:
        self.backends = list(backends)
        self.vip = vip
        self.port = free_port_on(vip)
        self.url = f"http://{vip}:{self.port}/"

    def member(self, index: int, generation: int = 0, **overrides: Any) -> MemberSpec:
        """The member for backend `index`; each generation is a new member (a new id) on it."""
        backend = self.backends[index]
        name = f"member-{index}" + (f"-{generation}" if generation else "")
        return member(name, backend.address, backend.port, **overrides)

    def config(self, members: Sequence[MemberSpec], **listener: Any) -> str:
        """The bundle for one HTTP listener on the VIP (see `haproxy_text`)."""
        text = haproxy_text(tuple(members), vip=self.vip, port=self.port, **listener)
        return bundle(text)

    def fetch(self, count: int) -> list[str]:
        """Which backend answered each of `count` requests, each on a new connection."""
        names = []
        for _ in range(count):
            response = httpx.get(self.url, timeout=30)
            response.raise_for_status()
            names.append(response.text)
        return names


@contextmanager
def site(backend_count: int) -> Iterator[Site]:
    network = loopback_network()
    prefix = network.rsplit(".", 1)[0]
    last = int(network.rsplit(".", 1)[1])
    with ExitStack() as stack:
        backends = [
            stack.enter_context(http_backend(f"web{index}", f"{prefix}.{last + 1 + index}"))
            for index in range(backend_count)
        ]
        yield Site(backends, network)
