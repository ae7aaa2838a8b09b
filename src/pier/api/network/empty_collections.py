"""Collections Pier answers but does not model: QoS policies and subnet pools are always empty.

OSC looks up `--vip-qos-policy-id` and tempest looks up a default subnet pool by name; an
empty list and a clean 404 tell them, truthfully, that none exist.
"""

from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.api.network.collection import Collection
from pier.api.network.neutron_errors import NeutronNotFound
from pier.api.network.views import View


def _nothing(_session: Session, _context: RequestContext) -> list[View]:
    return []


def _qos_policy_not_found(_session: Session, _context: RequestContext, policy_id: str) -> View:
    raise NeutronNotFound("QosPolicyNotFound", f"QoS policy {policy_id} could not be found.")


def _subnetpool_not_found(_session: Session, _context: RequestContext, pool_id: str) -> View:
    raise NeutronNotFound("SubnetPoolNotFound", f"Subnet pool {pool_id} could not be found.")


QOS_POLICIES = Collection(
    path="qos/policies",
    singular="policy",
    plural="policies",
    list_views=_nothing,
    show_view=_qos_policy_not_found,
)

SUBNETPOOLS = Collection(
    path="subnetpools",
    singular="subnetpool",
    plural="subnetpools",
    list_views=_nothing,
    show_view=_subnetpool_not_found,
)
