import logging

from pier.log import StructuredFormatter, is_secret_name


def record(**extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "pier.test", "levelname": "INFO", "msg": "converged", "levelno": logging.INFO}
    )
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_extra_fields_are_appended_as_key_value() -> None:
    line = StructuredFormatter().format(
        record(loadbalancer_id="lb-1", reconcile_id="r1", amphora_id=None)
    )
    assert line.endswith("pier.test converged loadbalancer_id=lb-1 reconcile_id=r1")


def test_secret_fields_never_print() -> None:
    line = StructuredFormatter().format(
        record(heartbeat_key="s3cret", token="abc", password="pw", credential_id="c1")
    )
    assert "s3cret" not in line and "abc" not in line and "pw" not in line
    assert "heartbeat_key=***" in line
    assert "credential_id=c1" in line


def test_secret_names() -> None:
    assert is_secret_name("X-Auth-Token")
    assert not is_secret_name("project_id")
