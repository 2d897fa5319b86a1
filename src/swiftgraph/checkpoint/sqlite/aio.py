"""``AsyncSqliteSaver``: :class:`~swiftgraph.checkpoint.sqlite.SqliteSaver` for asyncio.

Usage::

    async with AsyncSqliteSaver.from_conn_string("checkpoints.sqlite") as saver:
        graph = builder.compile(checkpointer=saver)

No extra dependency: ``sqlite3`` calls block, so each async method runs the sync one on
a **dedicated single worker thread**. One thread is enough (the saver serializes access
to its connection anyway) and keeps SQLite work from queueing behind, or crowding out,
whatever else uses the loop's default executor. The sync methods stay usable from any
thread too; both paths share the same connection, lock and retry logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from swiftgraph.checkpoint.base import CheckpointRecord, Op, PendingWrite
from swiftgraph.checkpoint.sqlite import SqliteSaver

T = TypeVar("T")


class AsyncSqliteSaver(SqliteSaver):
    """A :class:`SqliteSaver` whose ``a*`` methods run on the saver's own worker thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swiftgraph-sqlite")

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
        cls, conn_string: str | os.PathLike[str], **kwargs: Any
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on a file path or ``":memory:"``, set up before use, closed on exit."""
        # opening may wait on another process's lock (switching to WAL): not on the loop
        saver = await asyncio.to_thread(lambda: cls(path=conn_string, **kwargs))
        try:
            await saver.asetup()
            yield saver
        finally:
            await saver.aclose()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def asetup(self) -> None:
        await self._run(self.setup)

    def close(self) -> None:
        super().close()
        self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        await self._run(SqliteSaver.close, self)
        self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncSqliteSaver:  # noqa: PYI034 (typing.Self needs 3.11)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aput(self, record: CheckpointRecord) -> None:
        await self._run(self.put, record)

    async def aput_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        await self._run(self.put_writes, thread_id, checkpoint_ns, checkpoint_id, writes)

    async def aput_many(self, ops: Sequence[Op]) -> None:
        await self._run(self.put_many, ops)

    background_thread = False  # aput_many is already off the loop
    async_inline = False  # (its a* methods run on its worker thread)

    async def aget(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        return await self._run(self.get, thread_id, checkpoint_ns, checkpoint_id)

    async def alist(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        return await self._run(
            lambda: list(self.list(thread_id, checkpoint_ns, before=before, limit=limit))
        )

    async def aget_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        return await self._run(self.get_writes, thread_id, checkpoint_ns, checkpoint_id)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(self.delete_thread, thread_id)

    async def athreads(self) -> list[str]:
        return await self._run(self.threads)

    async def aget_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        return await self._run(self.get_chain, thread_id, checkpoint_ns, checkpoint_id)


__all__ = ["AsyncSqliteSaver"]
