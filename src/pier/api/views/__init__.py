"""Table rows -> Octavia response dicts, one module per resource."""
