"""Quota responses (spec §4.9): every limit under both spellings, plus project_id/tenant_id."""

from collections.abc import Mapping
from typing import Any

from pier.api.quota import RESOURCES, effective_limit
from pier.api.schemas.quota import DEPRECATED_SPELLINGS
from pier.db.tables import Quota
from pier.settings import QuotaDefaults

Limits = Mapping[str, int | None]


def stored_limits(row: Quota) -> dict[str, int | None]:
    """As stored: NULL (use the default) stays null, as `GET /quotas` shows it."""
    return {resource: getattr(row, resource) for resource in RESOURCES}


def effective_limits(row: Quota | None, defaults: QuotaDefaults) -> dict[str, int | None]:
    return {resource: effective_limit(row, defaults, resource) for resource in RESOURCES}


def default_limits(defaults: QuotaDefaults) -> dict[str, int | None]:
    return {resource: getattr(defaults, resource) for resource in RESOURCES}


def quota_view(project_id: str, limits: Limits) -> dict[str, Any]:
    """CLI and SDK read the deprecated `load_balancer`/`health_monitor` keys (spec §16)."""
    body: dict[str, Any] = dict(limits)
    for deprecated, canonical in DEPRECATED_SPELLINGS.items():
        body[deprecated] = limits[canonical]
    body["project_id"] = project_id
    body["tenant_id"] = project_id
    return body
