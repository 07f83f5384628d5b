"""How Hindsight's failures reach the bot: unreachable, busy (retry after a while) or refusing
the request (retrying will not help); an answer's body never reaches a log above DEBUG."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pydantic
from hindsight_client_api.exceptions import ApiException

# The store's own logger: operators filter on "memory.store" for everything memory says.
logger = logging.getLogger("memory.store")


class MemoryUnavailable(Exception):
    """Hindsight could not be reached or failed; the caller keeps what the rep typed."""


class MemoryBusy(MemoryUnavailable):
    """Hindsight is at capacity (503 + Retry-After): backpressure, not an outage."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MemoryRejected(MemoryUnavailable):
    """Hindsight refused this request itself (a 4xx): retrying at once will not help."""


def _retry_after(exc: ApiException, default: float = 2.0) -> float:
    headers = exc.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(max(float(raw), 0.1), 60.0) if raw is not None else default
    except ValueError:
        return default


@asynccontextmanager
async def memory_errors(action: str) -> AsyncIterator[None]:
    try:
        yield
    except ApiException as exc:
        message = f"Hindsight answered {exc.status} to {action}"
        # The answer's body may echo what was sent (a validation error quotes the note): it
        # goes to DEBUG only, and is not chained where a logged traceback would print it.
        logger.debug("%s: %s", message, exc)
        if (
            exc.status in (429, 503)
            and exc.headers
            and any(key.lower() == "retry-after" for key in exc.headers)
        ):
            raise MemoryBusy(message, _retry_after(exc)) from None
        if isinstance(exc.status, int) and 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise MemoryRejected(message) from None
        raise MemoryUnavailable(message) from None
    except aiohttp.ClientResponseError as exc:
        # Its repr holds the request's headers, the API key among them: the status only, and
        # not chained where a logged traceback would print it.
        raise MemoryUnavailable(f"Hindsight answered {exc.status} to {action}") from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise MemoryUnavailable(f"Hindsight unreachable during {action}: {exc!r}") from exc
    except (pydantic.ValidationError, json.JSONDecodeError) as exc:
        # Something answered, but not Hindsight (a proxy's error page, a half-started server).
        # A validation error quotes what it read (memories, perhaps): DEBUG only, unchained.
        logger.debug("Unreadable answer to %s: %s", action, exc)
        raise MemoryUnavailable(f"Hindsight gave an unreadable answer to {action}") from None
