"""Pier: load-balancing-as-a-service that speaks the OpenStack Octavia v2 API."""

__version__ = "0.1.0"
