import pytest

from pier.api.context import RequestContext
from pier.api.policy import Rule, allowed, authorize
from pier.domain.errors import Forbidden
from pier.settings import PolicyRoles


def ctx(*roles: str, project: str = "p1", is_admin: bool = False) -> RequestContext:
    return RequestContext(project_id=project, roles=frozenset(roles), is_admin=is_admin)


@pytest.mark.parametrize(
    ("roles", "rule", "target", "expected"),
    [
        # New defaults: reader/member/admin (spec §5 matrix).
        (("reader",), Rule.READ, "p1", True),
        (("reader",), Rule.READ, "p2", False),
        (("reader",), Rule.WRITE, "p1", False),
        (("member", "reader"), Rule.WRITE, "p1", True),
        (("member", "reader"), Rule.WRITE, "p2", False),
        (("member", "reader"), Rule.READ_GLOBAL, None, False),
        (("member", "reader"), Rule.ADMIN, "p1", False),
        (("admin",), Rule.WRITE, "p2", True),
        (("admin",), Rule.READ_GLOBAL, None, True),
        # Octavia's legacy load-balancer_* roles (tempest's "advanced" RBAC mode).
        (("load-balancer_observer",), Rule.READ, "p1", True),
        (("load-balancer_observer",), Rule.WRITE, "p1", False),
        (("load-balancer_global_observer",), Rule.READ, "p2", True),
        (("load-balancer_global_observer",), Rule.READ_GLOBAL, None, True),
        (("load-balancer_global_observer",), Rule.WRITE, "p2", False),
        (("load-balancer_member",), Rule.WRITE, "p1", True),
        (("load-balancer_member",), Rule.WRITE, "p2", False),
        (("load-balancer_admin",), Rule.ADMIN, None, True),
        (("load-balancer_quota_admin",), Rule.WRITE_QUOTA, "p2", True),
        (("load-balancer_quota_admin",), Rule.READ_QUOTA_GLOBAL, None, True),
        (("load-balancer_quota_admin",), Rule.WRITE, "p1", False),
        (("member",), Rule.READ_QUOTA, "p1", True),
        (("member",), Rule.WRITE_QUOTA, "p1", False),
        ((), Rule.READ, "p1", False),
    ],
)
def test_default_policy_matrix(
    roles: tuple[str, ...], rule: Rule, target: str | None, expected: bool
) -> None:
    assert allowed(ctx(*roles), rule, target) is expected


def test_noauth_context_is_admin_everywhere() -> None:
    assert allowed(ctx(is_admin=True), Rule.ADMIN, "other")
    assert allowed(ctx(is_admin=True), Rule.WRITE, "other")


def test_authorize_raises_octavias_message() -> None:
    with pytest.raises(Forbidden) as exc:
        authorize(ctx("reader"), Rule.WRITE, "p1")
    assert exc.value.message == "Policy does not allow this request to be performed."
    assert exc.value.status == 403


def vocab(roles: PolicyRoles, *held: str, project: str = "p1") -> RequestContext:
    return RequestContext(project_id=project, roles=frozenset(held), policy_roles=roles)


@pytest.mark.parametrize(
    ("held", "rule", "target", "expected"),
    [
        # Octavia's advanced RBAC policy file: a plain member or reader gets nothing...
        (("member", "reader"), Rule.READ, "p1", False),
        (("member", "reader"), Rule.WRITE, "p1", False),
        (("reader",), Rule.READ, "p1", False),
        # ...the load-balancer_* roles do, and admin is still admin.
        (("load-balancer_member", "member"), Rule.WRITE, "p1", True),
        (("load-balancer_observer", "reader"), Rule.READ, "p1", True),
        (("load-balancer_global_observer", "reader"), Rule.READ_GLOBAL, None, True),
        (("load-balancer_admin",), Rule.ADMIN, None, True),
        (("admin",), Rule.WRITE, "p2", True),
        (("load-balancer_quota_admin",), Rule.WRITE_QUOTA, "p2", True),
    ],
)
def test_advanced_policy_honours_only_the_load_balancer_roles(
    held: tuple[str, ...], rule: Rule, target: str | None, expected: bool
) -> None:
    assert allowed(vocab(PolicyRoles.ADVANCED, *held), rule, target) is expected


@pytest.mark.parametrize(
    ("held", "rule", "target", "expected"),
    [
        (("load-balancer_member",), Rule.WRITE, "p1", False),
        (("load-balancer_observer",), Rule.READ, "p1", False),
        (("load-balancer_global_observer",), Rule.READ_GLOBAL, None, False),
        (("load-balancer_admin",), Rule.ADMIN, None, False),
        (("load-balancer_quota_admin",), Rule.WRITE_QUOTA, "p2", False),
        (("member", "reader"), Rule.WRITE, "p1", True),
        (("reader",), Rule.READ, "p1", True),
        (("admin",), Rule.READ_GLOBAL, None, True),
    ],
)
def test_keystone_default_roles_policy_ignores_the_load_balancer_roles(
    held: tuple[str, ...], rule: Rule, target: str | None, expected: bool
) -> None:
    assert allowed(vocab(PolicyRoles.KEYSTONE_DEFAULT_ROLES, *held), rule, target) is expected
