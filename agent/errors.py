"""The one exception type of the agent layer."""


class AgentError(Exception):
    """The daemon or a journal/snapshot operation cannot go on; the CLI prints one line."""

    def __init__(self, message: str, *, kind: str = "error"):
        super().__init__(message)
        self.kind = kind
