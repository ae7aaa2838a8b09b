r"""Writing user-supplied strings into haproxy.cfg so that HAProxy reads back exactly those bytes.

HAProxy splits a line into words on blanks, starts a comment at `#`, treats `\` as an escape
and expands `${VAR}` inside double quotes; inside single quotes every byte is literal. The
argument of a sample fetch (`req.hdr(<name>)`) is parsed once more, where `,` `(` `)`, quotes
and `\` are special. Octavia escapes only backslashes and spaces (octavia-api.md §11), which
lets a `#` in a rule value cut the line; Pier quotes instead.
"""

import re

# Characters that mean nothing to HAProxy's line parser; any other word is single-quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_.:/%+=@,~^*?|()-]+")
_FETCH_ARG_SPECIAL = re.compile(r"[\\'\",() ]")


def word(value: str) -> str:
    r"""`value` as one configuration word: bare when plain, else in single quotes.

    A single quote cannot appear inside single quotes, so it closes the quoted part, is
    written escaped, and the quoting reopens (`it's` -> `'it'\''s'`), as in a POSIX shell.
    """
    if _PLAIN.fullmatch(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def path(value: str) -> str:
    """A file path, which may start with `${VAR}` for the agent to fill in (the amphora's
    directory, `pier.wire.agent_api.AMPHORA_DIR`): HAProxy expands variables only inside double
    quotes, where a double quote and a backslash need a backslash before them.
    """
    if "${" not in value:
        return word(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fetch(name: str, argument: str) -> str:
    r"""A sample fetch with one literal argument (`req.hdr(X-Token)`), as one word.

    HAProxy's argument parser ends an argument at `,` or `)` and strips quotes: an argument
    with any of those goes in double quotes, where only `\` and `"` need a backslash.
    """
    if _FETCH_ARG_SPECIAL.search(argument):
        argument = '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word(f"{name}({argument})")


def pattern(value: str) -> str:
    """An ACL pattern matching `value`, preceded by `--` when it would read as a flag.

    Octavia's API lets a value that contains blanks through only when it is wrapped in double
    quotes, and HAProxy then strips those quotes; the pattern is what is inside them.
    """
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    quoted = word(value)
    return f"-- {quoted}" if value.startswith("-") else quoted


def address(ip: str) -> str:
    """An IP address where HAProxy also accepts a port: IPv6 in brackets, or its last group
    would be read as one (`addr 2001:db8::99` is refused as `2001:db8:` port 99).
    """
    return f"[{ip}]" if ":" in ip else ip


def endpoint(ip: str, port: int) -> str:
    return f"{address(ip)}:{port}"


def backend_name(pool_id: str, listener_id: str) -> str:
    """Octavia's backend name, which the heartbeat and the runtime API address servers by."""
    return f"{pool_id}:{listener_id}"
