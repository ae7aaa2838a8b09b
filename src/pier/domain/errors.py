"""The error tree. Routes raise these; `pier.api.faults` alone turns them into responses.

PierError
├── InvalidInput          400  (bad field, bad combination; message is Octavia's text)
├── NotAuthenticated      401  (no or bad token)
├── Forbidden             403  (policy)
│   └── QuotaExceeded     403
├── NotFound              404
├── Conflict              409
│   └── ImmutableWhilePending  409 (object or its load balancer is PENDING_*)
├── NotImplementedOption  501  (provider does not support an option)
└── DriverError                (worker side, never reaches a client directly)
    ├── TransientDriverError   retry with backoff, keep PENDING_*
    └── PermanentDriverError   record ERROR with the reason
"""


class PierError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PierError):
    status = 400


class NotAuthenticated(PierError):
    status = 401


class Forbidden(PierError):
    status = 403

    def __init__(
        self, message: str = "Policy does not allow this request to be performed."
    ) -> None:
        super().__init__(message)


class QuotaExceeded(Forbidden):
    def __init__(self, resource: str) -> None:
        super().__init__(f"Quota has been met for resources: {resource}")


class NotFound(PierError):
    status = 404

    @classmethod
    def of(cls, resource: str, ident: str) -> "NotFound":
        return cls(f"{resource} {ident} not found.")


class Conflict(PierError):
    status = 409


class ImmutableWhilePending(Conflict):
    def __init__(self, resource: str, ident: str) -> None:
        super().__init__(f"{resource} {ident} is immutable and cannot be updated.")


class NotImplementedOption(PierError):
    status = 501


class DriverError(PierError):
    pass


class TransientDriverError(DriverError):
    pass


class PermanentDriverError(DriverError):
    pass
