"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

try:  # tests/ is on sys.path (rootdir conftest, no __init__.py) ...
    from pg_server import ENV_DSN, PgServer, PgUnavailable, in_ci
except ImportError:  # ... or a package, if tests/__init__.py ever appears
    from tests.pg_server import ENV_DSN, PgServer, PgUnavailable, in_ci


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """DSN of a PostgreSQL database for this test session (psycopg 3 / libpq URI).

    ``SWIFTGRAPH_TEST_PG_DSN`` set: that server is used as is. Otherwise a throwaway
    cluster is started from the machine's PostgreSQL binaries (see ``tests/pg_server.py``)
    and removed at session end. No server: the test fails on CI, skips elsewhere.
    """
    dsn = os.environ.get(ENV_DSN)
    if dsn:
        yield dsn
        return
    try:
        server = PgServer.start_new()
    except PgUnavailable as exc:
        reason = f"no PostgreSQL server for tests: {exc}"
        server = None
    if server is None:
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server.dsn
    finally:
        server.stop()
