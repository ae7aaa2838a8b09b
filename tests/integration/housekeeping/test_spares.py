"""`pier up --spare-amphorae 2`: the pool fills with READY amphorae (real agent amphorae,
no load balancer), a new load balancer claims one and serves traffic from it, and the pool
is filled again.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import HttpBackend
from tests.support.lbaas import Api, answers, wait_for
from tests.support.processes import PierProcess, pier_up

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is needed")


@pytest.fixture
def pier(tmp_path: Path) -> Iterator[PierProcess]:
    with pier_up(tmp_path / "pier", "--auth", "noauth", "--spare-amphorae", "2") as process:
        yield process


def spares(api: Api) -> set[str]:
    found = api.call("GET", "/v2/octavia/amphorae")["amphorae"]
    return {a["id"] for a in found if a["status"] == "READY" and a["loadbalancer_id"] is None}


def test_a_create_claims_a_warm_amphora(pier: PierProcess) -> None:
    api = Api(pier)
    wait_for(lambda: len(spares(api)) == 2, 30, "two spares")
    before = spares(api)
    on_agent = {p.name for p in (pier.data_dir / "agent" / "amphorae").iterdir()}
    assert before <= on_agent

    backend = HttpBackend("web", "127.0.5.1")
    backend.start()
    try:
        lb_id, vip, port = api.create("from-spare", [backend])
        [amphora] = api.amphorae(lb_id)
        assert amphora["id"] in before
        assert amphora["status"] == "ALLOCATED"
        assert answers(vip, port)
    finally:
        backend.stop()
    wait_for(lambda: len(spares(api)) == 2, 30, "the pool filled again")
