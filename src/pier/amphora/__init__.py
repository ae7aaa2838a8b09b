"""The controller's side of an amphora: its HAProxy configuration, rendered purely from a spec."""

from pier.amphora.haproxy_config import (
    AmphoraPaths,
    HaproxyLimits,
    RenderedConfig,
    render_haproxy_config,
)

__all__ = ["AmphoraPaths", "HaproxyLimits", "RenderedConfig", "render_haproxy_config"]
