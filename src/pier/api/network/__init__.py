"""Neutron-compatible subset: networks, subnets, ports, floating IPs, security groups.

`routes.network_routes` serves it over HTTP; `vip` allocates load-balancer VIPs inside the
caller's transaction; `bootstrap` creates the shared external `public` network.
"""
