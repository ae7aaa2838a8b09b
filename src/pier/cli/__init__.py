"""The `pier` command."""
