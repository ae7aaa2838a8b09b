"""UdpProxy where no real nginx is needed: refusals before nginx runs, a fake nginx that refuses
or fails to start, and pid files that name no nginx of ours. The real nginx is exercised in
tests/integration/agent/test_udp_proxy.py.
"""

import os
from pathlib import Path

import pytest

from pier.agent.udp import UdpConfigError, UdpProxy
from pier.amphora.nginx_config import render_udp_config
from tests.unit.amphora.test_nginx_config import udp_round_robin


def conf() -> str:
    text = render_udp_config(udp_round_robin())
    assert text is not None
    return text


def fake_nginx(tmp_path: Path, *, test_exit: int, run_exit: int) -> str:
    """A stand-in for nginx: `-t` prints a refusal and exits with `test_exit`; a run prints a
    failure and exits with `run_exit` at once.
    """
    script = tmp_path / "fake-nginx"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in\n'
        f'  *" -t "*) echo "nginx: [emerg] fake refusal" >&2; exit {test_exit};;\n'
        "esac\n"
        'echo "nginx: [emerg] fake start failure" >&2\n'
        f"exit {run_exit}\n"
    )
    script.chmod(0o755)
    return str(script)


def test_a_fresh_directory_runs_nothing(tmp_path: Path) -> None:
    proxy = UdpProxy(tmp_path / "amphora")
    assert (tmp_path / "amphora").is_dir()
    assert not proxy.running()
    assert proxy.member_statuses() == {}
    proxy.stop()  # nothing to stop
    proxy.apply(None)


def test_unreadable_records_are_refused_before_nginx_is_asked(tmp_path: Path) -> None:
    proxy = UdpProxy(tmp_path, nginx="/nonexistent/nginx")
    broken = conf().replace("type=UDP-CONNECT", "type=SCTP")

    with pytest.raises(UdpConfigError) as refused:
        proxy.apply(broken)

    assert str(refused.value) == "unreadable UDP configuration"
    assert "SCTP checks are not supported" in refused.value.details
    assert not (tmp_path / "nginx.conf").exists()


def test_a_configuration_that_names_another_pid_file_is_refused(tmp_path: Path) -> None:
    proxy = UdpProxy(tmp_path, nginx="/nonexistent/nginx")
    with pytest.raises(UdpConfigError) as refused:
        proxy.apply(conf().replace("pid nginx.pid;", "pid /run/nginx.pid;"))
    assert "pid nginx.pid;" in refused.value.details


def test_what_nginx_t_refuses_is_not_installed(tmp_path: Path) -> None:
    proxy = UdpProxy(tmp_path / "amphora", nginx=fake_nginx(tmp_path, test_exit=1, run_exit=0))

    with pytest.raises(UdpConfigError) as refused:
        proxy.apply(conf())

    assert str(refused.value) == "nginx rejected the UDP configuration"
    assert "fake refusal" in refused.value.details
    assert not (tmp_path / "amphora" / "nginx.conf").exists()
    assert not proxy.running()


def test_an_nginx_that_exits_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    nginx = fake_nginx(tmp_path, test_exit=0, run_exit=1)
    proxy = UdpProxy(tmp_path / "amphora", nginx=nginx)

    with pytest.raises(UdpConfigError) as failed:
        proxy.apply(conf())

    assert str(failed.value) == "nginx did not start"
    assert "fake start failure" in failed.value.details
    assert not proxy.running()
    assert proxy.member_statuses() == {}


def test_a_pid_file_naming_another_process_is_not_adopted(tmp_path: Path) -> None:
    (tmp_path / "nginx.pid").write_text(f"{os.getpid()}\n")  # this test, not an nginx
    (tmp_path / "desired.conf").write_text(conf())
    assert not UdpProxy(tmp_path).running()


@pytest.mark.parametrize("content", ["", "not a pid\n", "999999999\n"])
def test_a_stale_or_broken_pid_file_is_not_adopted(tmp_path: Path, content: str) -> None:
    (tmp_path / "nginx.pid").write_text(content)
    assert not UdpProxy(tmp_path).running()


def test_the_error_carries_details() -> None:
    error = UdpConfigError("refused", "line 3: bad")
    assert (str(error), error.details) == ("refused", "line 3: bad")
    assert UdpConfigError("refused").details == ""
