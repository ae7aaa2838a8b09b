"""L7 rule responses (spec §4.7): no policy id, as in Octavia."""

from typing import Any

from pier.api.views.common import audit_times, ownership, statuses
from pier.db.tables import L7Rule


def l7rule_view(row: L7Rule, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "compare_type": row.compare_type,
        "key": row.key,
        "value": row.value,
        "invert": row.invert,
        "admin_state_up": row.admin_state_up,
        **ownership(row),
        **statuses(row),
        **audit_times(row),
        "tags": tags,
    }
