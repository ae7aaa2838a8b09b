"""The queue contract. Messages carry only a load balancer id, so duplicates are harmless."""

from typing import Protocol


class ReconcileQueue(Protocol):
    def enqueue(self, loadbalancer_id: str) -> None:
        """Ask for one reconcile pass of this load balancer. Never blocks, never raises."""

    def get(self, timeout: float) -> str | None:
        """Next load balancer id to reconcile, or None after `timeout` seconds."""
