"""Availability zone and AZ profile request fields, and the amphora provider's AZ metadata
(spec §4.12). Zones are named, not numbered: the name is the key in URLs and on load balancers.
"""

from pier.api.schemas.fields import REJECT, Bool, Field, Schema, Str, Uuid
from pier.api.schemas.flavor import MetadataKey

AVAILABILITY_ZONE_METADATA = (
    MetadataKey("compute_zone", "string", "The compute availability zone."),
    MetadataKey("volume_zone", "string", "The volume availability zone."),
    MetadataKey("management_network", "string", "The management network ID for the amphora."),
    MetadataKey(
        "valid_vip_networks",
        "array",
        "List of network IDs that are allowed for VIP use. This overrides/replaces the "
        "list of allowed networks configured in `octavia.conf`.",
    ),
)

AVAILABILITY_ZONE_PROFILE = Schema(
    wrapper="availability_zone_profile",
    fields={
        "name": Field(Str(255), required=True),
        "provider_name": Field(Str(255), required=True),
        "availability_zone_data": Field(Str(4096), required=True),
    },
)

AVAILABILITY_ZONE = Schema(
    wrapper="availability_zone",
    fields={
        "name": Field(Str(255), required=True, updatable=False),
        "description": Field(Str(255)),
        "enabled": Field(Bool(), default=True, null_create=True, on_null=REJECT),
        "availability_zone_profile_id": Field(Uuid(), required=True, updatable=False),
    },
)
