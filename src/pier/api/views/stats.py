"""Listener and load-balancer statistics: sums over the `listener_statistics` rows, one per
(listener, amphora), as the health manager writes them from heartbeats.

Live connections count only from amphorae in service (or rows keyed by the listener itself,
as non-amphora providers write them): a failed-over or deleted amphora's last figure would
otherwise stay in the total for good. Byte, connection and error totals keep every row.
"""

from typing import Any

from sqlalchemy import Select, case, func, or_, select

from pier.db.tables import Amphora, ListenerStatistics
from pier.domain.enums import AmphoraStatus

STAT_COLUMNS = (
    "active_connections",
    "bytes_in",
    "bytes_out",
    "request_errors",
    "total_connections",
)


def stats_select() -> Select[Any]:
    """The five sums; the caller adds joins and the WHERE that picks its listeners."""
    stats = ListenerStatistics
    counted = or_(
        Amphora.status == AmphoraStatus.ALLOCATED.value, stats.amphora_id == stats.listener_id
    )
    active = func.sum(case((counted, stats.active_connections), else_=0))
    others = [func.sum(getattr(stats, name)) for name in STAT_COLUMNS[1:]]
    return (
        select(func.coalesce(active, 0), *[func.coalesce(total, 0) for total in others])
        .select_from(stats)
        .outerjoin(Amphora, Amphora.id == stats.amphora_id)
    )


def stats_document(sums: Any) -> dict[str, dict[str, int]]:
    return {"stats": {name: int(value) for name, value in zip(STAT_COLUMNS, sums, strict=True)}}
