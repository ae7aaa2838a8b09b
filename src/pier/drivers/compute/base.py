"""The compute boundary: place, create, delete and inspect amphorae, and hand them config.

Every method is idempotent or a pure read, so the worker may repeat any of them after a crash.
Drivers raise `TransientDriverError` for anything worth retrying (timeouts, a busy host) and
`PermanentDriverError` for anything that will not get better (no capacity, a bad image).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pier.domain.enums import AmphoraRole


class ComputeState(StrEnum):
    RUNNING = "running"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class AmphoraRequest:
    """What the worker asks for. `amphora_id` is the instance's deterministic name."""

    amphora_id: str
    loadbalancer_id: str
    role: AmphoraRole
    vip_address: str | None = None
    availability_zone: str | None = None


@dataclass(frozen=True, slots=True)
class ComputeInstance:
    compute_id: str
    lb_network_ip: str
    # When the certificate the controller reaches the amphora's agent through expires; None
    # when the driver cannot tell (the fake one).
    cert_expiration: datetime | None = None


def config_version(config_text: str) -> str:
    """The version of a configuration: sha256 hex of its text, as the agent reports it."""
    return hashlib.sha256(config_text.encode()).hexdigest()


class Compute(Protocol):
    def find_amphora(self, amphora_id: str) -> ComputeInstance | None:
        """The instance named after this amphora, if one exists (lookup before create)."""

    def create_amphora(self, request: AmphoraRequest) -> ComputeInstance:
        """Start an amphora named `request.amphora_id`; returns the existing one if present."""

    def delete_amphora(self, compute_id: str) -> None:
        """Stop and remove an instance; deleting a missing instance is not an error."""

    def get_status(self, compute_id: str) -> ComputeState:
        """Whether the instance runs, is gone, or is broken."""

    def push_config(self, compute_id: str, config_text: str) -> str:
        """Apply this configuration; returns its version. The same text again is a no-op."""

    def get_config_version(self, compute_id: str) -> str | None:
        """Version of the configuration the instance runs now; None before the first push."""

    def inventory(self) -> dict[str, str]:
        """Amphora id -> compute id of every instance this driver runs: what the worker
        compares with the database to find instances no amphora row wants (a crash, a lost
        database) and delete them.
        """
