"""Member responses (spec §4.4): no `pool_id`, the pool is in the URL."""

from typing import Any

from pier.api.views.common import audit_times, ownership, statuses, text
from pier.db.tables import Member


def member_view(row: Member, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": text(row.name),
        **statuses(row),
        "admin_state_up": row.admin_state_up,
        "address": row.address,
        "protocol_port": row.protocol_port,
        "weight": row.weight,
        "backup": row.backup,
        "subnet_id": row.subnet_id,
        **ownership(row),
        **audit_times(row),
        "monitor_address": row.monitor_address,
        "monitor_port": row.monitor_port,
        "tags": tags,
        "vnic_type": row.vnic_type,
    }
