"""What every part of the local index shares: its engine, its thread pools, and the decorators
that run a blocking query on a pool (callers await it) and retry a transaction that lost a race.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Concatenate, Literal, ParamSpec, Self, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from memory.database import BUSY_TIMEOUT_SECONDS, create_database_engine, is_conflict
from memory.index_upgrade import create_and_upgrade

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="IndexBase")


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retry_on_conflict(method: Callable[P, T]) -> Callable[P, T]:
    """Run a read-then-write transaction once more when a concurrent writer inserted the same
    row first (another thread, worker or replica; on PostgreSQL also a deadlock or
    serialization failure between replicas): the second run sees that row."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except DBAPIError as error:
            if not is_conflict(error):
                raise
            return method(*args, **kwargs)

    return run


Pool = Literal["read", "write", "save"]
# Threads per pool. Saves (the write-ahead before an ack) never queue behind the delivery
# worker's writes, and reads (typeahead, /timeline, readiness), which WAL lets through while
# another process writes, never queue behind writes waiting for a lock.
_POOL_THREADS: dict[Pool, int] = {"read": 4, "write": 2, "save": 2}


def offloaded(
    pool: Pool,
) -> Callable[
    [Callable[Concatenate[S, P], T]],
    Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
]:
    """Run a blocking index method on one of the index's thread pools; callers await it."""

    def decorate(
        method: Callable[Concatenate[S, P], T],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
        @functools.wraps(method)
        async def run(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pools[pool], functools.partial(method, self, *args, **kwargs)
            )

        return run

    return decorate


class IndexBase:
    """The engine and the thread pools every part of the index runs its queries on."""

    def __init__(self, engine: Engine, upgrade: bool = True) -> None:
        self._engine = engine
        self._pools = {
            name: ThreadPoolExecutor(threads, thread_name_prefix=f"local-index-{name}")
            for name, threads in _POOL_THREADS.items()
        }
        if upgrade:
            create_and_upgrade(engine)

    @classmethod
    def open(cls, url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Self:
        """The index at `url` (sqlite:///… or postgresql://…), its schema created or upgraded."""
        return cls(create_database_engine(url, busy_timeout))

    def close(self) -> None:
        # Never wait on a query stuck behind a lock: shutdown stays bounded.
        for executor in self._pools.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._engine.dispose()

    @offloaded("read")
    def ping(self) -> bool:
        """Whether the database answers (for readiness)."""
        with self._engine.connect() as conn:
            conn.execute(select(1))
        return True
