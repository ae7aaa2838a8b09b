"""L7 rule validation, create, update and delete (spec §4.7, §3.3).

The validation is Octavia's `validate.l7rule_data`, message for message: every failure is a 400
`Error parsing L7Rule: <detail>`, where detail is `Invalid L7 Rule: <msg>` for rule-shape
problems and `Invalid characters in <what>` / `Unable to parse regular expression: <err>` for
bad strings, exactly as Octavia nests its exceptions.

`lock_l7policy` lives here rather than in the policy module because policies import rules
(a policy POST may carry rules), never the other way round.
"""

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.quota import check_quota
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.db.tables import L7Policy, L7Rule, Listener, LoadBalancer
from pier.domain.enums import L7RuleCompareType, L7RuleType, ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput, NotFound

MAX_RULES_PER_POLICY = 50
# The nested route checks its policy under Octavia's class name (spec §2.2).
SUBROUTE_POLICY = "L7Policy"
RULE_COLUMNS = ("type", "compare_type", "key", "value", "invert", "admin_state_up")

# Octavia's constants (RFCs 2616, 6265, 7230). `+-.` is a range that includes `,`, as there.
HEADER_NAME = re.compile(r"\A[a-zA-Z0-9!#$%&'*+-.^_`|~]+\Z")
COOKIE_VALUE = re.compile(r"\A[a-zA-Z0-9!#$%&'()*+-./:<=>?@[\]^_`{|}~]+\Z")
HEADER_VALUE = re.compile(r"\A[a-zA-Z0-9!\"#$%&'()*+,-./:;<=>?@[\]^_`{|}~\\]+\Z")
QUOTED_HEADER_VALUE = re.compile(r"\A\"[a-zA-Z0-9 \t!\"#$%&'()*+,-./:;<=>?@[\]^_`{|}~\\]*\"\Z")
DISTINGUISHED_NAME_FIELD = re.compile(r"^([a-zA-Z][A-Za-z0-9-]*)$")

REGEX = L7RuleCompareType.REGEX
EQUAL_TO = L7RuleCompareType.EQUAL_TO
TEXT_COMPARES = frozenset(
    {
        L7RuleCompareType.STARTS_WITH,
        L7RuleCompareType.ENDS_WITH,
        L7RuleCompareType.CONTAINS,
        EQUAL_TO,
    }
)


def _parse_error(detail: str) -> InvalidInput:
    return InvalidInput(f"Error parsing L7Rule: {detail}")


def _invalid_rule(msg: str) -> InvalidInput:
    return _parse_error(f"Invalid L7 Rule: {msg}")


def _check_regex(value: str) -> None:
    try:
        re.compile(value)
    except (re.error, OverflowError, RecursionError) as exc:
        raise _parse_error(f"Unable to parse regular expression: {exc}") from exc


def _header_value_ok(value: str) -> bool:
    return bool(HEADER_VALUE.match(value) or QUOTED_HEADER_VALUE.match(value))


def _cookie_value_ok(value: str) -> bool:
    return bool(COOKIE_VALUE.match(value))


def _check_compare(
    rule: dict[str, Any], text_compares: frozenset[str], value_ok: Callable[[str], bool], what: str
) -> None:
    compare = rule.get("compare_type")
    if compare == REGEX:
        _check_regex(rule["value"])
    elif compare in text_compares:
        if not value_ok(rule["value"]):
            raise _parse_error(f"Invalid characters in {what}")
    else:
        raise _invalid_rule("invalid comparison type for rule type")


def _check_key(rule: dict[str, Any]) -> None:
    if not rule.get("key"):
        raise _invalid_rule("L7 rule type requires a key")
    if not HEADER_NAME.match(rule["key"]):
        raise _parse_error("Invalid characters in key")


def _check_host_or_path(rule: dict[str, Any]) -> None:
    _check_compare(rule, TEXT_COMPARES, _header_value_ok, "comparison value")


def _check_file_type(rule: dict[str, Any]) -> None:
    _check_compare(rule, frozenset({EQUAL_TO}), _header_value_ok, "comparison value")


def _check_header(rule: dict[str, Any]) -> None:
    _check_key(rule)
    _check_compare(rule, TEXT_COMPARES, _header_value_ok, "header value")


def _check_cookie(rule: dict[str, Any]) -> None:
    _check_key(rule)
    _check_compare(rule, TEXT_COMPARES, _cookie_value_ok, "cookie value")


def _check_has_cert(rule: dict[str, Any]) -> None:
    kind = rule["type"]
    if rule.get("key"):
        raise _invalid_rule(f'L7rule type {kind} does not use the "key" field.')
    if rule["value"].lower() != "true":
        raise _invalid_rule(f"L7rule value {rule['value']} is not a boolean True string.")
    if rule.get("compare_type") != EQUAL_TO:
        raise _invalid_rule(f"L7rule type {kind} only supports the {EQUAL_TO} compare type.")


def _check_verify_result(rule: dict[str, Any]) -> None:
    kind = rule["type"]
    if rule.get("key"):
        raise _invalid_rule(f'L7rule type {kind} does not use the "key" field.')
    # ASCII digits only: Octavia's str.isdigit() lets "²" through and then fails in int().
    if not re.fullmatch(r"[0-9]+", rule["value"]):
        raise _invalid_rule(f"L7rule type {kind} needs a int value, which is >= 0")
    if rule.get("compare_type") != EQUAL_TO:
        raise _invalid_rule(f"L7rule type {kind} only supports the {EQUAL_TO} compare type.")


def _check_dn_field(rule: dict[str, Any]) -> None:
    if rule.get("compare_type") == REGEX:
        _check_regex(rule["value"])
    if not rule.get("key"):
        raise _invalid_rule(f"L7rule type {rule['type']} needs to specify a key and a value.")
    if not DISTINGUISHED_NAME_FIELD.match(rule["key"]):
        raise _invalid_rule("Invalid L7rule distinguished name field.")


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    L7RuleType.HOST_NAME: _check_host_or_path,
    L7RuleType.PATH: _check_host_or_path,
    L7RuleType.FILE_TYPE: _check_file_type,
    L7RuleType.HEADER: _check_header,
    L7RuleType.COOKIE: _check_cookie,
    L7RuleType.SSL_CONN_HAS_CERT: _check_has_cert,
    L7RuleType.SSL_VERIFY_RESULT: _check_verify_result,
    L7RuleType.SSL_DN_FIELD: _check_dn_field,
}


def validate_l7rule_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check one whole rule (a create, or a stored rule merged with a PUT) by its type.

    Returns a copy with `invert` null → false. Raises InvalidInput (400) with Octavia's text.
    """
    rule = dict(values)
    if rule.get("invert") is None:
        rule["invert"] = False
    if not rule.get("value"):
        raise _invalid_rule("L7 rule type requires a value")
    check = CHECKS.get(rule.get("type") or "")
    if check is None:
        raise _invalid_rule("invalid rule type")
    check(rule)
    return rule


def count_rules(session: Session, l7policy_id: str) -> int:
    statement = select(func.count()).select_from(L7Rule).where(L7Rule.l7policy_id == l7policy_id)
    return int(session.scalar(statement) or 0)


def require_room_for_rules(session: Session, l7policy_id: str, adding: int) -> None:
    """409 `Too many rules on L7 policy <id>`: HAProxy stops parsing past ~53 ACLs."""
    if count_rules(session, l7policy_id) + adding > MAX_RULES_PER_POLICY:
        raise Conflict(f"Too many rules on L7 policy {l7policy_id}")


def add_l7rule(
    session: Session, services: Services, l7policy: L7Policy, values: dict[str, Any]
) -> L7Rule:
    """Insert an already validated rule PENDING_CREATE; statuses of parents are the caller's."""
    row = L7Rule(
        l7policy_id=l7policy.id,
        project_id=l7policy.project_id,
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status="OFFLINE",
        created_at=services.clock(),
        **{column: values.get(column) for column in RULE_COLUMNS},
    )
    if row.admin_state_up is None:
        row.admin_state_up = True
    session.add(row)
    session.flush()
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def lock_l7policy(
    session: Session, l7policy_id: str, resource: str
) -> tuple[L7Policy, Listener, LoadBalancer]:
    """Lock the policy's load balancer, then read the policy: fresh under the row lock.

    `resource` names the policy in the 404 (`L7 Policy`, or `L7Policy` on the rules path).
    """
    loadbalancer_id = session.scalar(
        select(Listener.loadbalancer_id)
        .join(L7Policy, L7Policy.listener_id == Listener.id)
        .where(L7Policy.id == l7policy_id)
    )
    if loadbalancer_id is None:
        raise NotFound.of(resource, l7policy_id)
    loadbalancer = lock_loadbalancer(session, loadbalancer_id)
    l7policy = session.get(L7Policy, l7policy_id)
    if l7policy is None or l7policy.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of(resource, l7policy_id)
    return l7policy, l7policy.listener, loadbalancer


def _locked_policy(session: Session, ctx: RequestContext, l7policy_id: str) -> L7Policy:
    l7policy, _, _ = lock_l7policy(session, l7policy_id, SUBROUTE_POLICY)
    policy.authorize(ctx, policy.Rule.WRITE, l7policy.project_id)
    return l7policy


def find_l7rule(session: Session, l7policy: L7Policy, l7rule_id: str) -> L7Rule:
    """A rule of another policy does not exist on this path."""
    row = session.get(L7Rule, l7rule_id)
    if (
        row is None
        or row.l7policy_id != l7policy.id
        or row.provisioning_status == ProvisioningStatus.DELETED
    ):
        raise NotFound.of("L7 Rule", l7rule_id)
    return row


def _require_mutable(l7policy: L7Policy) -> None:
    require_active(l7policy, SUBROUTE_POLICY)
    require_active(l7policy.listener.loadbalancer, "Load Balancer")


def _mark_parents(l7policy: L7Policy, services: Services) -> None:
    listener = l7policy.listener
    mark(
        [l7policy, listener, listener.loadbalancer],
        ProvisioningStatus.PENDING_UPDATE,
        services.clock,
    )


def create_l7rule(
    session: Session,
    services: Services,
    ctx: RequestContext,
    l7policy_id: str,
    values: dict[str, Any],
) -> L7Rule:
    l7policy = _locked_policy(session, ctx, l7policy_id)
    values = validate_l7rule_values(values)
    require_room_for_rules(session, l7policy.id, 1)
    check_quota(
        session, ctx, services.settings.quota_defaults, l7policy.project_id or "", {"l7rule": 1}
    )
    _require_mutable(l7policy)
    row = add_l7rule(session, services, l7policy, values)
    _mark_parents(l7policy, services)
    return row


def update_l7rule(
    session: Session,
    services: Services,
    ctx: RequestContext,
    l7policy_id: str,
    l7rule_id: str,
    values: dict[str, Any],
) -> L7Rule:
    l7policy = _locked_policy(session, ctx, l7policy_id)
    row = find_l7rule(session, l7policy, l7rule_id)
    changes = {key: value for key, value in values.items() if key in RULE_COLUMNS}
    merged = {column: getattr(row, column) for column in RULE_COLUMNS} | changes
    merged = validate_l7rule_values(merged)
    _require_mutable(l7policy)
    for column in changes:
        setattr(row, column, merged[column])
    replace_tags(session, row.id, values.get("tags"))
    mark([row], ProvisioningStatus.PENDING_UPDATE, services.clock)
    _mark_parents(l7policy, services)
    return row


def delete_l7rule(
    session: Session, services: Services, ctx: RequestContext, l7policy_id: str, l7rule_id: str
) -> str:
    """Mark the rule for removal by the worker; returns the load balancer to reconcile."""
    l7policy = _locked_policy(session, ctx, l7policy_id)
    row = find_l7rule(session, l7policy, l7rule_id)
    _require_mutable(l7policy)
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)
    _mark_parents(l7policy, services)
    return l7policy.listener.loadbalancer_id
