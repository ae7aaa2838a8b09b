from pathlib import Path

from sqlalchemy import create_engine

from pier.db.engine import make_engine, make_session_factory, transaction
from pier.db.revision import find_revision_source
from pier.db.tables import Quota
from tests.support.databases import engine_for_test


def test_revision_moves_with_every_commit_from_any_connection(tmp_path: Path) -> None:
    engine = engine_for_test(tmp_path)
    source = find_revision_source(engine)
    assert source is not None
    first = source.current()
    assert source.current() == first
    with transaction(make_session_factory(engine)) as session:
        session.add(Quota(project_id="p1"))
    second = source.current()
    assert second != first
    # A writer in another engine (another process, as far as SQLite knows) counts too.
    other = make_engine(str(engine.url))
    with transaction(make_session_factory(other)) as session:
        session.get(Quota, "p1").loadbalancer = 3  # type: ignore[union-attr]
    assert source.current() != second
    # Reads do not move it.
    third = source.current()
    with transaction(make_session_factory(other), write=False) as session:
        session.get(Quota, "p1")
    assert source.current() == third
    source.close()


def test_no_revision_on_servers() -> None:
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    assert find_revision_source(engine) is None
