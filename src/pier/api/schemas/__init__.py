"""Request schemas: one module per resource, built from the field types in `fields`."""
