"""Who is calling: the request context every route authorizes against."""

from dataclasses import dataclass, field

from pier.settings import PolicyRoles


@dataclass(frozen=True, slots=True)
class RequestContext:
    project_id: str | None
    user_id: str | None = None
    # Effective roles, implied roles already expanded (member => reader, admin => manager...).
    roles: frozenset[str] = field(default_factory=frozenset)
    # True in noauth mode, as Octavia's noauth forces is_admin.
    is_admin: bool = False
    # Octavia skips quota checks entirely under noauth (spec §4.9).
    enforce_quota: bool = True
    # The service's policy vocabulary (`Settings.policy_roles`), set once per request.
    policy_roles: PolicyRoles = PolicyRoles.BOTH
