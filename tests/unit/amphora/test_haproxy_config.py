"""The rendered haproxy.cfg: one golden file per scenario, and the rules behind the tricky lines.

`PIER_UPDATE_GOLDEN=1` (`make golden`) rewrites the golden files from the scenarios; review
them as a diff. `tests/integration/amphora` runs `haproxy -c` over every one.
"""

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from pier.amphora import HaproxyLimits, RenderedConfig, render_haproxy_config
from pier.amphora.haproxy_backend import expand_expected_codes
from pier.amphora.haproxy_config import global_maxconn
from pier.amphora.haproxy_l7 import TESTS, acl, active_policies
from pier.amphora.haproxy_syntax import address, endpoint, fetch, pattern, word
from pier.domain.enums import HealthMonitorType, LbAlgorithm, PoolProtocol, ProvisioningStatus
from pier.domain.spec import LoadBalancerSpec
from tests.unit.amphora import specs
from tests.unit.amphora.specs import Action, Compare, Proto, Rule

GOLDEN = Path(__file__).parent / "golden"


def render(spec: LoadBalancerSpec, **kwargs: HaproxyLimits) -> RenderedConfig:
    return render_haproxy_config(spec, paths=specs.GOLDEN_PATHS, **kwargs)


@pytest.mark.parametrize("name", sorted(specs.SCENARIOS))
def test_rendered_text_matches_the_golden_file(name: str) -> None:
    text = render(specs.SCENARIOS[name]()).text
    golden = GOLDEN / f"{name}.cfg"
    if os.environ.get("PIER_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {name}: run `make golden`"
    assert text == golden.read_text()


def test_every_golden_file_has_a_scenario() -> None:
    assert {path.stem for path in GOLDEN.glob("*.cfg")} == set(specs.SCENARIOS)


# --- version -------------------------------------------------------------------------------


def test_the_version_is_the_sha256_of_the_text() -> None:
    rendered = render(specs.l7_every_rule_and_action())
    assert rendered.version == hashlib.sha256(rendered.text.encode()).hexdigest()


def test_the_same_tree_renders_the_same_version() -> None:
    assert render(specs.l7_every_rule_and_action()) == render(specs.l7_every_rule_and_action())


def test_recording_statuses_does_not_change_the_version() -> None:
    spec = specs.http_round_robin()
    pending = replace(
        spec,
        provisioning_status=ProvisioningStatus.PENDING_UPDATE,
        listeners=tuple(
            replace(listener, provisioning_status=ProvisioningStatus.PENDING_CREATE)
            for listener in spec.listeners
        ),
    )
    assert render(pending).version == render(spec).version


def test_an_unordered_field_in_another_order_does_not_change_the_version() -> None:
    spec = specs.allowed_cidrs_and_headers()
    web = spec.listeners[0]
    shuffled = replace(web, allowed_cidrs=tuple(reversed(web.allowed_cidrs)))
    assert render(replace(spec, listeners=(shuffled, *spec.listeners[1:]))) == render(spec)


def test_a_desired_change_changes_the_version() -> None:
    spec = specs.http_round_robin()
    web = spec.pools[0]
    heavier = replace(web, members=(replace(web.members[0], weight=5), *web.members[1:]))
    assert render(replace(spec, pools=(heavier,))).version != render(spec).version


# --- global maxconn ------------------------------------------------------------------------


def test_maxconn_sums_the_listener_limits_unlimited_counting_50000() -> None:
    limited = specs.listener("a", connection_limit=100)
    unlimited = specs.listener("b", connection_limit=-1)
    octavia_unset = specs.listener("c", connection_limit=0)
    assert global_maxconn([limited], 1_000_000) == 100
    assert global_maxconn([limited, unlimited, octavia_unset], 1_000_000) == 100_100


def test_maxconn_is_the_cap_without_listeners_or_at_the_cap() -> None:
    assert global_maxconn([], 1_000_000) == 1_000_000
    many = [specs.listener(f"l{i}", connection_limit=300_000) for i in range(4)]
    assert global_maxconn(many, 1_000_000) == 1_000_000
    assert global_maxconn([specs.listener("l")], 9_000) == 9_000


def test_maxconn_counts_only_rendered_listeners() -> None:
    text = render(specs.admin_down_everywhere()).text
    assert "    maxconn 100000\n" in text  # two enabled listeners, the disabled one not counted


def test_the_host_cap_and_the_old_worker_bound_come_from_the_limits() -> None:
    limits = HaproxyLimits(max_connections=9_000, hard_stop_after_s=30)
    text = render(specs.http_round_robin(), limits=limits).text
    assert "    maxconn 9000\n" in text
    assert "    hard-stop-after 30s\n" in text
    assert "    maxconn 50000\n" in text  # the frontend keeps its own limit


# --- expected codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "expanded"),
    [
        ("200", (200,)),
        ("200,202", (200, 202)),
        ("202 , 200,200", (200, 202)),
        ("200-204", (200, 201, 202, 203, 204)),
        ("204-202", (202, 203, 204)),
        (None, (200,)),
        ("", (200,)),
    ],
)
def test_expected_codes_expand_to_sorted_unique_codes(
    codes: str | None, expanded: tuple[int, ...]
) -> None:
    assert expand_expected_codes(codes) == expanded


def test_expected_codes_become_one_status_regex() -> None:
    text = render(specs.monitor_http()).text
    assert "    http-check expect rstatus 200|201|202|203|204\n" in text


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("/api", "/api"),
        ("200|201", "200|201"),
        ("a b", "'a b'"),
        ("a#b", "'a#b'"),
        ("it's", "'it'\\''s'"),
        ("$HOME", "'$HOME'"),
        ("back\\slash", "'back\\slash'"),
        ("", "''"),
    ],
)
def test_a_word_is_bare_only_when_haproxy_reads_it_literally(value: str, written: str) -> None:
    assert word(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (".example.com", ".example.com"),
        ('"two words"', "'two words'"),
        ('"', "'\"'"),
        ("-x", "-- -x"),
        ("^/a b\\d+$", "'^/a b\\d+$'"),
    ],
)
def test_a_pattern_drops_octavia_quotes_and_cannot_read_as_a_flag(value: str, written: str) -> None:
    assert pattern(value) == written


@pytest.mark.parametrize(
    ("argument", "written"),
    [
        ("X-Token", "req.hdr(X-Token)"),
        ("a,b", "'req.hdr(\"a,b\")'"),
        ("it's", "'req.hdr(\"it'\\''s\")'"),
        ('q"\\', '\'req.hdr("q\\"\\\\")\''),
    ],
)
def test_a_fetch_argument_is_quoted_for_the_argument_parser(argument: str, written: str) -> None:
    assert fetch("req.hdr", argument) == written


def test_ipv6_endpoints_are_bracketed() -> None:
    assert endpoint("192.0.2.1", 80) == "192.0.2.1:80"
    assert endpoint("2001:db8::1", 80) == "[2001:db8::1]:80"
    assert address("2001:db8::1") == "[2001:db8::1]"


def test_each_rule_type_becomes_its_acl() -> None:
    assert set(TESTS) == set(Rule)

    def line(type: Rule, compare: Compare, value: str, key: str | None = None) -> str:
        return acl(specs.l7rule("r", type, compare, value, key=key))

    assert (
        line(Rule.HOST_NAME, Compare.EQUAL_TO, "a.test") == "acl r req.hdr(host) -i -m str a.test"
    )
    assert line(Rule.PATH, Compare.CONTAINS, "/x") == "acl r path -m sub /x"
    assert line(Rule.FILE_TYPE, Compare.EQUAL_TO, ".js") == "acl r path_end .js"
    assert line(Rule.FILE_TYPE, Compare.REGEX, "js$") == "acl r path_end -m reg 'js$'"
    assert line(Rule.HEADER, Compare.ENDS_WITH, "z", "X-A") == "acl r req.fhdr(X-A) -m end z"
    assert line(Rule.COOKIE, Compare.STARTS_WITH, "v", "c") == "acl r req.cook(c) -m beg v"
    assert line(Rule.SSL_CONN_HAS_CERT, Compare.EQUAL_TO, "TRUE") == "acl r ssl_c_used"
    assert line(Rule.SSL_VERIFY_RESULT, Compare.EQUAL_TO, "0") == "acl r ssl_c_verify eq 0"
    assert line(Rule.SSL_DN_FIELD, Compare.EQUAL_TO, "x", "CN") == "acl r ssl_c_s_dn(CN) -m str x"


def test_a_keyed_rule_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="has no key"):
        acl(specs.l7rule("r", Rule.HEADER, Compare.EQUAL_TO, "v"))


# --- what is rendered ----------------------------------------------------------------------


def test_policies_run_rejects_then_redirects_then_pools_each_by_position() -> None:
    front = specs.l7_every_rule_and_action().listeners[0]
    policies = active_policies(front, {"pool-default", "pool-api", "pool-static"})
    assert [p.id for p in policies] == [
        "policy-reject",
        "policy-client-cert",
        "policy-moved",
        "policy-prefix",
        "policy-api",
        "policy-static",
    ]
    static = next(p for p in policies if p.id == "policy-static")
    assert [r.id for r in static.rules] == ["rule-static-type", "rule-static-regex"]


def test_a_redirect_without_its_target_is_left_out() -> None:
    rule = specs.l7rule("r", Rule.PATH, Compare.EQUAL_TO, "/")
    front = specs.listener(
        "l",
        l7policies=(
            specs.l7policy("url", Action.REDIRECT_TO_URL, 1, rule),
            specs.l7policy("prefix", Action.REDIRECT_PREFIX, 2, rule),
            specs.l7policy("pool", Action.REDIRECT_TO_POOL, 3, rule, redirect_pool_id="gone"),
        ),
    )
    assert active_policies(front, {"p"}) == ()


def test_a_disabled_monitor_checks_nothing() -> None:
    text = render(specs.admin_down_everywhere()).text
    assert " check" not in text
    assert "httpchk" not in text


def test_external_check_is_global_only_with_a_ping_monitor() -> None:
    assert "    external-check\n    insecure-fork-wanted\n" in render(specs.monitor_ping()).text
    assert "external-check" not in render(specs.monitor_tcp()).text


def test_a_disabled_ping_monitor_needs_no_external_check() -> None:
    spec = specs.monitor_ping()
    web = spec.pools[0]
    assert web.healthmonitor is not None
    quiet = replace(web, healthmonitor=replace(web.healthmonitor, admin_state_up=False))
    assert "external-check" not in render(replace(spec, pools=(quiet,))).text


def test_pending_delete_objects_are_left_out() -> None:
    text = render(specs.shared_pool_and_pending_delete()).text
    assert "leaving" not in text
    assert "check" not in text  # the monitor is leaving too


def test_a_pool_behind_two_listeners_gets_two_backends() -> None:
    text = render(specs.shared_pool_and_pending_delete()).text
    assert "backend pool-1:listener-1\n" in text
    assert "backend pool-1:listener-2\n" in text


def test_a_disabled_load_balancer_renders_no_proxy() -> None:
    text = render(specs.disabled_loadbalancer()).text
    assert "frontend" not in text
    assert "backend" not in text


def test_unsupported_objects_are_reported_udp_is_only_noted() -> None:
    rendered = render(specs.unsupported_listeners())
    assert rendered.skipped == (
        "Pool pool-tls has tls_enabled: re-encryption is not rendered yet, nothing routes to it.",
        "Listener listener-sctp (SCTP): no amphora on this platform balances SCTP.",
        "Listener listener-tls (TERMINATED_HTTPS): TLS termination is not rendered yet.",
        "Listener listener-metrics (PROMETHEUS): the Prometheus exporter is not rendered yet.",
    )
    assert (
        "# Listener listener-udp (UDP) is served by nginx stream, not HAProxy.\n" in rendered.text
    )
    assert "frontend listener-http\n" in rendered.text
    assert "default_backend" not in rendered.text


def test_without_a_vip_address_no_frontend_is_rendered() -> None:
    rendered = render(replace(specs.http_round_robin(), vip_address=None))
    assert rendered.skipped == ("Listener listener-1: the load balancer has no VIP address yet.",)
    assert "frontend" not in rendered.text


def test_insert_headers_other_than_true_are_ignored() -> None:
    spec = specs.http_round_robin()
    front = replace(spec.listeners[0], insert_headers=(("X-Forwarded-For", "false"),))
    assert "forwardfor" not in render(replace(spec, listeners=(front,))).text


def test_an_app_cookie_without_a_name_is_not_applied() -> None:
    spec = specs.app_cookie_persistence()
    web = spec.pools[0]
    assert web.session_persistence is not None
    nameless = replace(web, session_persistence=replace(web.session_persistence, cookie_name=None))
    text = render(replace(spec, pools=(nameless,))).text
    assert "stick" not in text
    assert "# session persistence APP_COOKIE has no cookie_name: not applied" in text


def test_source_ip_port_hashes_address_and_port() -> None:
    spec = specs.http_round_robin()
    hashed = replace(spec.pools[0], lb_algorithm=LbAlgorithm.SOURCE_IP_PORT)
    text = render(replace(spec, pools=(hashed,))).text
    assert "    tcp-request content set-var(txn.pier_src_port) src_port\n" in text
    assert "    balance hash src,concat(:,txn.pier_src_port)\n" in text


def test_a_proxy_pool_on_a_tcp_listener_is_a_tcp_backend() -> None:
    text = render(specs.proxy_protocols()).text
    assert "backend pool-proxyv2:listener-2\n    mode tcp\n    balance leastconn\n" in text
    assert "backend pool-proxy:listener-1\n    mode http\n    http-reuse safe\n" in text


def test_http_version_without_domain_sends_no_host() -> None:
    monitor = specs.healthmonitor(HealthMonitorType.HTTP, http_version=1.1)
    text = render(specs.monitored(Proto.HTTP, 80, PoolProtocol.HTTP, monitor)).text
    assert "    http-check send meth GET uri / ver HTTP/1.1\n" in text


def test_tls_hello_sends_a_hello_and_expects_a_tls_record() -> None:
    """A bare connect (Octavia since 2023) would keep a member that speaks no TLS UP."""
    text = render(specs.monitor_tls_hello()).text
    assert "    option tcp-check\n    tcp-check send-binary 160301" in text
    assert "    tcp-check expect rbinary ^1[56]03\n" in text
    assert " check inter 5s fall 3 rise 2\n" in text  # no handshake of its own


def test_a_header_rule_reads_the_whole_header_commas_included() -> None:
    rule = specs.l7rule("r", Rule.HEADER, Compare.EQUAL_TO, "a,b", key="X-List")
    assert acl(rule) == "acl r req.fhdr(X-List) -m str a,b"


def test_a_ping_monitor_says_monitor_address_does_not_apply() -> None:
    text = render(specs.monitor_ping()).text
    assert "# PING checks ping each member's own address; monitor_address does not apply." in text
