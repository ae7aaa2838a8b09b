"""Octavia v2 routes, one module per resource, served under both `/v2` and `/v2.0`."""

from starlette.routing import BaseRoute, Mount

from pier.api.routes import (
    amphorae,
    availability_zones,
    flavors,
    healthmonitors,
    l7policies,
    l7rules,
    listeners,
    loadbalancers,
    members,
    pools,
    providers,
    quotas,
    versions,
)

RESOURCE_MODULES = (
    loadbalancers,
    listeners,
    pools,
    members,
    healthmonitors,
    l7policies,
    l7rules,
    quotas,
    providers,
    flavors,
    availability_zones,
    amphorae,
)


def lbaas_routes() -> list[BaseRoute]:
    resource_routes: list[BaseRoute] = [
        route for module in RESOURCE_MODULES for route in module.routes()
    ]
    return [
        *versions.routes(),
        *versions.bare_routes(),
        Mount("/v2", routes=resource_routes),
        Mount("/v2.0", routes=resource_routes),
    ]
