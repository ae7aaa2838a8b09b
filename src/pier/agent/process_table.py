"""Which processes are alive and which run a given HAProxy configuration, from /proc.

A pid file can outlive its process and the pid can be reused, so a pid counts as HAProxy's
only while its command line names this amphora's configuration file. Zombies count as gone:
HAProxy daemonizes, and the init process of a container may be slow to reap it.
"""

from pathlib import Path


def is_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # `pid (comm) state ...`; comm may hold spaces and parentheses, the state follows the last.
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state != ["Z"] and state != ["X"]


def is_running_config(pid: int, config: Path) -> bool:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    wanted = str(config).encode()
    named = any(
        flag == b"-f" and value == wanted
        for flag, value in zip(arguments, arguments[1:], strict=False)
    )
    return named and is_alive(pid)
