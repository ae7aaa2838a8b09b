"""Persistence: SQLAlchemy tables, sessions, the snapshot of a tree for the worker, migrations."""
