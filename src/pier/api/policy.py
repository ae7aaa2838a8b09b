"""Octavia's default policy (spec §5) in the role vocabulary `Settings.policy_roles` picks.

* both (default): a rule passes with the new defaults (reader/member/admin) or with Octavia's
  legacy `load-balancer_*` roles, as Octavia does with `enforce_new_defaults = False`.
* advanced: only the legacy roles (plus `admin`), Octavia's `octavia-advanced-rbac-policy.yaml`;
  the octavia-tempest-plugin's `advanced` RBAC mode expects a plain `member` to be refused.
* keystone_default_roles: only reader/member/admin (`enforce_new_defaults = True`).
"""

from collections.abc import Callable
from enum import StrEnum

from pier.api.context import RequestContext
from pier.domain.errors import Forbidden
from pier.settings import PolicyRoles

Check = Callable[[RequestContext, str | None], bool]


def _has(ctx: RequestContext, *roles: str) -> bool:
    return any(role in ctx.roles for role in roles)


def _legacy(ctx: RequestContext, *roles: str) -> bool:
    """Holds one of Octavia's deprecated `load-balancer_*` roles, where they count."""
    return ctx.policy_roles is not PolicyRoles.KEYSTONE_DEFAULT_ROLES and _has(ctx, *roles)


def _new_default(ctx: RequestContext, *roles: str) -> bool:
    """Holds one of Keystone's default roles, where they count (`admin` always does)."""
    return ctx.policy_roles is not PolicyRoles.ADVANCED and _has(ctx, *roles)


def _owner(ctx: RequestContext, target: str | None) -> bool:
    return target is not None and ctx.project_id == target


def is_admin(ctx: RequestContext, target: str | None = None) -> bool:
    return ctx.is_admin or _has(ctx, "admin") or _legacy(ctx, "load-balancer_admin")


def _global_observer(ctx: RequestContext) -> bool:
    return _new_default(ctx, "admin") or _legacy(ctx, "load-balancer_global_observer")


def _quota_admin(ctx: RequestContext) -> bool:
    return _new_default(ctx, "admin") or _legacy(ctx, "load-balancer_quota_admin")


def _member_and_owner(ctx: RequestContext, target: str | None) -> bool:
    role = _new_default(ctx, "member") or _legacy(ctx, "load-balancer_member")
    return role and _owner(ctx, target)


def _observer_and_owner(ctx: RequestContext, target: str | None) -> bool:
    role = _new_default(ctx, "reader") or _legacy(ctx, "load-balancer_observer")
    return role and _owner(ctx, target)


def read(ctx: RequestContext, target: str | None) -> bool:
    return (
        _observer_and_owner(ctx, target)
        or _global_observer(ctx)
        or _member_and_owner(ctx, target)
        or is_admin(ctx)
    )


def read_global(ctx: RequestContext, target: str | None = None) -> bool:
    return _global_observer(ctx) or is_admin(ctx)


def write(ctx: RequestContext, target: str | None) -> bool:
    return _member_and_owner(ctx, target) or is_admin(ctx)


def read_quota(ctx: RequestContext, target: str | None) -> bool:
    return read(ctx, target) or _quota_admin(ctx)


def read_quota_global(ctx: RequestContext, target: str | None = None) -> bool:
    return _global_observer(ctx) or _quota_admin(ctx) or is_admin(ctx)


def write_quota(ctx: RequestContext, target: str | None = None) -> bool:
    return _quota_admin(ctx) or is_admin(ctx)


class Rule(StrEnum):
    READ = "read"
    READ_GLOBAL = "read-global"
    WRITE = "write"
    ADMIN = "admin"
    READ_QUOTA = "read-quota"
    READ_QUOTA_GLOBAL = "read-quota-global"
    WRITE_QUOTA = "write-quota"


CHECKS: dict[Rule, Check] = {
    Rule.READ: read,
    Rule.READ_GLOBAL: read_global,
    Rule.WRITE: write,
    Rule.ADMIN: is_admin,
    Rule.READ_QUOTA: read_quota,
    Rule.READ_QUOTA_GLOBAL: read_quota_global,
    Rule.WRITE_QUOTA: write_quota,
}


def allowed(ctx: RequestContext, rule: Rule, target_project_id: str | None) -> bool:
    return CHECKS[rule](ctx, target_project_id)


def authorize(ctx: RequestContext, rule: Rule, target_project_id: str | None) -> None:
    """Raise Forbidden with Octavia's text unless `rule` passes for the target project."""
    if not allowed(ctx, rule, target_project_id):
        raise Forbidden()
