"""Bundle handling: what one amphora runs and reports after each push, with fake processes."""

from pathlib import Path

import pytest

from pier.agent.amphora import Amphora
from pier.agent.errors import AmphoraNotFound, ApplyFailed, ConfigRejected
from pier.agent.layout import AmphoraDirectory, amphora_directory
from pier.wire.agent_api import AmphoraRunState, version_of
from tests.unit.agent.configs import bundle, haproxy_text, members
from tests.unit.agent.fakes import FakeHaproxy, FakeUdp

TWO = haproxy_text(members(8001, 8002))
THREE = haproxy_text(members(8001, 8002, 8003))
SLOW_CLIENTS = haproxy_text(members(8001, 8002), timeout_client=90000)


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.directory: AmphoraDirectory = amphora_directory(tmp_path / "state", "amphora-1")
        self.haproxy = FakeHaproxy(self.directory)
        self.udp: list[FakeUdp] = []

    def make_udp(self, path: Path) -> FakeUdp:
        self.udp.append(FakeUdp(path))
        return self.udp[-1]

    def amphora(self) -> Amphora:
        return Amphora(
            amphora_id="amphora-1",
            loadbalancer_id="lb-1",
            directory=self.directory,
            haproxy=self.haproxy,
            udp_factory=self.make_udp,
        )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def applied(amphora: Amphora, text: str) -> str:
    result = amphora.apply(text)
    assert result["version"] == version_of(text)
    return result["applied"]


def test_first_push_starts_then_the_same_push_changes_nothing(world: World) -> None:
    amphora = world.amphora()
    assert amphora.state()["version"] is None

    assert applied(amphora, bundle(TWO)) == "start"
    assert applied(amphora, bundle(TWO)) == "unchanged"

    assert world.haproxy.serving == TWO
    assert world.directory.server_state.read_text() == "1\n"
    assert world.directory.ping_script.stat().st_mode & 0o100
    state = amphora.state()
    assert state["state"] == AmphoraRunState.RUNNING
    assert (state["version"], state["last_error"]) == (version_of(bundle(TWO)), None)


def test_member_changes_go_through_the_runtime_api_and_the_file(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))

    assert applied(amphora, bundle(THREE)) == "runtime"

    assert world.haproxy.reloads == 0
    assert world.haproxy.runtime_lines[0].startswith("add server pool-1:listener-1/member-8003")
    assert world.directory.config.read_text() == THREE


def test_other_changes_reload_from_the_aligned_server_state(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    reweighted = haproxy_text(members(8001, 8002, weight=9), timeout_client=90000)

    assert applied(amphora, bundle(reweighted)) == "reload"

    assert world.haproxy.serving == reweighted
    assert world.directory.last_good.read_text() == TWO
    state_lines = world.directory.server_state.read_text().splitlines()
    assert [line.split()[7:9] for line in state_lines[2:]] == [["9", "9"], ["9", "9"]]


def test_a_server_that_keeps_connections_is_deleted_at_a_later_push(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(THREE))
    world.haproxy.busy = {"pool-1:listener-1/member-8003"}

    assert applied(amphora, bundle(TWO)) == "runtime"
    world.haproxy.runtime_lines.clear()
    world.haproxy.busy = set()
    assert applied(amphora, bundle(haproxy_text(members(8001, 8002, weight=2)))) == "runtime"

    assert world.haproxy.runtime_lines[0] == "del server pool-1:listener-1/member-8003"


def test_a_refused_runtime_change_falls_back_to_a_reload(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    world.haproxy.refuse_runtime = True

    assert applied(amphora, bundle(THREE)) == "reload"
    assert world.haproxy.serving == THREE


def test_a_configuration_haproxy_refuses_leaves_everything_as_it_was(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    world.haproxy.refuse_check = "[ALERT] parsing [haproxy.cfg:3]: unknown keyword 'bogus'"

    with pytest.raises(ConfigRejected) as refused:
        amphora.apply(bundle(SLOW_CLIENTS))

    assert refused.value.status == 400
    assert refused.value.details == world.haproxy.refuse_check
    assert world.haproxy.serving == TWO
    assert world.directory.config.read_text() == TWO
    assert not world.directory.candidate.exists()
    state = amphora.state()
    assert state["version"] == version_of(bundle(TWO))
    assert state["state"] == AmphoraRunState.RUNNING
    assert "unknown keyword 'bogus'" in (state["last_error"] or "")


def test_a_failed_reload_rolls_back_to_the_last_good_configuration(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    world.haproxy.failing_reloads = 1

    with pytest.raises(ConfigRejected, match="the last good one serves"):
        amphora.apply(bundle(SLOW_CLIENTS))

    assert world.haproxy.reloads == 2
    assert world.haproxy.serving == TWO
    assert world.directory.config.read_text() == TWO
    assert amphora.state()["version"] == version_of(bundle(TWO))


def test_a_failed_rollback_is_an_internal_error(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    world.haproxy.failing_reloads = 2

    with pytest.raises(ApplyFailed) as failed:
        amphora.apply(bundle(SLOW_CLIENTS))

    assert failed.value.status == 500
    assert world.directory.config.read_text() == TWO


def test_a_start_that_fails_is_refused_and_nothing_runs(world: World) -> None:
    amphora = world.amphora()
    world.haproxy.fail_start = True

    with pytest.raises(ConfigRejected, match="could not start"):
        amphora.apply(bundle(TWO))

    assert not world.directory.config.exists()
    assert amphora.state()["version"] is None


def test_no_haproxy_part_stops_haproxy(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))

    assert applied(amphora, bundle(None)) == "stop"

    assert world.haproxy.serving is None
    assert amphora.state()["state"] == AmphoraRunState.RUNNING


def test_the_same_version_is_started_again_when_haproxy_died(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO))
    world.haproxy.stop()  # killed behind the agent's back
    assert amphora.state()["state"] == AmphoraRunState.ERROR
    assert amphora.state()["last_error"] == "HAProxy is not running"

    assert applied(amphora, bundle(TWO)) == "start"
    assert amphora.state()["state"] == AmphoraRunState.RUNNING


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Invalid configuration document"),
        ('["a list"]', "Invalid configuration document"),
        (bundle(TWO, loadbalancer_id="lb-2"), "another load balancer"),
    ],
)
def test_unusable_documents_are_refused(world: World, text: str, message: str) -> None:
    with pytest.raises(ConfigRejected, match=message):
        world.amphora().apply(text)


def test_udp_listeners_go_to_the_udp_proxy(world: World) -> None:
    amphora = world.amphora()

    assert applied(amphora, bundle(TWO, udp="stream {}")) == "start"
    assert world.udp[0].serving == "stream {}"
    assert applied(amphora, bundle(TWO, udp="stream { }")) == "reload"
    assert applied(amphora, bundle(THREE, udp="stream { }")) == "runtime"
    assert applied(amphora, bundle(THREE)) == "stop"
    assert world.udp[0].serving is None


def test_a_push_reports_the_bigger_change_of_its_two_parts(world: World) -> None:
    amphora = world.amphora()

    assert applied(amphora, bundle(None)) == "stop"  # nothing to run
    assert applied(amphora, bundle(None, udp="stream {}")) == "start"
    assert applied(amphora, bundle(TWO, udp="stream {}")) == "start"
    assert applied(amphora, bundle(THREE, udp="stream { }")) == "reload"
    assert applied(amphora, bundle(None, udp="stream { }")) == "stop"


def test_a_udp_configuration_nginx_refuses_changes_nothing(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO, udp="stream {}"))
    world.udp[0].refuse = "nginx: [emerg] unknown directive"

    with pytest.raises(ConfigRejected, match="Invalid UDP configuration"):
        amphora.apply(bundle(THREE, udp="bogus"))

    assert world.haproxy.serving == TWO
    assert world.udp[0].serving == "stream {}"


def test_a_new_agent_resumes_the_recorded_configuration(world: World) -> None:
    applied(world.amphora(), bundle(TWO, udp="stream {}"))
    world.haproxy.stop()  # the host rebooted: nothing runs

    again = world.amphora()
    again.resume()

    assert world.haproxy.serving == TWO
    assert world.udp[-1].serving == "stream {}"
    assert again.state()["version"] == version_of(bundle(TWO, udp="stream {}"))


def test_resume_reloads_a_file_a_crash_left_half_applied(world: World) -> None:
    applied(world.amphora(), bundle(TWO))
    world.directory.config.write_text(THREE)  # written, never loaded nor recorded

    world.amphora().resume()

    assert world.haproxy.serving == TWO
    assert world.directory.config.read_text() == TWO


def test_an_unreadable_record_is_reported_without_a_version(world: World) -> None:
    applied(world.amphora(), bundle(TWO))
    world.directory.bundle.write_text("{garbage")

    again = world.amphora()

    assert again.state()["version"] is None
    assert "unreadable" in (again.state()["last_error"] or "")
    assert applied(again, bundle(TWO)) == "unchanged"  # HAProxy already runs that file
    assert again.state()["version"] == version_of(bundle(TWO))


def test_delete_stops_everything_and_forgets_the_amphora(world: World) -> None:
    amphora = world.amphora()
    applied(amphora, bundle(TWO, udp="stream {}"))

    amphora.delete()
    amphora.delete()

    assert world.haproxy.serving is None
    assert world.udp[0].serving is None
    assert not world.directory.path.exists()
    with pytest.raises(AmphoraNotFound):
        amphora.apply(bundle(TWO))


def test_down_names_what_the_configuration_needs_that_does_not_run(world: World) -> None:
    amphora = world.amphora()
    assert amphora.down() == ()  # nothing pushed: nothing is needed
    applied(amphora, bundle(TWO, udp="stream {}"))
    assert amphora.down() == ()

    world.haproxy.serving = None  # HAProxy died
    world.udp[0].stop()
    assert amphora.down() == ("haproxy", "nginx")

    applied(amphora, bundle(None))  # a configuration without listeners needs neither
    assert amphora.down() == ()
