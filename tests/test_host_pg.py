"""The center's business-rule tests (tests/test_host.py, every one of them) again with the
center on PostgreSQL: the same terminal, the same answers, the books in a real PostgreSQL
server (in-process, as there; test_center_pg runs the center on PostgreSQL over TCP)."""

import pytest

import pgserver
from test_host import *  # noqa: F401, F403 - the tests themselves, collected here again
from test_host import NOW, Local


@pytest.fixture(scope="module")
def pg():
    server = pgserver.Server()
    yield server
    server.stop()


@pytest.fixture
def host(pg, menu_file):  # noqa: F811 - this module's host is on PostgreSQL
    h = Local(pg.new_database(), menu_path=str(menu_file), now=lambda: NOW)
    yield h
    h.stop()
