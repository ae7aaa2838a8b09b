"""The Neutron subset's routes: `/v2.0/<collection>` under `/network`, and (root=True) the same
collections at the server root, as `/v2.0/...` and `/v2/...`, for single-endpoint client modes
(clients.md §1.2).

Only `/network` serves the discovery documents (`/`, `/v2.0`): at the root, `/` is Octavia's
version document. The collections and `extensions` are served at both.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse
from pier.api.network.collection import Collection, collection_routes
from pier.api.network.empty_collections import QOS_POLICIES, SUBNETPOOLS
from pier.api.network.floatingips import FLOATINGIPS
from pier.api.network.networks import NETWORKS
from pier.api.network.neutron_errors import NeutronNotFound
from pier.api.network.ports import PORTS
from pier.api.network.security_group_rules import SECURITY_GROUP_RULES
from pier.api.network.security_groups import SECURITY_GROUPS
from pier.api.network.subnets import SUBNETS
from pier.api.services import get_context, get_services

# With `auth_type: none` and one endpoint, keystoneauth discovers the network API from
# Octavia's `GET /`, whose links say `/v2`, so the SDK asks for `/v2/subnets`; with a token
# and catalog it appends `/v2.0`. At the root both must work (none of these are Octavia paths).
ROOT_PREFIXES = ("/v2.0", "/v2")

COLLECTIONS: tuple[Collection, ...] = (
    NETWORKS,
    SUBNETS,
    PORTS,
    FLOATINGIPS,
    SECURITY_GROUPS,
    SECURITY_GROUP_RULES,
    QOS_POLICIES,
    SUBNETPOOLS,
)

# Only what is really implemented: Octavia's driver checks `project-id`; clients key
# behaviour off `external-net` and `security-group`.
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("external-net", "Neutron external network", "Adds external network attribute."),
    ("security-group", "security-group", "The security groups extension."),
    ("project-id", "project_id field enabled", "Extension that indicates project_id is enabled."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("standard-attr-description", "standard-attr-description",
     "Extension to add descriptions to standard attributes"),
    ("standard-attr-timestamp", "Resource timestamps",
     "Adds created_at and updated_at fields to all Neutron resources."),
    ("standard-attr-revisions", "Resource revision numbers",
     "Adds revision_number to resources for use by optimistic concurrency control."),
)  # fmt: skip


def _extension(alias: str, name: str, description: str) -> dict[str, object]:
    return {"alias": alias, "name": name, "description": description,
            "updated": "2017-01-01T00:00:00-00:00", "links": []}  # fmt: skip


async def versions(request: Request) -> Response:
    """Unauthenticated, like Neutron's: keystoneauth reads it during version discovery."""
    base = get_services(request).settings.base_url
    return JSONResponse({"versions": [{
        "id": "v2.0", "status": "CURRENT",
        "links": [{"href": f"{base}/network/v2.0/", "rel": "self"}],
    }]})  # fmt: skip


async def resources(request: Request) -> Response:
    get_context(request)
    base = get_services(request).settings.base_url
    return JSONResponse({"resources": [{
        "name": collection.singular, "collection": collection.plural,
        "links": [{"href": f"{base}/network/v2.0/{collection.path}", "rel": "self"}],
    } for collection in COLLECTIONS]})  # fmt: skip


async def list_extensions(request: Request) -> Response:
    get_context(request)
    return JSONResponse({"extensions": [_extension(*item) for item in EXTENSIONS]})


async def show_extension(request: Request) -> Response:
    get_context(request)
    alias = request.path_params["alias"]
    for item in EXTENSIONS:
        if item[0] == alias:
            return JSONResponse({"extension": _extension(*item)})
    raise NeutronNotFound("ExtensionNotFound", f"Extension with alias {alias} does not exist")


def network_routes(root: bool = False) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    if not root:
        routes += [
            Route("/", versions, methods=["GET"]),
            Route("/v2.0", resources, methods=["GET"]),
            Route("/v2.0/", resources, methods=["GET"]),
        ]
    prefixes = ROOT_PREFIXES if root else ("/v2.0",)
    for prefix in prefixes:
        # Octavia has no extensions resource, so the root may answer the SDK's checks too.
        routes += [
            Route(f"{prefix}/extensions", list_extensions, methods=["GET"]),
            Route(f"{prefix}/extensions/{{alias}}", show_extension, methods=["GET"]),
        ]
    for collection in COLLECTIONS:
        routes += collection_routes(collection, prefixes)
    return routes
