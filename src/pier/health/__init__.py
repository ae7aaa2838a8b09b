"""The health manager: heartbeats in (receiver), operating statuses and statistics out (writer).

    agents ──UDP──▶ receiver (verify, drop, keep the latest per amphora; no database)
                        │ every ~1 s
                        ▼
                     writer (liveness, statuses that changed, stats deltas) ──▶ database

`manager.HealthManager` runs both; `status` is the pure derivation of octavia-api.md §9.4.
"""
