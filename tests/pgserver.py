"""A private PostgreSQL server for the tests (posterm.center.pglocal: Debian's `postgresql`
binaries, a cluster in a temporary directory on a unix socket there).

Missing binaries fail the test in CI (CI=true) with the install line; elsewhere they skip."""

import os

import pytest
from posterm.center import pglocal
from posterm.center.pglocal import INSTALL, bindir

__all__ = ["INSTALL", "Server", "bindir", "need"]


def need():
    d = bindir()
    if d is None:
        message = f"PostgreSQL server binaries (initdb, postgres) not found: {INSTALL}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return d


class Server(pglocal.Server):
    def __init__(self):
        super().__init__(need())
