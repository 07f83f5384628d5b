"""What every part of the memory store shares: its clients, the bank of each workspace, and one
request with Hindsight's failures mapped (memory.store_errors) and a 404 read as "missing"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from hindsight_client import Hindsight
from hindsight_client_api.exceptions import ApiException

from memory.bank_setup import BankSetup
from memory.store_errors import memory_errors

T = TypeVar("T")
FETCH_CONCURRENCY = 8
# What a request gives when what it asked for is gone (a 404).
GONE: Any = object()


class MemoryBase:
    """The clients of one Hindsight server and the bank naming every workspace's calls use."""

    def __init__(
        self,
        client: Hindsight,
        bank_prefix: str,
        setup: BankSetup | None = None,
        retain_client: Hindsight | None = None,
        database_url: Callable[[], str | None] | None = None,
    ) -> None:
        self._client = client
        # The embedded server's PostgreSQL, for what its API cannot erase (purge_erased).
        self._database_url = database_url
        self._retain_client = retain_client or client
        self._bank_prefix = bank_prefix
        self._setup = setup
        self._configured: set[str] = set()
        self._reasons: bool | None = None

    @property
    def bank_prefix(self) -> str:
        return self._bank_prefix

    def bank_id(self, workspace_id: str) -> str:
        return f"{self._bank_prefix}-{workspace_id}"

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._retain_client is not self._client:
            await self._retain_client.aclose()

    async def _call(
        self, action: str, request: Callable[[], Awaitable[T]], missing: T | None = None
    ) -> T:
        """Run one request; a 404 (a bank or document that does not exist yet) gives `missing`."""
        async with memory_errors(action):
            return await answer_or_missing(request, missing)


async def answer_or_missing(request: Callable[[], Awaitable[T]], missing: T | None) -> T:
    try:
        return await request()
    except ApiException as exc:
        if exc.status == 404 and missing is not None:
            return missing
        raise


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
