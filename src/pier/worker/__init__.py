"""The worker: make the world match the database, one load balancer at a time.

- `runner.Worker`: takes ids from the queue (and from resync) and reconciles each.
- `reconcile.Reconciler`: lease -> load spec + observe -> plan -> apply -> record.
- `plan.plan`: PURE, (spec, observed) -> [Action]; an empty plan means converged.
- `actions.apply`: one action through the drivers, idempotently.
- `record`: the statuses a pass leaves behind (ACTIVE, DELETED, ERROR).
- `resync`: every tree still PENDING_*, at start-up and on a timer.
"""
