"""Housekeeping: jobs that keep a running Pier tidy, each in a module of its own."""
