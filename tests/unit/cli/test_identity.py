"""`pier identity ...`, `pier clouds-yaml` and `pier openrc` against a real SQLite database."""

import argparse
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import pier.db.tables  # noqa: F401  (registers every table)
from pier.api.identity import store
from pier.api.identity.bootstrap import ensure_identity_bootstrap
from pier.api.identity.passwords import verify_secret
from pier.cli import identity
from pier.db.base import Base
from pier.db.engine import make_engine, make_session_factory
from pier.settings import Settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    engine = make_engine(Settings(data_dir=tmp_path).sqlalchemy_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return tmp_path


def run(data_dir: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="pier")
    identity.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv, "--data-dir", str(data_dir)])
    result: int = args.handler(args)
    return result


def query(data_dir: Path) -> Session:
    engine = make_engine(Settings(data_dir=data_dir).sqlalchemy_url)
    return make_session_factory(engine)()


def test_project_user_role_lifecycle(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(data_dir, "identity", "project", "create", "team", "--description", "t") == 0
    assert (
        run(
            data_dir,
            "identity",
            "user",
            "create",
            "alice",
            "--password",
            "pw-a",
            "--project",
            "team",
            "--role",
            "load-balancer_member",
            "--role",
            "member",
        )
        == 0
    )
    assert run(data_dir, "identity", "user", "create", "bob", "--project", "team") == 0
    out = capsys.readouterr().out
    bob_password = out.split("password: ")[1].strip()

    with query(data_dir) as session:
        alice = store.find_user_by_name(session, "alice")
        bob = store.find_user_by_name(session, "bob")
        team = store.find_project_by_name(session, "team")
        assert alice and bob and team
        assert alice.default_project_id == team.id
        assert verify_secret("pw-a", alice.password_hash)
        assert verify_secret(bob_password, bob.password_hash)
        assert sorted(r.name for r in store.assigned_roles(session, alice.id, team.id)) == [
            "load-balancer_member",
            "member",
        ]
        assert [r.name for r in store.assigned_roles(session, bob.id, team.id)] == ["member"]

    assert (
        run(
            data_dir,
            "identity",
            "role",
            "add",
            "--user",
            "bob",
            "--project",
            "team",
            "--role",
            "reader",
        )
        == 0
    )
    assert (
        run(
            data_dir,
            "identity",
            "role",
            "remove",
            "--user",
            "bob",
            "--project",
            "team",
            "--role",
            "member",
        )
        == 0
    )
    with query(data_dir) as session:
        assert [r.name for r in store.assigned_roles(session, bob.id, team.id)] == ["reader"]

    capsys.readouterr()
    assert run(data_dir, "identity", "project", "list") == 0
    assert run(data_dir, "identity", "user", "list") == 0
    listed = capsys.readouterr().out
    assert f"{team.id} team" in listed and f"{alice.id} alice" in listed

    assert run(data_dir, "identity", "user", "delete", "bob") == 0
    assert run(data_dir, "identity", "project", "delete", team.id) == 0
    with query(data_dir) as session:
        assert store.find_user_by_name(session, "bob") is None
        assert store.find_project(session, team.id) is None


def test_errors_exit_1_and_write_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(data_dir, "identity", "project", "create", "team") == 0
    assert run(data_dir, "identity", "project", "create", "team") == 1
    assert (
        run(
            data_dir,
            "identity",
            "user",
            "create",
            "carol",
            "--project",
            "team",
            "--role",
            "no-such-role",
        )
        == 1
    )
    assert (
        run(
            data_dir,
            "identity",
            "role",
            "remove",
            "--user",
            "nobody",
            "--project",
            "team",
            "--role",
            "member",
        )
        == 1
    )

    assert "Duplicate entry" in capsys.readouterr().err
    with query(data_dir) as session:
        assert store.find_user_by_name(session, "carol") is None


def test_appcred_create_prints_id_and_secret_once(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(data_dir, "identity", "project", "create", "team")
    run(data_dir, "identity", "user", "create", "alice", "--password", "pw", "--project", "team")
    capsys.readouterr()

    assert (
        run(
            data_dir,
            "identity",
            "appcred",
            "create",
            "--user",
            "alice",
            "--project",
            "team",
            "--name",
            "ci",
            "--role",
            "reader",
        )
        == 0
    )
    assert (
        run(
            data_dir,
            "identity",
            "appcred",
            "create",
            "--user",
            "alice",
            "--project",
            "team",
            "--name",
            "admin-ci",
            "--role",
            "admin",
        )
        == 1
    )

    lines = capsys.readouterr().out.splitlines()
    cred_id, secret = lines[0].removeprefix("id: "), lines[1].removeprefix("secret: ")
    with query(data_dir) as session:
        cred = store.find_application_credential(session, cred_id)
        assert cred is not None and verify_secret(secret, cred.secret_hash)
        reader = store.find_role_by_name(session, "reader")
        assert reader is not None and cred.roles == [reader.id]


def test_clouds_yaml_and_openrc_print_the_bootstrap_files(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(data_dir, "clouds-yaml") == 1
    assert "pier up" in capsys.readouterr().err

    engine = make_engine(Settings(data_dir=data_dir).sqlalchemy_url)
    ensure_identity_bootstrap(make_session_factory(engine), Settings(data_dir=data_dir))
    engine.dispose()

    assert run(data_dir, "clouds-yaml") == 0
    assert capsys.readouterr().out == (data_dir / "clouds.yaml").read_text()
    assert run(data_dir, "openrc", "--user", "demo") == 0
    assert capsys.readouterr().out == (data_dir / "openrc-demo").read_text()
    assert run(data_dir, "openrc", "--user", "../etc") == 1
