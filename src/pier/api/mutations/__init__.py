"""Writes: validate -> policy -> quota -> 409-if-pending -> write -> PENDING_*.

The route enqueues the load balancer after the transaction commits.
"""
