"""The configuration pushed to amphorae, until the HAProxy renderer replaces it.

For now the configuration is a canonical JSON document of the spec (sorted keys, fixed
separators): the same tree always gives the same text, and its version is the sha256 hex of the
text (`pier.drivers.compute.base.config_version`). A later issue swaps in `pier.amphora`
(haproxy.cfg + keepalived); plan, actions and the version logic stay unchanged.

The document describes the tree as it will be after this pass (`without_leaving`: no
PENDING_DELETE objects, no references to leaving pools) and carries no provisioning statuses,
so recording the pass cannot change the version and make a converged tree look drifted.
"""

import json
from dataclasses import asdict
from typing import Any

from pier.domain.spec import LoadBalancerSpec, without_leaving


def render_desired_config(spec: LoadBalancerSpec) -> str:
    document = _without_statuses(asdict(without_leaving(spec)))
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _without_statuses(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_statuses(v) for k, v in value.items() if k != "provisioning_status"}
    if isinstance(value, list | tuple):
        return [_without_statuses(item) for item in value]
    return value
