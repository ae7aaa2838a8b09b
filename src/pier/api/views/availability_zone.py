"""Availability zone and AZ profile responses (spec §4.12); zones have no id, only a name."""

from typing import Any

from pier.api.views.common import text
from pier.db.tables import AvailabilityZone, AvailabilityZoneProfile


def availability_zone_view(row: AvailabilityZone) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": text(row.description),
        "enabled": row.enabled,
        "availability_zone_profile_id": row.availability_zone_profile_id,
    }


def availability_zone_profile_view(row: AvailabilityZoneProfile) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": text(row.name),
        "provider_name": row.provider_name,
        "availability_zone_data": row.availability_zone_data,
    }
