"""`show proc` from HAProxy 2.6's master CLI, and what it says about a reload."""

import pytest

from pier.agent.master_status import MasterStatus, WorkerProcess, parse_show_proc

HEADER = "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
STARTED = (
    HEADER + "7699            master          0 [failed: 0]   0d00h12m40s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "7700            worker          0               0d00h12m40s     2.6.12-1+deb12u4\n"
    "# programs\n\n"
)
RELOADED_WITH_AN_OLD_WORKER = (
    HEADER + "7699            master          2 [failed: 0]   0d00h12m54s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "15628           worker          0               0d00h00m00s     2.6.12-1+deb12u4\n"
    "# old workers\n"
    "7700            worker          1               0d00h00m06s     2.6.12-1+deb12u4\n"
    "# programs\n\n"
)
FAILED = (
    HEADER + "7699            master          3 [failed: 1]   0d00h13m01s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "15628           worker          1               0d00h00m07s     2.6.12-1+deb12u4\n"
    "# programs\n\n"
)


def test_a_started_master_and_its_worker() -> None:
    assert parse_show_proc(STARTED) == MasterStatus(
        master_pid=7699,
        reloads=0,
        failed_reloads=0,
        workers=(WorkerProcess(7700, 0),),
        old_workers=(),
    )


def test_old_workers_are_kept_apart() -> None:
    status = parse_show_proc(RELOADED_WITH_AN_OLD_WORKER)

    assert status.workers == (WorkerProcess(15628, 0),)
    assert status.old_workers == (WorkerProcess(7700, 1),)
    assert status.pids == {15628, 7700}


def test_a_reload_serves_once_a_new_worker_is_listed() -> None:
    before = parse_show_proc(STARTED)
    assert parse_show_proc(STARTED).serving_since(before) is None
    assert parse_show_proc(RELOADED_WITH_AN_OLD_WORKER).serving_since(before) == 15628
    assert not parse_show_proc(RELOADED_WITH_AN_OLD_WORKER).failed_since(before)


def test_a_failed_reload_keeps_the_previous_worker() -> None:
    before = parse_show_proc(RELOADED_WITH_AN_OLD_WORKER)
    after = parse_show_proc(FAILED)

    assert after.failed_since(before)
    assert after.serving_since(before) is None


def test_versions_without_a_failed_count_read_as_zero() -> None:
    text = HEADER + "10 master 4 0d00h00m01s 2.4\n# workers\n11 worker 0 0d00h00m01s 2.4\n"
    assert parse_show_proc(text).failed_reloads == 0


@pytest.mark.parametrize("text", ["", "Unknown command.\n", "# workers\n11 worker 0 x y\n"])
def test_anything_without_a_master_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="show proc"):
        parse_show_proc(text)
