"""Waiting for a positive sign, never for a fixed time: a check that something did not happen
first waits for the sign that the code which could have done it has run."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 30.0
) -> None:
    """Return once `condition` holds; fail naming `what` if it never does within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)
