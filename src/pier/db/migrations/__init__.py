"""Alembic migrations; `pier.db.migrate` runs them."""
