"""Pure domain: statuses, enums, the desired-state tree, cross-object rules, errors.

Nothing here performs I/O or imports another part of pier.
"""
