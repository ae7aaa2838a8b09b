"""Network drivers: VIPs, subnets and ports."""
