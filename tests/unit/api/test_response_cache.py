import uuid
from pathlib import Path

from pier.api.response_cache import ResponseCache
from pier.db.engine import make_engine
from pier.db.revision import find_revision_source
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/loadbalancers"


def test_entries_live_only_while_the_revision_holds(tmp_path: Path) -> None:
    # SQLite whatever PIER_TEST_DATABASE says: the revision source exists only there.
    cache = ResponseCache(
        find_revision_source(make_engine(f"sqlite:///{tmp_path / 'c.db'}")), size=2
    )
    revision = cache.revision()
    cache.put("a", revision, b"1")
    assert cache.get("a", revision) == b"1"
    assert cache.get("a", (revision or 0) + 1) is None
    cache.put("b", revision, b"2")
    cache.put("c", revision, b"3")
    assert cache.get("a", revision) is None  # evicted, least recently used
    assert cache.get("c", revision) == b"3"


def test_no_source_means_no_caching() -> None:
    cache = ResponseCache(None)
    assert cache.revision() is None
    cache.put("a", None, b"1")
    assert cache.get("a", None) is None


def test_list_never_serves_a_stale_answer(tmp_path: Path) -> None:
    services = make_services(tmp_path, settings=Settings(accept_any_subnet=True))
    p1 = as_project("p1")
    with api_client(services) as client:
        assert client.get(URL, headers=p1).json()["loadbalancers"] == []
        body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "name": "a"}}
        assert client.post(URL, json=body, headers=p1).status_code == 201
        rows = client.get(URL, headers=p1).json()["loadbalancers"]
        assert [row["provisioning_status"] for row in rows] == ["PENDING_CREATE"]
        assert client.get(URL, headers=p1).json()["loadbalancers"] == rows
        converge(services)  # the worker writes through its own sessions
        rows = client.get(URL, headers=p1).json()["loadbalancers"]
        assert [row["provisioning_status"] for row in rows] == ["ACTIVE"]
        # Another caller with the same URL does not get p1's answer.
        assert client.get(URL, headers=as_project("p2")).json()["loadbalancers"] == []
