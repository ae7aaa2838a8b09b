"""What the agent answers when it cannot do what was asked; `app.py` turns each into Octavia's
agent error body `{"message": ..., "details": ...}` with the status on its class:

    AgentError                500
     ├── InvalidRequest       400  (an unusable id or body)
     ├── AmphoraNotFound      404
     ├── AmphoraConflict      409  (the id is taken by another load balancer's amphora)
     ├── ConfigRejected       400  (refused, nothing changed: the running configuration stays)
     └── ApplyFailed          500  (a reload failed and so did the rollback)
"""


class AgentError(Exception):
    status = 500

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(AgentError):
    status = 400


class AmphoraNotFound(AgentError):
    status = 404


class AmphoraConflict(AgentError):
    status = 409


class ConfigRejected(AgentError):
    status = 400


class ApplyFailed(AgentError):
    status = 500
