"""Messages asking to reconcile a load balancer: the api and health manager enqueue them.

The worker consumes them.
"""
