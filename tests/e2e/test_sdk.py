"""The same tree through openstacksdk (`conn.load_balancer.*`) against `pier up`."""

import openstack
import openstack.config
import pytest
from openstack.connection import Connection

from tests.support.processes import PierProcess

pytestmark = pytest.mark.e2e


def connect(pier: PierProcess, cloud: str) -> Connection:
    config = openstack.config.OpenStackConfig(
        config_files=[str(pier.clouds_yaml)], load_envvars=False
    )
    return Connection(config=config.get_one(cloud))


def test_tree_through_the_sdk(pier: PierProcess) -> None:
    conn = connect(pier, "pier-demo")
    subnet = conn.network.find_subnet("public-subnet")
    assert subnet is not None
    lb = conn.load_balancer.create_load_balancer(name="sdk-lb", vip_subnet_id=subnet.id)
    conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.2, wait=60)
    listener = conn.load_balancer.create_listener(
        name="sdk-l", protocol="HTTP", protocol_port=8080, load_balancer_id=lb.id
    )
    conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.2, wait=60)
    pool = conn.load_balancer.create_pool(
        name="sdk-p", protocol="HTTP", lb_algorithm="ROUND_ROBIN", listener_id=listener.id
    )
    conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.2, wait=60)
    member = conn.load_balancer.create_member(pool, address="127.0.0.21", protocol_port=80)
    conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.2, wait=60)
    monitor = conn.load_balancer.create_health_monitor(
        pool_id=pool.id, type="TCP", delay=3, timeout=2, max_retries=2
    )
    conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.2, wait=60)

    assert conn.load_balancer.find_load_balancer("sdk-lb").id == lb.id
    assert conn.load_balancer.get_listener(listener.id).default_pool_id == pool.id
    assert [m.id for m in conn.load_balancer.members(pool)] == [member.id]
    assert conn.load_balancer.get_health_monitor(monitor.id).pools == [{"id": pool.id}]
    stats = conn.load_balancer.get_load_balancer_statistics(lb.id)
    assert stats.total_connections == 0
    assert [p.name for p in conn.load_balancer.providers()] == ["amphora", "octavia"]

    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
    # The worker may finish before a GET would: wait on the object we already hold.
    conn.load_balancer.wait_for_delete(lb, interval=0.2, wait=60)
    assert conn.load_balancer.find_load_balancer("sdk-lb") is None
