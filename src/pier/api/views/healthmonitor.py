"""Health monitor responses (spec §4.5)."""

from typing import Any

from pier.api.views.common import audit_times, id_list, ownership, statuses, text
from pier.db.tables import HealthMonitor
from pier.domain.enums import HealthMonitorType

HTTP_TYPES = frozenset({HealthMonitorType.HTTP.value, HealthMonitorType.HTTPS.value})


def healthmonitor_view(row: HealthMonitor, tags: list[str]) -> dict[str, Any]:
    """The HTTP-only fields are null for the other types, whatever the row holds."""
    http = row.type in HTTP_TYPES
    return {
        "id": row.id,
        "name": text(row.name),
        "type": row.type,
        "delay": row.delay,
        "timeout": row.timeout,
        "max_retries": row.max_retries,
        "max_retries_down": row.max_retries_down,
        "http_method": row.http_method if http else None,
        "url_path": row.url_path if http else None,
        "expected_codes": row.expected_codes if http else None,
        "admin_state_up": row.admin_state_up,
        **ownership(row),
        "pools": id_list([row.pool_id]),
        **statuses(row),
        **audit_times(row),
        "tags": tags,
        "http_version": None if row.http_version is None else float(row.http_version),
        "domain_name": row.domain_name,
    }
