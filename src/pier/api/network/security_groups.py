"""Security groups: members manage their own project's groups. A new group gets Neutron's two
default egress rules (any IPv4, any IPv6); rules themselves live in `security_group_rules`.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pier.api.context import RequestContext
from pier.api.network.access import (
    is_admin,
    own_project_clause,
    owns,
    project_for_create,
    require_member,
)
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, reject_read_only, text
from pier.api.network.neutron_errors import NeutronConflict, NeutronNotFound
from pier.api.network.views import View, security_group_view
from pier.db.tables.network import Port, SecurityGroup, SecurityGroupRule


def security_group_not_found(group_id: str) -> NeutronNotFound:
    return NeutronNotFound("SecurityGroupNotFound", f"Security group {group_id} does not exist")


def get_visible_security_group(
    session: Session, context: RequestContext, group_id: str
) -> SecurityGroup:
    group = session.get(SecurityGroup, group_id)
    if group is None or not owns(context, group.project_id):
        raise security_group_not_found(group_id)
    return group


def list_security_groups(session: Session, context: RequestContext) -> list[View]:
    query = select(SecurityGroup).options(selectinload(SecurityGroup.rules))
    if not is_admin(context):
        query = query.where(own_project_clause(context, SecurityGroup.project_id))
    groups = session.scalars(query.order_by(SecurityGroup.created_at, SecurityGroup.id))
    return [security_group_view(group) for group in groups]


def show_security_group(session: Session, context: RequestContext, group_id: str) -> View:
    return security_group_view(get_visible_security_group(session, context, group_id))


def create_security_group(session: Session, context: RequestContext, body: Body) -> View:
    require_member(context, "create_security_group")
    project_id = project_for_create(context, body, "create_security_group")
    group = SecurityGroup(
        project_id=project_id,
        name=text(body, "name"),
        description=text(body, "description"),
        rules=[
            SecurityGroupRule(project_id=project_id, direction="egress", ethertype=ethertype)
            for ethertype in ("IPv4", "IPv6")
        ],
    )
    session.add(group)
    session.flush()
    return security_group_view(group)


def update_security_group(
    session: Session, context: RequestContext, group_id: str, body: Body
) -> View:
    require_member(context, "update_security_group")
    group = get_visible_security_group(session, context, group_id)
    reject_read_only(body, ("id", "project_id", "tenant_id", "security_group_rules"))
    if "name" in body:
        group.name = text(body, "name")
    if "description" in body:
        group.description = text(body, "description")
    group.touch()
    session.flush()
    return security_group_view(group)


def delete_security_group(session: Session, context: RequestContext, group_id: str) -> None:
    require_member(context, "delete_security_group")
    group = get_visible_security_group(session, context, group_id)
    # The port -> group link is a JSON list, so "in use" is checked in Python.
    for groups in session.scalars(select(Port.security_groups)):
        if group.id in groups:
            raise NeutronConflict("SecurityGroupInUse", f"Security Group {group_id} in use.")
    session.delete(group)


SECURITY_GROUPS = Collection(
    path="security-groups",
    singular="security_group",
    plural="security_groups",
    list_views=list_security_groups,
    show_view=show_security_group,
    create_view=create_security_group,
    update_view=update_security_group,
    delete=delete_security_group,
)
