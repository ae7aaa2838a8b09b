"""Names the controller's network driver and the agent must agree on for `netns` amphorae:
the bridge driver plugs ports into an amphora's namespace, the agent runs its HAProxy there.
"""

# Every namespace Pier makes starts with "pier-", so a sweep finds Pier's and nothing else.
AMPHORA_NAMESPACE_PREFIX = "pier-amp-"


def amphora_namespace(amphora_id: str) -> str:
    """`pier-amp-<amphora id>`: namespace names are files under /run/netns, not interface
    names, so the whole id fits.
    """
    return AMPHORA_NAMESPACE_PREFIX + amphora_id
