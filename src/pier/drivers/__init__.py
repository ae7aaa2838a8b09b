"""Ports to the outside world: compute, network (and later certs). A Protocol and a fake each."""
