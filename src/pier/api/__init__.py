"""The HTTP side: the Octavia v2 API, the embedded identity and the network subset on one port."""
