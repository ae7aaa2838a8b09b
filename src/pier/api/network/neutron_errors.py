"""Domain errors that also carry Neutron's error `type` (rendered as `NeutronError.type`).

`pier.api.faults` reads the `kind` attribute; the status still comes from the domain class,
so Octavia callers of the same code (VIP allocation) see ordinary 400/404/409 errors.
"""

from pier.domain.errors import Conflict, Forbidden, InvalidInput, NotFound


class NeutronNotFound(NotFound):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NeutronConflict(Conflict):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NeutronBadRequest(InvalidInput):
    def __init__(self, message: str, kind: str = "HTTPBadRequest") -> None:
        super().__init__(message)
        self.kind = kind


class PolicyNotAuthorized(Forbidden):
    def __init__(self, action: str) -> None:
        super().__init__(f"rule:{action} is disallowed by policy")
        self.kind = "PolicyNotAuthorized"


def invalid_operation(detail: str) -> NeutronBadRequest:
    """Neutron's generic `InvalidInput`: "Invalid input for operation: <detail>."."""
    return NeutronBadRequest(f"Invalid input for operation: {detail}.", kind="InvalidInput")


def invalid_attribute(name: str, reason: str) -> NeutronBadRequest:
    """Neutron's attribute validation failure, e.g. a bad CIDR or a non-boolean flag."""
    return NeutronBadRequest(f"Invalid input for {name}. Reason: {reason}.")


def bad_request(resource: str, detail: str) -> NeutronBadRequest:
    """Neutron's `BadRequest(resource=..., msg=...)`: "Bad <resource> request: <detail>"."""
    return NeutronBadRequest(f"Bad {resource} request: {detail}", kind="BadRequest")
