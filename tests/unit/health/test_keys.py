"""The heartbeat key: configured, or generated once into data_dir with mode 0600."""

import logging
import stat
from pathlib import Path

import pytest

from pier.health.keys import KEY_FILE_NAME, key_file, load_or_create_key
from pier.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = load_or_create_key(settings)
    second = load_or_create_key(settings)

    path = tmp_path / "data" / KEY_FILE_NAME
    assert first == second and len(first) >= 32
    assert path.read_text().strip() == first
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]  # no temporary left


def test_a_configured_key_wins_and_key_file_hands_it_to_agents(tmp_path: Path) -> None:
    load_or_create_key(Settings(data_dir=tmp_path))  # an older generated key
    settings = Settings(data_dir=tmp_path, heartbeat_key="configured-key")

    assert load_or_create_key(settings) == "configured-key"
    path = key_file(settings)
    assert path.read_text().strip() == "configured-key" and mode(path) == 0o600


def test_key_file_of_a_generated_key_is_the_file_it_lives_in(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    path = key_file(settings)

    assert path == tmp_path / KEY_FILE_NAME
    assert path.read_text().strip() == load_or_create_key(settings)


def test_an_operator_written_key_file_is_used_as_is(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text("operator-chosen\n")
    path.chmod(0o600)

    assert load_or_create_key(Settings(data_dir=tmp_path)) == "operator-chosen"


def test_an_empty_key_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("\n")

    with pytest.raises(ValueError, match="empty"):
        load_or_create_key(Settings(data_dir=tmp_path))


def test_a_key_file_others_can_read_is_warned_about_without_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text("s3cret-heartbeat-key\n")
    path.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="pier"):
        load_or_create_key(Settings(data_dir=tmp_path))

    assert "readable by others" in caplog.text
    assert "s3cret" not in caplog.text
