"""A per-second request limit for the loopback servers: past it they answer 429."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class PerSecondLimit:
    per_second: int | None = None  # None: no limit
    refused: int = 0
    _second: int = 0
    _count: int = 0

    def over(self) -> bool:
        """Count one request; True (and counted as refused) when it is over the limit."""
        if self.per_second is None:
            return False
        second = int(asyncio.get_running_loop().time())
        self._count = self._count + 1 if second == self._second else 1
        self._second = second
        if self._count > self.per_second:
            self.refused += 1
            return True
        return False
