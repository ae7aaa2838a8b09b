"""Fixtures the health manager's tests share: a real (SQLite) database, a manual clock."""

from pathlib import Path

import pytest

from pier.db.engine import SessionFactory, make_session_factory
from tests.support.databases import engine_for_test
from tests.support.factories import ManualClock


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_session_factory(engine_for_test(tmp_path))


@pytest.fixture
def clock() -> ManualClock:
    """At 2025-06-01 12:00 UTC (the tests' T0) until advanced."""
    return ManualClock()
