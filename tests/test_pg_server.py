"""Smoke tests: the ``pg_dsn`` fixture gives a working PostgreSQL database."""

from __future__ import annotations

import importlib
import os
import uuid
from types import ModuleType

import pytest

try:
    from pg_server import ENV_DSN, in_ci
except ImportError:  # tests/ as a package
    from tests.pg_server import ENV_DSN, in_ci


def _require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        reason = f"{module} is not installed (pip install -e '.[test]'): {exc}"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def test_select_1(pg_dsn: str) -> None:
    psycopg = _require("psycopg")
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        (version,) = conn.execute("show server_version_num").fetchone()
        assert int(version) >= 120000


def test_create_and_drop_table(pg_dsn: str) -> None:
    psycopg = _require("psycopg")
    table = f"smoke_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"create table {table} (id int primary key, body jsonb, blob bytea)")
        conn.execute(
            f"insert into {table} values (%s, %s::jsonb, %s)", (1, '{"a": [1, 2]}', b"\x00\xff")
        )
        assert conn.execute(f"select body, blob from {table}").fetchone() == (
            {"a": [1, 2]},
            b"\x00\xff",
        )
        conn.execute(f"drop table {table}")
        assert conn.execute("select to_regclass(%s)", (table,)).fetchone() == (None,)


async def test_async_pool(pg_dsn: str) -> None:
    _require("psycopg")
    pool_mod = _require("psycopg_pool")
    pool = pool_mod.AsyncConnectionPool(pg_dsn, min_size=1, max_size=2, open=False)
    async with pool, pool.connection() as conn:
        cur = await conn.execute("select current_database()")
        (name,) = await cur.fetchone()
        if not os.environ.get(ENV_DSN):
            assert name == "swiftgraph_test"
