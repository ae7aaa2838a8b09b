"""The amphora agent: applies the configuration the controller pushes and runs its processes."""
