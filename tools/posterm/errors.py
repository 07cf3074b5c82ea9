"""Errors the command line shows as one line (exit status 2), never as a traceback."""


class CliError(Exception):
    """A user error: printed as `posterm: error: ...`, exit status 2."""
