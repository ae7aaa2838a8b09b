"""Quota request fields (spec §4.9): one integer per counted resource, two spellings accepted."""

from collections.abc import Mapping
from typing import Any

from pier.api.quota import RESOURCES
from pier.api.schemas.fields import Field, Int, Schema

MIN_QUOTA = -1
MAX_QUOTA = 2_000_000_000

# The deprecated spellings python-octaviaclient and openstacksdk still send and read.
DEPRECATED_SPELLINGS = {"load_balancer": "loadbalancer", "health_monitor": "healthmonitor"}

QUOTA = Schema(
    wrapper="quota",
    aliases=DEPRECATED_SPELLINGS,
    # An explicit null stores NULL: "use the configured default" again.
    fields={name: Field(Int(MIN_QUOTA, MAX_QUOTA)) for name in RESOURCES},
)


def parse_quota_update(body: Any) -> dict[str, int | None]:
    """The canonical spelling wins when a body carries both, as in Octavia (its WSME type
    translates the deprecated name first and the canonical one last).
    """
    given = QUOTA.unwrap(body)
    ordered: Mapping[str, Any] = {
        **{key: value for key, value in given.items() if key in DEPRECATED_SPELLINGS},
        **{key: value for key, value in given.items() if key not in DEPRECATED_SPELLINGS},
    }
    return QUOTA.parse_update(ordered)
