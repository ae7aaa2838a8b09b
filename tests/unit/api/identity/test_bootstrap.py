"""ensure_identity_bootstrap: idempotent, private files, passwords reused, never logged."""

import logging
import stat
from pathlib import Path

import pytest
import yaml

from pier.api.identity import changes, store
from pier.api.identity.bootstrap import DEFAULT_ROLES, ensure_identity_bootstrap
from pier.api.identity.clouds import read_passwords
from pier.api.identity.passwords import verify_secret
from pier.api.services import Services
from pier.db.engine import transaction
from pier.settings import AuthMode, Settings
from tests.support.app import make_services

BASE = "http://lb.example:9876"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    (tmp_path / "data").mkdir()
    return make_services(tmp_path / "data", Settings(public_url=BASE, region="RegionTwo"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_roles_projects_users_and_private_files(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    result = ensure_identity_bootstrap(services.sessions, services.settings)

    data_dir = services.settings.data_dir
    assert sorted(p.name for p in result.files) == ["clouds.yaml", "openrc-admin", "openrc-demo"]
    assert all(_mode(path) == 0o600 for path in result.files)
    with services.sessions() as session:
        assert {r.name for r in store.list_roles(session)} == set(DEFAULT_ROLES)
        demo_roles = store.assigned_roles(
            session, result.user_ids["demo"], result.project_ids["demo"]
        )
        admin_roles = store.assigned_roles(
            session, result.user_ids["admin"], result.project_ids["admin"]
        )
    assert sorted(r.name for r in demo_roles) == ["load-balancer_member", "member"]
    assert [r.name for r in admin_roles] == ["admin"]
    passwords = read_passwords(data_dir)
    assert set(passwords) == {"admin", "demo"}
    assert len(passwords["admin"]) >= 32 and passwords["admin"] != passwords["demo"]
    for secret in passwords.values():
        assert secret not in caplog.text
        assert secret not in repr(result)


def test_clouds_yaml_and_openrc_content(services: Services) -> None:
    ensure_identity_bootstrap(services.sessions, services.settings)
    data_dir = services.settings.data_dir
    password = read_passwords(data_dir)["demo"]

    clouds = yaml.safe_load((data_dir / "clouds.yaml").read_text())["clouds"]
    openrc = (data_dir / "openrc-demo").read_text()

    assert set(clouds) == {"pier-admin", "pier-demo"}
    assert clouds["pier-demo"] == {
        "auth_type": "password",
        "auth": {
            "auth_url": f"{BASE}/identity/v3",
            "username": "demo",
            "password": password,
            "project_name": "demo",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": "RegionTwo",
        "identity_api_version": 3,
        "interface": "public",
    }
    assert f"export OS_AUTH_URL={BASE}/identity/v3\n" in openrc
    assert f"export OS_PASSWORD={password}\n" in openrc
    assert "export OS_REGION_NAME=RegionTwo\n" in openrc
    assert "export OS_IDENTITY_API_VERSION=3\n" in openrc
    assert "export OS_PROJECT_NAME=demo\n" in openrc


def test_second_start_changes_nothing_and_reuses_passwords(services: Services) -> None:
    first = ensure_identity_bootstrap(services.sessions, services.settings)
    passwords = read_passwords(services.settings.data_dir)

    second = ensure_identity_bootstrap(services.sessions, services.settings)

    assert second.changed == ()
    assert (second.user_ids, second.project_ids) == (first.user_ids, first.project_ids)
    assert read_passwords(services.settings.data_dir) == passwords
    with services.sessions() as session:
        assert len(store.list_users(session)) == 2
        assert len(store.list_assignments(session)) == 3
        user = store.get_user(session, first.user_ids["admin"])
        assert verify_secret(passwords["admin"], user.password_hash)


def test_lost_files_give_new_working_passwords(services: Services) -> None:
    first = ensure_identity_bootstrap(services.sessions, services.settings)
    old = read_passwords(services.settings.data_dir)
    (services.settings.data_dir / "clouds.yaml").unlink()

    second = ensure_identity_bootstrap(services.sessions, services.settings)

    new = read_passwords(services.settings.data_dir)
    assert set(second.changed) == {"password admin", "password demo"}
    assert new["admin"] != old["admin"]
    with services.sessions() as session:
        user = store.get_user(session, first.user_ids["admin"])
        assert verify_secret(new["admin"], user.password_hash)


def test_password_changed_through_the_api_is_kept(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    first = ensure_identity_bootstrap(services.sessions, services.settings)
    with transaction(services.sessions) as session:
        changes.set_password(session, store.get_user(session, first.user_ids["demo"]), "mine")

    ensure_identity_bootstrap(services.sessions, services.settings)

    with services.sessions() as session:
        assert verify_secret("mine", store.get_user(session, first.user_ids["demo"]).password_hash)
    assert "password of user demo was changed" in caplog.text


def test_mode_specific_clouds(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "n").mkdir()
    token = make_services(
        tmp_path / "t", Settings(auth=AuthMode.TOKEN, static_token="s3cret", public_url=BASE)
    )
    noauth = make_services(tmp_path / "n", Settings(auth=AuthMode.NOAUTH, public_url=BASE))

    ensure_identity_bootstrap(token.sessions, token.settings)
    ensure_identity_bootstrap(noauth.sessions, noauth.settings)

    token_clouds = yaml.safe_load((tmp_path / "t" / "clouds.yaml").read_text())["clouds"]
    noauth_clouds = yaml.safe_load((tmp_path / "n" / "clouds.yaml").read_text())["clouds"]
    assert token_clouds["pier-token"] == {
        "auth_type": "admin_token",
        "auth": {"endpoint": BASE, "token": "s3cret"},
        "region_name": "RegionOne",
    }
    assert noauth_clouds["pier-noauth"] == {
        "auth_type": "none",
        "auth": {"endpoint": BASE},
        "region_name": "RegionOne",
    }
    assert "pier-token" not in noauth_clouds


def test_existing_world_readable_file_is_replaced_private(services: Services) -> None:
    data_dir = services.settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "openrc-admin").write_text("stale")
    (data_dir / "openrc-admin").chmod(0o644)

    ensure_identity_bootstrap(services.sessions, services.settings)

    assert _mode(data_dir / "openrc-admin") == 0o600
    assert "stale" not in (data_dir / "openrc-admin").read_text()
