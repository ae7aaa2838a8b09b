"""Every table, by area. Importing this package registers them all on `Base.metadata`."""

from pier.db.tables import identity, network, worker  # noqa: F401  (registers their tables)
from pier.db.tables.lbaas import (
    Amphora,
    AmphoraHealth,
    AvailabilityZone,
    AvailabilityZoneProfile,
    Flavor,
    FlavorProfile,
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
    Quota,
    Tag,
)

__all__ = [
    "Amphora",
    "AmphoraHealth",
    "AvailabilityZone",
    "AvailabilityZoneProfile",
    "Flavor",
    "FlavorProfile",
    "HealthMonitor",
    "L7Policy",
    "L7Rule",
    "Listener",
    "ListenerStatistics",
    "LoadBalancer",
    "Member",
    "Pool",
    "Quota",
    "Tag",
]
