"""Structured log lines: `time level logger message key=value ...`, secrets never printed.

Context travels in `extra=` (`loadbalancer_id`, `amphora_id`, `reconcile_id`, ...); the
formatter appends every such field. Any field whose name says it holds a secret is replaced
by `***`, whatever a caller passes.
"""

import logging
import sys

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SECRET_WORDS = ("password", "secret", "token", "key", "credential", "authorization")


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith("_id")


class StructuredFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={'***' if is_secret_name(name) else value}"
            for name, value in sorted(vars(record).items())
            if name not in _STANDARD and value is not None
        ]
        return f"{line} {' '.join(fields)}" if fields else line


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StructuredFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
