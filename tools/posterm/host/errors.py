"""Errors raised by the host's store and CLI: one family, one clear line each."""


class HostError(Exception):
    """Base of every error the host reports to a user (the CLI prints it, exit 2)."""


class ValidationError(HostError):
    """Bad input for the store or the CLI: `what` names the argument, `reason` what is wrong."""

    def __init__(self, what, reason):
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class NotFoundError(HostError):
    """A terminal, card or menu the caller named does not exist."""

    def __init__(self, kind, key):
        super().__init__(f"unknown {kind} {key}")
        self.kind = kind
        self.key = key
