"""Migrations build exactly the schema the tables declare, on SQLite, PostgreSQL and MariaDB."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pier.db.base import Base
from pier.db.engine import make_engine
from pier.db.migrate import downgrade, upgrade
from tests.support.databases import create_database

pytestmark = pytest.mark.integration


def engine_for(kind: str, tmp_path: Path) -> Engine:
    if kind == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'pier.db'}")
    return make_engine(create_database(kind))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_upgrade_matches_the_tables_and_is_idempotent(kind: str, tmp_path: Path) -> None:
    engine = engine_for(kind, tmp_path)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
