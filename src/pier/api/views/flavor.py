"""Flavor and flavor profile responses (spec §4.11)."""

from typing import Any

from pier.api.views.common import text
from pier.db.tables import Flavor, FlavorProfile


def flavor_view(row: Flavor) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": text(row.name),
        "description": text(row.description),
        "enabled": row.enabled,
        "flavor_profile_id": row.flavor_profile_id,
    }


def flavorprofile_view(row: FlavorProfile) -> dict[str, Any]:
    """`flavor_data` goes back verbatim: the string the admin sent, not a re-encoding."""
    return {
        "id": row.id,
        "name": text(row.name),
        "provider_name": row.provider_name,
        "flavor_data": row.flavor_data,
    }
