"""L7 policies with real requests: every rule type with every compare type it accepts, invert,
every action, redirect codes, and the order HAProxy applies them in.

One listener carries every policy. Each rule of the matrix has its own trigger (a host, path,
header or cookie no other rule looks at) and redirects to a URL naming its case, so the
`Location` of the answer tells which policy matched; a near miss must reach the default pool.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import cycle

import pytest

from pier.domain.enums import L7RuleType
from pier.domain.spec import L7PolicySpec, L7RuleSpec
from tests.integration.amphora.members import HttpMember, Reply, get, members
from tests.support.backends import free_port_on
from tests.support.haproxy import render, running_haproxy
from tests.unit.amphora import specs
from tests.unit.amphora.specs import Action, Compare, Rule

pytestmark = pytest.mark.integration

VIP = "127.0.80.1"


@dataclass(frozen=True)
class Request:
    path: str = "/"
    host: str = "plain.test"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    type: L7RuleType
    compare: Compare
    value: str
    hit: Request
    miss: Request
    key: str | None = None


def _header(key: str, value: str) -> Request:
    return Request(headers={key: value})


def _cookie(text: str) -> Request:
    return Request(headers={"Cookie": text})


MATRIX = [
    Case("host-eq", Rule.HOST_NAME, Compare.EQUAL_TO, "eq.host.test",
         Request(host="EQ.Host.test"), Request(host="eq.host.test.evil")),
    Case("host-sw", Rule.HOST_NAME, Compare.STARTS_WITH, "sw-host.",
         Request(host="sw-host.example"), Request(host="x-sw-host.example")),
    Case("host-ew", Rule.HOST_NAME, Compare.ENDS_WITH, ".ew-host.test",
         Request(host="a.ew-host.test"), Request(host="a.ew-host.test.x")),
    Case("host-cn", Rule.HOST_NAME, Compare.CONTAINS, "cn-host",
         Request(host="a.cn-host.b"), Request(host="a.cn-hos.b")),
    Case("host-rx", Rule.HOST_NAME, Compare.REGEX, r"^rx-host[0-9]+\.test$",
         Request(host="rx-host42.test"), Request(host="rx-hostX.test")),
    Case("path-eq", Rule.PATH, Compare.EQUAL_TO, "/eq-path",
         Request("/eq-path?query=is-not-path"), Request("/eq-path/")),
    Case("path-sw", Rule.PATH, Compare.STARTS_WITH, "/sw-path",
         Request("/sw-path/more"), Request("/x/sw-path")),
    Case("path-ew", Rule.PATH, Compare.ENDS_WITH, "/ew-path",
         Request("/a/ew-path"), Request("/a/ew-path/b")),
    Case("path-cn", Rule.PATH, Compare.CONTAINS, "cn-path",
         Request("/a/cn-path/b"), Request("/a/cn-pat")),
    Case("path-rx", Rule.PATH, Compare.REGEX, r"^/rx-path/[0-9]+$",
         Request("/rx-path/12"), Request("/rx-path/ab")),
    Case("file-eq", Rule.FILE_TYPE, Compare.EQUAL_TO, ".eqft",
         Request("/img/a.eqft"), Request("/img/a.eqft.txt")),
    Case("file-rx", Rule.FILE_TYPE, Compare.REGEX, r"\.(rxft1|rxft2)$",
         Request("/a.rxft2"), Request("/a.rxft3")),
    Case("header-eq", Rule.HEADER, Compare.EQUAL_TO, "yes",
         _header("X-Eq", "yes"), _header("X-Eq", "yes-no"), key="X-Eq"),
    Case("header-sw", Rule.HEADER, Compare.STARTS_WITH, "pre",
         _header("X-Sw", "prefix"), _header("X-Sw", "xpre"), key="X-Sw"),
    Case("header-ew", Rule.HEADER, Compare.ENDS_WITH, "fix",
         _header("X-Ew", "suffix"), _header("X-Ew", "fixx"), key="X-Ew"),
    Case("header-cn", Rule.HEADER, Compare.CONTAINS, "mid",
         _header("X-Cn", "amidb"), _header("X-Cn", "mi-d"), key="X-Cn"),
    Case("header-rx", Rule.HEADER, Compare.REGEX, "^v[0-9]+$",
         _header("X-Rx", "v12"), _header("X-Rx", "v1.2"), key="X-Rx"),
    Case("header-comma", Rule.HEADER, Compare.EQUAL_TO, "a,b",
         _header("X-List", "a,b"), _header("X-List", "a"), key="X-List"),
    Case("header-spaces", Rule.HEADER, Compare.EQUAL_TO, '"two words"',
         _header("X-Note", "two words"), _header("X-Note", "two"), key="X-Note"),
    Case("cookie-eq", Rule.COOKIE, Compare.EQUAL_TO, "yes",
         _cookie("other=1; ceq=yes"), _cookie("ceq=yess"), key="ceq"),
    Case("cookie-sw", Rule.COOKIE, Compare.STARTS_WITH, "pre",
         _cookie("csw=prefix"), _cookie("csw=xpre"), key="csw"),
    Case("cookie-ew", Rule.COOKIE, Compare.ENDS_WITH, "fix",
         _cookie("cew=suffix"), _cookie("cew=fixx"), key="cew"),
    Case("cookie-cn", Rule.COOKIE, Compare.CONTAINS, "mid",
         _cookie("ccn=amidb"), _cookie("xccn=amidb"), key="ccn"),
    Case("cookie-rx", Rule.COOKIE, Compare.REGEX, "^s[0-9]+$",
         _cookie("crx=s42"), _cookie("crx=s4x"), key="crx"),
]  # fmt: skip
CODES = dict(zip((case.id for case in MATRIX), cycle((301, 302, 303, 307, 308)), strict=False))


@dataclass(frozen=True)
class Inverted:
    """`REDIRECT_TO_URL if path begins with <prefix> and not <rule>`; `passing` holds the rule."""

    prefix: str
    compare: Compare
    value: str
    key: str | None
    passing: Request


INVERTED = {
    Rule.HOST_NAME: Inverted("/inv-host", Compare.ENDS_WITH, ".internal", None,
                             Request("/inv-host/x.no", host="a.internal")),
    Rule.PATH: Inverted("/inv-path", Compare.ENDS_WITH, "/ok", None, Request("/inv-path/ok")),
    Rule.FILE_TYPE: Inverted("/inv-file", Compare.EQUAL_TO, ".ok", None, Request("/inv-file/a.ok")),
    Rule.HEADER: Inverted("/inv-header", Compare.EQUAL_TO, "secret", "X-Key",
                          Request("/inv-header/x.no", headers={"X-Key": "secret"})),
    Rule.COOKIE: Inverted("/inv-cookie", Compare.EQUAL_TO, "in", "member",
                          Request("/inv-cookie/x.no", headers={"Cookie": "member=in"})),
}  # fmt: skip


def _rule(id: str, type: L7RuleType, compare: Compare, value: str, **kw: object) -> L7RuleSpec:
    return specs.l7rule(id, type, compare, value, **kw)


def _matrix_policies(position: int) -> list[L7PolicySpec]:
    return [
        specs.l7policy(
            f"policy-{case.id}",
            Action.REDIRECT_TO_URL,
            position + n,
            _rule(f"rule-{case.id}", case.type, case.compare, case.value, key=case.key),
            redirect_url=f"http://matched.test/{case.id}",
            redirect_http_code=CODES[case.id],
        )
        for n, case in enumerate(MATRIX)
    ]


def _inverted_policies(position: int) -> list[L7PolicySpec]:
    return [
        specs.l7policy(
            f"policy-inv-{type.lower()}",
            Action.REDIRECT_TO_URL,
            position + n,
            _rule(f"rule-on-{type.lower()}", Rule.PATH, Compare.STARTS_WITH, case.prefix),
            _rule(
                f"rule-inv-{type.lower()}",
                type,
                case.compare,
                case.value,
                key=case.key,
                invert=True,
            ),
            redirect_url=f"http://inverted.test/{type.lower()}",
        )
        for n, (type, case) in enumerate(INVERTED.items())
    ]


def _action_policies() -> list[L7PolicySpec]:
    api = _rule("rule-api", Rule.PATH, Compare.STARTS_WITH, "/api")
    return [
        specs.l7policy("policy-v2", Action.REDIRECT_TO_POOL, 1,
                       _rule("rule-v2", Rule.PATH, Compare.STARTS_WITH, "/api/v2"),
                       redirect_pool_id="pool-second"),
        specs.l7policy("policy-api", Action.REDIRECT_TO_POOL, 2, api, redirect_pool_id="pool-api"),
        specs.l7policy("policy-admin", Action.REJECT, 3,
                       _rule("rule-admin", Rule.PATH, Compare.REGEX, "^/api/admin(/.*)?$"),
                       _rule("rule-admin-ops", Rule.HEADER, Compare.EQUAL_TO, "ops", key="X-Team",
                             invert=True)),
        specs.l7policy("policy-prefix", Action.REDIRECT_PREFIX, 4,
                       _rule("rule-prefix", Rule.PATH, Compare.STARTS_WITH, "/old-site"),
                       redirect_prefix="https://new.test", redirect_http_code=308),
        specs.l7policy("policy-anchor", Action.REDIRECT_TO_URL, 5,
                       _rule("rule-anchor", Rule.PATH, Compare.EQUAL_TO, "/anchor"),
                       redirect_url="https://new.test/a%20b#top", redirect_http_code=301),
        specs.l7policy("policy-off", Action.REJECT, 6,
                       _rule("rule-policy-off", Rule.PATH, Compare.EQUAL_TO, "/policy-off"),
                       admin_state_up=False),
        specs.l7policy("policy-rule-off", Action.REJECT, 7,
                       _rule("rule-off", Rule.PATH, Compare.EQUAL_TO, "/rule-off",
                             admin_state_up=False),
                       _rule("rule-on", Rule.PATH, Compare.STARTS_WITH, "/rule-o")),
        specs.l7policy("policy-to-pool-off", Action.REDIRECT_TO_POOL, 8,
                       _rule("rule-pool-off", Rule.PATH, Compare.EQUAL_TO, "/pool-off"),
                       redirect_pool_id="pool-off"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    web = (
        HttpMember("default", "127.0.81.1"),
        HttpMember("api", "127.0.81.2"),
        HttpMember("second", "127.0.81.3"),
    )
    policies = [*_action_policies(), *_matrix_policies(10), *_inverted_policies(100)]
    port = free_port_on(VIP)
    front = specs.listener(
        "listener-1", port=port, default_pool_id="pool-default", l7policies=tuple(policies)
    )
    pools = tuple(
        specs.pool(
            f"pool-{member.name}", members=(specs.member(member.name, member.address, member.port),)
        )
        for member in web
    )
    off = specs.pool("pool-off", admin_state_up=False, members=pools[1].members)
    spec = specs.loadbalancer(vip_address=VIP, listeners=(front,), pools=(*pools, off))
    with members(*web), running_haproxy(render(spec), [(VIP, port)]):
        yield port


def send(port: int, request: Request) -> Reply:
    return get(VIP, port, request.path, headers={"Host": request.host, **request.headers})


@pytest.mark.parametrize("case", MATRIX, ids=lambda case: case.id)
def test_each_rule_and_compare_type_matches_what_it_should(port: int, case: Case) -> None:
    hit = send(port, case.hit)
    assert (hit.status, hit.header("Location")) == (
        CODES[case.id],
        f"http://matched.test/{case.id}",
    )
    miss = send(port, case.miss)
    assert (miss.status, miss.body) == (200, "default")


@pytest.mark.parametrize("type", list(INVERTED), ids=str)
def test_an_inverted_rule_matches_when_its_test_fails(port: int, type: L7RuleType) -> None:
    unmatched = send(port, Request(f"{INVERTED[type].prefix}/x.no"))
    assert (unmatched.status, unmatched.header("Location")) == (
        302,
        f"http://inverted.test/{type.lower()}",
    )
    matched = send(port, INVERTED[type].passing)
    assert (matched.status, matched.body) == (200, "default")


def test_redirect_to_pool_and_the_first_position_wins(port: int) -> None:
    assert send(port, Request("/api/users")).body == "api"
    assert send(port, Request("/api/v2/users")).body == "second"
    assert send(port, Request("/other")).body == "default"


def test_reject_runs_before_any_redirect_to_pool(port: int) -> None:
    assert send(port, Request("/api/admin/x")).status == 403
    # Both rules must hold: the ops team (inverted header rule) gets through to the pool.
    team = send(port, Request("/api/admin/x", headers={"X-Team": "ops"}))
    assert (team.status, team.body) == (200, "api")


def test_redirect_prefix_keeps_the_path_and_query(port: int) -> None:
    reply = send(port, Request("/old-site/page?q=1"))
    assert (reply.status, reply.header("Location")) == (308, "https://new.test/old-site/page?q=1")


def test_redirect_url_is_sent_verbatim(port: int) -> None:
    reply = send(port, Request("/anchor"))
    assert (reply.status, reply.header("Location")) == (301, "https://new.test/a%20b#top")


def test_disabled_policies_rules_and_pools_route_nothing(port: int) -> None:
    assert send(port, Request("/policy-off")).body == "default"
    # The disabled rule is dropped, the enabled one alone decides.
    assert send(port, Request("/rule-other")).status == 403
    assert send(port, Request("/pool-off")).body == "default"
