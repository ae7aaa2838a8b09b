"""The UDP proxy's nginx processes as /proc shows them, and the small file operations around
them. Linux only, like the rest of the agent.
"""

from pathlib import Path

from pier.wire.udp_checks import PID_FILE


def write_atomically(path: Path, text: str) -> None:
    """Replace a file atomically, so nginx never reads half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


def read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def read_pid(directory: Path) -> int | None:
    text = read_text(directory / PID_FILE)
    return int(text) if text is not None and text.strip().isdigit() else None


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def tail(path: Path, size: int = 4000) -> str:
    return read_from(path, max(0, file_size(path) - size))


def process_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a live process, None when gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rpartition(")")[2].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[1]), int(fields[2])


def is_master_of(pid: int, directory: Path) -> bool:
    """Whether `pid` is a live nginx master running with `directory` as its prefix (the pid
    file may name a pid the kernel has since given to another process).
    """
    command = command_line(pid)
    return (
        process_stat(pid) is not None
        and command.startswith("nginx: master process")
        and f"-p {directory}/ " in command
    )


def command_line(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return command.replace(b"\0", b" ").decode(errors="replace").strip()


def list_processes() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def children_of(master: int) -> set[int]:
    return {
        pid
        for pid in list_processes()
        if (stat := process_stat(pid)) is not None and stat[1] == master
    }


def nginx_group(group: int) -> list[int]:
    """The live nginx processes of a process group."""
    return [
        pid
        for pid in list_processes()
        if (stat := process_stat(pid)) is not None
        and stat[2] == group
        and command_line(pid).startswith("nginx:")
    ]
