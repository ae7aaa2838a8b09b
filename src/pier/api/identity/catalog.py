"""The service catalog: identity, load-balancer and network, each on three interfaces.

The load-balancer URL is unversioned: OSC appends `/v2.0` and tempest GETs `<url>/` for the
version document (clients.md §2.1). Every endpoint carries `region` and `region_id`, which
tempest and region-pinned clients need (§2.3).
"""

import uuid
from typing import Any

from pier.settings import Settings

INTERFACES = ("public", "internal", "admin")

# (type, name, path below the base URL)
SERVICES = (
    ("identity", "keystone", "/identity/v3"),
    ("load-balancer", "octavia", ""),
    ("network", "neutron", "/network"),
)


def _stable_id(*parts: str) -> str:
    """Ids that stay the same across restarts and processes for the same base URL."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "|".join(parts)).hex


def identity_url(settings: Settings) -> str:
    return f"{settings.base_url}/identity/v3"


def build_catalog(settings: Settings) -> list[dict[str, Any]]:
    base = settings.base_url
    return [
        {
            "id": _stable_id(base, service_type),
            "type": service_type,
            "name": name,
            "endpoints": [
                {
                    "id": _stable_id(base, service_type, interface),
                    "interface": interface,
                    "region": settings.region,
                    "region_id": settings.region,
                    "url": base + path,
                }
                for interface in INTERFACES
            ],
        }
        for service_type, name, path in SERVICES
    ]
