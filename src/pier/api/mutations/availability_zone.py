"""Availability zone profile and zone create, update, delete (spec §4.12); all admin-only.

The load balancer create reads zones by name (`_check_availability_zone`), so a zone's name is
its primary key and can never change.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.flavor import in_use, require_enabled_provider
from pier.api.schemas.availability_zone import AVAILABILITY_ZONE_METADATA
from pier.api.schemas.flavor import check_profile_data, decode_profile_data
from pier.db.tables import AvailabilityZone, AvailabilityZoneProfile, LoadBalancer
from pier.domain.enums import ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput, NotFound

PROFILE = "Availability Zone Profile"
ZONE = "Availability Zone"


def _validate_zone_data(raw: str, provider: str) -> None:
    data = decode_profile_data(raw, "availability_zone_data")
    require_enabled_provider(provider)
    check_profile_data(data, AVAILABILITY_ZONE_METADATA, provider)


def find_availability_zone_profile(session: Session, profile_id: str) -> AvailabilityZoneProfile:
    row = session.get(AvailabilityZoneProfile, profile_id)
    if row is None:
        raise NotFound.of(PROFILE, profile_id)
    return row


def _count_zones(session: Session, profile_id: str) -> int:
    statement = (
        select(func.count())
        .select_from(AvailabilityZone)
        .where(AvailabilityZone.availability_zone_profile_id == profile_id)
    )
    return int(session.scalar(statement) or 0)


def create_availability_zone_profile(
    session: Session, ctx: RequestContext, values: dict[str, Any]
) -> AvailabilityZoneProfile:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    _validate_zone_data(values["availability_zone_data"], values["provider_name"])
    row = AvailabilityZoneProfile(**values)
    session.add(row)
    session.flush()
    return row


def update_availability_zone_profile(
    session: Session, ctx: RequestContext, profile_id: str, values: dict[str, Any]
) -> AvailabilityZoneProfile:
    """Provider and data are frozen while a zone uses the profile (409)."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_availability_zone_profile(session, profile_id)
    if "provider_name" in values or "availability_zone_data" in values:
        if _count_zones(session, row.id) > 0:
            raise in_use(PROFILE, row.id)
        _validate_zone_data(
            values.get("availability_zone_data", row.availability_zone_data),
            values.get("provider_name", row.provider_name),
        )
    for key, value in values.items():
        setattr(row, key, value)
    return row


def delete_availability_zone_profile(
    session: Session, ctx: RequestContext, profile_id: str
) -> None:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_availability_zone_profile(session, profile_id)
    if _count_zones(session, row.id) > 0:
        raise in_use(PROFILE, row.id)
    session.delete(row)


def find_availability_zone(session: Session, name: str) -> AvailabilityZone:
    row = session.get(AvailabilityZone, name)
    if row is None:
        raise NotFound.of(ZONE, name)
    return row


def create_availability_zone(
    session: Session, ctx: RequestContext, values: dict[str, Any]
) -> AvailabilityZone:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    profile_id = values["availability_zone_profile_id"]
    if session.get(AvailabilityZoneProfile, profile_id) is None:
        raise InvalidInput(f"{PROFILE} {profile_id} not found.")
    # Octavia's RecordAlreadyExists text, grammar included.
    duplicate = Conflict(f"A availability zone of {values['name']} already exists.")
    if session.get(AvailabilityZone, values["name"]) is not None:
        raise duplicate
    row = AvailabilityZone(**values)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create took the name after our check
        raise duplicate from exc
    return row


def update_availability_zone(
    session: Session, ctx: RequestContext, name: str, values: dict[str, Any]
) -> AvailabilityZone:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_availability_zone(session, name)
    for key, value in values.items():
        setattr(row, key, value)
    return row


def delete_availability_zone(session: Session, ctx: RequestContext, name: str) -> None:
    """A zone some load balancer still uses cannot go; deleted load balancers don't count."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_availability_zone(session, name)
    users = select(LoadBalancer.id).where(
        LoadBalancer.availability_zone == row.name,
        LoadBalancer.provisioning_status != ProvisioningStatus.DELETED.value,
    )
    if session.scalars(users).first() is not None:
        raise in_use(ZONE, row.name)
    session.delete(row)
