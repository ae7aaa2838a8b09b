"""The server-state file a reload starts from: HAProxy's `show servers state` dump, made to
agree with the configuration about to load, so that it carries only servers' health.

Why: a new worker restores a server's runtime weight when its configured weight did not
change, and its forced maintenance when its `disabled` flag did not change (HAProxy's
`srv_state_srv_update`). After runtime-API changes the running worker's configured values are
those of its start, not of the file the agent has since written, so a change that the next
push reverts would be "restored" over the new file. Rewriting each known server's admin
state and weights to the new configuration's makes the file win, always.
"""

from pier.agent.runtime_plan import parse_servers

# `show servers state` v1 columns.
_BACKEND, _SERVER, _ADMIN, _USER_WEIGHT, _INITIAL_WEIGHT = 1, 3, 6, 7, 8
# SRV_ADMF_FMAINT | SRV_ADMF_CMAINT: in maintenance because the configuration says `disabled`.
_CONFIGURED_MAINTENANCE = "5"


def align_server_state(dump: str, config: str) -> str:
    """`dump` with every server that `config` also has set to its weight and `disabled` flag.
    Servers the configuration does not know, and any unreadable line, pass unchanged.
    """
    parsed = parse_servers(config)
    servers = {} if parsed is None else parsed.servers
    lines = []
    for line in dump.splitlines():
        fields = line.split(" ")
        server = None
        if len(fields) > _INITIAL_WEIGHT and not line.startswith("#"):
            server = servers.get(f"{fields[_BACKEND]}/{fields[_SERVER]}")
        if server is not None:
            fields[_ADMIN] = _CONFIGURED_MAINTENANCE if server.disabled else "0"
            fields[_USER_WEIGHT] = fields[_INITIAL_WEIGHT] = str(server.weight)
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines) + "\n"
