"""Security group rules: created and deleted (never updated, as in Neutron) by the group's owner."""

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.api.network.access import is_admin, own_project_clause, owns, require_member
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, integer, required, text
from pier.api.network.neutron_errors import (
    NeutronBadRequest,
    NeutronConflict,
    NeutronNotFound,
    invalid_attribute,
)
from pier.api.network.security_groups import get_visible_security_group
from pier.api.network.views import View, security_group_rule_view
from pier.db.tables.network import SecurityGroup, SecurityGroupRule

PROTOCOL_NAMES = frozenset(
    {"ah", "dccp", "egp", "esp", "gre", "icmp", "icmpv6", "igmp", "ipip", "ipv6-encap",
     "ipv6-frag", "ipv6-icmp", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp",
     "sctp", "tcp", "udp", "udplite", "vrrp", "any"}
)  # fmt: skip


def rule_not_found(rule_id: str) -> NeutronNotFound:
    return NeutronNotFound(
        "SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist"
    )


def get_visible_rule(session: Session, context: RequestContext, rule_id: str) -> SecurityGroupRule:
    rule = session.get(SecurityGroupRule, rule_id)
    if rule is None or not owns(context, rule.security_group.project_id):
        raise rule_not_found(rule_id)
    return rule


def list_rules(session: Session, context: RequestContext) -> list[View]:
    query = select(SecurityGroupRule).join(SecurityGroupRule.security_group)
    if not is_admin(context):
        query = query.where(own_project_clause(context, SecurityGroup.project_id))
    rules = session.scalars(query.order_by(SecurityGroupRule.created_at, SecurityGroupRule.id))
    return [security_group_rule_view(rule) for rule in rules]


def show_rule(session: Session, context: RequestContext, rule_id: str) -> View:
    return security_group_rule_view(get_visible_rule(session, context, rule_id))


def create_rule(session: Session, context: RequestContext, body: Body) -> View:
    require_member(context, "create_security_group_rule")
    group = get_visible_security_group(session, context, required(body, "security_group_id"))
    ethertype = text(body, "ethertype", default="IPv4")
    if ethertype not in ("IPv4", "IPv6"):
        raise invalid_attribute("ethertype", f"'{ethertype}' is not in ['IPv4', 'IPv6']")
    direction = required(body, "direction")
    if direction not in ("ingress", "egress"):
        raise invalid_attribute("direction", f"'{direction}' is not in ['ingress', 'egress']")
    # Linked by id, not relationship: the rule must not join the session before it is valid.
    rule = SecurityGroupRule(
        security_group_id=group.id,
        project_id=group.project_id,
        description=text(body, "description"),
        direction=direction,
        ethertype=ethertype,
        protocol=_protocol(body),
        remote_ip_prefix=_remote_ip_prefix(body, ethertype),
        remote_group_id=_remote_group_id(session, context, body),
    )
    rule.port_range_min, rule.port_range_max = _port_range(body, rule.protocol)
    _check_unique(group, rule)
    session.add(rule)
    session.flush()
    return security_group_rule_view(rule)


def delete_rule(session: Session, context: RequestContext, rule_id: str) -> None:
    require_member(context, "delete_security_group_rule")
    session.delete(get_visible_rule(session, context, rule_id))


def _protocol(body: Body) -> str | None:
    value = body.get("protocol")
    if value is None:
        return None
    text_value = str(value).lower()
    if text_value in PROTOCOL_NAMES or (text_value.isdigit() and 0 <= int(text_value) <= 255):
        return text_value
    raise NeutronBadRequest(
        f"Security group rule protocol {value} not supported. Only protocol values "
        f"{sorted(PROTOCOL_NAMES)} and integer representations [0 to 255] are supported.",
        kind="SecurityGroupRuleInvalidProtocol",
    )


def _port_range(body: Body, protocol: str | None) -> tuple[int | None, int | None]:
    low = integer(body, "port_range_min", 0, 65535)
    high = integer(body, "port_range_max", 0, 65535)
    if (low is not None or high is not None) and protocol is None:
        raise NeutronBadRequest(
            "Must also specify protocol if port range is given.",
            kind="SecurityGroupProtocolRequiredWithPorts",
        )
    if low is not None and high is not None and low > high:
        raise NeutronBadRequest(
            "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            kind="SecurityGroupInvalidPortRange",
        )
    return low, high


def _remote_ip_prefix(body: Body, ethertype: str) -> str | None:
    value = body.get("remote_ip_prefix")
    if value is None:
        return None
    try:
        prefix = ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError) as exc:
        raise invalid_attribute("remote_ip_prefix", f"'{value}' is not a valid IP subnet") from exc
    if f"IPv{prefix.version}" != ethertype:
        raise NeutronBadRequest(
            f"Conflicting value ethertype {ethertype} for CIDR {value}",
            kind="SecurityGroupRuleParameterConflict",
        )
    return str(prefix)


def _remote_group_id(session: Session, context: RequestContext, body: Body) -> str | None:
    value = body.get("remote_group_id")
    if value is None:
        return None
    return get_visible_security_group(session, context, str(value)).id


def _check_unique(group: SecurityGroup, rule: SecurityGroupRule) -> None:
    def key(item: SecurityGroupRule) -> tuple[object, ...]:
        return (item.direction, item.ethertype, item.protocol, item.port_range_min,
                item.port_range_max, item.remote_ip_prefix, item.remote_group_id)  # fmt: skip

    for existing in group.rules:
        if key(existing) == key(rule):
            raise NeutronConflict(
                "SecurityGroupRuleExists",
                f"Security group rule already exists. Rule id is {existing.id}.",
            )


SECURITY_GROUP_RULES = Collection(
    path="security-group-rules",
    singular="security_group_rule",
    plural="security_group_rules",
    list_views=list_rules,
    show_view=show_rule,
    create_view=create_rule,
    delete=delete_rule,
)
