"""Flavor profile and flavor create, update, delete (spec §4.11); all admin-only.

What is stored here is read back by the load balancer create (`_topology_from_flavor`):
`flavor_data` is kept as the admin's JSON string, and it is always a JSON object.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.loadbalancer import ENABLED_PROVIDERS
from pier.api.schemas.flavor import (
    FLAVOR_METADATA,
    NIL_UUID,
    check_profile_data,
    decode_profile_data,
)
from pier.db.tables import Flavor, FlavorProfile, LoadBalancer
from pier.domain.enums import ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput, NotFound


def require_enabled_provider(provider: str) -> None:
    if provider not in ENABLED_PROVIDERS:
        raise InvalidInput(f"Provider '{provider}' is not enabled.")


def in_use(kind: str, ident: str) -> Conflict:
    return Conflict(f"{kind} {ident} is in use and cannot be modified.")


def _validate_flavor_data(raw: str, provider: str) -> None:
    """Octavia's order: JSON first, then the provider, then the provider's schema."""
    data = decode_profile_data(raw, "flavor_data")
    require_enabled_provider(provider)
    check_profile_data(data, FLAVOR_METADATA, provider)


def find_flavorprofile(session: Session, profile_id: str) -> FlavorProfile:
    if profile_id == NIL_UUID:  # Octavia's text differs in case for the reserved id
        raise NotFound.of("Flavor profile", profile_id)
    row = session.get(FlavorProfile, profile_id)
    if row is None:
        raise NotFound.of("Flavor Profile", profile_id)
    return row


def _count_flavors(session: Session, profile_id: str) -> int:
    statement = (
        select(func.count()).select_from(Flavor).where(Flavor.flavor_profile_id == profile_id)
    )
    return int(session.scalar(statement) or 0)


def create_flavorprofile(
    session: Session, ctx: RequestContext, values: dict[str, Any]
) -> FlavorProfile:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    _validate_flavor_data(values["flavor_data"], values["provider_name"])
    row = FlavorProfile(**values)
    session.add(row)
    session.flush()
    return row


def update_flavorprofile(
    session: Session, ctx: RequestContext, profile_id: str, values: dict[str, Any]
) -> FlavorProfile:
    """Provider and data are frozen while a flavor uses the profile (409)."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_flavorprofile(session, profile_id)
    if "provider_name" in values or "flavor_data" in values:
        if _count_flavors(session, row.id) > 0:
            raise in_use("Flavor profile", row.id)
        _validate_flavor_data(
            values.get("flavor_data", row.flavor_data),
            values.get("provider_name", row.provider_name),
        )
    for key, value in values.items():
        setattr(row, key, value)
    return row


def delete_flavorprofile(session: Session, ctx: RequestContext, profile_id: str) -> None:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_flavorprofile(session, profile_id)
    if _count_flavors(session, row.id) > 0:
        raise in_use("Flavor profile", row.id)
    session.delete(row)


def find_flavor(session: Session, flavor_id: str) -> Flavor:
    row = session.get(Flavor, flavor_id)
    if row is None:
        raise NotFound.of("Flavor", flavor_id)
    return row


def _require_unique_name(session: Session, name: str, flavor_id: str | None = None) -> None:
    statement = select(Flavor.id).where(Flavor.name == name)
    if flavor_id is not None:
        statement = statement.where(Flavor.id != flavor_id)
    if session.scalars(statement).first() is not None:
        raise Conflict(f"A flavor of {name} already exists.")


def create_flavor(session: Session, ctx: RequestContext, values: dict[str, Any]) -> Flavor:
    """Octavia does not check the profile (its foreign key turns into a 500); we say why."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    profile_id = values["flavor_profile_id"]
    if session.get(FlavorProfile, profile_id) is None:
        raise InvalidInput(f"Flavor Profile {profile_id} not found.")
    _require_unique_name(session, values["name"])
    row = Flavor(**values)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create took the name after our check
        raise Conflict(f"A flavor of {values['name']} already exists.") from exc
    return row


def update_flavor(
    session: Session, ctx: RequestContext, flavor_id: str, values: dict[str, Any]
) -> Flavor:
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_flavor(session, flavor_id)
    if "name" in values:
        _require_unique_name(session, values["name"], row.id)
    for key, value in values.items():
        setattr(row, key, value)
    return row


def delete_flavor(session: Session, ctx: RequestContext, flavor_id: str) -> None:
    """A flavor some load balancer still uses cannot go; deleted load balancers don't count."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    row = find_flavor(session, flavor_id)
    users = select(LoadBalancer.id).where(
        LoadBalancer.flavor_id == row.id,
        LoadBalancer.provisioning_status != ProvisioningStatus.DELETED.value,
    )
    if session.scalars(users).first() is not None:
        raise in_use("Flavor", row.id)
    session.delete(row)
