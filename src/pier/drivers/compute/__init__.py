"""Compute drivers: where amphorae run."""
