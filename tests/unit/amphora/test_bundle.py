from dataclasses import replace

from pier.amphora.bundle import render_amphora_config
from pier.amphora.haproxy_config import HaproxyLimits
from pier.domain.enums import ListenerProtocol, PoolProtocol, ProvisioningStatus
from pier.wire.agent_api import STATS_SOCKET, AmphoraConfig, version_of
from tests.support.factories import lb_spec, listener_spec, member_spec, pool_spec

LIMITS = HaproxyLimits(max_connections=4000)


def test_the_bundle_is_canonical_and_versioned_by_its_text() -> None:
    spec = lb_spec(listeners=(listener_spec(id="l1"),), pools=(pool_spec(id="p1"),))
    rendered = render_amphora_config(spec, LIMITS)
    bundle = AmphoraConfig.from_text(rendered.text)
    assert bundle.to_text() == rendered.text
    assert rendered.version == version_of(rendered.text)
    assert bundle.loadbalancer_id == spec.id
    assert bundle.haproxy is not None
    assert f'stats socket "{STATS_SOCKET}"' in bundle.haproxy
    assert "maxconn 4000" in bundle.haproxy


def test_without_a_listener_nothing_runs() -> None:
    """HAProxy exits when its configuration has no proxy, so the bundle carries none."""
    assert AmphoraConfig.from_text(render_amphora_config(lb_spec(), LIMITS).text).haproxy is None


def test_recording_statuses_does_not_change_the_version() -> None:
    pending = lb_spec(
        listeners=(listener_spec(id="l1", provisioning_status=ProvisioningStatus.PENDING_CREATE),),
        pools=(
            pool_spec(
                id="p1",
                members=(
                    member_spec(id="m1"),
                    member_spec(id="m2", provisioning_status=ProvisioningStatus.PENDING_DELETE),
                ),
            ),
        ),
    )
    recorded = lb_spec(
        provisioning_status=ProvisioningStatus.ACTIVE,
        listeners=(listener_spec(id="l1"),),
        pools=(pool_spec(id="p1", members=(member_spec(id="m1"),)),),
    )
    assert render_amphora_config(pending, LIMITS) == render_amphora_config(recorded, LIMITS)


def test_a_desired_change_changes_the_version() -> None:
    spec = lb_spec(listeners=(listener_spec(id="l1"),))
    disabled = replace(spec, admin_state_up=False)
    assert render_amphora_config(spec, LIMITS).version != (
        render_amphora_config(disabled, LIMITS).version
    )


def test_udp_listeners_go_to_nginx_and_the_rest_to_haproxy() -> None:
    udp = listener_spec(
        id="u1", protocol=ListenerProtocol.UDP, protocol_port=53, default_pool_id="pu"
    )
    spec = lb_spec(
        vip_address="127.77.0.5",
        listeners=(udp,),
        pools=(pool_spec(id="pu", protocol=PoolProtocol.UDP, members=(member_spec(id="m1"),)),),
    )
    bundle = AmphoraConfig.from_text(render_amphora_config(spec, LIMITS).text)
    assert bundle.haproxy is None
    assert bundle.udp is not None and "127.77.0.5:53 udp" in bundle.udp
