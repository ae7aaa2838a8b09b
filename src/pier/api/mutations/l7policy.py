"""L7 policy create, update and delete (spec §4.6, §3.3), and the action/redirect rules.

`sanitize_redirect` follows Octavia's `validate.sanitize_l7policy_api_args`: a supplied redirect
target switches `action` and clears the other targets; an explicit action needs its target.
Positions form Octavia's ordering list: 1..N per listener, renumbered on every write.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.mutations.l7rule import (
    MAX_RULES_PER_POLICY,
    add_l7rule,
    lock_l7policy,
    validate_l7rule_values,
)
from pier.api.quota import check_quota
from pier.api.schemas.l7policy import MAX_POSITION
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.db.base import new_id
from pier.db.tables import L7Policy, Listener, LoadBalancer, Pool
from pier.domain.enums import (
    LISTENER_POOL_PROTOCOLS,
    L7PolicyAction,
    ListenerProtocol,
    ProvisioningStatus,
)
from pier.domain.errors import Conflict, InvalidInput, NotFound, NotImplementedOption

REJECT = L7PolicyAction.REJECT
TO_URL = L7PolicyAction.REDIRECT_TO_URL
TO_POOL = L7PolicyAction.REDIRECT_TO_POOL
PREFIX = L7PolicyAction.REDIRECT_PREFIX
REDIRECT_FIELDS = ("redirect_pool_id", "redirect_url", "redirect_prefix", "redirect_http_code")
DEFAULT_REDIRECT_CODE = 302
# What each action does not use; cleared on every write, as Octavia's repository does on PUT.
UNUSED_FIELDS: dict[str, tuple[str, ...]] = {
    REJECT: REDIRECT_FIELDS,
    TO_URL: ("redirect_pool_id", "redirect_prefix"),
    TO_POOL: ("redirect_url", "redirect_prefix", "redirect_http_code"),
    PREFIX: ("redirect_url", "redirect_pool_id"),
}
TARGETS = {
    TO_URL: ("redirect_url", "redirect_url must not be None"),
    TO_POOL: ("redirect_pool_id", "redirect_pool_id or redirect_pool must not be None"),
    PREFIX: ("redirect_prefix", "redirect_prefix must not be None"),
}
# The amphora provider renders L7 only in HTTP frontends (Octavia's
# VALID_L7POLICY_LISTENER_PROTOCOLS).
L7_LISTENER_PROTOCOLS = frozenset({ListenerProtocol.HTTP, ListenerProtocol.TERMINATED_HTTPS})


def _bad_arguments(message: str) -> InvalidInput:
    return InvalidInput(f"Invalid L7 Policy arguments: {message}")


def check_listener_protocol(protocol: str, provider: str) -> None:
    """400 for PROMETHEUS listeners, 501 (provider option) for non-HTTP ones."""
    if protocol == ListenerProtocol.PROMETHEUS:
        raise InvalidInput("Protocol PROMETHEUS listeners cannot have child objects.")
    if protocol not in L7_LISTENER_PROTOCOLS:
        raise NotImplementedOption(
            f"Provider '{provider}' does not support a requested option: "
            f"{protocol} protocol listeners do not support L7 policies"
        )


def _apply_action(values: dict[str, Any]) -> None:
    action = values["action"]
    if action == REJECT:
        values.update(dict.fromkeys(REDIRECT_FIELDS))
        values.pop("redirect_pool", None)
    elif action == TO_URL:
        if not values.get("redirect_url"):
            raise _bad_arguments("redirect_url must not be None")
        values["redirect_pool_id"] = None
        values.pop("redirect_pool", None)
    elif action == TO_POOL:
        if not values.get("redirect_pool_id") and not values.get("redirect_pool"):
            raise _bad_arguments("redirect_pool_id or redirect_pool must not be None")
        values["redirect_url"] = None
    elif action == PREFIX:
        if not values.get("redirect_prefix"):
            raise _bad_arguments("redirect_prefix must not be None")
    else:
        raise InvalidInput(f"Invalid L7 Policy action specified: {action}")


def _switch_to_target(values: dict[str, Any]) -> None:
    pool_given = values.get("redirect_pool_id") or values.get("redirect_pool")
    if pool_given and (values.get("redirect_url") or values.get("redirect_prefix")):
        raise _bad_arguments(
            "Cannot specify redirect_pool_id and redirect_url or redirect_prefix at the same time"
        )
    if pool_given:
        values.pop("redirect_pool" if values.get("redirect_pool_id") else "redirect_pool_id", None)
        values.update(
            action=TO_POOL, redirect_url=None, redirect_prefix=None, redirect_http_code=None
        )
    elif values.get("redirect_url"):
        values.pop("redirect_pool", None)
        values.update(
            action=TO_URL,
            redirect_pool_id=None,
            redirect_prefix=None,
            redirect_http_code=values.get("redirect_http_code") or DEFAULT_REDIRECT_CODE,
        )
    elif values.get("redirect_prefix"):
        values.pop("redirect_pool", None)
        values.update(
            action=PREFIX,
            redirect_pool_id=None,
            redirect_url=None,
            redirect_http_code=values.get("redirect_http_code") or DEFAULT_REDIRECT_CODE,
        )


def sanitize_redirect(values: dict[str, Any]) -> dict[str, Any]:
    """Octavia's action/redirect interplay on a POST or PUT body; returns a new dict.

    `redirect_pool` (a single-call pool spec or reference) counts as a pool target.
    """
    result = dict(values)
    if "action" in result:
        _apply_action(result)
    _switch_to_target(result)
    if not result:
        raise _bad_arguments("Invalid update options")
    return result


def validate_l7policy_values(
    values: dict[str, Any], listener_protocol: str, *, provider: str = "amphora"
) -> dict[str, Any]:
    """Everything about a new policy that needs no database: listener protocol (400/501),
    action and redirect targets, redirect_http_code default 302 for URL/PREFIX, else null.

    Raises InvalidInput (400) or NotImplementedOption (501); returns normalized values.
    """
    check_listener_protocol(listener_protocol, provider)
    result = sanitize_redirect(values)
    if "action" not in result:
        raise InvalidInput("Invalid L7 Policy action specified: None")
    for field in UNUSED_FIELDS[result["action"]]:
        result[field] = None
    return result


def _merged_redirect(row: L7Policy, changes: dict[str, Any]) -> dict[str, Any]:
    """The stored action and targets with a sanitized PUT applied; its target must be set.

    Octavia would store e.g. REDIRECT_TO_URL without a URL (`redirect_url: null`); the worker
    could not render that, so it is a 400 here.
    """
    merged = {key: getattr(row, key) for key in ("action", *REDIRECT_FIELDS)}
    merged.update({key: value for key, value in changes.items() if key in merged})
    for field in UNUSED_FIELDS[merged["action"]]:
        merged[field] = None
    target = TARGETS.get(merged["action"])
    if target is not None and not merged[target[0]]:
        raise _bad_arguments(target[1])
    return merged


def check_redirect_pool(session: Session, listener: Listener, pool_id: str) -> None:
    """The pool must exist (404), suit the listener (400) and be on its load balancer (404)."""
    pool = session.get(Pool, pool_id)
    if pool is None or pool.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of("Pool", pool_id)
    allowed = LISTENER_POOL_PROTOCOLS.get(ListenerProtocol(listener.protocol), frozenset())
    if pool.protocol not in allowed:
        raise InvalidInput(
            f"Validation failure: The pool protocol '{pool.protocol}' is invalid "
            f"while the listener protocol is '{listener.protocol}'."
        )
    if pool.loadbalancer_id != listener.loadbalancer_id:
        raise NotFound.of("Pool", pool_id)


def place_l7policy(session: Session, row: L7Policy, position: int) -> None:
    """Put `row` at `position` (past the end = append) and renumber its listener's policies
    1..N; policies being deleted go last so no two share a number.
    """
    siblings = list(
        session.scalars(
            select(L7Policy)
            .where(L7Policy.listener_id == row.listener_id, L7Policy.id != row.id)
            .order_by(L7Policy.position, L7Policy.created_at, L7Policy.id)
        )
    )
    leaving = ProvisioningStatus.PENDING_DELETE.value
    staying = [sibling for sibling in siblings if sibling.provisioning_status != leaving]
    index = min(position, len(staying) + 1) - 1
    ordered = [
        *staying[:index],
        row,
        *staying[index:],
        *[sibling for sibling in siblings if sibling.provisioning_status == leaving],
    ]
    for number, member in enumerate(ordered, start=1):
        member.position = number


def _lock_listener(session: Session, listener_id: str) -> tuple[Listener, LoadBalancer]:
    loadbalancer_id = session.scalar(
        select(Listener.loadbalancer_id).where(Listener.id == listener_id)
    )
    if loadbalancer_id is None:
        raise NotFound.of("Listener", listener_id)
    loadbalancer = lock_loadbalancer(session, loadbalancer_id)
    listener = session.get(Listener, listener_id)
    if listener is None or listener.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of("Listener", listener_id)
    return listener, loadbalancer


def _insert(
    session: Session, services: Services, listener: Listener, row_id: str, values: dict[str, Any]
) -> L7Policy:
    row = L7Policy(
        id=row_id,
        listener_id=listener.id,
        project_id=listener.loadbalancer.project_id,
        name=values.get("name"),
        description=values.get("description"),
        admin_state_up=values.get("admin_state_up", True),
        action=values["action"],
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status="OFFLINE",
        position=MAX_POSITION,
        created_at=services.clock(),
        **{field: values.get(field) for field in REDIRECT_FIELDS},
    )
    session.add(row)
    session.flush()
    place_l7policy(session, row, values.get("position") or MAX_POSITION)
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def create_l7policy(
    session: Session, services: Services, ctx: RequestContext, values: dict[str, Any]
) -> L7Policy:
    """Insert the policy (and any `rules`, already parsed) PENDING_CREATE."""
    listener, loadbalancer = _lock_listener(session, values["listener_id"])
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    rules = [validate_l7rule_values(rule) for rule in values.pop("rules", None) or []]
    values = validate_l7policy_values(
        values, listener.protocol, provider=loadbalancer.provider or "octavia"
    )
    row_id = new_id()
    if len(rules) > MAX_RULES_PER_POLICY:
        raise Conflict(f"Too many rules on L7 policy {row_id}")
    if values.get("redirect_pool_id"):
        check_redirect_pool(session, listener, values["redirect_pool_id"])
    check_quota(
        session,
        ctx,
        services.settings.quota_defaults,
        loadbalancer.project_id or "",
        {"l7policy": 1, "l7rule": len(rules)},
    )
    require_active(loadbalancer, "Load Balancer")
    row = _insert(session, services, listener, row_id, values)
    for rule in rules:
        add_l7rule(session, services, row, rule)
    mark([listener, loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def update_l7policy(
    session: Session,
    services: Services,
    ctx: RequestContext,
    l7policy_id: str,
    values: dict[str, Any],
) -> L7Policy:
    row, listener, loadbalancer = lock_l7policy(session, l7policy_id, "L7 Policy")
    policy.authorize(ctx, policy.Rule.WRITE, row.project_id)
    changes = sanitize_redirect(values)
    merged = _merged_redirect(row, changes)
    if changes.get("redirect_pool_id"):
        check_redirect_pool(session, listener, changes["redirect_pool_id"])
    require_active(loadbalancer, "Load Balancer")
    for key in ("name", "description", "admin_state_up"):
        if key in changes:
            setattr(row, key, changes[key])
    for key, value in merged.items():
        setattr(row, key, value)
    if changes.get("position") is not None:
        place_l7policy(session, row, changes["position"])
    replace_tags(session, row.id, changes.get("tags"))
    mark([row, listener, loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def delete_l7policy(
    session: Session, services: Services, ctx: RequestContext, l7policy_id: str
) -> str:
    """Mark the policy and its rules for removal; returns the load balancer to reconcile.

    The rules are marked too, so the worker removes them with their policy.
    """
    row, listener, loadbalancer = lock_l7policy(session, l7policy_id, "L7 Policy")
    policy.authorize(ctx, policy.Rule.WRITE, row.project_id)
    require_active(loadbalancer, "Load Balancer")
    mark([row, *row.rules], ProvisioningStatus.PENDING_DELETE, services.clock)
    place_l7policy(session, row, MAX_POSITION)
    mark([listener, loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return loadbalancer.id
