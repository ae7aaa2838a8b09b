"""L7 policy responses (spec §4.6)."""

from typing import Any

from pier.api.views.common import audit_times, id_list, ownership, statuses, text
from pier.db.tables import L7Policy


def l7policy_view(row: L7Policy, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": text(row.name),
        "description": text(row.description),
        "admin_state_up": row.admin_state_up,
        **ownership(row),
        **statuses(row),
        **audit_times(row),
        "listener_id": row.listener_id,
        "action": row.action,
        "position": row.position,
        "redirect_pool_id": row.redirect_pool_id,
        "redirect_url": row.redirect_url,
        "redirect_prefix": row.redirect_prefix,
        "redirect_http_code": row.redirect_http_code,
        "rules": id_list(rule.id for rule in row.rules),
        "tags": tags,
    }
